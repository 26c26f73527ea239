//go:build js && wasm

// Package pass is a program for wasmtest's own tests: it passes and writes
// to both standard output and standard error.
package pass

import (
	"fmt"
	"os"
	"testing"
)

func TestPass(t *testing.T) {
	fmt.Println("stdout: hello from the browser")
	fmt.Fprint(os.Stderr, "stderr: no newline at the end")
	fmt.Fprintln(os.Stderr)
	fmt.Printf("env CIFARLAB_WASMTEST=%q\n", os.Getenv("CIFARLAB_WASMTEST"))
	fmt.Printf("env HOME=%q\n", os.Getenv("HOME"))
}
