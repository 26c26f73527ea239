#include "textflag.h"

// Each kernel walks n floats (a positive multiple of 8), 8 per step.

// func addAVX2(dst, src *float32, n int)
TEXT ·addAVX2(SB), NOSPLIT, $0-24
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ n+16(FP), CX
	SHRQ $3, CX

addloop:
	VMOVUPS (DI), Y0
	VADDPS  (SI), Y0, Y0
	VMOVUPS Y0, (DI)
	ADDQ    $32, DI
	ADDQ    $32, SI
	DECQ    CX
	JNZ     addloop
	VZEROUPPER
	RET

// func add3AVX2(y, a, b *float32, n int)
TEXT ·add3AVX2(SB), NOSPLIT, $0-32
	MOVQ y+0(FP), DI
	MOVQ a+8(FP), SI
	MOVQ b+16(FP), DX
	MOVQ n+24(FP), CX
	SHRQ $3, CX

add3loop:
	VMOVUPS (SI), Y0
	VADDPS  (DX), Y0, Y0
	VMOVUPS Y0, (DI)
	ADDQ    $32, DI
	ADDQ    $32, SI
	ADDQ    $32, DX
	DECQ    CX
	JNZ     add3loop
	VZEROUPPER
	RET

// func reluAVX2(y, x *float32, n int)
//
// max(0, x) returns x when the comparison 0 > x fails, so NaN stays NaN;
// adding +0 turns the −0 it keeps into +0, as Go's max(x, 0) does.
TEXT ·reluAVX2(SB), NOSPLIT, $0-24
	MOVQ   y+0(FP), DI
	MOVQ   x+8(FP), SI
	MOVQ   n+16(FP), CX
	SHRQ   $3, CX
	VXORPS Y1, Y1, Y1

reluloop:
	VMOVUPS (SI), Y0
	VMAXPS  Y0, Y1, Y0
	VADDPS  Y1, Y0, Y0
	VMOVUPS Y0, (DI)
	ADDQ    $32, DI
	ADDQ    $32, SI
	DECQ    CX
	JNZ     reluloop
	VZEROUPPER
	RET

// func reluMaskAVX2(dx, dy, y *float32, n int)
//
// dy where y > 0 (an ordered comparison: false for NaN), else +0.
TEXT ·reluMaskAVX2(SB), NOSPLIT, $0-32
	MOVQ   dx+0(FP), DI
	MOVQ   dy+8(FP), SI
	MOVQ   y+16(FP), DX
	MOVQ   n+24(FP), CX
	SHRQ   $3, CX
	VXORPS Y1, Y1, Y1

maskloop:
	VMOVUPS (DX), Y0
	VCMPPS  $0x1e, Y1, Y0, Y0 // GT_OQ: y > 0
	VANDPS  (SI), Y0, Y0
	VMOVUPS Y0, (DI)
	ADDQ    $32, DI
	ADDQ    $32, SI
	ADDQ    $32, DX
	DECQ    CX
	JNZ     maskloop
	VZEROUPPER
	RET

// func affineAVX2(y, x *float32, n int, a, c float32)
//
// x·a + c, rounded after the product and after the sum (no FMA).
TEXT ·affineAVX2(SB), NOSPLIT, $0-32
	MOVQ         y+0(FP), DI
	MOVQ         x+8(FP), SI
	MOVQ         n+16(FP), CX
	SHRQ         $3, CX
	VBROADCASTSS a+24(FP), Y1
	VBROADCASTSS c+28(FP), Y2

affloop:
	VMULPS  (SI), Y1, Y0
	VADDPS  Y2, Y0, Y0
	VMOVUPS Y0, (DI)
	ADDQ    $32, DI
	ADDQ    $32, SI
	DECQ    CX
	JNZ     affloop
	VZEROUPPER
	RET

// func bnInputGradAVX2(d, grad, x *float32, n int, mu, a, bx, b0 float32)
//
// (a·g + bx·(x − mu)) + b0, each operation rounded.
TEXT ·bnInputGradAVX2(SB), NOSPLIT, $0-48
	MOVQ         d+0(FP), DI
	MOVQ         grad+8(FP), SI
	MOVQ         x+16(FP), DX
	MOVQ         n+24(FP), CX
	SHRQ         $3, CX
	VBROADCASTSS mu+32(FP), Y4
	VBROADCASTSS a+36(FP), Y5
	VBROADCASTSS bx+40(FP), Y6
	VBROADCASTSS b0+44(FP), Y7

