package backendtest

import (
	"fmt"
	"math"
	"testing"

	"cifarlab/net"
)

type bnCase struct {
	n, c, h, w    int
	momentum, eps float32
}

func (c bnCase) name() string {
	return fmt.Sprintf("n%d_c%dx%dx%d_m%g_eps%g", c.n, c.c, c.h, c.w, c.momentum, c.eps)
}

func bnCases(p Profile) []bnCase {
	cs := []bnCase{
		{3, 5, 7, 9, 0.1, 1e-5},
		{3, 13, 11, 11, 0.1, 1e-5},
		{4, 3, 1, 1, 0.1, 1e-5}, // 4 values per channel: unbiased = 4/3 biased
		{2, 6, 2, 3, 0.3, 1e-3},
		{1, 5, 3, 3, 0.1, 1e-5},
	}
	if p == Standard {
		cs = append(cs, bnCase{8, 32, 8, 8, 0.1, 1e-5}, bnCase{16, 4, 16, 16, 0.1, 1e-5},
			bnCase{8, 40, 15, 15, 0.1, 1e-5}) // enough values to be split over threads
	}
	return cs
}

// bnData is normal data with outliers in which channel 1 is offset by 20
// with spread 0.5 (a naive E[x²]−E[x]² loses it) and, in batches of more
// than 8 values per channel, channel 0 is constant (variance 0, invstd
// 1/sqrt(eps)).
func bnData(rnd *gen, s net.Shape) []float32 {
	n, c, h, w := s[0], s[1], s[2], s[3]
	x := rnd.normal(s.Len(), 1)
	for in := 0; in < n; in++ {
		for ch := 0; ch < c; ch++ {
			plane := x[(in*c+ch)*h*w : (in*c+ch+1)*h*w]
			for i := range plane {
				switch {
				case ch == 0 && n*h*w > 8:
					plane[i] = 0.7
				case ch == 1:
					plane[i] = 20 + 0.5*float32(rnd.r.NormFloat64())
				}
			}
		}
	}
	return x
}

// bnInputs draws a batch norm's input x of shape xs, its γ (around 1), β
// and running statistics (a variance between 0.5 and 2), in that order.
func bnInputs(rnd *gen, xs net.Shape) (x, gamma, beta, runMean, runVar []float32) {
	c := xs[1]
	x = bnData(rnd, xs)
	gamma = rnd.plain(c, 0.5)
	for j := range gamma {
		gamma[j] += 1
	}
	beta = rnd.plain(c, 1)
	runMean, runVar = rnd.plain(c, 1), make([]float32, c)
	for j := range runVar {
		runVar[j] = 0.5 + 1.5*float32(rnd.r.Float64())
	}
	return x, gamma, beta, runMean, runVar
}

