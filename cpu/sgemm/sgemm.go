// Package sgemm is the float32 matrix product of the CPU backend.
//
// Gemm is a blocked, packed product in the style of Goto and BLIS: op(B) is
// packed into kc×nc blocks of nr-column micro-panels, alpha·op(A) into mc×kc
// blocks of mr-row micro-panels (transposes are resolved while packing), and
// an mr×nr register-blocked micro-kernel computes C one tile at a time. On
// amd64 the kernels are assembly, 12×32 or 8×32 with AVX-512F or 6×16 with
// AVX2 and FMA, chosen at run time by the padding of each product's edge
// tiles, and packing transposes with AVX2; elsewhere a plain-Go 6×16
// kernel and packing do the same work. Large products are split across
// GOMAXPROCS goroutines along n, m or k.
//
// A product of few rows reads B where it lies instead of packing it, and
// GemmRows takes B's rows at any offsets (a convolution's shifted views of
// its padded images), read in place by the AVX-512 kernels. C = A·Bᵀ with
// C small and a long inner dimension takes a dot-product path without
// packing.
package sgemm

import (
	"errors"
	"fmt"
	"sync"
)

// ErrShape is wrapped by the value Gemm panics with when its dimensions,
// strides or slice lengths are inconsistent.
var ErrShape = errors.New("sgemm: bad shape")

// Gemm computes C = alpha·op(A)·op(B) + beta·C for row-major matrices, where
// op(A) is m×k (A itself, or Aᵀ when transA) and op(B) is k×n. lda, ldb and
// ldc are the row strides of A, B and C as stored. When beta is 0, C is not
// read (NaNs in C do not propagate).
//
// Gemm panics with an error wrapping ErrShape when a dimension is negative,
// a stride is shorter than its stored row, or a slice is too short.
func Gemm(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	gemm(problem{
		transA: transA, transB: transB, m: m, n: n, k: k,
		alpha: alpha, a: a, lda: lda, b: b, ldb: ldb, beta: beta, c: c, ldc: ldc,
	})
}

// GemmRows is Gemm with the stored rows of B where they lie rather than
// at a stride: stored row r of B (row r of op(B), or of Bᵀ when transB)
// is b[boff[r]:]. Rows may overlap; a convolution passes the shifted views
// of its padded input planes this way, so that no unrolled copy of them
// (im2col) is made. The result is the bits Gemm computes from those rows
// copied into a matrix.
//
// GemmRows panics with an error wrapping ErrShape on the conditions of
// Gemm, or when boff has too few rows or a row runs past the end of b.
func GemmRows(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, boff []int, beta float32, c []float32, ldc int) {
	if boff == nil {
		boff = []int{} // rows at offsets, none given: checked as too few
	}
	gemm(problem{
		transA: transA, transB: transB, m: m, n: n, k: k,
		alpha: alpha, a: a, lda: lda, b: b, ldb: 1, boff: boff, beta: beta, c: c, ldc: ldc,
	})
}

// gemm checks the operands of p (Gemm's or GemmRows') and computes it.
func gemm(p problem) {
	m, n, k := p.m, p.n, p.k
	if m < 0 || n < 0 || k < 0 {
		panic(fmt.Errorf("%w: m, n, k = %d, %d, %d", ErrShape, m, n, k))
	}
	ar, ac := m, k // A as stored
	if p.transA {
		ar, ac = k, m
	}
	br, bc := k, n // B as stored
	if p.transB {
		br, bc = n, k
	}
	checkMatrix("a", ar, ac, p.a, p.lda)
	if p.boff != nil {
		checkRows(br, bc, p.b, p.boff)
		p.boff = p.boff[:br]
	} else {
		checkMatrix("b", br, bc, p.b, p.ldb)
	}
	checkMatrix("c", m, n, p.c, p.ldc)
	if m == 0 || n == 0 {
		return
	}
	if k == 0 || p.alpha == 0 {
		scale(m, n, p.beta, p.c, p.ldc)
		return
	}
	p.kern = pickKernel(m, n)
	run(&p)
}

