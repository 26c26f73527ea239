//go:build amd64

#include "textflag.h"

// func cpuidex(leaf, sub uint32) (eax, ebx, ecx, edx uint32)
TEXT ·cpuidex(SB), NOSPLIT, $0-24
	MOVL leaf+0(FP), AX
	MOVL sub+4(FP), CX
	CPUID
	MOVL AX, eax+8(FP)
	MOVL BX, ebx+12(FP)
	MOVL CX, ecx+16(FP)
	MOVL DX, edx+20(FP)
	RET

// func xgetbv0() (eax uint32)
TEXT ·xgetbv0(SB), NOSPLIT, $0-4
	MOVL $0, CX
	XGETBV
	MOVL AX, eax+0(FP)
	RET

// One k step of the 6×16 micro-kernel: the B row is the 16 floats at
// memory operands b0 and b1 (left and right halves), the A column the 6
// floats at (SI). Accumulators Y0..Y11 hold C rows 0..5 as (left, right).
#define STEP(b0, b1) \
	VMOVUPS      b0, Y12;       \
	VMOVUPS      b1, Y13;       \
	VBROADCASTSS 0(SI), Y14;    \
	VBROADCASTSS 4(SI), Y15;    \
	VFMADD231PS  Y12, Y14, Y0;  \
	VFMADD231PS  Y13, Y14, Y1;  \
	VFMADD231PS  Y12, Y15, Y2;  \
	VFMADD231PS  Y13, Y15, Y3;  \
	VBROADCASTSS 8(SI), Y14;    \
	VBROADCASTSS 12(SI), Y15;   \
	VFMADD231PS  Y12, Y14, Y4;  \
	VFMADD231PS  Y13, Y14, Y5;  \
	VFMADD231PS  Y12, Y15, Y6;  \
	VFMADD231PS  Y13, Y15, Y7;  \
	VBROADCASTSS 16(SI), Y14;   \
	VBROADCASTSS 20(SI), Y15;   \
	VFMADD231PS  Y12, Y14, Y8;  \
	VFMADD231PS  Y13, Y14, Y9;  \
	VFMADD231PS  Y12, Y15, Y10; \
	VFMADD231PS  Y13, Y15, Y11; \
	ADDQ         $24, SI

// C = acc + beta·C for the 6×16 tile at DX (row stride R9), beta in Y14.
#define STOREBETA6X16 \
	VFMADD231PS  (DX), Y14, Y0; \
	VFMADD231PS  32(DX), Y14, Y1; \
	VMOVUPS      Y0, (DX); \
	VMOVUPS      Y1, 32(DX); \
	ADDQ         R9, DX; \
	VFMADD231PS  (DX), Y14, Y2; \
	VFMADD231PS  32(DX), Y14, Y3; \
	VMOVUPS      Y2, (DX); \
	VMOVUPS      Y3, 32(DX); \
	ADDQ         R9, DX; \
	VFMADD231PS  (DX), Y14, Y4; \
	VFMADD231PS  32(DX), Y14, Y5; \
	VMOVUPS      Y4, (DX); \
	VMOVUPS      Y5, 32(DX); \
	ADDQ         R9, DX; \
	VFMADD231PS  (DX), Y14, Y6; \
	VFMADD231PS  32(DX), Y14, Y7; \
	VMOVUPS      Y6, (DX); \
	VMOVUPS      Y7, 32(DX); \
	ADDQ         R9, DX; \
	VFMADD231PS  (DX), Y14, Y8; \
	VFMADD231PS  32(DX), Y14, Y9; \
	VMOVUPS      Y8, (DX); \
	VMOVUPS      Y9, 32(DX); \
	ADDQ         R9, DX; \
	VFMADD231PS  (DX), Y14, Y10; \
	VFMADD231PS  32(DX), Y14, Y11; \
	VMOVUPS      Y10, (DX); \
	VMOVUPS      Y11, 32(DX)

