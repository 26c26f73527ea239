//go:build js && wasm

package sgemm

import "cifarlab/cpu/vec"

// simd128Kernel computes 4×8 tiles with WebAssembly's SIMD128 (package
// vec): in Chromium about 10 times the portable kernel's speed
// (BenchmarkKernel).
var simd128Kernel = &kernel{name: "simd128", mr: 4, nr: 8, kc: 256, mc: 168, nc: 1024, speed: 1, fn: kernelSIMD, column: columnSIMD,
	directRows: 64}

// init puts the SIMD128 kernel ahead of the portable one where the browser
// has it with a fused multiply-add (one rounding per term, as the amd64
// kernels and PyTorch have it). Otherwise the portable kernel, which sums
// in float64, does the work.
func init() {
	if vec.TileFused {
		kernels = append([]*kernel{simd128Kernel}, kernels...)
		dotKernels = append([]*dotKernel{dot2x4SIMD}, dotKernels...)
	}
}

// dot2x4SIMD sums 2×4 dot products in four lanes with SIMD128 (package vec).
var dot2x4SIMD = &dotKernel{name: "simd128", ri: 2, rj: 4, vec: 4, fn: func(steps int, a, b [][]float32, acc []float32) {
	checkDotArgs(2, 4, 4, steps, a, b, acc)
	vec.Dot(steps, a, b, acc)
}}

func kernelSIMD(kc int, a, b []float32, ldb int, c []float32, ldc int, load bool, beta float32) {
	columnSIMD(1, kc, a, b, ldb, c, ldc, load, beta)
}

func columnSIMD(count, kc int, a, b []float32, ldb int, c []float32, ldc int, load bool, beta float32) {
	checkKernelArgs(4*count, 8, kc, a, b, ldb, c, ldc)
	vec.Tiles(count, kc, a, b, ldb, c, ldc, load, beta)
}
