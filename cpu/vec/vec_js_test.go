//go:build js && wasm

package vec

import (
	"os"
	"testing"
)

// TestSIMDLoaded checks that the browser running the tests took the SIMD128
// kernels (and so that the other tests cover them): the page gave the
// imports, compiled the module and found its multiply-add fused.
func TestSIMDLoaded(t *testing.T) {
	if os.Getenv("CIFARLAB_SGEMM") == "go" {
		t.Skip("CIFARLAB_SGEMM=go keeps the portable code")
	}
	if !simd || !TileFused {
		t.Fatalf("SIMD128 kernels loaded: %v, multiply-add fused: %v; want both (see the browser console)", simd, TileFused)
	}
}
