package vec

import (
	"unsafe"

	"golang.org/x/sys/cpu"
)

// With AVX2 the elementwise loops run 8 floats at a time in assembly
// (vec_amd64.s): the same operation on each element as the Go loops (a
// product and a sum are never fused), so the same bits. The Go loops do
// the last len%8 elements. The float64 sums stay in Go: their two chains
// fix the order of the additions.
func init() {
	if !cpu.X86.HasAVX2 {
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
func bnInputGradAVX2(d, grad, x *float32, n int, mu, a, bx, b0 float32)