// C = acc for the 6×16 tile at DX (row stride R9).
#define STORE6X16 \
	VMOVUPS Y0, (DX); \
	VMOVUPS Y1, 32(DX); \
	ADDQ    R9, DX; \
	VMOVUPS Y2, (DX); \
	VMOVUPS Y3, 32(DX); \
	ADDQ    R9, DX; \
	VMOVUPS Y4, (DX); \
	VMOVUPS Y5, 32(DX); \
	ADDQ    R9, DX; \
	VMOVUPS Y6, (DX); \
	VMOVUPS Y7, 32(DX); \
	ADDQ    R9, DX; \
	VMOVUPS Y8, (DX); \
	VMOVUPS Y9, 32(DX); \
	ADDQ    R9, DX; \
	VMOVUPS Y10, (DX); \
	VMOVUPS Y11, 32(DX)

// func kernel6x16AVX2(kc int, a, b *float32, ldb int, c *float32, ldc int, load int, beta float32)
//
// a: kc columns of 6 floats (a packed A micro-panel).
// b: kc rows of 16 floats, row p at b + p*ldb floats.
// c: 6 rows of 16 floats, row i at c + i*ldc floats.
// C = acc when load == 0 (C is not read), else C = acc + beta*C.
TEXT ·kernel6x16AVX2(SB), NOSPLIT, $0-60
	MOVQ kc+0(FP), CX
	MOVQ a+8(FP), SI
	MOVQ b+16(FP), DI
	MOVQ ldb+24(FP), R8
	SHLQ $2, R8
	LEAQ (R8)(R8*2), R10
	MOVQ c+32(FP), DX
	MOVQ ldc+40(FP), R9
	SHLQ $2, R9

	// Fetch the C tile while the products are summed.
	MOVQ        DX, AX
	PREFETCHT0  (AX)
	PREFETCHT0  60(AX)
	ADDQ        R9, AX
	PREFETCHT0  (AX)
	PREFETCHT0  60(AX)
	ADDQ        R9, AX
	PREFETCHT0  (AX)
	PREFETCHT0  60(AX)
	ADDQ        R9, AX
	PREFETCHT0  (AX)
	PREFETCHT0  60(AX)
	ADDQ        R9, AX
	PREFETCHT0  (AX)
	PREFETCHT0  60(AX)
	ADDQ        R9, AX
	PREFETCHT0  (AX)
	PREFETCHT0  60(AX)

	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3
	VXORPS Y4, Y4, Y4
	VXORPS Y5, Y5, Y5
	VXORPS Y6, Y6, Y6
	VXORPS Y7, Y7, Y7
	VXORPS Y8, Y8, Y8
	VXORPS Y9, Y9, Y9
	VXORPS Y10, Y10, Y10
	VXORPS Y11, Y11, Y11

	MOVQ CX, BX
	SHRQ $2, BX
	JZ   tail

loop4:
	STEP((DI), 32(DI))
	STEP((DI)(R8*1), 32(DI)(R8*1))
	STEP((DI)(R8*2), 32(DI)(R8*2))
	STEP((DI)(R10*1), 32(DI)(R10*1))
	LEAQ (DI)(R8*4), DI
	DECQ BX
	JNZ  loop4

tail:
	ANDQ $3, CX
	JZ   store

loop1:
	STEP((DI), 32(DI))
	ADDQ R8, DI
	DECQ CX
	JNZ  loop1

store:
	MOVQ load+48(FP), AX
	TESTQ AX, AX
	JZ   plain
	VBROADCASTSS beta+56(FP), Y14
	STOREBETA6X16
	VZEROUPPER
	RET

plain:
	STORE6X16
	VZEROUPPER
	RET

// func kernel6x16AVX2Rows(kc int, a, b *float32, offs *int, c *float32, ldc int, load int, beta float32)
//
// kernel6x16AVX2 with B's row p at b + 4·offs[p] bytes.
TEXT ·kernel6x16AVX2Rows(SB), NOSPLIT, $0-60
	MOVQ kc+0(FP), CX
	MOVQ a+8(FP), SI
	MOVQ b+16(FP), DI
	MOVQ offs+24(FP), R8
	MOVQ c+32(FP), DX
	MOVQ ldc+40(FP), R9
	SHLQ $2, R9

	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3
	VXORPS Y4, Y4, Y4
	VXORPS Y5, Y5, Y5
	VXORPS Y6, Y6, Y6
	VXORPS Y7, Y7, Y7
	VXORPS Y8, Y8, Y8
	VXORPS Y9, Y9, Y9
	VXORPS Y10, Y10, Y10
	VXORPS Y11, Y11, Y11

	MOVQ CX, BX
	SHRQ $2, BX
	JZ   tailr