// ReadsRows reports whether the micro-kernel of large products on this
// CPU reads GemmRows' rows where they lie (for few rows of C); without it
// GemmRows packs them, copying each once per block.
func ReadsRows() bool { return pickKernel(1<<10, 1<<10).rows != nil }

// RowsKernel is the name of the micro-kernel whose rows variant large
// products on this CPU use ("avx512", "avx2"), or "" when GemmRows packs.
func RowsKernel() string {
	if k := pickKernel(1<<10, 1<<10); k.rows != nil {
		return k.name
	}
	return ""
}

// checkRows panics unless boff holds rows offsets of rows of cols values
// inside b.
func checkRows(rows, cols int, b []float32, boff []int) {
	if len(boff) < rows {
		panic(fmt.Errorf("%w: %d row offsets for %d rows of b", ErrShape, len(boff), rows))
	}
	if cols == 0 {
		return
	}
	for r, o := range boff[:rows] {
		if o < 0 || o > len(b)-cols {
			panic(fmt.Errorf("%w: row %d of b at %d: %d values past a slice of %d", ErrShape, r, o, cols, len(b)))
		}
	}
}

// checkMatrix panics unless s holds a rows×cols row-major matrix at stride ld.
func checkMatrix(name string, rows, cols int, s []float32, ld int) {
	if ld < max(1, cols) {
		panic(fmt.Errorf("%w: ld%s = %d for %d columns", ErrShape, name, ld, cols))
	}
	if rows > 0 && cols > 0 && len(s) < (rows-1)*ld+cols {
		panic(fmt.Errorf("%w: len(%s) = %d < %d for %d×%d at stride %d",
			ErrShape, name, len(s), (rows-1)*ld+cols, rows, cols, ld))
	}
}

// scale sets C = beta·C, writing zeros without reading C when beta is 0.
func scale(m, n int, beta float32, c []float32, ldc int) {
	for i := 0; i < m; i++ {
		row := c[i*ldc : i*ldc+n]
		switch beta {
		case 0:
			clear(row)
		case 1:
		default:
			for j := range row {
				row[j] *= beta
			}
		}
	}
}

// problem is one call of Gemm, or the part of it one goroutine computes.
type problem struct {
	kern           *kernel
	transA, transB bool
	m, n, k        int
	alpha          float32
	a              []float32 // op(A): m×k
	lda            int
	b              []float32 // op(B): k×n
	ldb            int
	boff           []int // when set, stored row r of B is b[boff[r]:] (ldb unused)
	beta           float32
	c              []float32 // m×n
	ldc            int
	// When set, alpha·op(A) or op(B) packed whole by a parallel product
	// (see prepack); gemmSerial then uses them instead of packing.
	packedA, packedB packed
}

// packed is an operand packed whole, for every block of kc terms: the block
// of terms pc..pc+kc starts at pc·width (width is m or n rounded up to the
// register block) and holds the micro-panel at row or column x at x·kc.
type packed struct {
	data  []float32
	width int
}

// cols restricts p to columns j0..j1 of C and op(B).
func (p problem) cols(j0, j1 int) problem {
	switch {
	case p.transB && p.boff != nil:
		p.boff = p.boff[j0:]
	case p.transB:
		p.b = p.b[j0*p.ldb:]
	default:
		p.b = p.b[j0:]
	}
	p.c = p.c[j0:]
	p.n = j1 - j0
	return p
}

// rows restricts p to rows i0..i1 of C and op(A).
func (p problem) rows(i0, i1 int) problem {
	if p.transA {
		p.a = p.a[i0:]
	} else {
		p.a = p.a[i0*p.lda:]
	}
	p.c = p.c[i0*p.ldc:]
	p.m = i1 - i0
	return p
}

// depth restricts p to the terms k0..k1 of the inner dimension.
func (p problem) depth(k0, k1 int) problem {
	if p.transA {
		p.a = p.a[k0*p.lda:]
	} else {
		p.a = p.a[k0:]
	}
	switch {
	case p.transB:
		p.b = p.b[k0:]
	case p.boff != nil:
		p.boff = p.boff[k0:]
	default:
		p.b = p.b[k0*p.ldb:]
	}
	p.k = k1 - k0
	return p
}

