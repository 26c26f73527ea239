//go:build js && wasm

package sgemm

import (
	"cifarlab/cpu/vec"
	"math"
	"math/rand/v2"
	"os"
	"testing"
)

// TestSIMDKernelLoaded checks that the browser running the tests took the
// SIMD128 kernel that CIFARLAB_SGEMM allows (and so that the other tests
// cover it).
func TestSIMDKernelLoaded(t *testing.T) {
	want := simd128Kernel
	switch os.Getenv("CIFARLAB_SGEMM") {
	case "go":
		want = goKernel
	case "simd":
		want = simd64Kernel
	}
	if kernels[0] != want {
		t.Fatalf("Gemm runs the %s kernel; want %s (see the browser console for why)", Kernel(), want.name)
	}
}

// TestSIMD64IsPortable checks that the float64 SIMD kernel gives the
// portable kernel's bits, tile by tile, with and without loading C.
func TestSIMD64IsPortable(t *testing.T) {
	if !vec.HasTiles64 {
		t.Skip("no simd.wasm (CIFARLAB_SGEMM=go)")
	}
	rng := rand.New(rand.NewPCG(7, 8))
	for _, kc := range []int{1, 2, 7, 256} {
		for _, load := range []bool{false, true} {
			const count, ldb, ldc = 3, 13, 11
			a := randMatrix(rng, kc, 2*count, 2*count, 0)
			b := randMatrix(rng, kc, 8, ldb, float32(math.NaN()))
			c := randMatrix(rng, 2*count, 8, ldc, cPad)
			want := append([]float32(nil), c...)
			// The portable kernel works on 6-row panels; here each 2-row
			// tile's A panel is laid out as Tiles64 reads it.
			for tile := range count {
				pa := make([]float32, kc*goMR)
				for p := range kc {
					copy(pa[p*goMR:p*goMR+2], a[tile*2*kc+p*2:tile*2*kc+p*2+2])
				}
				full := make([]float32, goMR*goNR) // C of a whole portable tile
				for i := range 2 {
					copy(full[i*goNR:i*goNR+8], want[(tile*2+i)*ldc:(tile*2+i)*ldc+8])
				}
				bp := make([]float32, kc*goNR)
				for p := range kc {
					copy(bp[p*goNR:p*goNR+8], b[p*ldb:p*ldb+8])
				}
				kernelGo(kc, pa, bp, goNR, full, goNR, load, -0.75)
				for i := range 2 {
					copy(want[(tile*2+i)*ldc:(tile*2+i)*ldc+8], full[i*goNR:i*goNR+8])
				}
			}
			columnSIMD64(count, kc, a, b, ldb, c, ldc, load, -0.75)
			for i := range want {
				if math.Float32bits(c[i]) != math.Float32bits(want[i]) && !(c[i] != c[i] && want[i] != want[i]) {
					t.Fatalf("kc %d, load %v: c[%d] = %v, portable kernel %v", kc, load, i, c[i], want[i])
				}
			}
		}
	}
}
