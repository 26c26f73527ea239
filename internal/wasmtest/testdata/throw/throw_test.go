//go:build js && wasm

// Package throw is a program for wasmtest's own tests: JavaScript in the
// page throws an exception that nothing catches, while the test goes on.
package throw

import (
	"syscall/js"
	"testing"
	"time"
)

func TestPageThrows(t *testing.T) {
	js.Global().Call("eval", `setTimeout(() => { throw new Error("thrown on purpose") }, 0)`)
	time.Sleep(2 * time.Second) // yields to the page, which throws
	t.Log("still running after the exception")
}
