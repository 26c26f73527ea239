package cpu

import (
	"math"

	"cifarlab/cpu/vec"
	"cifarlab/net"
)

// Batch norm works on channel blocks: each worker takes channels [c0, c1)
// and walks the images in order, so that it reads the contiguous segment
// x[i, c0:c1, :, :] of every image (the spatial planes are as small as
// 1×1 in ResNet18, where a channel-at-a-time walk would touch a new cache
// line for every value). Sums are in float64.

// bnDims validates a batch norm of x[N,C,H,W] with per-channel tensors.
func bnDims(op string, x *Tensor, ys []*Tensor, cs map[string]*Tensor) (n, c, hw int) {
	n, c, h, w := dims4(op, "x", x.shape)
	for _, y := range ys {
		mustShape(op, "y", y.shape, n, c, h, w)
	}
	for name, t := range cs {
		mustShape(op, name, t.shape, c)
	}
	return n, c, h * w
}

// forChannels runs f(c0, c1) over blocks of channels on the workers, each
// block at least about 32k values.
func (b *Backend) forChannels(n, c, hw int, f func(c0, c1 int)) {
	grain := max(1, (1<<15)/max(n*hw, 1))
	b.parallel(c, grain, func(_, lo, hi int) { f(lo, hi) })
}

// planes calls f(i, k, seg) for every image i and channel k in [c0, c1),
// where seg is plane x[i, k] (k counted from c0).
func planes(x []float32, n, c, hw, c0, c1 int, f func(k int, seg []float32, off int)) {
	for i := 0; i < n; i++ {
		base := (i*c + c0) * hw
		for k := 0; k < c1-c0; k++ {
			off := base + k*hw
			f(k, x[off:off+hw], off)
		}
	}
}

// BatchNorm2DTrain normalises with the batch statistics and updates the
// running statistics (runVar from the unbiased variance).
//
// The statistics are one pass in float64 over the values shifted by the
// channel's first value (exact when the channel is constant, and without
// the cancellation of E[x²]−E[x]² when the mean is far from 0). The output
// is x·(γ·invstd) + (β − mean·γ·invstd), as PyTorch's CPU kernel.
func (b *Backend) BatchNorm2DTrain(y, mean, invstd, x, gamma, beta, runMean, runVar net.Tensor, momentum, eps float32) {
	b.bnTrain("BatchNorm2DTrain", false, nil, y, mean, invstd, x, gamma, beta, runMean, runVar, momentum, eps)
}

// BatchNorm2DTrainReLU is BatchNorm2DTrain followed by ReLU, applied to
// each plane while it is in cache.
func (b *Backend) BatchNorm2DTrainReLU(y, mean, invstd, x, gamma, beta, runMean, runVar net.Tensor, momentum, eps float32) {
	b.bnTrain("BatchNorm2DTrainReLU", true, nil, y, mean, invstd, x, gamma, beta, runMean, runVar, momentum, eps)
}

// BatchNorm2DTrainAdd is BatchNorm2DTrain with y = normalised + r (and
// max(y, 0) with relu): r is added to each plane and the ReLU applied
// while it is in cache, one pass over memory where the ops make two or
// three.
func (b *Backend) BatchNorm2DTrainAdd(y, mean, invstd, x, gamma, beta, runMean, runVar, r net.Tensor, relu bool, momentum, eps float32) {
	b.bnTrain("BatchNorm2DTrainAdd", relu, r, y, mean, invstd, x, gamma, beta, runMean, runVar, momentum, eps)
}

// bnTrain is BatchNorm2DTrain, plus r (when not nil) and then the ReLU
// (when relu) applied to each plane of y as it is written.
func (b *Backend) bnTrain(op string, relu bool, r, y, mean, invstd, x, gamma, beta, runMean, runVar net.Tensor, momentum, eps float32) {
	Y, M, I, X := tensor(op, "y", y), tensor(op, "mean", mean), tensor(op, "invstd", invstd), tensor(op, "x", x)
	G, B := tensor(op, "gamma", gamma), tensor(op, "beta", beta)
	RM, RV := tensor(op, "runMean", runMean), tensor(op, "runVar", runVar)
	ys := []*Tensor{Y}
	var R *Tensor
	if r != nil {
		R = tensor(op, "r", r)
		ys = append(ys, R)
	}
	n, c, hw := bnDims(op, X, ys, map[string]*Tensor{
		"mean": M, "invstd": I, "gamma": G, "beta": B, "runMean": RM, "runVar": RV})
	count := n * hw
	if count < 2 {
		panicf("%s: x %v has %d value per channel, need more than 1", op, X.shape, count)
	}
	mom, m := float64(momentum), float64(count)
	b.forChannels(n, c, hw, func(c0, c1 int) {
		nc := c1 - c0
		shift, s, q := make([]float64, nc), make([]float64, nc), make([]float64, nc)
		for k := range shift {
			shift[k] = float64(X.data[(c0+k)*hw])
		}
		planes(X.data, n, c, hw, c0, c1, func(k int, seg []float32, _ int) {
			ds, dq := vec.ShiftedSums(seg, shift[k])
			s[k] += ds
			q[k] += dq
		})
		scale, off := make([]float32, nc), make([]float32, nc)
		for k := range nc {
			ch := c0 + k
			mu := shift[k] + s[k]/m
			variance := max((q[k]-s[k]*s[k]/m)/m, 0)
			inv := 1 / math.Sqrt(variance+float64(eps))
			M.data[ch], I.data[ch] = float32(mu), float32(inv)
			RM.data[ch] = float32((1-mom)*float64(RM.data[ch]) + mom*mu)
			RV.data[ch] = float32((1-mom)*float64(RV.data[ch]) + mom*variance*m/(m-1))
			scale[k] = G.data[ch] * float32(inv)
			off[k] = B.data[ch] - float32(mu)*scale[k]
		}
		planes(X.data, n, c, hw, c0, c1, func(k int, seg []float32, o int) {
			vec.Affine(Y.data[o:o+hw], seg, scale[k], off[k])
			if R != nil { // normalised + r: Add's r + normalised, the same bits
				vec.Add(Y.data[o:o+hw], R.data[o:o+hw])
			}
			if relu {
				vec.ReLU(Y.data[o:o+hw], Y.data[o:o+hw])
			}
		})
	})
}

