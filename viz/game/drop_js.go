//go:build js

package game

import "cifarlab/viz"

// droppedIntents is nothing in the browser: the page's own drop zone takes
// files (a picture or a dataset), wherever they are dropped.
func droppedIntents() []viz.Intent { return nil }
