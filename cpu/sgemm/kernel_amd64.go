//go:build amd64

package sgemm

import (
	"fmt"
	"os"
	"unsafe"
)

//go:noescape
func kernel6x16AVX2(kc int, a, b *float32, ldb int, c *float32, ldc int, load int, beta float32)

//go:noescape
func kernel6x16AVX2Rows(kc int, a, b *float32, offs *int, c *float32, ldc int, load int, beta float32)

//go:noescape
func kernel12x32AVX512(kc int, a, b *float32, ldb int, c *float32, ldc int, load int, beta float32)

//go:noescape
func kernel8x32AVX512(kc int, a, b *float32, ldb int, c *float32, ldc int, load int, beta float32)

//go:noescape
func kernel8x32AVX512Rows(kc int, a, b *float32, offs *int, c *float32, ldc int, load int, beta float32)

//go:noescape
func kernel12x32AVX512Rows(kc int, a, b *float32, offs *int, c *float32, ldc int, load int, beta float32)

func cpuidex(leaf, sub uint32) (eax, ebx, ecx, edx uint32)

func xgetbv0() (eax uint32)

// cpuFeatures reports whether the CPU has AVX2 with FMA3, and AVX-512F, each
// with the OS saving the registers it needs (XCR0).
func cpuFeatures() (avx2FMA, avx512 bool) {
	maxLeaf, _, _, _ := cpuidex(0, 0)
	if maxLeaf < 7 {
		return false, false
	}
	_, _, ecx1, _ := cpuidex(1, 0)
	const (
		fma     = 1 << 12
		osxsave = 1 << 27
		avx     = 1 << 28
	)
	if ecx1&(fma|osxsave|avx) != fma|osxsave|avx {
		return false, false
	}
	xcr0 := xgetbv0()
	_, ebx7, _, _ := cpuidex(7, 0)
	const (
		avx2    = 1 << 5
		avx512f = 1 << 16
		ymm     = 0x06 // SSE and AVX state
		zmm     = 0xe6 // and opmask, ZMM0-15 upper halves, ZMM16-31
	)
	avx2FMA = ebx7&avx2 != 0 && xcr0&ymm == ymm
	avx512 = avx2FMA && ebx7&avx512f != 0 && xcr0&zmm == zmm
	return avx2FMA, avx512
}

// avx2Kernel and avx512Kernel are the assembly micro-kernels of
// kernel_amd64.s.
var avx2Kernel = &kernel{name: "avx2", mr: 6, nr: 16, kc: 256, mc: 168, nc: 1024, speed: 1, fn: kernelAVX2, rows: kernelAVX2Rows}

var avx512Kernel = &kernel{name: "avx512", mr: 12, nr: 32, kc: 256, mc: 240, nc: 1024, speed: 2, fn: kernelAVX512, rows: kernelAVX512Rows}

// avx512Kernel8 is the 8×32 AVX-512 kernel, for products of 16, 32 or 64
// rows (He et al.'s channel counts), which 12-row tiles pad by a third or
// a ninth. It reads B in place for up to 32 rows, as the 12-row one does
// for up to 36.
var avx512Kernel8 = &kernel{name: "avx512", mr: 8, nr: 32, kc: 256, mc: 240, nc: 1024, speed: 1.9, fn: kernelAVX512x8, rows: kernelAVX512x8Rows, directRows: 64}

// init puts the kernels this CPU runs ahead of goKernel, registers its dot
// kernels and, with AVX2, turns on the assembly transposes for packing.
//
// CIFARLAB_SGEMM=avx2 or =go in the environment caps the instruction set,
// to reproduce on this machine what one without AVX-512 (or any SIMD)
// computes.
func init() {
	avx2FMA, avx512 := cpuFeatures()
	switch os.Getenv("CIFARLAB_SGEMM") {
	case "avx2":
		avx512 = false
	case "go":
		avx2FMA, avx512 = false, false
	case "":
	default:
		fmt.Fprintf(os.Stderr, "cifarlab: CIFARLAB_SGEMM=%q ignored: on amd64 it takes avx2 or go\n", os.Getenv("CIFARLAB_SGEMM"))
	}
	if avx2FMA {
		kernels = append([]*kernel{avx2Kernel}, kernels...)
		dotKernels = append([]*dotKernel{dot3x3Kernel}, dotKernels...)
		bcastKernels = []*bcastKernel{bcast6x16Kernel}
		panelSets = append(panelSets, bcastKernels)
		transpose8, transpose4, transpose2 = transposeAVX2(8), transposeAVX2(4), transposeAVX2(2)
	}
	if avx512 {
		kernels = append([]*kernel{avx512Kernel, avx512Kernel8}, kernels...)
		dotKernels = append([]*dotKernel{dot4x4Kernel}, dotKernels...)
		bcastKernels = []*bcastKernel{bcast32Kernel, bcast16Kernel}
		panelSets = append(panelSets, bcastKernels)
	}
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

func kernelAVX2(kc int, a, b []float32, ldb int, c []float32, ldc int, load bool, beta float32) {
	checkKernelArgs(6, 16, kc, a, b, ldb, c, ldc)
	kernel6x16AVX2(kc, unsafe.SliceData(a), unsafe.SliceData(b), ldb, unsafe.SliceData(c), ldc, boolInt(load), beta)
}

func kernelAVX2Rows(kc int, a, b []float32, offs []int, c []float32, ldc int, load bool, beta float32) {
	checkKernelRows(6, 16, kc, a, b, offs, c, ldc)
	kernel6x16AVX2Rows(kc, unsafe.SliceData(a), unsafe.SliceData(b), unsafe.SliceData(offs), unsafe.SliceData(c), ldc, boolInt(load), beta)
}

func kernelAVX512(kc int, a, b []float32, ldb int, c []float32, ldc int, load bool, beta float32) {
	checkKernelArgs(12, 32, kc, a, b, ldb, c, ldc)
	kernel12x32AVX512(kc, unsafe.SliceData(a), unsafe.SliceData(b), ldb, unsafe.SliceData(c), ldc, boolInt(load), beta)
}

func kernelAVX512x8(kc int, a, b []float32, ldb int, c []float32, ldc int, load bool, beta float32) {
	checkKernelArgs(8, 32, kc, a, b, ldb, c, ldc)
	kernel8x32AVX512(kc, unsafe.SliceData(a), unsafe.SliceData(b), ldb, unsafe.SliceData(c), ldc, boolInt(load), beta)
}

func kernelAVX512x8Rows(kc int, a, b []float32, offs []int, c []float32, ldc int, load bool, beta float32) {
	checkKernelRows(8, 32, kc, a, b, offs, c, ldc)
	kernel8x32AVX512Rows(kc, unsafe.SliceData(a), unsafe.SliceData(b), unsafe.SliceData(offs), unsafe.SliceData(c), ldc, boolInt(load), beta)
}

func kernelAVX512Rows(kc int, a, b []float32, offs []int, c []float32, ldc int, load bool, beta float32) {
	checkKernelRows(12, 32, kc, a, b, offs, c, ldc)
	kernel12x32AVX512Rows(kc, unsafe.SliceData(a), unsafe.SliceData(b), unsafe.SliceData(offs), unsafe.SliceData(c), ldc, boolInt(load), beta)
}