loop4r:
	MOVQ (R8), R10
	MOVQ 8(R8), R11
	MOVQ 16(R8), R12
	MOVQ 24(R8), R13
	STEP((DI)(R10*4), 32(DI)(R10*4))
	STEP((DI)(R11*4), 32(DI)(R11*4))
	STEP((DI)(R12*4), 32(DI)(R12*4))
	STEP((DI)(R13*4), 32(DI)(R13*4))
	ADDQ $32, R8
	DECQ BX
	JNZ  loop4r

tailr:
	ANDQ $3, CX
	JZ   storer

loop1r:
	MOVQ (R8), R10
	STEP((DI)(R10*4), 32(DI)(R10*4))
	ADDQ $8, R8
	DECQ CX
	JNZ  loop1r

storer:
	MOVQ load+48(FP), AX
	TESTQ AX, AX
	JZ   plainr
	VBROADCASTSS beta+56(FP), Y14
	STOREBETA6X16
	VZEROUPPER
	RET

plainr:
	STORE6X16
	VZEROUPPER
	RET

// One k step of the 12×32 micro-kernel: the B row is the 32 floats at
// memory operands b0 and b1 (left and right halves), the A column the 12
// floats at (SI). Accumulators Z0..Z23 hold C rows 0..11 as (left, right).
#define STEP512(b0, b1) \
	VMOVUPS      b0, Z24; \
	VMOVUPS      b1, Z25; \
	VBROADCASTSS 0(SI), Z26; \
	VBROADCASTSS 4(SI), Z27; \
	VFMADD231PS  Z24, Z26, Z0; \
	VFMADD231PS  Z25, Z26, Z1; \
	VFMADD231PS  Z24, Z27, Z2; \
	VFMADD231PS  Z25, Z27, Z3; \
	VBROADCASTSS 8(SI), Z26; \
	VBROADCASTSS 12(SI), Z27; \
	VFMADD231PS  Z24, Z26, Z4; \
	VFMADD231PS  Z25, Z26, Z5; \
	VFMADD231PS  Z24, Z27, Z6; \
	VFMADD231PS  Z25, Z27, Z7; \
	VBROADCASTSS 16(SI), Z26; \
	VBROADCASTSS 20(SI), Z27; \
	VFMADD231PS  Z24, Z26, Z8; \
	VFMADD231PS  Z25, Z26, Z9; \
	VFMADD231PS  Z24, Z27, Z10; \
	VFMADD231PS  Z25, Z27, Z11; \
	VBROADCASTSS 24(SI), Z26; \
	VBROADCASTSS 28(SI), Z27; \
	VFMADD231PS  Z24, Z26, Z12; \
	VFMADD231PS  Z25, Z26, Z13; \
	VFMADD231PS  Z24, Z27, Z14; \
	VFMADD231PS  Z25, Z27, Z15; \
	VBROADCASTSS 32(SI), Z26; \
	VBROADCASTSS 36(SI), Z27; \
	VFMADD231PS  Z24, Z26, Z16; \
	VFMADD231PS  Z25, Z26, Z17; \
	VFMADD231PS  Z24, Z27, Z18; \
	VFMADD231PS  Z25, Z27, Z19; \
	VBROADCASTSS 40(SI), Z26; \
	VBROADCASTSS 44(SI), Z27; \
	VFMADD231PS  Z24, Z26, Z20; \
	VFMADD231PS  Z25, Z26, Z21; \
	VFMADD231PS  Z24, Z27, Z22; \
	VFMADD231PS  Z25, Z27, Z23; \
	ADDQ         $48, SI

