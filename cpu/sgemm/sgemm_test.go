package sgemm

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"testing"
)

// gemmCase is one call of Gemm. padA, padB and padC are how much longer
// than a stored row the strides lda, ldb and ldc are.
type gemmCase struct {
	transA, transB   bool
	m, n, k          int
	alpha, beta      float32
	padA, padB, padC int
}

func (tc gemmCase) String() string {
	op := func(t bool) string {
		if t {
			return "T"
		}
		return "N"
	}
	return fmt.Sprintf("%s%s m=%d n=%d k=%d alpha=%g beta=%g pad=%d,%d,%d",
		op(tc.transA), op(tc.transB), tc.m, tc.n, tc.k, tc.alpha, tc.beta, tc.padA, tc.padB, tc.padC)
}

// stored is the rows and columns of A and B as stored.
func (tc gemmCase) stored() (ar, ac, br, bc int) {
	ar, ac = tc.m, tc.k
	if tc.transA {
		ar, ac = tc.k, tc.m
	}
	br, bc = tc.k, tc.n
	if tc.transB {
		br, bc = tc.n, tc.k
	}
	return ar, ac, br, bc
}

// tight cuts the padding after the last row of a rows×cols matrix at
// stride ld.
func tight(s []float32, rows, cols, ld int) []float32 {
	if rows == 0 || cols == 0 {
		return s[:0]
	}
	return s[:(rows-1)*ld+cols]
}

// cPad marks the padding of C, which Gemm must not write.
const cPad = 7777

// checkGemm runs tc with random data from seed and compares with gemmRef.
// The padding of A and B is NaN, so reading it shows up in the result; C is
// NaN when beta is 0, so reading it then shows up too.
func checkGemm(t *testing.T, tc gemmCase, seed uint64) bool {
	t.Helper()
	rng := rand.New(rand.NewPCG(seed, 0x5eed))
	ar, ac, br, bc := tc.stored()
	lda, ldb, ldc := max(1, ac)+tc.padA, max(1, bc)+tc.padB, max(1, tc.n)+tc.padC
	nan := float32(math.NaN())
	// A and B end with their last element, so that reading past it panics.
	a := tight(randMatrix(rng, ar, ac, lda, nan), ar, ac, lda)
	b := tight(randMatrix(rng, br, bc, ldb, nan), br, bc, ldb)
	c := randMatrix(rng, tc.m, tc.n, ldc, cPad)
	if tc.beta == 0 {
		for i := range tc.m {
			for j := range tc.n {
				c[i*ldc+j] = nan
			}
		}
	}
	want, mag := gemmRef(tc.transA, tc.transB, tc.m, tc.n, tc.k, tc.alpha, a, lda, b, ldb, tc.beta, c, ldc)
	Gemm(tc.transA, tc.transB, tc.m, tc.n, tc.k, tc.alpha, a, lda, b, ldb, tc.beta, c, ldc)

	// Float32 dot products of length k err by about sqrt(k)·u relative to
	// Σ|terms| (u = 2⁻²⁴); allow eight times that.
	const atol = 1e-6
	rtol := 8 * math.Sqrt(float64(tc.k+1)) / (1 << 24)
	bad := 0
	for i := range tc.m {
		for j := range ldc {
			got := c[i*ldc+j]
			if j >= tc.n {
				if got != cPad {
					t.Errorf("%v: padding C[%d,%d] = %g was written", tc, i, j, got)
					return false
				}
				continue
			}
			w, e := want[i*tc.n+j], mag[i*tc.n+j]
			if d := math.Abs(float64(got) - w); !(d <= atol+rtol*e) {
				if bad < 3 {
					t.Errorf("%v: C[%d,%d] = %g, want %g (error %.3g > %.3g)", tc, i, j, got, w, d, atol+rtol*e)
				}
				bad++
			}
		}
	}
	if bad > 0 {
		t.Errorf("%v: %d of %d elements wrong", tc, bad, tc.m*tc.n)
	}
	return bad == 0
}

// shapeCases covers every transpose combination over awkward sizes: around
// the register block (6×16), the cache blocks (mc = 168, kc = 256) and 1.
// alpha, beta and the stride padding vary from case to case.
func shapeCases(ms, ns, ks []int) []gemmCase {
	alphas := []float32{1, -0.5, 2.5, 1, 0}
	betas := []float32{0, 1, -1.5, 0.5, 0, 1}
	var cases []gemmCase
	i := 0
	for _, tr := range [][2]bool{{false, false}, {false, true}, {true, false}, {true, true}} {
		for _, m := range ms {
			for _, n := range ns {
				for _, k := range ks {
					cases = append(cases, gemmCase{
						transA: tr[0], transB: tr[1], m: m, n: n, k: k,
						alpha: alphas[i%len(alphas)], beta: betas[i%len(betas)],
						padA: i % 3, padB: (i / 3) % 3, padC: (i / 9) % 2 * 5,
					})
					i++
				}
			}
		}
	}
	return cases
}

