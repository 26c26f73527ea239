//go:build amd64

package sgemm

import "unsafe"

//go:noescape
func bcast8x16AVX512(steps int, a0, a1, a2, a3, a4, a5, a6, a7 *float32, b *float32, ldb int, c *float32, ldc int)

//go:noescape
func bcast8x32AVX512(steps int, a0, a1, a2, a3, a4, a5, a6, a7 *float32, b *float32, ldb int, c *float32, ldc int)

var bcast16Kernel = &bcastKernel{rows: 8, cols: 16, fn: func(steps int, a [8][]float32, b []float32, ldb int, c []float32, ldc int) {
	checkPanelArgs(8, 16, steps, a, b, ldb, c, ldc)
	bcast8x16AVX512(steps, unsafe.SliceData(a[0]), unsafe.SliceData(a[1]), unsafe.SliceData(a[2]), unsafe.SliceData(a[3]),
		unsafe.SliceData(a[4]), unsafe.SliceData(a[5]), unsafe.SliceData(a[6]), unsafe.SliceData(a[7]),
		unsafe.SliceData(b), ldb, unsafe.SliceData(c), ldc)
}}

var bcast32Kernel = &bcastKernel{rows: 8, cols: 32, fn: func(steps int, a [8][]float32, b []float32, ldb int, c []float32, ldc int) {
	checkPanelArgs(8, 32, steps, a, b, ldb, c, ldc)
	bcast8x32AVX512(steps, unsafe.SliceData(a[0]), unsafe.SliceData(a[1]), unsafe.SliceData(a[2]), unsafe.SliceData(a[3]),
		unsafe.SliceData(a[4]), unsafe.SliceData(a[5]), unsafe.SliceData(a[6]), unsafe.SliceData(a[7]),
		unsafe.SliceData(b), ldb, unsafe.SliceData(c), ldc)
}}

//go:noescape
func bcast6x16AVX2(steps int, a0, a1, a2, a3, a4, a5 *float32, b *float32, ldb int, c *float32, ldc int)

var bcast6x16Kernel = &bcastKernel{rows: 6, cols: 16, fn: func(steps int, a [8][]float32, b []float32, ldb int, c []float32, ldc int) {
	checkPanelArgs(6, 16, steps, a, b, ldb, c, ldc)
	bcast6x16AVX2(steps, unsafe.SliceData(a[0]), unsafe.SliceData(a[1]), unsafe.SliceData(a[2]), unsafe.SliceData(a[3]),
		unsafe.SliceData(a[4]), unsafe.SliceData(a[5]), unsafe.SliceData(b), ldb, unsafe.SliceData(c), ldc)
}}
