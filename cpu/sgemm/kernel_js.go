//go:build js && wasm

package sgemm

import "cifarlab/cpu/vec"

// simd128Kernel computes 4×8 tiles with WebAssembly's SIMD128 (package
// vec): in Chromium about 10 times the portable kernel's speed
// (BenchmarkKernel).
var simd128Kernel = &kernel{name: "simd128", mr: 4, nr: 8, kc: 256, mc: 168, nc: 1024, speed: 1, fn: kernelSIMD, column: columnSIMD,
	directRows: 64}

// simd64Kernel computes 2×8 tiles with SIMD128 summing in float64, as the
// portable kernel does and with the same bits: for browsers without relaxed
// SIMD (Safari).
var simd64Kernel = &kernel{name: "simd128-f64", mr: 2, nr: 8, kc: 256, mc: 168, nc: 1024, speed: 0.4, fn: kernelSIMD64, column: columnSIMD64,
	directRows: 64}

// init puts the SIMD128 kernels ahead of the portable one: the float32 one
// where the browser has relaxed SIMD with a fused multiply-add (one
// rounding per term, as the amd64 kernels and PyTorch have it), else the
// one that sums in float64.
func init() {
	switch {
	case vec.TileFused:
		kernels = append([]*kernel{simd128Kernel}, kernels...)
		dotKernels = append([]*dotKernel{dot2x4SIMD}, dotKernels...)
	case vec.HasTiles64:
		kernels = append([]*kernel{simd64Kernel}, kernels...)
	}
}

func kernelSIMD(kc int, a, b []float32, ldb int, c []float32, ldc int, load bool, beta float32) {
	columnSIMD(1, kc, a, b, ldb, c, ldc, load, beta)
}

func columnSIMD(count, kc int, a, b []float32, ldb int, c []float32, ldc int, load bool, beta float32) {
	checkKernelArgs(4*count, 8, kc, a, b, ldb, c, ldc)
	vec.Tiles(count, kc, a, b, ldb, c, ldc, load, beta)
}

func kernelSIMD64(kc int, a, b []float32, ldb int, c []float32, ldc int, load bool, beta float32) {
	columnSIMD64(1, kc, a, b, ldb, c, ldc, load, beta)
}

func columnSIMD64(count, kc int, a, b []float32, ldb int, c []float32, ldc int, load bool, beta float32) {
	checkKernelArgs(2*count, 8, kc, a, b, ldb, c, ldc)
	vec.Tiles64(count, kc, a, b, ldb, c, ldc, load, beta)
}

// dot2x4SIMD sums 2×4 dot products in four lanes with SIMD128 (package vec).
var dot2x4SIMD = &dotKernel{name: "simd128", ri: 2, rj: 4, vec: 4, fn: func(steps int, a, b [][]float32, acc []float32) {
	checkDotArgs(2, 4, 4, steps, a, b, acc)
	vec.Dot(steps, a, b, acc)
}}
