//go:build amd64

package sgemm

import "unsafe"

//go:noescape
func kernel6x16AVX2(kc int, a, b *float32, ldb int, c *float32, ldc int, load int, beta float32)

func cpuidex(leaf, sub uint32) (eax, ebx, ecx, edx uint32)

func xgetbv0() (eax uint32)

// hasAVX2FMA reports whether the CPU has AVX2 and FMA3 and the OS saves the
// YMM registers (CPUID.1:ECX.OSXSAVE and XCR0 bits 1 and 2).
func hasAVX2FMA() bool {
	maxLeaf, _, _, _ := cpuidex(0, 0)
	if maxLeaf < 7 {
		return false
	}
	_, _, ecx1, _ := cpuidex(1, 0)
	const (
		fma     = 1 << 12
		osxsave = 1 << 27
		avx     = 1 << 28
	)
	if ecx1&(fma|osxsave|avx) != fma|osxsave|avx {
		return false
	}
	if xgetbv0()&6 != 6 {
		return false
	}
	_, ebx7, _, _ := cpuidex(7, 0)
	const avx2 = 1 << 5
	return ebx7&avx2 != 0
}

var haveAVX2FMA = hasAVX2FMA()

// kernelAVX2 is the 6×16 micro-kernel in AVX2+FMA assembly. The caller
// guarantees the extents that kernelGo would check.
func kernelAVX2(kc int, a, b []float32, ldb int, c []float32, ldc int, load bool, beta float32) {
	if kc < 1 || len(a) < kc*mr || len(b) < (kc-1)*ldb+nr || len(c) < (mr-1)*ldc+nr {
		panic("sgemm: micro-kernel operands out of range")
	}
	l := 0
	if load {
		l = 1
	}
	kernel6x16AVX2(kc, unsafe.SliceData(a), unsafe.SliceData(b), ldb, unsafe.SliceData(c), ldc, l, beta)
}

func init() {
	if haveAVX2FMA {
		fastKernel = kernelAVX2
	}
}