// Prefetch the 12 rows of the C tile at DX (row stride R9), walking AX.
#define FETCHC512 \
	MOVQ DX, AX; \
	PREFETCHT0 (AX); \
	PREFETCHT0 124(AX); \
	ADDQ R9, AX; \
	PREFETCHT0 (AX); \
	PREFETCHT0 124(AX); \
	ADDQ R9, AX; \
	PREFETCHT0 (AX); \
	PREFETCHT0 124(AX); \
	ADDQ R9, AX; \
	PREFETCHT0 (AX); \
	PREFETCHT0 124(AX); \
	ADDQ R9, AX; \
	PREFETCHT0 (AX); \
	PREFETCHT0 124(AX); \
	ADDQ R9, AX; \
	PREFETCHT0 (AX); \
	PREFETCHT0 124(AX); \
	ADDQ R9, AX; \
	PREFETCHT0 (AX); \
	PREFETCHT0 124(AX); \
	ADDQ R9, AX; \
	PREFETCHT0 (AX); \
	PREFETCHT0 124(AX); \
	ADDQ R9, AX; \
	PREFETCHT0 (AX); \
	PREFETCHT0 124(AX); \
	ADDQ R9, AX; \
	PREFETCHT0 (AX); \
	PREFETCHT0 124(AX); \
	ADDQ R9, AX; \
	PREFETCHT0 (AX); \
	PREFETCHT0 124(AX); \
	ADDQ R9, AX; \
	PREFETCHT0 (AX); \
	PREFETCHT0 124(AX)

// Zero the accumulators Z0..Z23.
#define ZERO512 \
	VPXORD Z0, Z0, Z0; \
	VPXORD Z1, Z1, Z1; \
	VPXORD Z2, Z2, Z2; \
	VPXORD Z3, Z3, Z3; \
	VPXORD Z4, Z4, Z4; \
	VPXORD Z5, Z5, Z5; \
	VPXORD Z6, Z6, Z6; \
	VPXORD Z7, Z7, Z7; \
	VPXORD Z8, Z8, Z8; \
	VPXORD Z9, Z9, Z9; \
	VPXORD Z10, Z10, Z10; \
	VPXORD Z11, Z11, Z11; \
	VPXORD Z12, Z12, Z12; \
	VPXORD Z13, Z13, Z13; \
	VPXORD Z14, Z14, Z14; \
	VPXORD Z15, Z15, Z15; \
	VPXORD Z16, Z16, Z16; \
	VPXORD Z17, Z17, Z17; \
	VPXORD Z18, Z18, Z18; \
	VPXORD Z19, Z19, Z19; \
	VPXORD Z20, Z20, Z20; \
	VPXORD Z21, Z21, Z21; \
	VPXORD Z22, Z22, Z22; \
	VPXORD Z23, Z23, Z23

// C = acc + beta·C for the 12×32 tile at DX (row stride R9), beta in Z28.
#define STOREBETA512 \
	VBROADCASTSS beta+56(FP), Z28; \
	VFMADD231PS (DX), Z28, Z0; \
	VFMADD231PS 64(DX), Z28, Z1; \
	VMOVUPS Z0, (DX); \
	VMOVUPS Z1, 64(DX); \
	ADDQ R9, DX; \
	VFMADD231PS (DX), Z28, Z2; \
	VFMADD231PS 64(DX), Z28, Z3; \
	VMOVUPS Z2, (DX); \
	VMOVUPS Z3, 64(DX); \
	ADDQ R9, DX; \
	VFMADD231PS (DX), Z28, Z4; \
	VFMADD231PS 64(DX), Z28, Z5; \
	VMOVUPS Z4, (DX); \
	VMOVUPS Z5, 64(DX); \
	ADDQ R9, DX; \
	VFMADD231PS (DX), Z28, Z6; \
	VFMADD231PS 64(DX), Z28, Z7; \
	VMOVUPS Z6, (DX); \
	VMOVUPS Z7, 64(DX); \
	ADDQ R9, DX; \
	VFMADD231PS (DX), Z28, Z8; \
	VFMADD231PS 64(DX), Z28, Z9; \
	VMOVUPS Z8, (DX); \
	VMOVUPS Z9, 64(DX); \
	ADDQ R9, DX; \
	VFMADD231PS (DX), Z28, Z10; \
	VFMADD231PS 64(DX), Z28, Z11; \
	VMOVUPS Z10, (DX); \
	VMOVUPS Z11, 64(DX); \
	ADDQ R9, DX; \
	VFMADD231PS (DX), Z28, Z12; \
	VFMADD231PS 64(DX), Z28, Z13; \
	VMOVUPS Z12, (DX); \
	VMOVUPS Z13, 64(DX); \
	ADDQ R9, DX; \
	VFMADD231PS (DX), Z28, Z14; \
	VFMADD231PS 64(DX), Z28, Z15; \
	VMOVUPS Z14, (DX); \
	VMOVUPS Z15, 64(DX); \
	ADDQ R9, DX; \
	VFMADD231PS (DX), Z28, Z16; \
	VFMADD231PS 64(DX), Z28, Z17; \
	VMOVUPS Z16, (DX); \
	VMOVUPS Z17, 64(DX); \
	ADDQ R9, DX; \
	VFMADD231PS (DX), Z28, Z18; \
	VFMADD231PS 64(DX), Z28, Z19; \
	VMOVUPS Z18, (DX); \
	VMOVUPS Z19, 64(DX); \
	ADDQ R9, DX; \
	VFMADD231PS (DX), Z28, Z20; \
	VFMADD231PS 64(DX), Z28, Z21; \
	VMOVUPS Z20, (DX); \
	VMOVUPS Z21, 64(DX); \
	ADDQ R9, DX; \
	VFMADD231PS (DX), Z28, Z22; \
	VFMADD231PS 64(DX), Z28, Z23; \
	VMOVUPS Z22, (DX); \
	VMOVUPS Z23, 64(DX)

