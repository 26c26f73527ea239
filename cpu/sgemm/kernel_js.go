//go:build js && wasm

package sgemm

import (
	_ "embed"
	"os"
	"unsafe"
)

//go:generate go run ./simdgen -o simd.wasm

// simdModule is the WebAssembly module with the SIMD128 micro-kernel,
// written by ./simdgen. It shares the Go module's memory: the page
// instantiates it when this package asks (simdLoad) and forwards the calls
// of the imports below to it (site/cifarlab-simd.js), so a call passes
// pointers into Go's slices and nothing is copied.
//
//go:embed simd.wasm
var simdModule []byte

//go:wasmimport cifarlab_simd load
func simdLoad(module unsafe.Pointer, size int32) int32

//go:wasmimport cifarlab_simd kernel
func simdKernel(kc int32, a, b unsafe.Pointer, ldb int32, c unsafe.Pointer, ldc int32, load int32, beta float32)

//go:wasmimport cifarlab_simd fused
func simdFused(x, y float32) int32

// simd128Kernel computes 4×8 tiles with f32x4.relaxed_madd: in Chromium
// 10 times the portable kernel's speed (BenchmarkKernel).
var simd128Kernel = &kernel{name: "simd128", mr: 4, nr: 8, kc: 256, mc: 168, nc: 1024, speed: 1, fn: kernelSIMD}

// init puts the SIMD128 kernel ahead of the portable one where the browser
// compiles the module (it has relaxed SIMD) and its multiply-add is fused
// (one rounding per term, as the amd64 kernels and PyTorch have it).
// Otherwise the portable kernel, which sums in float64, does the work.
// CIFARLAB_SGEMM=go keeps the portable kernel, as on amd64.
func init() {
	if os.Getenv("CIFARLAB_SGEMM") == "go" {
		return
	}
	if simdLoad(unsafe.Pointer(unsafe.SliceData(simdModule)), int32(len(simdModule))) == 0 {
		return
	}
	// 1+2⁻¹² squared is 1+2⁻¹¹+2⁻²⁴: fused, minus 1+2⁻¹¹, that is 2⁻²⁴;
	// rounded first, 0.
	if simdFused(1+1.0/(1<<12), 1+1.0/(1<<11)) == 0 {
		println("cifarlab: this browser's relaxed SIMD multiply-add is not fused; the CPU backend uses its portable kernel")
		return
	}
	kernels = append([]*kernel{simd128Kernel}, kernels...)
}

func kernelSIMD(kc int, a, b []float32, ldb int, c []float32, ldc int, load bool, beta float32) {
	checkKernelArgs(4, 8, kc, a, b, ldb, c, ldc)
	l := int32(0)
	if load {
		l = 1
	}
	simdKernel(int32(kc), unsafe.Pointer(unsafe.SliceData(a)), unsafe.Pointer(unsafe.SliceData(b)), int32(ldb),
		unsafe.Pointer(unsafe.SliceData(c)), int32(ldc), l, beta)
}
