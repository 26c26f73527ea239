//go:build js && wasm

// Package fail is a program for wasmtest's own tests: one test passes and
// one fails.
package fail

import "testing"

func TestPasses(t *testing.T) {
	t.Log("this one passes")
}

func TestFails(t *testing.T) {
	t.Errorf("failing on purpose: %d != %d", 1, 2)
}
