package sgemm

import "fmt"

// The panel path computes C = A·B where A's rows lie anywhere (the shifted
// views of a convolution's padded planes, as GemmRows' B rows do) and B is
// a narrow k×n matrix stored row by row: the weight gradient dwᵀ = col·dyᵀ
// of a convolution, dy transposed so that its n output channels are
// contiguous. A kernel keeps a tile of C (8×16 or 8×32 with AVX-512, 6×16
// with AVX2) in vector registers for the
// whole inner dimension, each term of A broadcast against a row of B read
// in place: nothing is packed and no partial sums leave the registers, where
// the dot path (both operands contiguous along k) keeps 16-lane partials of
// each element and adds them up at the end.

// bcastKernel adds to a rows×cols tile of C: c[i·ldc+l] += Σ_{q<steps}
// a[i][q]·b[q·ldb+l] (a[rows:] unused).
type bcastKernel struct {
	rows, cols int
	fn         func(steps int, a [8][]float32, b []float32, ldb int, c []float32, ldc int)
}

// bcastKernels are this CPU's broadcast kernels, widest first, all of the
// same rows; none where it has none.
var bcastKernels []*bcastKernel

// panelSets are every set of broadcast kernels this CPU runs (tests cover
// each), bcastKernels the last.
var panelSets [][]*bcastKernel

// disablePanel turns the kernels off (tests compare them with the
// portable loop).
var disablePanel bool

// panelBlock is how many terms a kernel call sums before its tile is
// added into C, for n columns: the rows of B it reads then fill 32 KiB,
// which stays in L1 while the tiles of every row of A pass over it. The
// sums run in blocks of this length (at most 512), which keeps their
// rounding error near that of the dot path's 16-lane partials.
func panelBlock(n int) int { return max(64, min(512, 8192/n)) }

// PanelCols reports whether GemmRowsPanel runs a vector kernel for n
// columns of C on this CPU (otherwise it runs a portable loop).
func PanelCols(n int) bool {
	return !disablePanel && n > 0 && n%16 == 0 && len(bcastKernels) > 0
}

// GemmRowsPanel sets C = beta·C + A·B for an m×k A whose row i is
// a[aoff[i]:][:k] and a k×n B stored at b[q·n+j]; C is m×n at stride ldc.
// It runs on the calling goroutine. It panics with an error wrapping
// ErrShape when an operand is out of range.
func GemmRowsPanel(m, n, k int, a []float32, aoff []int, b []float32, beta float32, c []float32, ldc int) {
	if m < 0 || n < 0 || k < 0 {
		panic(fmt.Errorf("%w: GemmRowsPanel m, n, k = %d, %d, %d", ErrShape, m, n, k))
	}
	checkRows(m, k, a, aoff)
	checkMatrix("b", k, n, b, max(1, n))
	checkMatrix("c", m, n, c, ldc)
	if m == 0 || n == 0 {
		return
	}
	scale(m, n, beta, c, ldc)
	if k == 0 {
		return
	}
	if !PanelCols(n) {
		panelGo(m, n, k, a, aoff, b, c, ldc)
		return
	}
	var tile [8 * 32]float32 // the last rows of C when m is not a multiple of the tile's
	blk := panelBlock(n)
	mr := bcastKernels[0].rows
	for q0 := 0; q0 < k; q0 += blk {
		steps := min(blk, k-q0)
		for i0 := 0; i0 < m; i0 += mr {
			var rows [8][]float32
			for r := range rows[:mr] { // rows past m repeat the last; their sums are dropped
				rows[r] = a[aoff[min(i0+r, m-1)]+q0:]
			}
			for j0 := 0; j0 < n; {
				kern := bcastKernels[len(bcastKernels)-1]
				for _, kn := range bcastKernels {
					if kn.cols <= n-j0 {
						kern = kn
						break
					}
				}
				w := kern.cols
				if i0+mr <= m {
					kern.fn(steps, rows, b[q0*n+j0:], n, c[i0*ldc+j0:], ldc)
				} else {
					clear(tile[:mr*w])
					kern.fn(steps, rows, b[q0*n+j0:], n, tile[:mr*w], w)
					for r := 0; r < m-i0; r++ {
						dst := c[(i0+r)*ldc+j0:][:w]
						for l, v := range tile[r*w : r*w+w] {
							dst[l] += v
						}
					}
				}
				j0 += w
			}
		}
	}
}

// panelGo is GemmRowsPanel's portable loop: C += A·B, summed in the
// blocks the kernels use.
func panelGo(m, n, k int, a []float32, aoff []int, b []float32, c []float32, ldc int) {
	sums := make([]float32, n)
	blk := panelBlock(n)
	for i := 0; i < m; i++ {
		row := a[aoff[i]:][:k]
		dst := c[i*ldc:][:n]
		for q0 := 0; q0 < k; q0 += blk {
			clear(sums)
			for q := q0; q < min(k, q0+blk); q++ {
				v := row[q]
				for j, bv := range b[q*n : q*n+n] {
					sums[j] += v * bv
				}
			}
			for j, s := range sums {
				dst[j] += s
			}
		}
	}
}

// checkPanelArgs panics unless a kernel's operands are in range; the
// assembly does not check.
func checkPanelArgs(rows, cols, steps int, a [8][]float32, b []float32, ldb int, c []float32, ldc int) {
	ok := steps >= 1 && ldb >= cols && len(b) >= (steps-1)*ldb+cols && ldc >= cols && len(c) >= (rows-1)*ldc+cols
	for _, r := range a[:rows] {
		ok = ok && len(r) >= steps
	}
	if !ok {
		panic("sgemm: panel kernel operands out of range")
	}
}

// Transpose sets dst[j·ldd+i] = src[i·lds+j] for i < rows, j < cols: an
// 8×8 block at a time in assembly where the CPU has AVX2.
func Transpose(dst []float32, ldd int, src []float32, lds, rows, cols int) {
	if rows <= 0 || cols <= 0 {
		return
	}
	checkMatrix("src", rows, cols, src, lds)
	checkMatrix("dst", cols, rows, dst, ldd)
	i := 0
	if kb := cols / 8; kb > 0 && transpose8 != nil {
		for ; i+8 <= rows; i += 8 {
			transpose8(dst[i:], ldd, src[i*lds:], lds, kb, 1)
		}
		transposeGo(dst, ldd, src, lds, 0, i, kb*8, cols)
	}
	transposeGo(dst, ldd, src, lds, i, rows, 0, cols)
}

func transposeGo(dst []float32, ldd int, src []float32, lds, i0, i1, j0, j1 int) {
	for i := i0; i < i1; i++ {
		for j, v := range src[i*lds+j0 : i*lds+j1] {
			dst[(j0+j)*ldd+i] = v
		}
	}
}