// CheckBatchNorm2D checks BatchNorm2DTrain (output, batch statistics and
// running statistics), BatchNorm2DEval and BatchNorm2DBackward (against the
// reference and finite differences through the batch statistics).
func CheckBatchNorm2D(t *testing.T, b net.Backend, p Profile) {
	for i, c := range bnCases(p) {
		xs, cs := net.Shape{c.n, c.c, c.h, c.w}, net.Shape{c.c}
		rnd := newGen(uint64(20000 + i))
		x, gamma, beta, runMean, runVar := bnInputs(rnd, xs)
		r := rnd.normal(xs.Len(), 1)
		X, G, B, R := ArrayOf(xs, x), ArrayOf(cs, gamma), ArrayOf(cs, beta), ArrayOf(xs, r)
		RM, RV := ArrayOf(cs, runMean), ArrayOf(cs, runVar)
		mom, eps := float64(c.momentum), float64(c.eps)
		ref := RefBatchNorm2DTrain(X, G, B, RM, RV, mom, eps)

		t.Run("BatchNorm2DTrain/"+c.name(), func(t *testing.T) {
			s := newSession(t, b)
			y, mean, invstd := s.dst(xs), s.dst(cs), s.dst(cs)
			rm, rv := s.tensor(cs, runMean), s.tensor(cs, runVar)
			b.BatchNorm2DTrain(y, mean, invstd, s.tensor(xs, x), s.tensor(cs, gamma), s.tensor(cs, beta), rm, rv, c.momentum, c.eps)
			checkClose(t, "y", s.get(y), ref.Y, tolBN)
			checkClose(t, "mean", s.get(mean), ref.Mean, tolStat)
			checkClose(t, "invstd (1/sqrt(biased var + eps))", s.get(invstd), ref.InvStd, tolStat)
			checkClose(t, "runMean", s.get(rm), ref.RunMean, tolStat)
			checkClose(t, "runVar (from the unbiased variance)", s.get(rv), ref.RunVar, tolStat)
		})

		t.Run("BatchNorm2DEval/"+c.name(), func(t *testing.T) {
			s := newSession(t, b)
			y := s.dst(xs)
			rm, rv := s.tensor(cs, runMean), s.tensor(cs, runVar)
			b.BatchNorm2DEval(y, s.tensor(xs, x), s.tensor(cs, gamma), s.tensor(cs, beta), rm, rv, c.eps)
			checkClose(t, "y", s.get(y), RefBatchNorm2DEval(X, G, B, RM, RV, eps), tolBN)
			checkClose(t, "runMean (unchanged)", s.get(rm), RM, tolExact)
			checkClose(t, "runVar (unchanged)", s.get(rv), RV, tolExact)
		})

		t.Run("BatchNorm2DBackward/"+c.name(), func(t *testing.T) {
			s := newSession(t, b)
			xt, gt := s.tensor(xs, x), s.tensor(cs, gamma)
			y, mean, invstd := s.dst(xs), s.dst(cs), s.dst(cs)
			b.BatchNorm2DTrain(y, mean, invstd, xt, gt, s.tensor(cs, beta), s.tensor(cs, runMean), s.tensor(cs, runVar), c.momentum, c.eps)
			dx, dgamma, dbeta := s.dst(xs), s.dst(cs), s.dst(cs)
			b.BatchNorm2DBackward(dx, dgamma, dbeta, s.tensor(xs, r), xt, mean, invstd, gt)
			gotX, gotG, gotB := s.get(dx), s.get(dgamma), s.get(dbeta)
			refX, refG, refB := RefBatchNorm2DBackward(R, X, ref.Mean, ref.InvStd, G)
			magG, magB := bnSumMagnitudes(R, X, ref.Mean, ref.InvStd)
			checkClose(t, "dx vs reference", gotX, refX, tolBN)
			checkSum(t, "dgamma vs reference", gotG, refG, magG, tolSum)
			checkSum(t, "dbeta vs reference", gotB, refB, magB, tolSum)

			// L = Σ r·y of the training forward: perturbing x moves the batch
			// mean and variance too.
			Xp, Gp, Bp := X.Clone(), G.Clone(), B.Clone()
			loss := func() float64 { return dot(R.Data, RefBatchNorm2DTrain(Xp, Gp, Bp, RM, RV, mom, eps).Y.Data) }
			cost := 4 * xs.Len()
			idx := newGen(uint64(21000+i)).sample(xs.Len(), fdCount(cost))
			fdX := memo("BatchNorm2DBackward/"+c.name()+"/fd", func() []float64 { return fd(loss, Xp.Data, idx, 1e-5) })
			checkAt(t, "dx vs finite differences", xs, gotX, fdX, idx, nil, tolBN)
			idx = newGen(uint64(22000+i)).sample(c.c, c.c)
			checkAt(t, "dgamma vs finite differences", cs, gotG, fd(loss, Gp.Data, idx, 0.5), idx, magG.Data, tolSum)
			checkAt(t, "dbeta vs finite differences", cs, gotB, fd(loss, Bp.Data, idx, 0.5), idx, magB.Data, tolSum)
		})
	}
}

