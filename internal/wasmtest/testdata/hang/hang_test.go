//go:build js && wasm

// Package hang is a program for wasmtest's own tests: its tests never end,
// one waiting for a promise that never settles, one never yielding.
package hang

import (
	"fmt"
	"syscall/js"
	"testing"
)

func TestIdle(t *testing.T) {
	never := js.Global().Get("Promise").New(js.FuncOf(func(js.Value, []js.Value) any { return nil }))
	done := make(chan struct{})
	then := js.FuncOf(func(js.Value, []js.Value) any { close(done); return nil })
	never.Call("then", then)
	fmt.Println("waiting for a promise that never settles")
	<-done
}

func TestBusy(t *testing.T) {
	fmt.Println("spinning without yielding")
	for n := 0; ; n++ {
		if n < 0 {
			t.Fatal("overflow")
		}
	}
}