func runCases(t *testing.T, cases []gemmCase) {
	t.Helper()
	failed := 0
	for i, tc := range cases {
		if !checkGemm(t, tc, uint64(i)) {
			failed++
			if failed == 5 {
				t.Fatal("too many failures")
			}
		}
	}
}

func TestGemmShapes(t *testing.T) {
	ms := []int{1, 2, 5, 6, 7, 13, 17, 31, 65}
	ns := []int{1, 2, 7, 15, 16, 17, 31, 33, 65}
	ks := []int{0, 1, 2, 5, 17, 127, 257, 513}
	if testing.Short() || raceEnabled {
		ms = []int{1, 5, 6, 7, 13, 17}
		ns = []int{1, 7, 16, 17, 33}
		ks = []int{0, 1, 5, 17}
	}
	runCases(t, shapeCases(ms, ns, ks))
	if !testing.Short() && !raceEnabled {
		// More than one mc block of A, partial tiles in both directions.
		runCases(t, shapeCases([]int{257}, []int{129, 257}, []int{17, 513}))
	}
}

// TestGemmEachKernel runs the shapes through every packed micro-kernel this
// CPU runs, whichever Gemm would choose and with the dot path off, and
// through the portable code alone.
func TestGemmEachKernel(t *testing.T) {
	defer func() { forceKernel, disableDot = nil, false }()
	disableDot = true
	ms := []int{1, 5, 6, 13, 25, 37}
	ns := []int{1, 15, 16, 33, 65}
	ks := []int{0, 1, 17, 257, 513}
	if testing.Short() || raceEnabled {
		ms, ns, ks = []int{1, 7, 13}, []int{1, 16, 17}, []int{0, 5}
	}
	for _, kn := range kernels {
		t.Run(kn.name, func(t *testing.T) {
			forceKernel = kn
			runCases(t, shapeCases(ms, ns, ks))
			if !testing.Short() && !raceEnabled {
				runCases(t, shapeCases([]int{kn.mc + 11}, []int{70}, []int{kn.kc + 44}))
			}
		})
	}
	// What other architectures run: the portable kernel and packing.
	t.Run("portable", func(t *testing.T) {
		defer func(t8, t4, t2 transposeFunc) { transpose8, transpose4, transpose2 = t8, t4, t2 }(transpose8, transpose4, transpose2)
		forceKernel, transpose8, transpose4, transpose2 = goKernel, nil, nil, nil
		runCases(t, shapeCases(ms, ns, ks))
	})
}

// TestGemmDot runs products of a small C and a long inner dimension through
// every dot kernel, on one goroutine and on several.
func TestGemmDot(t *testing.T) {
	defer func() { forceDot = nil }()
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(3))
	var cases []gemmCase
	for i, m := range []int{1, 2, 3, 4, 5, 7, 13} {
		for j, n := range []int{1, 3, 5, 17, 33} {
			for l, k := range []int{300, 1001, 4099} {
				c := i + j + l
				cases = append(cases, gemmCase{
					transB: true, m: m, n: n, k: k,
					alpha: []float32{1, -0.5, 2}[c%3], beta: []float32{0, 1, 0.5, 0}[c%4],
					padA: c % 2, padB: c % 3, padC: c % 2 * 3,
				})
			}
		}
	}
	// Fewer terms than a vector: all in the tail.
	cases = append(cases, gemmCase{transB: true, m: 1, n: 1, k: 9, alpha: 1, beta: 1})
	// Long enough for three goroutines.
	cases = append(cases,
		gemmCase{transB: true, m: 6, n: 75, k: 60000, alpha: 1},
		gemmCase{transB: true, m: 16, n: 30, k: 50001, alpha: 1, beta: 1, padA: 1})
	if raceEnabled {
		cases = cases[len(cases)-1:]
	}
	for _, dk := range dotKernels {
		t.Run(dk.name, func(t *testing.T) {
			forceDot = dk
			for i, tc := range cases {
				p := problem{transA: tc.transA, transB: tc.transB, m: tc.m, n: tc.n, k: tc.k}
				if pickDot(&p) != dk {
					t.Fatalf("%v does not take the dot path", tc)
				}
				checkGemm(t, tc, uint64(200+i))
			}
		})
	}
}

