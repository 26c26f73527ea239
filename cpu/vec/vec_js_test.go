//go:build js && wasm

package vec

import (
	"os"
	"testing"
)

// TestSIMDLoaded checks that the browser running the tests took the SIMD128
// kernels that CIFARLAB_SGEMM allows (and so that the other tests cover
// them): the page gave the imports, compiled the modules and found the
// relaxed multiply-add fused.
func TestSIMDLoaded(t *testing.T) {
	wantBase, wantRelaxed := true, true
	switch os.Getenv("CIFARLAB_SGEMM") {
	case "go":
		wantBase, wantRelaxed = false, false
	case "simd":
		wantRelaxed = false
	}
	if simd != wantBase || HasTiles64 != wantBase || TileFused != wantRelaxed {
		t.Fatalf("simd.wasm loaded: %v, relaxed.wasm loaded and fused: %v; want %v, %v (see the browser console)",
			simd, TileFused, wantBase, wantRelaxed)
	}
}
