package vec

import (
	"os"
	"unsafe"

	"golang.org/x/sys/cpu"
)

// With AVX2 the elementwise loops run 8 floats at a time in assembly
// (vec_amd64.s): the same operation on each element as the Go loops (a
// product and a sum are never fused), so the same bits. The Go loops do
// the last len%8 elements. The float64 sums take eight chains (two
// vectors of four lanes) where Go's loops take two: another order of the
// same float64 additions (TestSums), four times as fast.
//
// CIFARLAB_SGEMM=go in the environment keeps the Go loops, as it keeps
// cpu/sgemm's portable kernel: what a CPU without SIMD computes.
func init() {
	if !cpu.X86.HasAVX2 || os.Getenv("CIFARLAB_SGEMM") == "go" {
		return
	}
	add = func(dst, src []float32) {
		n := len(dst) &^ 7
		if n > 0 {
			addAVX2(unsafe.SliceData(dst), unsafe.SliceData(src), n)
		}
		addGo(dst[n:], src[n:])
	}
	add3 = func(y, a, b []float32) {
		n := len(y) &^ 7
		if n > 0 {
			add3AVX2(unsafe.SliceData(y), unsafe.SliceData(a), unsafe.SliceData(b), n)
		}
		add3Go(y[n:], a[n:], b[n:])
	}
	relu = func(y, x []float32) {
		n := len(y) &^ 7
		if n > 0 {
			reluAVX2(unsafe.SliceData(y), unsafe.SliceData(x), n)
		}
		reluGo(y[n:], x[n:])
	}
	reluMask = func(dx, dy, y []float32) {
		n := len(dx) &^ 7
		if n > 0 {
			reluMaskAVX2(unsafe.SliceData(dx), unsafe.SliceData(dy), unsafe.SliceData(y), n)
		}
		reluMaskGo(dx[n:], dy[n:], y[n:])
	}
	affine = func(y, x []float32, a, c float32) {
		n := len(y) &^ 7
		if n > 0 {
			affineAVX2(unsafe.SliceData(y), unsafe.SliceData(x), n, a, c)
		}
		affineGo(y[n:], x[n:], a, c)
	}
	shiftedSums = func(x []float32, shift float64) (s, q float64) {
		n := len(x) &^ 7
		var out [8]float64
		if n > 0 {
			shiftedSumsAVX2(unsafe.SliceData(x), n, shift, &out)
		}
		ts, tq := shiftedSumsGo(x[n:], shift)
		return ((out[0] + out[1]) + (out[2] + out[3])) + ts, ((out[4] + out[5]) + (out[6] + out[7])) + tq
	}
	dotSums = func(dy, x []float32, mu float64) (s, sx float64) {
		n := len(dy) &^ 7
		var out [8]float64
		if n > 0 {
			dotSumsAVX2(unsafe.SliceData(dy), unsafe.SliceData(x), n, mu, &out)
		}
		ts, tx := dotSumsGo(dy[n:], x[n:], mu)
		return ((out[0] + out[1]) + (out[2] + out[3])) + ts, ((out[4] + out[5]) + (out[6] + out[7])) + tx
	}
	bnInputGrad = func(d, g, x []float32, mu, a, bx, b0 float32) {
		n := len(d) &^ 7
		if n > 0 {
			bnInputGradAVX2(unsafe.SliceData(d), unsafe.SliceData(g), unsafe.SliceData(x), n, mu, a, bx, b0)
		}
		bnInputGradGo(d[n:], g[n:], x[n:], mu, a, bx, b0)
	}
}

// The kernels take n, a positive multiple of 8, elements of each operand;
// the callers above pass slices already cut to the same length.

//go:noescape
func addAVX2(dst, src *float32, n int)

//go:noescape
func add3AVX2(y, a, b *float32, n int)

//go:noescape
func reluAVX2(y, x *float32, n int)

//go:noescape
func reluMaskAVX2(dx, dy, y *float32, n int)

//go:noescape
func affineAVX2(y, x *float32, n int, a, c float32)

//go:noescape
func shiftedSumsAVX2(x *float32, n int, shift float64, out *[8]float64)

//go:noescape
func dotSumsAVX2(dy, x *float32, n int, mu float64, out *[8]float64)

//go:noescape
func bnInputGradAVX2(d, grad, x *float32, n int, mu, a, bx, b0 float32)