// C = acc for the 12×32 tile at DX (row stride R9).
#define STORE512 \
	VMOVUPS Z0, (DX); \
	VMOVUPS Z1, 64(DX); \
	ADDQ R9, DX; \
	VMOVUPS Z2, (DX); \
	VMOVUPS Z3, 64(DX); \
	ADDQ R9, DX; \
	VMOVUPS Z4, (DX); \
	VMOVUPS Z5, 64(DX); \
	ADDQ R9, DX; \
	VMOVUPS Z6, (DX); \
	VMOVUPS Z7, 64(DX); \
	ADDQ R9, DX; \
	VMOVUPS Z8, (DX); \
	VMOVUPS Z9, 64(DX); \
	ADDQ R9, DX; \
	VMOVUPS Z10, (DX); \
	VMOVUPS Z11, 64(DX); \
	ADDQ R9, DX; \
	VMOVUPS Z12, (DX); \
	VMOVUPS Z13, 64(DX); \
	ADDQ R9, DX; \
	VMOVUPS Z14, (DX); \
	VMOVUPS Z15, 64(DX); \
	ADDQ R9, DX; \
	VMOVUPS Z16, (DX); \
	VMOVUPS Z17, 64(DX); \
	ADDQ R9, DX; \
	VMOVUPS Z18, (DX); \
	VMOVUPS Z19, 64(DX); \
	ADDQ R9, DX; \
	VMOVUPS Z20, (DX); \
	VMOVUPS Z21, 64(DX); \
	ADDQ R9, DX; \
	VMOVUPS Z22, (DX); \
	VMOVUPS Z23, 64(DX)

// func kernel12x32AVX512(kc int, a, b *float32, ldb int, c *float32, ldc int, load int, beta float32)
//
// As kernel6x16AVX2 for a 12×32 tile: a holds kc columns of 12 floats, b kc
// rows of 32 floats at stride ldb, c 12 rows of 32 floats at stride ldc.
TEXT ·kernel12x32AVX512(SB), NOSPLIT, $0-60
	MOVQ kc+0(FP), CX
	MOVQ a+8(FP), SI
	MOVQ b+16(FP), DI
	MOVQ ldb+24(FP), R8
	SHLQ $2, R8
	LEAQ (R8)(R8*2), R10
	MOVQ c+32(FP), DX
	MOVQ ldc+40(FP), R9
	SHLQ $2, R9

	// Fetch the C tile while the products are summed.
	FETCHC512
	ZERO512

	MOVQ CX, BX
	SHRQ $2, BX
	JZ   tail512

loop512:
	STEP512((DI), 64(DI))
	STEP512((DI)(R8*1), 64(DI)(R8*1))
	STEP512((DI)(R8*2), 64(DI)(R8*2))
	STEP512((DI)(R10*1), 64(DI)(R10*1))
	LEAQ (DI)(R8*4), DI
	DECQ BX
	JNZ  loop512