// bRow is stored row r of B on.
func (p *problem) bRow(r int) []float32 {
	if p.boff != nil {
		return p.b[p.boff[r]:]
	}
	return p.b[r*p.ldb:]
}

// workspace holds one goroutine's packing buffers; they grow to the largest
// block seen and are reused through wsPool.
type workspace struct {
	a    []float32 // packed block of alpha·op(A): mc×kc
	b    []float32 // packed block of op(B): kc×nc
	tile [maxMR * maxNR]float32
	sum  []float32 // partial C of a k-split: m×n
	// An operand packed whole for all the goroutines of a product.
	shared []float32
	rows   [][]float32 // rows of A and Bᵀ for the dot path
	offs   []int       // a block's row offsets of B in GemmRowsSegments
}

var wsPool = sync.Pool{New: func() any { return new(workspace) }}

func grow(s []float32, n int) []float32 {
	if cap(s) < n {
		return make([]float32, n)
	}
	return s[:n]
}

// blockSize splits total into the fewest blocks of at most limit and returns
// their common size, rounded up to a multiple of unit.
func blockSize(total, limit, unit int) int {
	nb := (total + limit - 1) / limit
	size := (total + nb - 1) / nb
	return (size + unit - 1) / unit * unit
}

// gemmSerial computes p on the calling goroutine. p.k ≥ 1, p.alpha ≠ 0.
func gemmSerial(ws *workspace, p *problem) {
	kn := p.kern
	kb := blockSize(p.k, kn.kc, 1)
	mb := blockSize(p.m, kn.mc, kn.mr)
	if p.packedA.data == nil {
		ws.a = grow(ws.a, mb*kb)
	}
	if p.packedB.data == nil {
		ws.b = grow(ws.b, kb*min(kn.nc, (p.n+kn.nr-1)/kn.nr*kn.nr))
	}
	// A product of few rows uses each value of B at most twice: packing B
	// would copy it to read it once or twice. The micro-kernels read B's
	// rows where they lie instead (only a part-width edge panel is
	// packed, with its zero padding). In WebAssembly, where a copy costs
	// more, up to 64 rows (kernel.directRows).
	direct := !p.transB && p.packedB.data == nil && p.m <= kn.direct() && (p.boff == nil || kn.rows != nil)
	for jc := 0; jc < p.n; jc += kn.nc {
		nc := min(kn.nc, p.n-jc)
		for pc := 0; pc < p.k; pc += kb {
			kc := min(kb, p.k-pc)
			beta := p.beta
			if pc > 0 {
				beta = 1
			}
			bBlock := ws.b
			switch {
			case p.packedB.data != nil:
				bBlock = p.packedB.data[pc*p.packedB.width+jc*kc:]
			case direct:
				bBlock = nil
			default:
				packB(bBlock, p, pc, kc, jc, nc)
			}
			for ic := 0; ic < p.m; ic += mb {
				mc := min(mb, p.m-ic)
				aBlock := ws.a
				if p.packedA.data != nil {
					aBlock = p.packedA.data[pc*p.packedA.width+ic*kc:]
				} else {
					packA(aBlock, p, ic, mc, pc, kc)
				}
				if direct {
					macroKernelDirect(ws, p, aBlock, ic, mc, pc, kc, jc, nc, beta)
					continue
				}
				macroKernel(ws, p, aBlock, bBlock, ic, mc, kc, jc, nc, beta)
			}
		}
	}
}

// macroKernel multiplies the packed mc×kc block of A by the packed kc×nc
// block of B into C[ic:ic+mc, jc:jc+nc].
func macroKernel(ws *workspace, p *problem, aBlock, bBlock []float32, ic, mc, kc, jc, nc int, beta float32) {
	nr := p.kern.nr
	for jr := 0; jr < nc; jr += nr {
		panelTiles(ws, p, aBlock, bBlock[jr*kc:], nr, ic, mc, kc, jc+jr, min(nr, nc-jr), beta)
	}
}