// TestGemmLarge covers more than one nc block of B (n > 4080) and the
// shapes of LeNet5 and ResNet18 layers, shrunk in their largest dimension.
func TestGemmLarge(t *testing.T) {
	if testing.Short() || raceEnabled {
		t.Skip("large products")
	}
	cases := []gemmCase{
		{m: 6, n: 4100, k: 75, alpha: 1},
		{transB: true, m: 16, n: 4097, k: 30, alpha: 1, beta: 1, padB: 1},
		{transA: true, m: 170, n: 4200, k: 9, alpha: -1, beta: 0.5, padC: 3},
		{m: 64, n: 1000, k: 27, alpha: 1},
		{m: 128, n: 500, k: 1152, alpha: 1, padA: 2},
		{transB: true, m: 64, n: 576, k: 3000, alpha: 1},
		{transB: true, m: 6, n: 75, k: 20000, alpha: 1, beta: 1},
		{transA: true, m: 576, n: 700, k: 64, alpha: 1},
		{transB: true, m: 256, n: 120, k: 400, alpha: 1},
		{m: 256, n: 400, k: 120, alpha: 1},
		{transA: true, m: 120, n: 400, k: 256, alpha: 1, beta: 1},
		{transA: true, transB: true, m: 300, n: 301, k: 302, alpha: 0.25, beta: -1},
	}
	runCases(t, cases)
}

// TestGemmParallel makes each split (along n, m and k) happen with an odd
// number of goroutines, with and without beta.
func TestGemmParallel(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(3))
	defer func() { disableDot = false }()
	disableDot = true
	// The cases are sized for a 6×16 register block.
	defer func() { forceKernel = nil }()
	for _, kn := range kernels {
		if kn.mr == 6 && kn.nr == 16 {
			forceKernel = kn
			break
		}
	}
	cases := []struct {
		gemmCase
		split split
	}{
		{gemmCase{m: 6, n: 8000, k: 75, alpha: 1}, splitN},
		{gemmCase{transB: true, m: 600, n: 20, k: 300, alpha: 1, beta: 1}, splitM},
		{gemmCase{transB: true, m: 6, n: 20, k: 27000, alpha: 2}, splitK},
		{gemmCase{transA: true, m: 7, n: 17, k: 27000, alpha: 1, beta: -1, padC: 2}, splitK},
		{gemmCase{transA: true, transB: true, m: 100, n: 130, k: 300, alpha: 1}, splitN},
	}
	if raceEnabled {
		cases = cases[:3]
	}
	// js/wasm runs one goroutine at a time and keeps GOMAXPROCS at 1: the
	// products are still checked there, the plans are not.
	procs := runtime.GOMAXPROCS(0)
	if procs != 3 {
		t.Logf("GOMAXPROCS is %d here, not 3: plans not checked", procs)
	}
	for i, tc := range cases {
		p := problem{kern: forceKernel, transA: tc.transA, transB: tc.transB, m: tc.m, n: tc.n, k: tc.k}
		if how, nt := plan(&p); procs == 3 && (how != tc.split || nt != 3) {
			t.Errorf("%v: plan is split %d on %d goroutines, want split %d on 3", tc.gemmCase, how, nt, tc.split)
		}
		checkGemm(t, tc.gemmCase, uint64(100+i))
	}
}

// TestGemmZeroSizes checks that an empty product leaves C = beta·C and an
// empty C is not touched.
func TestGemmZeroSizes(t *testing.T) {
	nan := float32(math.NaN())
	for _, beta := range []float32{0, 1, 3} {
		c := []float32{1, 2, nan, 4, 5, nan}
		if beta == 0 {
			c = []float32{nan, nan, nan, nan, nan, nan}
		}
		Gemm(false, false, 2, 2, 0, 1, nil, 1, nil, 2, beta, c, 3)
		for i, want := range []float32{beta * 1, beta * 2, 0, beta * 4, beta * 5, 0} {
			if i%3 == 2 {
				if !math.IsNaN(float64(c[i])) {
					t.Errorf("beta=%g: padding c[%d] = %g was written", beta, i, c[i])
				}
				continue
			}
			if c[i] != want {
				t.Errorf("beta=%g: c[%d] = %g, want %g", beta, i, c[i], want)
			}
		}
	}
	Gemm(true, true, 0, 3, 4, 1, nil, 1, make([]float32, 12), 4, 0, nil, 3)
	Gemm(false, false, 3, 0, 4, 1, make([]float32, 12), 4, nil, 1, 0, nil, 1)
}

// TestGemmAlphaZero checks that alpha = 0 gives beta·C without reading A
// and B (BLAS convention), even if they hold NaNs.
func TestGemmAlphaZero(t *testing.T) {
	nan := float32(math.NaN())
	a := []float32{nan, nan, nan, nan}
	c := []float32{1, 2, 3, 4}
	Gemm(false, false, 2, 2, 2, 0, a, 2, a, 2, 2, c, 2)
	for i, want := range []float32{2, 4, 6, 8} {
		if c[i] != want {
			t.Errorf("c[%d] = %g, want %g", i, c[i], want)
		}
	}
}

