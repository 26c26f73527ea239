package cpu

import (
	"math"

	"cifarlab/net"
)

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

// channelGrain is the number of channels per worker that makes at least
// about 32k values.
func channelGrain(perChannel int) int { return max(1, (1<<15)/max(perChannel, 1)) }

// BatchNorm2DTrain normalises with the batch statistics and updates the
// running statistics (runVar from the unbiased variance).
//
// The statistics are one pass in float64 over the values shifted by the
// channel's first value (exact when the channel is constant, and without
// the cancellation of E[x²]−E[x]² when the mean is far from 0). The output
// is x·(γ·invstd) + (β − mean·γ·invstd), as PyTorch's CPU kernel.
func (b *Backend) BatchNorm2DTrain(y, mean, invstd, x, gamma, beta, runMean, runVar net.Tensor, momentum, eps float32) {
	const op = "BatchNorm2DTrain"
	Y, M, I, X := tensor(op, "y", y), tensor(op, "mean", mean), tensor(op, "invstd", invstd), tensor(op, "x", x)
	G, B := tensor(op, "gamma", gamma), tensor(op, "beta", beta)
	RM, RV := tensor(op, "runMean", runMean), tensor(op, "runVar", runVar)
	n, c, hw := bnDims(op, X, []*Tensor{Y}, map[string]*Tensor{
		"mean": M, "invstd": I, "gamma": G, "beta": B, "runMean": RM, "runVar": RV})
	count := n * hw
	if count < 2 {
		panicf("%s: x %v has %d value per channel, need more than 1", op, X.shape, count)
	}
	mom := float64(momentum)
	b.parallel(c, channelGrain(count), func(_, lo, hi int) {
		for ch := lo; ch < hi; ch++ {
			shift := float64(X.data[ch*hw])
			var s, q float64
			for i := 0; i < n; i++ {
				ds, dq := shiftedSums(X.data[(i*c+ch)*hw:][:hw], shift)
				s += ds
				q += dq
			}
			m := float64(count)
			mu := shift + s/m
			variance := max((q-s*s/m)/m, 0)
			inv := 1 / math.Sqrt(variance+float64(eps))
			M.data[ch], I.data[ch] = float32(mu), float32(inv)
			RM.data[ch] = float32((1-mom)*float64(RM.data[ch]) + mom*mu)
			RV.data[ch] = float32((1-mom)*float64(RV.data[ch]) + mom*variance*m/(m-1))
			scale := G.data[ch] * float32(inv)
			off := B.data[ch] - float32(mu)*scale
			for i := 0; i < n; i++ {
				k := (i*c + ch) * hw
				affine(Y.data[k:k+hw], X.data[k:k+hw], scale, off)
			}
		}
	})
}

// shiftedSums returns Σ(v−shift) and Σ(v−shift)² in float64.
func shiftedSums(v []float32, shift float64) (s, q float64) {
	var s0, s1, q0, q1 float64
	i := 0
	for ; i+2 <= len(v); i += 2 {
		d0, d1 := float64(v[i])-shift, float64(v[i+1])-shift
		s0 += d0
		s1 += d1
		q0 += d0 * d0
		q1 += d1 * d1
	}
	if i < len(v) {
		d := float64(v[i]) - shift
		s0 += d
		q0 += d * d
	}
	return s0 + s1, q0 + q1
}

// affine is y = x·a + c.
func affine(y, x []float32, a, c float32) {
	y = y[:len(x)]
	for i, v := range x {
		y[i] = v*a + c
	}
}

// BatchNorm2DEval normalises with the running statistics.
func (b *Backend) BatchNorm2DEval(y, x, gamma, beta, runMean, runVar net.Tensor, eps float32) {
	const op = "BatchNorm2DEval"
	Y, X := tensor(op, "y", y), tensor(op, "x", x)
	G, B := tensor(op, "gamma", gamma), tensor(op, "beta", beta)
	RM, RV := tensor(op, "runMean", runMean), tensor(op, "runVar", runVar)
	n, c, hw := bnDims(op, X, []*Tensor{Y}, map[string]*Tensor{"gamma": G, "beta": B, "runMean": RM, "runVar": RV})
	b.parallel(c, channelGrain(n*hw), func(_, lo, hi int) {
		for ch := lo; ch < hi; ch++ {
			inv := 1 / math.Sqrt(float64(RV.data[ch])+float64(eps))
			scale := G.data[ch] * float32(inv)
			off := B.data[ch] - RM.data[ch]*scale
			for i := 0; i < n; i++ {
				k := (i*c + ch) * hw
				affine(Y.data[k:k+hw], X.data[k:k+hw], scale, off)
			}
		}
	})
}

// BatchNorm2DBackward is dx, dgamma and dbeta of a training-mode batch norm:
// with x̂ = (x−mean)·invstd, dbeta = Σdy, dgamma = Σdy·x̂ and
// dx = γ·invstd·(dy − dbeta/m − x̂·dgamma/m) over the m values of a channel.
func (b *Backend) BatchNorm2DBackward(dx, dgamma, dbeta, dy, x, mean, invstd, gamma net.Tensor) {
	const op = "BatchNorm2DBackward"
	DX, DG, DB := tensor(op, "dx", dx), tensor(op, "dgamma", dgamma), tensor(op, "dbeta", dbeta)
	DY, X, M, I, G := tensor(op, "dy", dy), tensor(op, "x", x), tensor(op, "mean", mean), tensor(op, "invstd", invstd), tensor(op, "gamma", gamma)
	n, c, hw := bnDims(op, X, []*Tensor{DX, DY}, map[string]*Tensor{
		"dgamma": DG, "dbeta": DB, "mean": M, "invstd": I, "gamma": G})
	m := float64(n * hw)
	b.parallel(c, channelGrain(n*hw), func(_, lo, hi int) {
		for ch := lo; ch < hi; ch++ {
			mu, inv := M.data[ch], float64(I.data[ch])
			var sdy, sdyx float64 // Σdy, Σdy·(x−mean)
			for i := 0; i < n; i++ {
				k := (i*c + ch) * hw
				a, bb := dotSums(DY.data[k:k+hw], X.data[k:k+hw], float64(mu))
				sdy += a
				sdyx += bb
			}
			DB.data[ch] = float32(sdy)
			DG.data[ch] = float32(sdyx * inv)
			// dx = k·dy + kx·(x−mean) + k0
			k := float64(G.data[ch]) * inv
			kdy, kx, k0 := float32(k), float32(-k*inv*inv*sdyx/m), float32(-k*sdy/m)
			for i := 0; i < n; i++ {
				o := (i*c + ch) * hw
				d, g, xs := DX.data[o:o+hw], DY.data[o:o+hw], X.data[o:o+hw]
				for j := range d {
					d[j] = kdy*g[j] + kx*(xs[j]-mu) + k0
				}
			}
		}
	})
}

// dotSums returns Σdy and Σdy·(x−mu) in float64.
func dotSums(dy, x []float32, mu float64) (s, sx float64) {
	x = x[:len(dy)]
	var s0, s1, t0, t1 float64
	i := 0
	for ; i+2 <= len(dy); i += 2 {
		g0, g1 := float64(dy[i]), float64(dy[i+1])
		s0 += g0
		s1 += g1
		t0 += g0 * (float64(x[i]) - mu)
		t1 += g1 * (float64(x[i+1]) - mu)
	}
	if i < len(dy) {
		g := float64(dy[i])
		s0 += g
		t0 += g * (float64(x[i]) - mu)
	}
	return s0 + s1, t0 + t1
}
