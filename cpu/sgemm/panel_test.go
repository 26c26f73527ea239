package sgemm

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// panelRef is C = beta·C + A·B for GemmRowsPanel's operands, summed in
// float64.
func panelRef(m, n, k int, a []float32, aoff []int, b []float32, beta float32, c []float32, ldc int) []float64 {
	out := make([]float64, m*n)
	for i := 0; i < m; i++ {
		for j := 0; j < n; j++ {
			var s float64
			for q := 0; q < k; q++ {
				s += float64(a[aoff[i]+q]) * float64(b[q*n+j])
			}
			if beta != 0 {
				s += float64(beta) * float64(c[i*ldc+j])
			}
			out[i*n+j] = s
		}
	}
	return out
}

// TestGemmRowsPanel compares GemmRowsPanel, through its vector kernels
// where this CPU has them and through the portable loop, with a float64
// sum, for A's rows at random overlapping offsets (as a convolution's
// shifted views), tiles of C cut by m and n, and inner dimensions across
// the kernels' blocks.
func TestGemmRowsPanel(t *testing.T) {
	saved := bcastKernels
	defer func() { disablePanel, bcastKernels = false, saved }()
	ms := []int{1, 5, 6, 7, 8, 9, 27, 144}
	ns := []int{16, 32, 48, 64, 5}
	ks := []int{0, 1, 3, 4, 17, 512, 515, 2000}
	type variant struct {
		name string
		set  []*bcastKernel // nil: the portable loop
	}
	variants := []variant{{"portable", nil}}
	for _, set := range panelSets {
		variants = append(variants, variant{fmt.Sprintf("%d_rows", set[0].rows), set})
	}
	for _, v := range variants {
		disablePanel, bcastKernels = v.set == nil, v.set
		if v.set == nil {
			bcastKernels = saved
		}
		t.Run(v.name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(3, 0x9a9))
			for _, m := range ms {
				for _, n := range ns {
					for _, k := range ks {
						ldc := n + 3
						buf := make([]float32, k+m*7+11)
						for i := range buf {
							buf[i] = rng.Float32()*2 - 1
						}
						aoff := make([]int, m)
						for i := range aoff {
							aoff[i] = rng.IntN(len(buf) - k + 1)
						}
						b := make([]float32, k*n)
						for i := range b {
							b[i] = rng.Float32()*2 - 1
						}
						c := make([]float32, m*ldc)
						for i := range c {
							c[i] = rng.Float32()
						}
						beta := float32(0.5)
						if k%2 == 1 {
							beta = 0
							for i := range c { // beta 0 must not read C
								c[i] = float32(math.NaN())
							}
						}
						want := panelRef(m, n, k, buf, aoff, b, beta, c, ldc)
						GemmRowsPanel(m, n, k, buf, aoff, b, beta, c, ldc)
						for i := 0; i < m; i++ {
							for j := 0; j < n; j++ {
								got, w := float64(c[i*ldc+j]), want[i*n+j]
								// Each term is below 1 in size: float32 sums of
								// k of them stay within a few k·ε.
								if math.Abs(got-w) > 4e-7*float64(k+1) || math.IsNaN(got) {
									t.Fatalf("m,n,k = %d,%d,%d: C[%d,%d] = %g, want %g", m, n, k, i, j, got, w)
								}
							}
							for j := n; j < ldc && i < m-1; j++ {
								if !math.IsNaN(float64(c[i*ldc+j])) && beta == 0 {
									t.Fatalf("m,n,k = %d,%d,%d: C[%d,%d] past n written", m, n, k, i, j)
								}
							}
						}
					}
				}
			}
		})
	}
}

func TestGemmRowsPanelShape(t *testing.T) {
	buf := make([]float32, 100)
	for _, tc := range []struct {
		name string
		f    func()
	}{
		{"row past a", func() { GemmRowsPanel(2, 16, 10, buf, []int{0, 95}, make([]float32, 160), 0, make([]float32, 32), 16) }},
		{"few offsets", func() { GemmRowsPanel(2, 16, 10, buf, []int{0}, make([]float32, 160), 0, make([]float32, 32), 16) }},
		{"short b", func() { GemmRowsPanel(1, 16, 10, buf, []int{0}, make([]float32, 150), 0, make([]float32, 16), 16) }},
		{"short c", func() { GemmRowsPanel(2, 16, 10, buf, []int{0, 1}, make([]float32, 160), 0, make([]float32, 20), 16) }},
	} {
		err := func() (err error) {
			defer func() { err, _ = recover().(error) }()
			tc.f()
			return nil
		}()
		if !errors.Is(err, ErrShape) {
			t.Errorf("%s: got %v, want an error wrapping ErrShape", tc.name, err)
		}
	}
}

func BenchmarkGemmRowsPanel(b *testing.B) {
	// resnet20's weight gradients, one chunk of 7 (32×32), 30 (16×16) or
	// 113 (8×8) images: dwᵀ = col·dyᵀ.
	for _, s := range []struct{ m, n, k int }{{144, 16, 7622}, {288, 32, 8669}, {576, 64, 8129}} {
		b.Run(fmt.Sprintf("m%d_n%d_k%d", s.m, s.n, s.k), func(b *testing.B) {
			buf := make([]float32, s.k+4*s.m+100)
			aoff := make([]int, s.m)
			for i := range aoff {
				aoff[i] = (i * 3) % (4 * s.m)
			}
			bm := make([]float32, s.k*s.n)
			c := make([]float32, s.m*s.n)
			b.SetBytes(0)
			for b.Loop() {
				GemmRowsPanel(s.m, s.n, s.k, buf, aoff, bm, 0, c, s.n)
			}
			b.ReportMetric(2*float64(s.m*s.n*s.k)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
		})
	}
}

func TestTranspose(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	for _, rows := range []int{1, 7, 8, 16, 19} {
		for _, cols := range []int{1, 8, 9, 32, 33} {
			lds, ldd := cols+2, rows+1
			src := make([]float32, rows*lds)
			for i := range src {
				src[i] = rng.Float32()
			}
			dst := make([]float32, cols*ldd)
			for i := range dst {
				dst[i] = -1
			}
			Transpose(dst, ldd, src, lds, rows, cols)
			for j := 0; j < cols; j++ {
				for i := 0; i < ldd; i++ {
					want := float32(-1)
					if i < rows {
						want = src[i*lds+j]
					}
					if dst[j*ldd+i] != want {
						t.Fatalf("%d×%d: dst[%d,%d] = %g, want %g", rows, cols, j, i, dst[j*ldd+i], want)
					}
				}
			}
		}
	}
}
