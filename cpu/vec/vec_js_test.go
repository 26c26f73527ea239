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

// TestLoadRefusesWhatDoesNotCompile checks the page's side of a module the
// browser cannot compile (as relaxed.wasm is where relaxed SIMD is
// missing): load reports 0, and the kernels loaded before keep working.
func TestLoadRefusesWhatDoesNotCompile(t *testing.T) {
	bad := []byte("\x00asm\x01\x00\x00\x00\x01\x02") // a type section cut short
	for kind := range int32(2) {
		if got := simdLoad(kind, ptr8(bad), int32(len(bad))); got != 0 {
			t.Fatalf("load(%d, a broken module) = %d, want 0", kind, got)
		}
	}
	if !simd {
		return
	}
	y, x := make([]float32, 9), []float32{-1, 2, -3, 4, -5, 6, -7, 8, -9}
	ReLU(y, x)
	for i, v := range x {
		if want := max(v, 0); y[i] != want {
			t.Fatalf("ReLU after a refused load: y[%d] = %v, want %v", i, y[i], want)
		}
	}
}