// macroKernelDirect is macroKernel with B read where it lies (row stride
// ldb) for its full-width panels; a part-width edge panel is packed into
// ws.b.
func macroKernelDirect(ws *workspace, p *problem, aBlock []float32, ic, mc, pc, kc, jc, nc int, beta float32) {
	nr := p.kern.nr
	if p.boff != nil {
		macroKernelRows(ws, p, aBlock, ic, mc, pc, kc, jc, nc, beta)
		return
	}
	for jr := 0; jr < nc; jr += nr {
		cols := min(nr, nc-jr)
		bp, ldb := p.b[pc*p.ldb+jc+jr:], p.ldb
		if cols < nr {
			bp, ldb = ws.b[:kc*nr], nr
			packRows(bp, nr, p.b[pc*p.ldb+jc+jr:], p.ldb, cols, kc, 1)
		}
		panelTiles(ws, p, aBlock, bp, ldb, ic, mc, kc, jc+jr, cols, beta)
	}
}

// macroKernelRows is macroKernelDirect for B's rows at offsets (p.boff):
// the kernel's rows variant reads them where they lie.
func macroKernelRows(ws *workspace, p *problem, aBlock []float32, ic, mc, pc, kc, jc, nc int, beta float32) {
	mr, nr := p.kern.mr, p.kern.nr
	offs := p.boff[pc : pc+kc]
	for jr := 0; jr < nc; jr += nr {
		cols := min(nr, nc-jr)
		if cols < nr {
			bp := ws.b[:kc*nr]
			packRowsAt(bp, nr, p.b[jc+jr:], 0, offs, cols, kc, 1)
			panelTiles(ws, p, aBlock, bp, nr, ic, mc, kc, jc+jr, cols, beta)
			continue
		}
		bp := p.b[jc+jr:]
		for ir := 0; ir < mc; ir += mr {
			rows := min(mr, mc-ir)
			ap := aBlock[ir*kc:]
			if rows == mr {
				p.kern.rows(kc, ap, bp, offs, p.c[(ic+ir)*p.ldc+jc+jr:], p.ldc, beta != 0, beta)
				continue
			}
			p.kern.rows(kc, ap, bp, offs, ws.tile[:], nr, false, 0)
			mergeTile(ws.tile[:], nr, p.c[(ic+ir)*p.ldc+jc+jr:], p.ldc, rows, cols, beta)
		}
	}
}

// panelTiles multiplies the packed mc×kc block of A by one kc×nr panel of
// B (rows at stride ldb; cols of its columns are C's) into C[ic:ic+mc,
// j:j+cols], an mr×nr tile at a time.
func panelTiles(ws *workspace, p *problem, aBlock, bp []float32, ldb, ic, mc, kc, j, cols int, beta float32) {
	mr, nr, kern := p.kern.mr, p.kern.nr, p.kern.fn
	ir := 0
	if full := mc / mr; p.kern.column != nil && cols == nr && full > 0 {
		p.kern.column(full, kc, aBlock, bp, ldb, p.c[ic*p.ldc+j:], p.ldc, beta != 0, beta)
		ir = full * mr
	}
	for ; ir < mc; ir += mr {
		rows := min(mr, mc-ir)
		ap := aBlock[ir*kc:]
		off := (ic+ir)*p.ldc + j
		if rows == mr && cols == nr {
			kern(kc, ap, bp, ldb, p.c[off:], p.ldc, beta != 0, beta)
			continue
		}
		kern(kc, ap, bp, ldb, ws.tile[:], nr, false, 0)
		mergeTile(ws.tile[:], nr, p.c[off:], p.ldc, rows, cols, beta)
	}
}

// mergeTile sets C = T + beta·C on the rows×cols corner of an edge tile T
// (row stride ldt), not reading C when beta is 0.
func mergeTile(t []float32, ldt int, c []float32, ldc, rows, cols int, beta float32) {
	for i := 0; i < rows; i++ {
		tr := t[i*ldt : i*ldt+cols]
		cr := c[i*ldc : i*ldc+cols]
		if beta == 0 {
			copy(cr, tr)
			continue
		}
		for j, v := range tr {
			cr[j] = v + beta*cr[j]
		}
	}
}