// bnSumMagnitudes returns Σ|dy·x̂| and Σ|dy| per channel, the magnitudes of
// the sums dgamma and dbeta.
func bnSumMagnitudes(dy, x, mean, invstd Array) (magGamma, magBeta Array) {
	_, c, h, w := dims4("x", x.Shape)
	magGamma, magBeta = NewArray(net.Shape{c}), NewArray(net.Shape{c})
	for i := range x.Data {
		ch := (i / (h * w)) % c
		xhat := (x.Data[i] - mean.Data[ch]) * invstd.Data[ch]
		magGamma.Data[ch] += math.Abs(dy.Data[i] * xhat)
		magBeta.Data[ch] += math.Abs(dy.Data[i])
	}
	return magGamma, magBeta
}

// CheckBatchNormReLU checks, where b fuses a batch norm with the ReLU
// after it (net.BatchNormReLUBackend), that the fused ops give what the
// reference gives for BatchNorm2DTrain then ReLU, and for ReLUBackward then
// BatchNorm2DBackward (dy masked where the fused output is not positive).
func CheckBatchNormReLU(t *testing.T, b net.Backend, p Profile) {
	f, ok := b.(net.BatchNormReLUBackend)
	if !ok {
		return
	}
	for i, c := range bnCases(p) {
		xs, cs := net.Shape{c.n, c.c, c.h, c.w}, net.Shape{c.c}
		rnd := newGen(uint64(23000 + i))
		x, gamma, beta, runMean, runVar := bnInputs(rnd, xs)
		r := rnd.normal(xs.Len(), 1)
		X, G, B, R := ArrayOf(xs, x), ArrayOf(cs, gamma), ArrayOf(cs, beta), ArrayOf(xs, r)
		RM, RV := ArrayOf(cs, runMean), ArrayOf(cs, runVar)
		ref := RefBatchNorm2DTrain(X, G, B, RM, RV, float64(c.momentum), float64(c.eps))
		reluY := ref.Y.Clone()
		for j, v := range reluY.Data {
			reluY.Data[j] = max(v, 0)
		}

		t.Run("BatchNormReLU/"+c.name(), func(t *testing.T) {
			s := newSession(t, b)
			xt, gt := s.tensor(xs, x), s.tensor(cs, gamma)
			y, mean, invstd := s.dst(xs), s.dst(cs), s.dst(cs)
			rm, rv := s.tensor(cs, runMean), s.tensor(cs, runVar)
			f.BatchNorm2DTrainReLU(y, mean, invstd, xt, gt, s.tensor(cs, beta), rm, rv, c.momentum, c.eps)
			gotY := s.get(y)
			checkClose(t, "y", gotY, reluY, tolBN)
			checkClose(t, "mean", s.get(mean), ref.Mean, tolStat)
			checkClose(t, "invstd", s.get(invstd), ref.InvStd, tolStat)
			checkClose(t, "runMean", s.get(rm), ref.RunMean, tolStat)
			checkClose(t, "runVar", s.get(rv), ref.RunVar, tolStat)

			// The mask is the backend's own output's: a value within
			// rounding of 0 may fall on either side of it.
			masked := R.Clone()
			for j, v := range gotY {
				if !(v > 0) {
					masked.Data[j] = 0
				}
			}
			dx, dgamma, dbeta := s.dst(xs), s.dst(cs), s.dst(cs)
			f.BatchNorm2DBackwardReLU(dx, dgamma, dbeta, s.tensor(xs, r), y, xt, mean, invstd, gt)
			refX, refG, refB := RefBatchNorm2DBackward(masked, X, ref.Mean, ref.InvStd, G)
			magG, magB := bnSumMagnitudes(masked, X, ref.Mean, ref.InvStd)
			checkClose(t, "dx", s.get(dx), refX, tolBN)
			checkSum(t, "dgamma", s.get(dgamma), refG, magG, tolSum)
			checkSum(t, "dbeta", s.get(dbeta), refB, magB, tolSum)
		})
	}
}