tail512:
	ANDQ $3, CX
	JZ   store512

loop512one:
	STEP512((DI), 64(DI))
	ADDQ R8, DI
	DECQ CX
	JNZ  loop512one

store512:
	MOVQ  load+48(FP), AX
	TESTQ AX, AX
	JZ    plain512

	STOREBETA512
	VZEROUPPER
	RET

plain512:
	STORE512
	VZEROUPPER
	RET

// func kernel12x32AVX512Rows(kc int, a, b *float32, offs *int, c *float32, ldc int, load int, beta float32)
//
// kernel12x32AVX512 with B's row p at b + 4·offs[p] bytes instead of at
// stride ldb.
TEXT ·kernel12x32AVX512Rows(SB), NOSPLIT, $0-60
	MOVQ kc+0(FP), CX
	MOVQ a+8(FP), SI
	MOVQ b+16(FP), DI
	MOVQ offs+24(FP), R8
	MOVQ c+32(FP), DX
	MOVQ ldc+40(FP), R9
	SHLQ $2, R9

	FETCHC512
	ZERO512

	MOVQ CX, BX
	SHRQ $2, BX
	JZ   tail512r

loop512r:
	MOVQ    (R8), R10
	MOVQ    8(R8), R11
	MOVQ    16(R8), R12
	MOVQ    24(R8), R13
	STEP512((DI)(R10*4), 64(DI)(R10*4))
	STEP512((DI)(R11*4), 64(DI)(R11*4))
	STEP512((DI)(R12*4), 64(DI)(R12*4))
	STEP512((DI)(R13*4), 64(DI)(R13*4))
	ADDQ $32, R8
	DECQ BX
	JNZ  loop512r

tail512r:
	ANDQ $3, CX
	JZ   store512r

loop512rone:
	MOVQ (R8), R10
	STEP512((DI)(R10*4), 64(DI)(R10*4))
	ADDQ $8, R8
	DECQ CX
	JNZ  loop512rone

store512r:
	MOVQ  load+48(FP), AX
	TESTQ AX, AX
	JZ    plain512r
	STOREBETA512
	VZEROUPPER
	RET

plain512r:
	STORE512
	VZEROUPPER
	RET

// One k step of the 8×32 micro-kernel: as STEP512 with 8 rows of A,
// accumulators Z0..Z15.
#define STEP8X32(b0, b1) \
	VMOVUPS      b0, Z24; \
	VMOVUPS      b1, Z25; \
	VBROADCASTSS 0(SI), Z26; \
	VBROADCASTSS 4(SI), Z27; \
	VFMADD231PS  Z24, Z26, Z0; \
	VFMADD231PS  Z25, Z26, Z1; \
	VFMADD231PS  Z24, Z27, Z2; \
	VFMADD231PS  Z25, Z27, Z3; \
	VBROADCASTSS 8(SI), Z26; \
	VBROADCASTSS 12(SI), Z27; \
	VFMADD231PS  Z24, Z26, Z4; \
	VFMADD231PS  Z25, Z26, Z5; \
	VFMADD231PS  Z24, Z27, Z6; \
	VFMADD231PS  Z25, Z27, Z7; \
	VBROADCASTSS 16(SI), Z26; \
	VBROADCASTSS 20(SI), Z27; \
	VFMADD231PS  Z24, Z26, Z8; \
	VFMADD231PS  Z25, Z26, Z9; \
	VFMADD231PS  Z24, Z27, Z10; \
	VFMADD231PS  Z25, Z27, Z11; \
	VBROADCASTSS 24(SI), Z26; \
	VBROADCASTSS 28(SI), Z27; \
	VFMADD231PS  Z24, Z26, Z12; \
	VFMADD231PS  Z25, Z26, Z13; \
	VFMADD231PS  Z24, Z27, Z14; \
	VFMADD231PS  Z25, Z27, Z15; \
	ADDQ         $32, SI

