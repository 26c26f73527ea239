package sgemm

// Register block of the micro-kernel: it computes an mr×nr tile of C.
const (
	mr = 6
	nr = 16
)

// kernelFunc computes the mr×nr tile
//
//	C = Σ_p a[p·mr+i]·b[p·ldb+j]      when load is false (C is not read),
//	C = Σ_p a[p·mr+i]·b[p·ldb+j] + beta·C  when load is true,
//
// for 0 ≤ p < kc, 0 ≤ i < mr, 0 ≤ j < nr, with C[i][j] at c[i·ldc+j].
// a is a packed A micro-panel (kc columns of mr values), b holds kc rows of
// nr values at stride ldb (a packed B micro-panel has ldb = nr). kc ≥ 1.
type kernelFunc func(kc int, a, b []float32, ldb int, c []float32, ldc int, load bool, beta float32)

// fastKernel is the micro-kernel Gemm uses: kernelAVX2 where the CPU has
// AVX2 and FMA, kernelGo elsewhere. Tests swap it to cover both.
var fastKernel kernelFunc = kernelGo

// kernelGo is the portable micro-kernel. It walks the tile in 2×4 blocks so
// that the eight accumulators and the six operands of a step stay in
// registers.
func kernelGo(kc int, a, b []float32, ldb int, c []float32, ldc int, load bool, beta float32) {
	a = a[:kc*mr]
	_ = b[(kc-1)*ldb+nr-1]
	_ = c[(mr-1)*ldc+nr-1]
	for i := 0; i < mr; i += 2 {
		for j := 0; j < nr; j += 4 {
			var c00, c01, c02, c03, c10, c11, c12, c13 float32
			for p := 0; p < kc; p++ {
				bp := b[p*ldb+j : p*ldb+j+4 : p*ldb+j+4]
				ap := a[p*mr+i : p*mr+i+2 : p*mr+i+2]
				a0, a1 := ap[0], ap[1]
				b0, b1, b2, b3 := bp[0], bp[1], bp[2], bp[3]
				c00 += a0 * b0
				c01 += a0 * b1
				c02 += a0 * b2
				c03 += a0 * b3
				c10 += a1 * b0
				c11 += a1 * b1
				c12 += a1 * b2
				c13 += a1 * b3
			}
			r0 := c[i*ldc+j : i*ldc+j+4 : i*ldc+j+4]
			r1 := c[(i+1)*ldc+j : (i+1)*ldc+j+4 : (i+1)*ldc+j+4]
			if load {
				c00 += beta * r0[0]
				c01 += beta * r0[1]
				c02 += beta * r0[2]
				c03 += beta * r0[3]
				c10 += beta * r1[0]
				c11 += beta * r1[1]
				c12 += beta * r1[2]
				c13 += beta * r1[3]
			}
			r0[0], r0[1], r0[2], r0[3] = c00, c01, c02, c03
			r1[0], r1[1], r1[2], r1[3] = c10, c11, c12, c13
		}
	}
}
