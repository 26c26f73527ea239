//go:build !js

package game

import (
	"io"
	"io/fs"

	"github.com/hajimehoshi/ebiten/v2"

	"cifarlab/viz"
)

// droppedIntents reads the files dropped on the window this frame (the
// desktop; the page has its own drop zone).
func droppedIntents() []viz.Intent {
	fsys := ebiten.DroppedFiles()
	if fsys == nil {
		return nil
	}
	entries, err := fs.ReadDir(fsys, ".")
	if err != nil {
		return nil
	}
	var out []viz.Intent
	for _, e := range entries {
		if e.IsDir() {
			continue
		}
		f, err := fsys.Open(e.Name())
		if err != nil {
			continue
		}
		data, err := io.ReadAll(io.LimitReader(f, maxDropped))
		f.Close()
		if err == nil {
			out = append(out, dropped(e.Name(), data))
		}
		break // one file: the first
	}
	return out
}
