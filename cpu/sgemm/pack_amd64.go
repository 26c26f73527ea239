//go:build amd64

package sgemm

import "unsafe"

//go:noescape
func transpose8AVX2(dst *float32, ldd int, src *float32, lds int, blocks int, alpha float32)

//go:noescape
func transpose2AVX2(dst *float32, ldd int, src *float32, lds int, blocks int, alpha float32)

//go:noescape
func transpose4AVX2(dst *float32, ldd int, src *float32, lds int, blocks int, alpha float32)

// transposeAVX2 returns the AVX2 transposer of blocks of the given height
// (2, 4 or 8 source rows); see transposeFunc.
func transposeAVX2(height int) transposeFunc {
	asm := transpose8AVX2
	switch height {
	case 2:
		asm = transpose2AVX2
	case 4:
		asm = transpose4AVX2
	}
	return func(d []float32, w int, src []float32, ld, blocks int, alpha float32) {
		if blocks < 1 || len(src) < (height-1)*ld+8*blocks || len(d) < (8*blocks-1)*w+height {
			panic("sgemm: transpose operands out of range")
		}
		asm(unsafe.SliceData(d), w, unsafe.SliceData(src), ld, blocks, alpha)
	}
}
