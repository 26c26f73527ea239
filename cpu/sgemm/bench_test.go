package sgemm

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas32"
)

// benchShape is one product of a training step at batch 256.
type benchShape struct {
	transA, transB bool
	m, k, n        int
}

// Name is op(A)op(B)_MxKxN, e.g. NN_512x4608x1024.
func (s benchShape) Name() string {
	op := func(t bool) string {
		if t {
			return "T"
		}
		return "N"
	}
	return fmt.Sprintf("%s%s_%dx%dx%d", op(s.transA), op(s.transB), s.m, s.k, s.n)
}

// benchShapes lists, for each convolution C[Cout, N·Ho·Wo] =
// W[Cout, Cin·K·K] × col[Cin·K·K, N·Ho·Wo], its forward product (NN), its
// weight gradient dW = dY × colᵀ (NT) and its data gradient dcol = Wᵀ × dY
// (TN); then the same three for the linear layers Y = X × Wᵀ.
func benchShapes() []benchShape {
	convs := [][3]int{ // Cout, Cin·K·K, N·Ho·Wo
		{6, 75, 200704}, {16, 150, 25600}, {64, 27, 25600},
		{128, 576, 6400}, {128, 1152, 6400}, {256, 1152, 2304}, {256, 2304, 2304},
		{512, 2304, 1024}, {512, 4608, 1024}, {512, 4608, 256}, {512, 512, 256},
	}
	var s []benchShape
	for _, c := range convs {
		cout, ckk, nhw := c[0], c[1], c[2]
		s = append(s,
			benchShape{m: cout, k: ckk, n: nhw},
			benchShape{transB: true, m: cout, k: nhw, n: ckk},
			benchShape{transA: true, m: ckk, k: cout, n: nhw})
	}
	linears := [][2]int{{400, 120}, {120, 84}, {84, 10}, {512, 10}} // in, out
	for _, l := range linears {
		in, out := l[0], l[1]
		s = append(s,
			benchShape{transB: true, m: 256, k: in, n: out}, // Y = X·Wᵀ
			benchShape{m: 256, k: out, n: in},               // dX = dY·W
			benchShape{transA: true, m: out, k: 256, n: in}) // dW = dYᵀ·X
	}
	return s
}

// operands returns A, B and C for s, stored with the tightest strides.
func (s benchShape) operands() (a []float32, lda int, b []float32, ldb int, c []float32, ldc int) {
	rng := rand.New(rand.NewPCG(1, 2))
	fill := func(n int) []float32 {
		x := make([]float32, n)
		for i := range x {
			x[i] = float32(rng.NormFloat64())
		}
		return x
	}
	lda, ldb = s.k, s.n
	if s.transA {
		lda = s.m
	}
	if s.transB {
		ldb = s.k
	}
	return fill(s.m * s.k), lda, fill(s.k * s.n), ldb, fill(s.m * s.n), s.n
}

func reportFlops(b *testing.B, s benchShape) {
	b.ReportMetric(2*float64(s.m)*float64(s.n)*float64(s.k)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
}

func BenchmarkGemm(b *testing.B) {
	for _, s := range benchShapes() {
		b.Run(s.Name(), func(b *testing.B) {
			a, lda, bm, ldb, c, ldc := s.operands()
			for b.Loop() {
				Gemm(s.transA, s.transB, s.m, s.n, s.k, 1, a, lda, bm, ldb, 0, c, ldc)
			}
			reportFlops(b, s)
		})
	}
}

// BenchmarkGonum runs the same products through gonum's blas32 for
// comparison.
func BenchmarkGonum(b *testing.B) {
	for _, s := range benchShapes() {
		b.Run(s.Name(), func(b *testing.B) {
			a, lda, bm, ldb, c, ldc := s.operands()
			tA, tB := blas.NoTrans, blas.NoTrans
			ar, ac, br, bc := s.m, s.k, s.k, s.n
			if s.transA {
				tA, ar, ac = blas.Trans, s.k, s.m
			}
			if s.transB {
				tB, br, bc = blas.Trans, s.n, s.k
			}
			ga := blas32.General{Rows: ar, Cols: ac, Stride: lda, Data: a}
			gb := blas32.General{Rows: br, Cols: bc, Stride: ldb, Data: bm}
			gc := blas32.General{Rows: s.m, Cols: s.n, Stride: ldc, Data: c}
			for b.Loop() {
				blas32.Gemm(tA, tB, 1, ga, gb, 0, gc)
			}
			reportFlops(b, s)
		})
	}
}

// BenchmarkGemmKernel runs a few of the shapes through every micro-kernel
// this CPU runs, e.g. to see what a machine without AVX-512 would get.
func BenchmarkGemmKernel(b *testing.B) {
	defer func() { forceKernel = nil }()
	shapes := []benchShape{
		{m: 16, k: 150, n: 25600},
		{m: 128, k: 576, n: 6400},
		{transB: true, m: 128, k: 6400, n: 576},
		{transA: true, m: 576, k: 128, n: 6400},
		{m: 512, k: 4608, n: 1024},
		{transB: true, m: 256, k: 400, n: 120},
	}
	for _, kn := range kernels {
		for _, s := range shapes {
			b.Run(kn.name+"/"+s.Name(), func(b *testing.B) {
				forceKernel = kn
				a, lda, bm, ldb, c, ldc := s.operands()
				for b.Loop() {
					Gemm(s.transA, s.transB, s.m, s.n, s.k, 1, a, lda, bm, ldb, 0, c, ldc)
				}
				reportFlops(b, s)
			})
		}
	}
}