// BatchNorm2DEval normalises with the running statistics.
func (b *Backend) BatchNorm2DEval(y, x, gamma, beta, runMean, runVar net.Tensor, eps float32) {
	const op = "BatchNorm2DEval"
	Y, X := tensor(op, "y", y), tensor(op, "x", x)
	G, B := tensor(op, "gamma", gamma), tensor(op, "beta", beta)
	RM, RV := tensor(op, "runMean", runMean), tensor(op, "runVar", runVar)
	n, c, hw := bnDims(op, X, []*Tensor{Y}, map[string]*Tensor{"gamma": G, "beta": B, "runMean": RM, "runVar": RV})
	b.forChannels(n, c, hw, func(c0, c1 int) {
		scale, off := make([]float32, c1-c0), make([]float32, c1-c0)
		for k := range scale {
			ch := c0 + k
			scale[k] = G.data[ch] * float32(1/math.Sqrt(float64(RV.data[ch])+float64(eps)))
			off[k] = B.data[ch] - RM.data[ch]*scale[k]
		}
		planes(X.data, n, c, hw, c0, c1, func(k int, seg []float32, o int) {
			vec.Affine(Y.data[o:o+hw], seg, scale[k], off[k])
		})
	})
}

// BatchNorm2DBackward is dx, dgamma and dbeta of a training-mode batch norm:
// with x̂ = (x−mean)·invstd, dbeta = Σdy, dgamma = Σdy·x̂ and
// dx = γ·invstd·(dy − dbeta/m − x̂·dgamma/m) over the m values of a channel.
func (b *Backend) BatchNorm2DBackward(dx, dgamma, dbeta, dy, x, mean, invstd, gamma net.Tensor) {
	b.bnBackward("BatchNorm2DBackward", dx, dgamma, dbeta, dy, nil, x, mean, invstd, gamma)
}

// BatchNorm2DBackwardReLU is BatchNorm2DBackward of dy masked by y > 0: the
// masked plane is written into dx, summed while in cache, and dx then
// computed from it in place.
func (b *Backend) BatchNorm2DBackwardReLU(dx, dgamma, dbeta, dy, y, x, mean, invstd, gamma net.Tensor) {
	b.bnBackward("BatchNorm2DBackwardReLU", dx, dgamma, dbeta, dy, y, x, mean, invstd, gamma)
}

// bnBackward is BatchNorm2DBackward, of dy masked by y > 0 when y is set.
func (b *Backend) bnBackward(op string, dx, dgamma, dbeta, dy, y, x, mean, invstd, gamma net.Tensor) {
	DX, DG, DB := tensor(op, "dx", dx), tensor(op, "dgamma", dgamma), tensor(op, "dbeta", dbeta)
	DY, X, M, I, G := tensor(op, "dy", dy), tensor(op, "x", x), tensor(op, "mean", mean), tensor(op, "invstd", invstd), tensor(op, "gamma", gamma)
	n, c, hw := bnDims(op, X, []*Tensor{DX, DY}, map[string]*Tensor{
		"dgamma": DG, "dbeta": DB, "mean": M, "invstd": I, "gamma": G})
	g := DY.data // the gradient the batch norm sees
	var Y *Tensor
	if y != nil {
		Y = tensor(op, "y", y)
		mustShape(op, "y", Y.shape, DX.shape...)
		g = DX.data
	}
	m := float64(n * hw)
	b.forChannels(n, c, hw, func(c0, c1 int) {
		nc := c1 - c0
		sdy, sdyx := make([]float64, nc), make([]float64, nc) // Σdy, Σdy·(x−mean)
		planes(g, n, c, hw, c0, c1, func(k int, gk []float32, o int) {
			if Y != nil { // gk is dx's plane: the masked dy goes there first
				vec.ReLUMask(gk, DY.data[o:o+hw], Y.data[o:o+hw])
			}
			a, bb := vec.DotSums(gk, X.data[o:o+hw], float64(M.data[c0+k]))
			sdy[k] += a
			sdyx[k] += bb
		})
		// dx = kdy·dy + kx·(x−mean) + k0
		kdy, kx, k0 := make([]float32, nc), make([]float32, nc), make([]float32, nc)
		for k := range nc {
			ch := c0 + k
			inv := float64(I.data[ch])
			DB.data[ch] = float32(sdy[k])
			DG.data[ch] = float32(sdyx[k] * inv)
			gi := float64(G.data[ch]) * inv
			kdy[k], kx[k], k0[k] = float32(gi), float32(-gi*inv*inv*sdyx[k]/m), float32(-gi*sdy[k]/m)
		}
		planes(g, n, c, hw, c0, c1, func(k int, gk []float32, o int) {
			vec.BNInputGrad(DX.data[o:o+hw], gk, X.data[o:o+hw], M.data[c0+k], kdy[k], kx[k], k0[k])
		})
	})
}
