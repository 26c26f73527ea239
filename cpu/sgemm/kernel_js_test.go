//go:build js && wasm

package sgemm

import (
	"os"
	"testing"
)

// TestSIMDKernelLoaded checks that the browser running the tests took the
// SIMD128 kernel (and so that the other tests cover it): the page gave the
// imports, compiled the module and found its multiply-add fused.
func TestSIMDKernelLoaded(t *testing.T) {
	if os.Getenv("CIFARLAB_SGEMM") == "go" {
		t.Skip("CIFARLAB_SGEMM=go keeps the portable kernel")
	}
	if kernels[0] != simd128Kernel {
		t.Fatalf("Gemm runs the %s kernel; want simd128 (see the browser console for why it was not taken)", Kernel())
	}
}
