//go:build amd64

package sgemm

import "unsafe"

//go:noescape
func dot4x4AVX512(steps int, a0, a1, a2, a3, b0, b1, b2, b3 *float32, acc *float32)

//go:noescape
func dot3x3AVX2(steps int, a0, a1, a2, b0, b1, b2 *float32, acc *float32)

var dot4x4Kernel = &dotKernel{name: "avx512", ri: 4, rj: 4, vec: 16, fn: func(steps int, a, b [][]float32, acc []float32) {
	checkDotArgs(4, 4, 16, steps, a, b, acc)
	dot4x4AVX512(steps, unsafe.SliceData(a[0]), unsafe.SliceData(a[1]), unsafe.SliceData(a[2]), unsafe.SliceData(a[3]),
		unsafe.SliceData(b[0]), unsafe.SliceData(b[1]), unsafe.SliceData(b[2]), unsafe.SliceData(b[3]), unsafe.SliceData(acc))
}}

var dot3x3Kernel = &dotKernel{name: "avx2", ri: 3, rj: 3, vec: 8, fn: func(steps int, a, b [][]float32, acc []float32) {
	checkDotArgs(3, 3, 8, steps, a, b, acc)
	dot3x3AVX2(steps, unsafe.SliceData(a[0]), unsafe.SliceData(a[1]), unsafe.SliceData(a[2]),
		unsafe.SliceData(b[0]), unsafe.SliceData(b[1]), unsafe.SliceData(b[2]), unsafe.SliceData(acc))
}}
