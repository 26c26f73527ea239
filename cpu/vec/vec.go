// Package vec has the float32 loops of the CPU backend that a vector unit
// speeds up most where Go's own code is slowest: in WebAssembly, where Go
// has no SIMD and each element of these loops costs 1.4–20 ns
// (BenchmarkLoops in Chromium), against 0.4–1.1 natively (amd64).
//
// Everywhere the functions run the plain Go loops of this file. In the
// browser, when the page provides the imports of simd.wasm and relaxed.wasm
// (site/cifarlab-simd.js), they run those modules' SIMD128 kernels instead,
// each with the same operations in the same order (so the same results),
// and Tiles, Tiles64 and Dot give package sgemm its kernels (see
// vec_js.go).
//
// The slices of a call must not overlap unless they are the same slice.
package vec

import "math"

// The kernels in use: the Go loops, or the SIMD128 ones (vec_js.go).
var (
	add         = addGo
	add3        = add3Go
	relu        = reluGo
	reluMask    = reluMaskGo
	affine      = affineGo
	bnInputGrad = bnInputGradGo
	shiftedSums = shiftedSumsGo
	dotSums     = dotSumsGo
)

// Add is dst += src.
func Add(dst, src []float32) { add(dst, src[:len(dst)]) }

// Add3 is y = a + b.
func Add3(y, a, b []float32) { add3(y, a[:len(y)], b[:len(y)]) }

// ReLU is y = max(x, 0): NaN stays NaN, −0 becomes 0.
func ReLU(y, x []float32) { relu(y, x[:len(y)]) }

// ReLUMask is dx = dy where y > 0, else 0 (ReLU's backward from its output).
func ReLUMask(dx, dy, y []float32) { reluMask(dx, dy[:len(dx)], y[:len(dx)]) }

// Affine is y = x·a + c, rounded after the product and after the sum.
func Affine(y, x []float32, a, c float32) { affine(y, x[:len(y)], a, c) }

// BNInputGrad is BatchNorm's input gradient for one plane,
// d = (a·g + bx·(x − mu)) + b0, each operation rounded to float32.
func BNInputGrad(d, g, x []float32, mu, a, bx, b0 float32) {
	bnInputGrad(d, g[:len(d)], x[:len(d)], mu, a, bx, b0)
}

// ShiftedSums is Σ (x − shift) and Σ (x − shift)², in float64.
func ShiftedSums(x []float32, shift float64) (s, q float64) { return shiftedSums(x, shift) }

// DotSums is Σ dy and Σ dy·(x − mu), in float64.
func DotSums(dy, x []float32, mu float64) (s, sx float64) { return dotSums(dy, x[:len(dy)], mu) }

// addGo is unrolled by four. The plain loop, called from col2im, ran at
// half the speed of the same loop written inline there (amd64: resnet20's
// backward data, BenchmarkConv2D/backward_data/resnet20_stage1, 17–20 ms
// inline, 26–30 called, 18–22 unrolled).
func addGo(dst, src []float32) {
	src = src[:len(dst)]
	i := 0
	for ; i+4 <= len(src); i += 4 {
		d, s := dst[i:i+4:i+4], src[i:i+4:i+4]
		d[0] += s[0]
		d[1] += s[1]
		d[2] += s[2]
		d[3] += s[3]
	}
	for ; i < len(src); i++ {
		dst[i] += src[i]
	}
}

func add3Go(y, a, b []float32) {
	a, b = a[:len(y)], b[:len(y)]
	for i, v := range a {
		y[i] = v + b[i]
	}
}

func reluGo(y, x []float32) {
	x = x[:len(y)]
	for i, v := range x {
		y[i] = max(v, 0) // branch-free; NaN stays NaN, −0 becomes 0
	}
}

func reluMaskGo(dx, dy, y []float32) {
	dy, y = dy[:len(dx)], y[:len(dx)]
	for i, v := range y {
		// dy masked by y > 0, without a data-dependent branch.
		dx[i] = math.Float32frombits(math.Float32bits(dy[i]) & -b2u(v > 0))
	}
}

func affineGo(y, x []float32, a, c float32) {
	x = x[:len(y)]
	for i, v := range x {
		y[i] = v*a + c
	}
}

func bnInputGradGo(d, g, x []float32, mu, a, bx, b0 float32) {
	g, x = g[:len(d)], x[:len(d)]
	for j, v := range g {
		d[j] = a*v + bx*(x[j]-mu) + b0
	}
}

// shiftedSumsGo sums in two chains (even and odd elements).
func shiftedSumsGo(v []float32, shift float64) (s, q float64) {
	var s0, s1, q0, q1 float64
	i := 0
	for ; i+2 <= len(v); i += 2 {
		d0, d1 := float64(v[i])-shift, float64(v[i+1])-shift
		s0 += d0
		s1 += d1
		q0 += d0 * d0
		q1 += d1 * d1
	}
	if i < len(v) {
		d := float64(v[i]) - shift
		s0 += d
		q0 += d * d
	}
	return s0 + s1, q0 + q1
}

// dotSumsGo sums in two chains (even and odd elements).
func dotSumsGo(dy, x []float32, mu float64) (s, sx float64) {
	x = x[:len(dy)]
	var s0, s1, t0, t1 float64
	i := 0
	for ; i+2 <= len(dy); i += 2 {
		g0, g1 := float64(dy[i]), float64(dy[i+1])
		s0 += g0
		s1 += g1
		t0 += g0 * (float64(x[i]) - mu)
		t1 += g1 * (float64(x[i+1]) - mu)
	}
	if i < len(dy) {
		g := float64(dy[i])
		s0 += g
		t0 += g * (float64(x[i]) - mu)
	}
	return s0 + s1, t0 + t1
}

// b2u is 1 for true and 0 for false (compiled to a SETcc).
func b2u(c bool) uint32 {
	if c {
		return 1
	}
	return 0
}