// Prefetch the 8 rows of the C tile at DX (row stride R9), walking AX.
#define FETCHC8X32 \
	MOVQ DX, AX; \
	PREFETCHT0 (AX); \
	PREFETCHT0 124(AX); \
	ADDQ R9, AX; \
	PREFETCHT0 (AX); \
	PREFETCHT0 124(AX); \
	ADDQ R9, AX; \
	PREFETCHT0 (AX); \
	PREFETCHT0 124(AX); \
	ADDQ R9, AX; \
	PREFETCHT0 (AX); \
	PREFETCHT0 124(AX); \
	ADDQ R9, AX; \
	PREFETCHT0 (AX); \
	PREFETCHT0 124(AX); \
	ADDQ R9, AX; \
	PREFETCHT0 (AX); \
	PREFETCHT0 124(AX); \
	ADDQ R9, AX; \
	PREFETCHT0 (AX); \
	PREFETCHT0 124(AX); \
	ADDQ R9, AX; \
	PREFETCHT0 (AX); \
	PREFETCHT0 124(AX)

// Zero the accumulators Z0..Z15.
#define ZERO8X32 \
	VPXORD Z0, Z0, Z0; \
	VPXORD Z1, Z1, Z1; \
	VPXORD Z2, Z2, Z2; \
	VPXORD Z3, Z3, Z3; \
	VPXORD Z4, Z4, Z4; \
	VPXORD Z5, Z5, Z5; \
	VPXORD Z6, Z6, Z6; \
	VPXORD Z7, Z7, Z7; \
	VPXORD Z8, Z8, Z8; \
	VPXORD Z9, Z9, Z9; \
	VPXORD Z10, Z10, Z10; \
	VPXORD Z11, Z11, Z11; \
	VPXORD Z12, Z12, Z12; \
	VPXORD Z13, Z13, Z13; \
	VPXORD Z14, Z14, Z14; \
	VPXORD Z15, Z15, Z15

// C = acc + beta·C for the 8×32 tile at DX (row stride R9), beta in Z28.
#define STOREBETA8X32 \
	VBROADCASTSS beta+56(FP), Z28; \
	VFMADD231PS (DX), Z28, Z0; \
	VFMADD231PS 64(DX), Z28, Z1; \
	VMOVUPS Z0, (DX); \
	VMOVUPS Z1, 64(DX); \
	ADDQ R9, DX; \
	VFMADD231PS (DX), Z28, Z2; \
	VFMADD231PS 64(DX), Z28, Z3; \
	VMOVUPS Z2, (DX); \
	VMOVUPS Z3, 64(DX); \
	ADDQ R9, DX; \
	VFMADD231PS (DX), Z28, Z4; \
	VFMADD231PS 64(DX), Z28, Z5; \
	VMOVUPS Z4, (DX); \
	VMOVUPS Z5, 64(DX); \
	ADDQ R9, DX; \
	VFMADD231PS (DX), Z28, Z6; \
	VFMADD231PS 64(DX), Z28, Z7; \
	VMOVUPS Z6, (DX); \
	VMOVUPS Z7, 64(DX); \
	ADDQ R9, DX; \
	VFMADD231PS (DX), Z28, Z8; \
	VFMADD231PS 64(DX), Z28, Z9; \
	VMOVUPS Z8, (DX); \
	VMOVUPS Z9, 64(DX); \
	ADDQ R9, DX; \
	VFMADD231PS (DX), Z28, Z10; \
	VFMADD231PS 64(DX), Z28, Z11; \
	VMOVUPS Z10, (DX); \
	VMOVUPS Z11, 64(DX); \
	ADDQ R9, DX; \
	VFMADD231PS (DX), Z28, Z12; \
	VFMADD231PS 64(DX), Z28, Z13; \
	VMOVUPS Z12, (DX); \
	VMOVUPS Z13, 64(DX); \
	ADDQ R9, DX; \
	VFMADD231PS (DX), Z28, Z14; \
	VFMADD231PS 64(DX), Z28, Z15; \
	VMOVUPS Z14, (DX); \
	VMOVUPS Z15, 64(DX)