// CheckBatchNormAddReLU checks, where b fuses the end of a residual block
// (net.BatchNormAddBackend), BatchNorm2DTrainAdd against the reference
// batch norm + r, without and with the ReLU after it, and AddReLUBackward
// against a + dy masked by the latter's output.
func CheckBatchNormAddReLU(t *testing.T, b net.Backend, p Profile) {
	f, ok := b.(net.BatchNormAddBackend)
	if !ok {
		return
	}
	for i, c := range bnCases(p) {
		xs, cs := net.Shape{c.n, c.c, c.h, c.w}, net.Shape{c.c}
		rnd := newGen(uint64(29000 + i))
		x, gamma, beta, runMean, runVar := bnInputs(rnd, xs)
		res := rnd.normal(xs.Len(), 1)
		dy, a := rnd.normal(xs.Len(), 1), rnd.normal(xs.Len(), 1)
		X, G, B := ArrayOf(xs, x), ArrayOf(cs, gamma), ArrayOf(cs, beta)
		RM, RV := ArrayOf(cs, runMean), ArrayOf(cs, runVar)
		ref := RefBatchNorm2DTrain(X, G, B, RM, RV, float64(c.momentum), float64(c.eps))
		sum, want := ref.Y.Clone(), ref.Y.Clone()
		for j, v := range want.Data {
			sum.Data[j] = v + float64(res[j])
			want.Data[j] = max(v+float64(res[j]), 0)
		}

		t.Run("BatchNormAdd/"+c.name(), func(t *testing.T) {
			s := newSession(t, b)
			y, mean, invstd := s.dst(xs), s.dst(cs), s.dst(cs)
			rm, rv := s.tensor(cs, runMean), s.tensor(cs, runVar)
			f.BatchNorm2DTrainAdd(y, mean, invstd, s.tensor(xs, x), s.tensor(cs, gamma), s.tensor(cs, beta),
				rm, rv, s.tensor(xs, res), false, c.momentum, c.eps)
			checkClose(t, "y", s.get(y), sum, tolBN)
			checkClose(t, "mean", s.get(mean), ref.Mean, tolStat)
			checkClose(t, "invstd", s.get(invstd), ref.InvStd, tolStat)
			checkClose(t, "runMean", s.get(rm), ref.RunMean, tolStat)
			checkClose(t, "runVar", s.get(rv), ref.RunVar, tolStat)
		})

		t.Run("BatchNormAddReLU/"+c.name(), func(t *testing.T) {
			s := newSession(t, b)
			y, mean, invstd := s.dst(xs), s.dst(cs), s.dst(cs)
			rm, rv := s.tensor(cs, runMean), s.tensor(cs, runVar)
			f.BatchNorm2DTrainAdd(y, mean, invstd, s.tensor(xs, x), s.tensor(cs, gamma), s.tensor(cs, beta),
				rm, rv, s.tensor(xs, res), true, c.momentum, c.eps)
			gotY := s.get(y)
			checkClose(t, "y", gotY, want, tolBN)
			checkClose(t, "mean", s.get(mean), ref.Mean, tolStat)
			checkClose(t, "invstd", s.get(invstd), ref.InvStd, tolStat)
			checkClose(t, "runMean", s.get(rm), ref.RunMean, tolStat)
			checkClose(t, "runVar", s.get(rv), ref.RunVar, tolStat)

			// Against the backend's own output (a value within rounding
			// of 0 may fall on either side of it): exact.
			dx := s.dst(xs)
			f.AddReLUBackward(dx, s.tensor(xs, a), s.tensor(xs, dy), y)
			got := s.get(dx)
			for j := range got {
				w := a[j]
				if gotY[j] > 0 {
					w += dy[j]
				}
				if got[j] != w {
					t.Fatalf("AddReLUBackward: dx[%d] = %v, want %v (y %v)", j, got[j], w, gotY[j])
				}
			}
		})
	}
}