func TestGemmBadShapes(t *testing.T) {
	s := make([]float32, 100)
	for _, tc := range []struct {
		name string
		call func()
	}{
		{"negative m", func() { Gemm(false, false, -1, 2, 2, 1, s, 2, s, 2, 0, s, 2) }},
		{"lda < k", func() { Gemm(false, false, 2, 2, 3, 1, s, 2, s, 2, 0, s, 2) }},
		{"lda < m (transA)", func() { Gemm(true, false, 3, 2, 2, 1, s, 2, s, 2, 0, s, 2) }},
		{"ldb < k (transB)", func() { Gemm(false, true, 2, 2, 3, 1, s, 3, s, 2, 0, s, 2) }},
		{"ldc < n", func() { Gemm(false, false, 2, 3, 2, 1, s, 2, s, 3, 0, s, 2) }},
		{"short a", func() { Gemm(false, false, 11, 2, 10, 1, s, 10, s, 2, 0, s, 2) }},
		{"short b", func() { Gemm(false, false, 2, 11, 10, 1, s, 10, s, 11, 0, s, 11) }},
		{"short c", func() { Gemm(false, false, 10, 11, 1, 1, s, 1, s, 11, 0, s, 11) }},
	} {
		func() {
			defer func() {
				err, _ := recover().(error)
				if !errors.Is(err, ErrShape) {
					t.Errorf("%s: recovered %v, want an error wrapping ErrShape", tc.name, err)
				}
			}()
			tc.call()
		}()
	}
}

// TestKernels checks every micro-kernel on one tile with strided B and C,
// with and without loading C.
func TestKernels(t *testing.T) {
	for _, kn := range kernels {
		mr, nr := kn.mr, kn.nr
		for _, kc := range []int{1, 2, 3, 4, 5, 9, 256} {
			for _, load := range []bool{false, true} {
				rng := rand.New(rand.NewPCG(uint64(kc), 1))
				ldb, ldc := nr+3, nr+5
				a := randMatrix(rng, kc, mr, mr, 0)
				b := randMatrix(rng, kc, nr, ldb, float32(math.NaN()))
				c := randMatrix(rng, mr, nr, ldc, cPad)
				beta := float32(0)
				if load {
					beta = -0.75
				}
				want, mag := gemmRef(true, false, mr, nr, kc, 1, a, mr, b, ldb, beta, c, ldc)
				kn.fn(kc, a, b, ldb, c, ldc, load, beta)
				rtol := 8 * math.Sqrt(float64(kc+1)) / (1 << 24)
				for i := range mr {
					for j := range ldc {
						got := c[i*ldc+j]
						if j >= nr {
							if got != cPad {
								t.Errorf("%s kc=%d: padding written", kn.name, kc)
							}
							continue
						}
						if d := math.Abs(float64(got) - want[i*nr+j]); !(d <= 1e-6+rtol*mag[i*nr+j]) {
							t.Errorf("%s kc=%d load=%v: C[%d,%d] = %g, want %g", kn.name, kc, load, i, j, got, want[i*nr+j])
						}
					}
				}
			}
		}
	}
}

// TestGoKernelRoundsOnce checks that the portable kernel sums in float64 and
// rounds once: its tile equals, bit for bit, the float64 sum of the same
// terms in the same order, rounded to float32. Summed in float32, it once
// put the block networks' first-layer gradients 1–3% away from PyTorch.
func TestGoKernelRoundsOnce(t *testing.T) {
	for _, load := range []bool{false, true} {
		rng := rand.New(rand.NewPCG(7, 7))
		kc, ldb, ldc := 300, goNR+1, goNR+2
		a := randMatrix(rng, kc, goMR, goMR, 0)
		b := randMatrix(rng, kc, goNR, ldb, 0)
		c := randMatrix(rng, goMR, goNR, ldc, 0)
		beta := float32(0)
		if load {
			beta = 0.5
		}
		want, _ := gemmRef(true, false, goMR, goNR, kc, 1, a, goMR, b, ldb, beta, c, ldc)
		kernelGo(kc, a, b, ldb, c, ldc, load, beta)
		for i := range goMR {
			for j := range goNR {
				if got, w := c[i*ldc+j], float32(want[i*goNR+j]); got != w {
					t.Fatalf("load=%v: C[%d,%d] = %g, want %g, the float64 sum rounded once", load, i, j, got, w)
				}
			}
		}
	}
}
