package sgemm

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"testing"
)

// checkGemmRows runs tc through GemmRows, B's stored rows at random,
// overlapping offsets into one buffer, and through Gemm with those rows
// copied into a matrix: the two must give the same bits.
func checkGemmRows(t *testing.T, tc gemmCase, seed uint64) bool {
	t.Helper()
	rng := rand.New(rand.NewPCG(seed, 0x707))
	ar, ac, br, bc := tc.stored()
	lda, ldc := max(1, ac)+tc.padA, max(1, tc.n)+tc.padC
	a := tight(randMatrix(rng, ar, ac, lda, float32(math.NaN())), ar, ac, lda)
	// Rows overlap as the shifted views of a padded image do.
	buf := randMatrix(rng, 1, br*bc/3+bc+5, br*bc/3+bc+5, 0)
	offs := make([]int, br)
	b := make([]float32, br*bc)
	for r := range offs {
		offs[r] = rng.IntN(len(buf) - bc + 1)
		copy(b[r*bc:(r+1)*bc], buf[offs[r]:])
	}
	c := randMatrix(rng, tc.m, tc.n, ldc, cPad)
	want := append([]float32(nil), c...)
	Gemm(tc.transA, tc.transB, tc.m, tc.n, tc.k, tc.alpha, a, lda, b, max(1, bc), tc.beta, want, ldc)
	GemmRows(tc.transA, tc.transB, tc.m, tc.n, tc.k, tc.alpha, a, lda, buf, offs, tc.beta, c, ldc)
	for i := range c {
		if math.Float32bits(c[i]) != math.Float32bits(want[i]) {
			t.Errorf("%v: C[%d,%d] = %g from rows, %g from the copied matrix", tc, i/ldc, i%ldc, c[i], want[i])
			return false
		}
	}
	return true
}

func rowsCases(ms, ns, ks []int) []gemmCase {
	var cases []gemmCase
	for _, tc := range shapeCases(ms, ns, ks) {
		if tc.padB == 0 { // padB has no meaning here: one case in three
			cases = append(cases, tc)
		}
	}
	return cases
}

// TestGemmRows covers the paths of GemmRows through every kernel: B read
// where it lies by a kernel's rows variant (few rows of C), packed from
// its rows (more rows, or a kernel without one), and the dot path.
func TestGemmRows(t *testing.T) {
	defer func() { forceKernel, disableDot = nil, false }()
	ms := []int{1, 7, 12, 16, 36, 37, 64}
	ns := []int{1, 31, 32, 33, 100}
	ks := []int{0, 1, 9, 144, 300}
	if testing.Short() || raceEnabled {
		ms, ns, ks = []int{7, 16, 37}, []int{1, 33}, []int{9, 300}
	}
	for _, kn := range kernels {
		t.Run(kn.name, func(t *testing.T) {
			forceKernel = kn
			for _, dot := range []bool{false, true} {
				disableDot = !dot
				for i, tc := range rowsCases(ms, ns, ks) {
					if !checkGemmRows(t, tc, uint64(i)) {
						return
					}
				}
			}
		})
	}
	forceKernel, disableDot = nil, false
	// A convolution's weight gradient on the dot path, and each split.
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(3))
	big := []gemmCase{
		{transB: true, m: 16, n: 144, k: 3000, alpha: 1, beta: 1},
		{m: 16, n: 8000, k: 144, alpha: 1},
		{m: 600, n: 40, k: 300, alpha: 1},
		{transB: true, m: 64, n: 576, k: 2000, alpha: 1},
		{transB: true, m: 6, n: 20, k: 27000, alpha: 2},
	}
	if raceEnabled {
		big = big[:2]
	}
	for i, tc := range big {
		for _, dot := range []bool{false, true} {
			disableDot = !dot
			checkGemmRows(t, tc, uint64(900+i))
		}
	}
}

// TestGemmRowsBadOffsets checks that a row past the end of b, a negative
// offset or too few offsets is refused with ErrShape.
func TestGemmRowsBadOffsets(t *testing.T) {
	a := make([]float32, 2*3)
	b := make([]float32, 10)
	c := make([]float32, 2*4)
	for _, offs := range [][]int{{0, 1, 7}, {0, -1, 2}, {0, 1}} {
		func() {
			defer func() {
				err, _ := recover().(error)
				if !errors.Is(err, ErrShape) {
					t.Errorf("offsets %v: panic %v, want ErrShape", offs, err)
				}
			}()
			GemmRows(false, false, 2, 4, 3, 1, a, 3, b, offs, 0, c, 4)
		}()
	}
}

// TestGemmRowsSegments compares GemmRowsSegments, through every kernel with
// a rows variant, with the same columns of GemmRows' product: the same
// bits, written at the segments' places, and nothing else written.
func TestGemmRowsSegments(t *testing.T) {
	defer func() { forceKernel = nil }()
	for _, kn := range kernels {
		if kn.rows == nil {
			continue
		}
		t.Run(kn.name+"_"+fmt.Sprint(kn.mr), func(t *testing.T) {
			forceKernel = kn
			rng := rand.New(rand.NewPCG(11, uint64(kn.mr)))
			for _, m := range []int{1, kn.mr, kn.mr + 3, 16, 37} {
				for _, k := range []int{1, 9, 144, 300} {
					n := 2 * SegmentWidth(m)
					buf := randMatrix(rng, 1, 3000, 3000, 0)
					offs := make([]int, k)
					for r := range offs {
						offs[r] = rng.IntN(1000)
					}
					lda := k + 1
					a := randMatrix(rng, m, k, lda, 0)
					cols := 1500
					full := make([]float32, m*cols)
					GemmRows(false, false, m, cols, k, 1, a, lda, buf, offs, 0, full, cols)
					q := []int{0, 700, 1500 - n, 33}
					ldc := 4 * n
					cOff := []int{0, n, 2 * n, 3 * n}
					c := make([]float32, m*ldc)
					for i := range c {
						c[i] = float32(math.NaN())
					}
					GemmRowsSegments(m, n, k, a, lda, buf, offs, q, cOff, c, ldc)
					for s := range q {
						for i := 0; i < m; i++ {
							for j := 0; j < n; j++ {
								got, want := c[cOff[s]+i*ldc+j], full[i*cols+q[s]+j]
								if math.Float32bits(got) != math.Float32bits(want) {
									t.Fatalf("m %d k %d: segment %d C[%d,%d] = %v, GemmRows %v", m, k, s, i, j, got, want)
								}
							}
						}
					}
				}
			}
		})
	}
}
