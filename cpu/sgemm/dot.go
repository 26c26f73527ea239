package sgemm

// The dot path computes C = alpha·A·Bᵀ + beta·C without packing, for the
// products packing serves worst: C small and the inner dimension long, as
// in the weight gradient dW = dY·colᵀ of a convolution with few channels.
// There each element of A and B meets only a few of the other's, so packing
// them (a transpose, since both are contiguous along k) costs as much as
// the product. A and Bᵀ are contiguous along k, so a tile of C can instead
// be summed as ri×rj dot products of rows, vec terms at a time, in vec-lane
// partial sums that are added up at the end.

// dotKernel computes an ri×rj tile of dot products as vec-lane partial
// sums: acc[(i·rj+j)·vec+l] += Σ_s a[i][s·vec+l]·b[j][s·vec+l] for s <
// steps, where a holds ri rows of A and b rj rows of Bᵀ.
type dotKernel struct {
	name   string
	ri, rj int
	vec    int
	fn     func(steps int, a, b [][]float32, acc []float32)
}

// dotKernels lists the dot kernels this CPU runs, fastest first; without
// one, every product is packed.
var dotKernels []*dotKernel

// forceDot, when set, is used for every product the dot path takes; tests
// set it to cover each dot kernel.
var forceDot *dotKernel

// disableDot turns the dot path off (tests compare it with packing).
var disableDot bool

// The dot path takes C = A·Bᵀ when m·n ≤ dotMaxMN, m, n ≤ dotMaxSide and
// k ≥ dotMinRatio·max(m, n).
const (
	dotMaxMN    = 8192
	dotMaxSide  = 512
	dotMinRatio = 8
)

// DotDepth is the least inner dimension k for which Gemm computes an m×n
// C = A·Bᵀ (transB, not transA) on the dot path, or 0 when it never does
// (C too large, or no dot kernel on this CPU).
func DotDepth(m, n int) int {
	if disableDot || len(dotKernels) == 0 || m*n > dotMaxMN || max(m, n) > dotMaxSide {
		return 0
	}
	return dotMinRatio * max(m, n)
}

// DotMaxCols is the most columns n of an m×n C = A·Bᵀ that the dot path
// takes (with a long enough inner dimension, DotDepth), or 0 when it takes
// none: a product of more columns can be computed in pieces of this many.
func DotMaxCols(m int) int {
	if disableDot || len(dotKernels) == 0 || m > dotMaxSide {
		return 0
	}
	return min(dotMaxSide, dotMaxMN/max(1, m))
}

// pickDot returns the dot kernel for p, or nil when p is to be packed.
func pickDot(p *problem) *dotKernel {
	if disableDot || p.transA || !p.transB || len(dotKernels) == 0 {
		return nil
	}
	if p.m*p.n > dotMaxMN || max(p.m, p.n) > dotMaxSide || p.k < dotMinRatio*max(p.m, p.n) {
		return nil
	}
	if forceDot != nil {
		return forceDot
	}
	return dotKernels[0]
}

// dotChunk returns how many terms of k the dot path walks before moving to
// the next tile: enough to amortize a kernel call, few enough that the
// chunks of all n rows of Bᵀ stay in L2 (256 KiB) while the rows of A pass.
func dotChunk(dk *dotKernel, n int) int {
	c := min(2048, max(256, (1<<16)/n))
	return c / dk.vec * dk.vec
}

// gemmDot computes p (C = alpha·A·Bᵀ + beta·C) with dot kernel dk on up to
// nt goroutines, each taking a share of the inner dimension.
func gemmDot(dk *dotKernel, p *problem, nt int) {
	vec, ri, rj := dk.vec, dk.ri, dk.rj
	steps := p.k / vec // terms past steps·vec are summed in Go
	mB, nB := (p.m+ri-1)/ri, (p.n+rj-1)/rj
	tile := ri * rj * vec
	chunk := dotChunk(dk, p.n) / vec
	nt = max(1, min(nt, steps/chunk))
	wss := make([]*workspace, nt)
	parallel(nt, func(t int) {
		ws := wsPool.Get().(*workspace)
		wss[t] = ws
		ws.sum = grow(ws.sum, mB*nB*tile)
		clear(ws.sum)
		ws.rows = growRows(ws.rows, mB*ri+nB*rj)
		rowsA, rowsB := ws.rows[:mB*ri], ws.rows[mB*ri:]
		s0, s1 := share(steps, t, nt)
		for s := s0; s < s1; s += chunk {
			n := min(chunk, s1-s)
			off := s * vec
			// Rows past m (n) repeat the last one; their sums are dropped.
			for i := range rowsA {
				rowsA[i] = p.a[min(i, p.m-1)*p.lda+off:]
			}
			for j := range rowsB {
				rowsB[j] = p.bRow(min(j, p.n-1))[off:]
			}
			for ib := 0; ib < mB; ib++ {
				a := rowsA[ib*ri : ib*ri+ri]
				for jb := 0; jb < nB; jb++ {
					dk.fn(n, a, rowsB[jb*rj:jb*rj+rj], ws.sum[(ib*nB+jb)*tile:])
				}
			}
		}
	})
	for i := 0; i < p.m; i++ {
		ib, r := i/ri, i%ri
		a := p.a[i*p.lda : i*p.lda+p.k]
		for j := 0; j < p.n; j++ {
			jb, c := j/rj, j%rj
			var sum float32
			for _, ws := range wss {
				o := (ib*nB+jb)*tile + (r*rj+c)*vec
				for _, v := range ws.sum[o : o+vec] {
					sum += v
				}
			}
			b := p.bRow(j)[:p.k]
			for q := steps * vec; q < p.k; q++ {
				sum += a[q] * b[q]
			}
			v := p.alpha * sum
			if p.beta != 0 {
				v += p.beta * p.c[i*p.ldc+j]
			}
			p.c[i*p.ldc+j] = v
		}
	}
	for _, ws := range wss {
		clear(ws.rows) // do not keep the caller's matrices alive
		wsPool.Put(ws)
	}
}

func growRows(s [][]float32, n int) [][]float32 {
	if cap(s) < n {
		return make([][]float32, n)
	}
	return s[:n]
}

// checkDotArgs panics unless the operands of a dot kernel call are in
// range; the assembly and WebAssembly kernels do not check.
func checkDotArgs(ri, rj, vec, steps int, a, b [][]float32, acc []float32) {
	ok := steps >= 1 && len(a) >= ri && len(b) >= rj && len(acc) >= ri*rj*vec
	for _, r := range a[:ri] {
		ok = ok && len(r) >= steps*vec
	}
	for _, r := range b[:rj] {
		ok = ok && len(r) >= steps*vec
	}
	if !ok {
		panic("sgemm: dot kernel operands out of range")
	}
}
