package sgemm

import "fmt"

// SegmentWidth is the width n of which GemmRowsSegments takes multiples for
// m rows of C on this CPU, or 0 when it has no kernel that reads B's rows
// where they lie.
func SegmentWidth(m int) int {
	k := pickKernel(m, 1<<10)
	if k.rows == nil {
		return 0
	}
	return k.nr
}

// GemmRowsSegments sets C = A·B, B's rows at offsets as in GemmRows (row r
// of B is b[boff[r]:]), A m×k at stride lda, for some of the product's
// columns only, each segment of n of them written where it belongs:
// segment s is columns q[s] … q[s]+n−1 of the product, and goes to
// c[cOff[s]+i·ldc+j] for row i and column j of it. A convolution in the
// shifted lowering writes each output row of its images this way, straight
// into the output, skipping the padding's columns. It runs on the calling
// goroutine; n must be a multiple of SegmentWidth. It panics with an error
// wrapping ErrShape when an operand is out of range. Each term is summed as
// GemmRows sums it: the same bits as the columns GemmRows computes.
func GemmRowsSegments(m, n, k int, a []float32, lda int, b []float32, boff []int, q, cOff []int, c []float32, ldc int) {
	w := SegmentWidth(m)
	switch {
	case m < 0 || n < 0 || k < 0 || len(q) != len(cOff):
		panic(fmt.Errorf("%w: GemmRowsSegments m, n, k = %d, %d, %d, %d segments at %d offsets", ErrShape, m, n, k, len(q), len(cOff)))
	case w == 0 || n%w != 0:
		panic(fmt.Errorf("%w: GemmRowsSegments of width %d on a CPU whose segments are %d wide", ErrShape, n, w))
	}
	checkMatrix("a", m, k, a, lda)
	if len(boff) < k {
		panic(fmt.Errorf("%w: %d row offsets for %d rows of b", ErrShape, len(boff), k))
	}
	maxQ := 0
	for s, qs := range q {
		if qs < 0 || cOff[s] < 0 || (m > 0 && cOff[s]+(m-1)*ldc+n > len(c)) {
			panic(fmt.Errorf("%w: segment %d: columns from %d, at %d in c of %d (m %d, ldc %d, n %d)", ErrShape, s, qs, cOff[s], len(c), m, ldc, n))
		}
		maxQ = max(maxQ, qs)
	}
	if m == 0 || n == 0 || len(q) == 0 {
		return
	}
	if k == 0 {
		for _, o := range cOff {
			scale(m, n, 0, c[o:], ldc)
		}
		return
	}
	checkRows(k, maxQ+n, b, boff) // every segment's columns lie in every row
	p := problem{m: m, n: n, k: k, alpha: 1, a: a, lda: lda, b: b, boff: boff[:k], c: c, ldc: ldc, kern: pickKernel(m, 1<<10)}
	kn := p.kern
	ws := wsPool.Get().(*workspace)
	defer wsPool.Put(ws)
	kb := blockSize(k, kn.kc, 1)
	mb := blockSize(m, kn.mc, kn.mr)
	ws.a = grow(ws.a, mb*kb)
	if cap(ws.offs) < kb {
		ws.offs = make([]int, kb)
	}
	offs := ws.offs[:kb]
	for pc := 0; pc < k; pc += kb {
		kc := min(kb, k-pc)
		for ic := 0; ic < m; ic += mb {
			mc := min(mb, m-ic)
			packA(ws.a, &p, ic, mc, pc, kc)
			for s, qs := range q {
				o := offs[:kc]
				for r := range o {
					o[r] = p.boff[pc+r] + qs
				}
				for jr := 0; jr < n; jr += kn.nr {
					for ir := 0; ir < mc; ir += kn.mr {
						ap := ws.a[ir*kc:]
						dst := c[cOff[s]+(ic+ir)*ldc+jr:]
						if ir+kn.mr <= mc {
							kn.rows(kc, ap, b[jr:], o, dst, ldc, pc > 0, 1)
							continue
						}
						kn.rows(kc, ap, b[jr:], o, ws.tile[:], kn.nr, false, 0)
						var beta float32
						if pc > 0 {
							beta = 1
						}
						mergeTile(ws.tile[:], kn.nr, dst, ldc, mc-ir, kn.nr, beta)
					}
				}
			}
		}
	}
}
