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

// func kernel6x16AVX2(kc int, a, b *float32, ldb int, c *float32, ldc int, load int, beta float32)
//
// a: kc columns of 6 floats (packed A micro-panel).
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
	VFMADD231PS  (DX), Y14, Y0
	VFMADD231PS  32(DX), Y14, Y1
	VMOVUPS      Y0, (DX)
	VMOVUPS      Y1, 32(DX)
	ADDQ         R9, DX
	VFMADD231PS  (DX), Y14, Y2
	VFMADD231PS  32(DX), Y14, Y3
	VMOVUPS      Y2, (DX)
	VMOVUPS      Y3, 32(DX)
	ADDQ         R9, DX
	VFMADD231PS  (DX), Y14, Y4
	VFMADD231PS  32(DX), Y14, Y5
	VMOVUPS      Y4, (DX)
	VMOVUPS      Y5, 32(DX)
	ADDQ         R9, DX
	VFMADD231PS  (DX), Y14, Y6
	VFMADD231PS  32(DX), Y14, Y7
	VMOVUPS      Y6, (DX)
	VMOVUPS      Y7, 32(DX)
	ADDQ         R9, DX
	VFMADD231PS  (DX), Y14, Y8
	VFMADD231PS  32(DX), Y14, Y9
	VMOVUPS      Y8, (DX)
	VMOVUPS      Y9, 32(DX)
	ADDQ         R9, DX
	VFMADD231PS  (DX), Y14, Y10
	VFMADD231PS  32(DX), Y14, Y11
	VMOVUPS      Y10, (DX)
	VMOVUPS      Y11, 32(DX)
	VZEROUPPER
	RET

plain:
	VMOVUPS Y0, (DX)
	VMOVUPS Y1, 32(DX)
	ADDQ    R9, DX
	VMOVUPS Y2, (DX)
	VMOVUPS Y3, 32(DX)
	ADDQ    R9, DX
	VMOVUPS Y4, (DX)
	VMOVUPS Y5, 32(DX)
	ADDQ    R9, DX
	VMOVUPS Y6, (DX)
	VMOVUPS Y7, 32(DX)
	ADDQ    R9, DX
	VMOVUPS Y8, (DX)
	VMOVUPS Y9, 32(DX)
	ADDQ    R9, DX
	VMOVUPS Y10, (DX)
	VMOVUPS Y11, 32(DX)
	VZEROUPPER
	RET