bnloop:
	VMULPS  (SI), Y5, Y0
	VMOVUPS (DX), Y1
	VSUBPS  Y4, Y1, Y1
	VMULPS  Y1, Y6, Y1
	VADDPS  Y1, Y0, Y0
	VADDPS  Y7, Y0, Y0
	VMOVUPS Y0, (DI)
	ADDQ    $32, DI
	ADDQ    $32, SI
	ADDQ    $32, DX
	DECQ    CX
	JNZ     bnloop
	VZEROUPPER
	RET

// func shiftedSumsAVX2(x *float32, n int, shift float64, out *[8]float64)
//
// Σ (x − shift) and Σ (x − shift)² in float64, n a positive multiple of 8:
// eight chains (two vectors of four lanes), each product rounded before
// its sum as in Go. out[0:4] gets the lanes of the first sum, the two
// vectors' chains added lane by lane, and out[4:8] those of the second.
TEXT ·shiftedSumsAVX2(SB), NOSPLIT, $0-32
	MOVQ         x+0(FP), SI
	MOVQ         n+8(FP), CX
	SHRQ         $3, CX
	VBROADCASTSD shift+16(FP), Y7
	VXORPD       Y0, Y0, Y0
	VXORPD       Y1, Y1, Y1
	VXORPD       Y2, Y2, Y2
	VXORPD       Y3, Y3, Y3

ssloop:
	VCVTPS2PD (SI), Y4
	VCVTPS2PD 16(SI), Y5
	VSUBPD    Y7, Y4, Y4
	VSUBPD    Y7, Y5, Y5
	VADDPD    Y4, Y0, Y0
	VADDPD    Y5, Y1, Y1
	VMULPD    Y4, Y4, Y4
	VMULPD    Y5, Y5, Y5
	VADDPD    Y4, Y2, Y2
	VADDPD    Y5, Y3, Y3
	ADDQ      $32, SI
	DECQ      CX
	JNZ       ssloop
	MOVQ      out+24(FP), DI
	VADDPD    Y1, Y0, Y0
	VADDPD    Y3, Y2, Y2
	VMOVUPD   Y0, (DI)
	VMOVUPD   Y2, 32(DI)
	VZEROUPPER
	RET

// func dotSumsAVX2(dy, x *float32, n int, mu float64, out *[8]float64)
//
// Σ dy and Σ dy·(x − mu) in float64, n a positive multiple of 8, as
// shiftedSumsAVX2 does its sums.
TEXT ·dotSumsAVX2(SB), NOSPLIT, $0-40
	MOVQ         dy+0(FP), SI
	MOVQ         x+8(FP), DX
	MOVQ         n+16(FP), CX
	SHRQ         $3, CX
	VBROADCASTSD mu+24(FP), Y7
	VXORPD       Y0, Y0, Y0
	VXORPD       Y1, Y1, Y1
	VXORPD       Y2, Y2, Y2
	VXORPD       Y3, Y3, Y3

dsloop:
	VCVTPS2PD (SI), Y4
	VCVTPS2PD 16(SI), Y5
	VADDPD    Y4, Y0, Y0
	VADDPD    Y5, Y1, Y1
	VCVTPS2PD (DX), Y8
	VCVTPS2PD 16(DX), Y9
	VSUBPD    Y7, Y8, Y8
	VSUBPD    Y7, Y9, Y9
	VMULPD    Y8, Y4, Y4
	VMULPD    Y9, Y5, Y5
	VADDPD    Y4, Y2, Y2
	VADDPD    Y5, Y3, Y3
	ADDQ      $32, SI
	ADDQ      $32, DX
	DECQ      CX
	JNZ       dsloop
	MOVQ      out+32(FP), DI
	VADDPD    Y1, Y0, Y0
	VADDPD    Y3, Y2, Y2
	VMOVUPD   Y0, (DI)
	VMOVUPD   Y2, 32(DI)
	VZEROUPPER
	RET
