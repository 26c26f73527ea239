//go:build amd64

#include "textflag.h"

// func transpose8AVX2(dst *float32, ldd int, src *float32, lds int, blocks int, alpha float32)
//
// For b < blocks, the 8×8 block at src rows 0..7 (stride lds), columns
// 8b..8b+7 is written, scaled by alpha, transposed to dst rows 8b..8b+7
// (stride ldd), columns 0..7.
TEXT ·transpose8AVX2(SB), NOSPLIT, $0-44
	MOVQ dst+0(FP), DI
	MOVQ ldd+8(FP), R9
	SHLQ $2, R9
	MOVQ src+16(FP), SI
	MOVQ lds+24(FP), R8
	SHLQ $2, R8
	MOVQ blocks+32(FP), CX
	VBROADCASTSS alpha+40(FP), Y15
	LEAQ (R8)(R8*2), R10 // 3·lds
	LEAQ (R9)(R9*2), R13 // 3·ldd
	LEAQ (SI)(R8*4), R11 // src row 4
	LEAQ (DI)(R9*4), R12 // dst row 4
	MOVQ R9, BX
	SHLQ $3, BX          // 8·ldd: dst step per block

loop8:
	// Y0..Y3 hold columns 0..3 of rows 0..3 (low lane) and 4..7 (high),
	// Y4..Y7 columns 4..7; a 4×4 transpose in each lane finishes the job.
	VMOVUPS     (SI), X0
	VINSERTF128 $1, (R11), Y0, Y0
	VMOVUPS     (SI)(R8*1), X1
	VINSERTF128 $1, (R11)(R8*1), Y1, Y1
	VMOVUPS     (SI)(R8*2), X2
	VINSERTF128 $1, (R11)(R8*2), Y2, Y2
	VMOVUPS     (SI)(R10*1), X3
	VINSERTF128 $1, (R11)(R10*1), Y3, Y3
	VMOVUPS     16(SI), X4
	VINSERTF128 $1, 16(R11), Y4, Y4
	VMOVUPS     16(SI)(R8*1), X5
	VINSERTF128 $1, 16(R11)(R8*1), Y5, Y5
	VMOVUPS     16(SI)(R8*2), X6
	VINSERTF128 $1, 16(R11)(R8*2), Y6, Y6
	VMOVUPS     16(SI)(R10*1), X7
	VINSERTF128 $1, 16(R11)(R10*1), Y7, Y7

	VUNPCKLPS Y1, Y0, Y8
	VUNPCKHPS Y1, Y0, Y9
	VUNPCKLPS Y3, Y2, Y10
	VUNPCKHPS Y3, Y2, Y11
	VSHUFPS   $0x44, Y10, Y8, Y0 // column 0
	VSHUFPS   $0xEE, Y10, Y8, Y1 // column 1
	VSHUFPS   $0x44, Y11, Y9, Y2 // column 2
	VSHUFPS   $0xEE, Y11, Y9, Y3 // column 3
	VMULPS    Y15, Y0, Y0
	VMULPS    Y15, Y1, Y1
	VMULPS    Y15, Y2, Y2
	VMULPS    Y15, Y3, Y3
	VMOVUPS   Y0, (DI)
	VMOVUPS   Y1, (DI)(R9*1)
	VMOVUPS   Y2, (DI)(R9*2)
	VMOVUPS   Y3, (DI)(R13*1)

	VUNPCKLPS Y5, Y4, Y8
	VUNPCKHPS Y5, Y4, Y9
	VUNPCKLPS Y7, Y6, Y10
	VUNPCKHPS Y7, Y6, Y11
	VSHUFPS   $0x44, Y10, Y8, Y4 // column 4
	VSHUFPS   $0xEE, Y10, Y8, Y5 // column 5
	VSHUFPS   $0x44, Y11, Y9, Y6 // column 6
	VSHUFPS   $0xEE, Y11, Y9, Y7 // column 7
	VMULPS    Y15, Y4, Y4
	VMULPS    Y15, Y5, Y5
	VMULPS    Y15, Y6, Y6
	VMULPS    Y15, Y7, Y7
	VMOVUPS   Y4, (R12)
	VMOVUPS   Y5, (R12)(R9*1)
	VMOVUPS   Y6, (R12)(R9*2)
	VMOVUPS   Y7, (R12)(R13*1)

	ADDQ $32, SI
	ADDQ $32, R11
	ADDQ BX, DI
	ADDQ BX, R12
	DECQ CX
	JNZ  loop8
	VZEROUPPER
	RET

