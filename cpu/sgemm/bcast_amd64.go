//go:build amd64

package sgemm

import "unsafe"

//go:noescape
func bcast8x16AVX512(steps int, a0, a1, a2, a3, a4, a5, a6, a7 *float32, b *float32, ldb int, c *float32, ldc int)

//go:noescape
func bcast8x32AVX512(steps int, a0, a1, a2, a3, a4, a5, a6, a7 *float32, b *float32, ldb int, c *float32, ldc int)

var bcast16Kernel = &bcastKernel{nv: 1, fn: func(steps int, a [8][]float32, b []float32, ldb int, c []float32, ldc int) {
	checkPanelArgs(1, steps, a, b, ldb, c, ldc)
	bcast8x16AVX512(steps, unsafe.SliceData(a[0]), unsafe.SliceData(a[1]), unsafe.SliceData(a[2]), unsafe.SliceData(a[3]),
		unsafe.SliceData(a[4]), unsafe.SliceData(a[5]), unsafe.SliceData(a[6]), unsafe.SliceData(a[7]),
		unsafe.SliceData(b), ldb, unsafe.SliceData(c), ldc)
}}

var bcast32Kernel = &bcastKernel{nv: 2, fn: func(steps int, a [8][]float32, b []float32, ldb int, c []float32, ldc int) {
	checkPanelArgs(2, steps, a, b, ldb, c, ldc)
	bcast8x32AVX512(steps, unsafe.SliceData(a[0]), unsafe.SliceData(a[1]), unsafe.SliceData(a[2]), unsafe.SliceData(a[3]),
		unsafe.SliceData(a[4]), unsafe.SliceData(a[5]), unsafe.SliceData(a[6]), unsafe.SliceData(a[7]),
		unsafe.SliceData(b), ldb, unsafe.SliceData(c), ldc)
}}
