package sgemm

// packA copies alpha·op(A)[ic:ic+mc, pc:pc+kc] into dst as micro-panels of
// mr rows: panel q (rows ic+q·mr…) starts at q·mr·kc and holds element
// (i, p) at p·mr+i. Rows past mc are zero.
func packA(dst []float32, p *problem, ic, mc, pc, kc int) {
	alpha := p.alpha
	for ir := 0; ir < mc; ir += mr {
		rows := min(mr, mc-ir)
		d := dst[ir*kc : ir*kc+mr*kc]
		if !p.transA {
			// A is m×k: row i of the panel is contiguous in a.
			for i := 0; i < rows; i++ {
				src := p.a[(ic+ir+i)*p.lda+pc:]
				src = src[:kc]
				for q, v := range src {
					d[q*mr+i] = alpha * v
				}
			}
			for i := rows; i < mr; i++ {
				for q := 0; q < kc; q++ {
					d[q*mr+i] = 0
				}
			}
			continue
		}
		// A is stored k×m: column p of the panel is contiguous in a.
		if rows == mr {
			for q := 0; q < kc; q++ {
				src := (*[mr]float32)(p.a[(pc+q)*p.lda+ic+ir:])
				dd := (*[mr]float32)(d[q*mr:])
				for i, v := range src {
					dd[i] = alpha * v
				}
			}
			continue
		}
		for q := 0; q < kc; q++ {
			src := p.a[(pc+q)*p.lda+ic+ir:]
			src = src[:rows]
			dd := (*[mr]float32)(d[q*mr:])
			for i := range dd {
				dd[i] = 0
			}
			for i, v := range src {
				dd[i] = alpha * v
			}
		}
	}
}

// packB copies op(B)[pc:pc+kc, jc:jc+nc] into dst as micro-panels of nr
// columns: panel q (columns jc+q·nr…) starts at q·nr·kc and holds element
// (p, j) at p·nr+j. Columns past nc are zero.
func packB(dst []float32, p *problem, pc, kc, jc, nc int) {
	for jr := 0; jr < nc; jr += nr {
		packBPanel(dst[jr*kc:jr*kc+nr*kc], p, pc, kc, jc+jr, min(nr, nc-jr))
	}
}

// packBPanel packs the single micro-panel op(B)[pc:pc+kc, j0:j0+cols],
// cols ≤ nr, zero-padding to nr columns.
func packBPanel(d []float32, p *problem, pc, kc, j0, cols int) {
	if !p.transB {
		// B is k×n: row p of the panel is contiguous in b.
		if cols == nr {
			for q := 0; q < kc; q++ {
				*(*[nr]float32)(d[q*nr:]) = *(*[nr]float32)(p.b[(pc+q)*p.ldb+j0:])
			}
			return
		}
		for q := 0; q < kc; q++ {
			dd := (*[nr]float32)(d[q*nr:])
			*dd = [nr]float32{}
			copy(dd[:cols], p.b[(pc+q)*p.ldb+j0:])
		}
		return
	}
	// B is stored n×k: column j of the panel is contiguous in b.
	for j := 0; j < cols; j++ {
		src := p.b[(j0+j)*p.ldb+pc:]
		src = src[:kc]
		for q, v := range src {
			d[q*nr+j] = v
		}
	}
	for j := cols; j < nr; j++ {
		for q := 0; q < kc; q++ {
			d[q*nr+j] = 0
		}
	}
}
