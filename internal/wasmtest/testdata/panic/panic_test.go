//go:build js && wasm

// Package panic is a program for wasmtest's own tests: a test panics.
package panic

import "testing"

func TestPanics(t *testing.T) {
	var m map[string]int
	m["boom"]++ // assignment to entry in nil map
}