// func transpose4AVX2(dst *float32, ldd int, src *float32, lds int, blocks int, alpha float32)
//
// As transpose8AVX2 for 4×8 blocks: src rows 0..3, columns 8b..8b+7 go to
// dst rows 8b..8b+7, columns 0..3.
TEXT ·transpose4AVX2(SB), NOSPLIT, $0-44
	MOVQ dst+0(FP), DI
	MOVQ ldd+8(FP), R9
	SHLQ $2, R9
	MOVQ src+16(FP), SI
	MOVQ lds+24(FP), R8
	SHLQ $2, R8
	MOVQ blocks+32(FP), CX
	VBROADCASTSS alpha+40(FP), Y15
	LEAQ (R8)(R8*2), R10 // 3·lds
	LEAQ (R9)(R9*2), R13 // 3·ldd
	LEAQ (DI)(R9*4), R12 // dst row 4
	MOVQ R9, BX
	SHLQ $3, BX          // 8·ldd: dst step per block

loop4:
	VMULPS (SI), Y15, Y0
	VMULPS (SI)(R8*1), Y15, Y1
	VMULPS (SI)(R8*2), Y15, Y2
	VMULPS (SI)(R10*1), Y15, Y3

	VUNPCKLPS Y1, Y0, Y8
	VUNPCKHPS Y1, Y0, Y9
	VUNPCKLPS Y3, Y2, Y10
	VUNPCKHPS Y3, Y2, Y11
	VSHUFPS   $0x44, Y10, Y8, Y4 // columns 0 | 4
	VSHUFPS   $0xEE, Y10, Y8, Y5 // columns 1 | 5
	VSHUFPS   $0x44, Y11, Y9, Y6 // columns 2 | 6
	VSHUFPS   $0xEE, Y11, Y9, Y7 // columns 3 | 7

	VMOVUPS      X4, (DI)
	VMOVUPS      X5, (DI)(R9*1)
	VMOVUPS      X6, (DI)(R9*2)
	VMOVUPS      X7, (DI)(R13*1)
	VEXTRACTF128 $1, Y4, (R12)
	VEXTRACTF128 $1, Y5, (R12)(R9*1)
	VEXTRACTF128 $1, Y6, (R12)(R9*2)
	VEXTRACTF128 $1, Y7, (R12)(R13*1)

	ADDQ $32, SI
	ADDQ BX, DI
	ADDQ BX, R12
	DECQ CX
	JNZ  loop4
	VZEROUPPER
	RET

// func transpose2AVX2(dst *float32, ldd int, src *float32, lds int, blocks int, alpha float32)
//
// As transpose8AVX2 for 2×8 blocks: src rows 0..1, columns 8b..8b+7 go to
// dst rows 8b..8b+7, columns 0..1.
TEXT ·transpose2AVX2(SB), NOSPLIT, $0-44
	MOVQ dst+0(FP), DI
	MOVQ ldd+8(FP), R9
	SHLQ $2, R9
	MOVQ src+16(FP), SI
	MOVQ lds+24(FP), R8
	SHLQ $2, R8
	MOVQ blocks+32(FP), CX
	VBROADCASTSS alpha+40(FP), Y15
	LEAQ (R9)(R9*2), R13 // 3·ldd
	LEAQ (DI)(R9*4), R12 // dst row 4
	MOVQ R9, BX
	SHLQ $3, BX          // 8·ldd: dst step per block

loop2:
	VMULPS       (SI), Y15, Y0
	VMULPS       (SI)(R8*1), Y15, Y1
	VUNPCKLPS    Y1, Y0, Y2 // columns 0, 1 | 4, 5
	VUNPCKHPS    Y1, Y0, Y3 // columns 2, 3 | 6, 7
	VEXTRACTF128 $1, Y2, X4
	VEXTRACTF128 $1, Y3, X5
	VMOVLPS      X2, (DI)
	VMOVHPS      X2, (DI)(R9*1)
	VMOVLPS      X3, (DI)(R9*2)
	VMOVHPS      X3, (DI)(R13*1)
	VMOVLPS      X4, (R12)
	VMOVHPS      X4, (R12)(R9*1)
	VMOVLPS      X5, (R12)(R9*2)
	VMOVHPS      X5, (R12)(R13*1)

	ADDQ $32, SI
	ADDQ BX, DI
	ADDQ BX, R12
	DECQ CX
	JNZ  loop2
	VZEROUPPER
	RET