// C = acc for the 8×32 tile at DX (row stride R9).
#define STORE8X32 \
	VMOVUPS Z0, (DX); \
	VMOVUPS Z1, 64(DX); \
	ADDQ R9, DX; \
	VMOVUPS Z2, (DX); \
	VMOVUPS Z3, 64(DX); \
	ADDQ R9, DX; \
	VMOVUPS Z4, (DX); \
	VMOVUPS Z5, 64(DX); \
	ADDQ R9, DX; \
	VMOVUPS Z6, (DX); \
	VMOVUPS Z7, 64(DX); \
	ADDQ R9, DX; \
	VMOVUPS Z8, (DX); \
	VMOVUPS Z9, 64(DX); \
	ADDQ R9, DX; \
	VMOVUPS Z10, (DX); \
	VMOVUPS Z11, 64(DX); \
	ADDQ R9, DX; \
	VMOVUPS Z12, (DX); \
	VMOVUPS Z13, 64(DX); \
	ADDQ R9, DX; \
	VMOVUPS Z14, (DX); \
	VMOVUPS Z15, 64(DX)

// func kernel8x32AVX512(kc int, a, b *float32, ldb int, c *float32, ldc int, load int, beta float32)
//
// kernel12x32AVX512 for an 8×32 tile (a holds kc columns of 8 floats): a
// product of 16, 32 or 64 rows fills whole tiles of it.
TEXT ·kernel8x32AVX512(SB), NOSPLIT, $0-60
	MOVQ kc+0(FP), CX
	MOVQ a+8(FP), SI
	MOVQ b+16(FP), DI
	MOVQ ldb+24(FP), R8
	SHLQ $2, R8
	LEAQ (R8)(R8*2), R10
	MOVQ c+32(FP), DX
	MOVQ ldc+40(FP), R9
	SHLQ $2, R9

	FETCHC8X32
	ZERO8X32

	MOVQ CX, BX
	SHRQ $2, BX
	JZ   tail8

loop8:
	STEP8X32((DI), 64(DI))
	STEP8X32((DI)(R8*1), 64(DI)(R8*1))
	STEP8X32((DI)(R8*2), 64(DI)(R8*2))
	STEP8X32((DI)(R10*1), 64(DI)(R10*1))
	LEAQ (DI)(R8*4), DI
	DECQ BX
	JNZ  loop8

tail8:
	ANDQ $3, CX
	JZ   store8

loop8one:
	STEP8X32((DI), 64(DI))
	ADDQ R8, DI
	DECQ CX
	JNZ  loop8one

store8:
	MOVQ  load+48(FP), AX
	TESTQ AX, AX
	JZ    plain8
	STOREBETA8X32
	VZEROUPPER
	RET

plain8:
	STORE8X32
	VZEROUPPER
	RET

// func kernel8x32AVX512Rows(kc int, a, b *float32, offs *int, c *float32, ldc int, load int, beta float32)
//
// kernel8x32AVX512 with B's row p at b + 4·offs[p] bytes.
TEXT ·kernel8x32AVX512Rows(SB), NOSPLIT, $0-60
	MOVQ kc+0(FP), CX
	MOVQ a+8(FP), SI
	MOVQ b+16(FP), DI
	MOVQ offs+24(FP), R8
	MOVQ c+32(FP), DX
	MOVQ ldc+40(FP), R9
	SHLQ $2, R9

	FETCHC8X32
	ZERO8X32

	MOVQ CX, BX
	SHRQ $2, BX
	JZ   tail8r

loop8r:
	MOVQ    (R8), R10
	MOVQ    8(R8), R11
	MOVQ    16(R8), R12
	MOVQ    24(R8), R13
	STEP8X32((DI)(R10*4), 64(DI)(R10*4))
	STEP8X32((DI)(R11*4), 64(DI)(R11*4))
	STEP8X32((DI)(R12*4), 64(DI)(R12*4))
	STEP8X32((DI)(R13*4), 64(DI)(R13*4))
	ADDQ $32, R8
	DECQ BX
	JNZ  loop8r

tail8r:
	ANDQ $3, CX
	JZ   store8r

loop8rone:
	MOVQ (R8), R10
	STEP8X32((DI)(R10*4), 64(DI)(R10*4))
	ADDQ $8, R8
	DECQ CX
	JNZ  loop8rone

store8r:
	MOVQ  load+48(FP), AX
	TESTQ AX, AX
	JZ    plain8r
	STOREBETA8X32
	VZEROUPPER
	RET

plain8r:
	STORE8X32
	VZEROUPPER
	RET
