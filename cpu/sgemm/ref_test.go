package sgemm

import (
	"math"
	"math/rand/v2"
)

// gemmRef is the plain definition of Gemm, accumulating in float64. It also
// returns mag[i·n+j] = |alpha|·Σ_p |op(A)[i,p]·op(B)[p,j]| + |beta·C[i,j]|,
// the scale of the rounding error a float32 evaluation may make.
func gemmRef(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) (want, mag []float64) {
	want = make([]float64, m*n)
	mag = make([]float64, m*n)
	for i := 0; i < m; i++ {
		for j := 0; j < n; j++ {
			var s, sa float64
			for p := 0; p < k; p++ {
				var av, bv float32
				if transA {
					av = a[p*lda+i]
				} else {
					av = a[i*lda+p]
				}
				if transB {
					bv = b[j*ldb+p]
				} else {
					bv = b[p*ldb+j]
				}
				s += float64(av) * float64(bv)
				sa += math.Abs(float64(av) * float64(bv))
			}
			w := float64(alpha) * s
			e := math.Abs(float64(alpha)) * sa
			if beta != 0 {
				w += float64(beta) * float64(c[i*ldc+j])
				e += math.Abs(float64(beta) * float64(c[i*ldc+j]))
			}
			want[i*n+j], mag[i*n+j] = w, e
		}
	}
	return want, mag
}

// randMatrix returns a rows×cols matrix at stride ld whose entries are
// N(0,1) with about 1% outliers of ±1e4, and whose padding (columns cols..ld)
// is pad.
func randMatrix(rng *rand.Rand, rows, cols, ld int, pad float32) []float32 {
	s := make([]float32, rows*ld)
	for i := range rows {
		for j := range ld {
			v := pad
			if j < cols {
				v = float32(rng.NormFloat64())
				if rng.IntN(100) == 0 {
					v = 1e4 * float32(1-2*rng.IntN(2))
				}
			}
			s[i*ld+j] = v
		}
	}
	return s
}
