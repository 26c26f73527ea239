package sgemm

// Packing copies a block of op(A) or op(B) into micro-panels of width w
// (mr for A, nr for B): a panel holds, for each of kc terms of the inner
// dimension, w consecutive values, and partial panels are zero-padded to w.
// When those w values are contiguous in the source (rows of Aᵀ or B),
// packRows copies the block row by row; when they lie at a stride (columns
// of A or Bᵀ), interleavePanel transposes it panel by panel.

// packA copies alpha·op(A)[ic:ic+mc, pc:pc+kc] into dst as micro-panels of
// mr rows: panel q (rows ic+q·mr…) starts at q·mr·kc and holds element
// (i, p) at p·mr+i.
func packA(dst []float32, p *problem, ic, mc, pc, kc int) {
	mr := p.kern.mr
	if p.transA {
		packRows(dst, mr, p.a[pc*p.lda+ic:], p.lda, mc, kc, p.alpha)
		return
	}
	for ir := 0; ir < mc; ir += mr {
		interleavePanel(dst[ir*kc:ir*kc+mr*kc], mr, p.a[(ic+ir)*p.lda+pc:], p.lda, min(mr, mc-ir), kc, p.alpha)
	}
}

// packB copies op(B)[pc:pc+kc, jc:jc+nc] into dst as micro-panels of nr
// columns: panel q (columns jc+q·nr…) starts at q·nr·kc and holds element
// (p, j) at p·nr+j.
func packB(dst []float32, p *problem, pc, kc, jc, nc int) {
	nr := p.kern.nr
	switch {
	case !p.transB && p.boff != nil:
		packRowsAt(dst, nr, p.b[jc:], 0, p.boff[pc:pc+kc], nc, kc, 1)
	case !p.transB:
		packRows(dst, nr, p.b[pc*p.ldb+jc:], p.ldb, nc, kc, 1)
	case p.boff != nil:
		for jr := 0; jr < nc; jr += nr {
			rows := min(nr, nc-jr)
			d := dst[jr*kc : jr*kc+nr*kc]
			if rows < nr {
				clear(d)
			}
			interleaveRows(d, nr, p.b[pc:], 0, p.boff[jc+jr:jc+jr+rows], 0, rows, 0, kc, 1)
		}
	default:
		for jr := 0; jr < nc; jr += nr {
			interleavePanel(dst[jr*kc:jr*kc+nr*kc], nr, p.b[(jc+jr)*p.ldb+pc:], p.ldb, min(nr, nc-jr), kc, 1)
		}
	}
}

// packRows packs the kc×extent block at src (stride ld), scaled by alpha,
// into panels of width w: source row q, columns x..x+w, go to
// dst[x·kc+q·w:]. It reads the source row by row, which the hardware
// prefetcher follows better than panel by panel.
func packRows(dst []float32, w int, src []float32, ld, extent, kc int, alpha float32) {
	packRowsAt(dst, w, src, ld, nil, extent, kc, alpha)
}

// packRowsAt is packRows with source row q at src[offs[q]:] when offs is
// set (ld unused).
func packRowsAt(dst []float32, w int, src []float32, ld int, offs []int, extent, kc int, alpha float32) {
	full := extent / w * w
	for q := 0; q < kc; q++ {
		o := q * ld
		if offs != nil {
			o = offs[q]
		}
		row := src[o : o+extent]
		switch {
		case alpha != 1:
			for x := 0; x < full; x += w {
				d := dst[x*kc+q*w : x*kc+q*w+w]
				for j, v := range row[x : x+w] {
					d[j] = alpha * v
				}
			}
		case w == 6:
			for x := 0; x < full; x += 6 {
				*(*[6]float32)(dst[x*kc+q*6:]) = *(*[6]float32)(row[x:])
			}
		case w == 8: // WebAssembly's SIMD128 kernel
			for x := 0; x < full; x += 8 {
				*(*[8]float32)(dst[x*kc+q*8:]) = *(*[8]float32)(row[x:])
			}
		case w == 12:
			for x := 0; x < full; x += 12 {
				*(*[12]float32)(dst[x*kc+q*12:]) = *(*[12]float32)(row[x:])
			}
		case w == 16:
			for x := 0; x < full; x += 16 {
				*(*[16]float32)(dst[x*kc+q*16:]) = *(*[16]float32)(row[x:])
			}
		case w == 32:
			for x := 0; x < full; x += 32 {
				*(*[32]float32)(dst[x*kc+q*32:]) = *(*[32]float32)(row[x:])
			}
		default:
			for x := 0; x < full; x += w {
				copy(dst[x*kc+q*w:x*kc+q*w+w], row[x:x+w])
			}
		}
		if full < extent {
			d := dst[full*kc+q*w : full*kc+q*w+w]
			for j, v := range row[full:] {
				d[j] = alpha * v
			}
			clear(d[extent-full:])
		}
	}
}

// transposeFunc writes blocks of height×8 values of src (rows 0..height,
// stride ld; columns 8b..8b+8 for b < blocks) transposed and scaled by
// alpha into d (rows 8b..8b+8, stride w; columns 0..height).
type transposeFunc func(d []float32, w int, src []float32, ld, blocks int, alpha float32)

// transpose8, transpose4 and transpose2, where the CPU has them (AVX2),
// transpose blocks of 8, 4 and 2 rows for interleavePanel.
var transpose8, transpose4, transpose2 transposeFunc

// interleavePanel sets d[q·w+i] = alpha·src[i·ld+q] for i < rows, q < kc,
// and zeroes rows..w.
func interleavePanel(d []float32, w int, src []float32, ld, rows, kc int, alpha float32) {
	d = d[:kc*w]
	if rows < w {
		clear(d) // cheaper than zeroing the padding rows at stride w
	}
	i := 0
	if kb := kc / 8; kb > 0 && transpose8 != nil {
		for ; i+8 <= rows; i += 8 {
			transpose8(d[i:], w, src[i*ld:], ld, kb, alpha)
		}
		if i+4 <= rows {
			transpose4(d[i:], w, src[i*ld:], ld, kb, alpha)
			i += 4
		}
		if i+2 <= rows {
			transpose2(d[i:], w, src[i*ld:], ld, kb, alpha)
			i += 2
		}
		interleaveRows(d, w, src, ld, nil, 0, i, kb*8, kc, alpha)
	}
	interleaveRows(d, w, src, ld, nil, i, rows, 0, kc, alpha)
}

// interleaveRows sets d[q·w+i] = alpha·src[i·ld+q] (src[offs[i]+q] when
// offs is set) for i0 ≤ i < i1 and q0 ≤ q < q1. It reads four source rows
// at a time so that each step writes four adjacent values.
func interleaveRows(d []float32, w int, src []float32, ld int, offs []int, i0, i1, q0, q1 int, alpha float32) {
	if q0 >= q1 {
		return
	}
	at := func(i int) []float32 {
		if offs != nil {
			return src[offs[i]+q0 : offs[i]+q1]
		}
		return src[i*ld+q0 : i*ld+q1]
	}
	i := i0
	for ; i+4 <= i1; i += 4 {
		r0, r1, r2, r3 := at(i), at(i+1), at(i+2), at(i+3)
		for q := range r0 {
			o := (q0+q)*w + i
			dd := d[o : o+4 : o+4]
			dd[0], dd[1], dd[2], dd[3] = alpha*r0[q], alpha*r1[q], alpha*r2[q], alpha*r3[q]
		}
	}
	for ; i < i1; i++ {
		r := at(i)
		for q, v := range r {
			d[(q0+q)*w+i] = alpha * v
		}
	}
}
