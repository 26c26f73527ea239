package backendtest

// Plain-Go reference implementations of every op of net.Backend: simple
// loops in float64, written for clarity, not speed. Each Ref function has
// the semantics documented on the net.Backend method of the same name; they
// return fresh arrays instead of writing a destination.

import (
	"fmt"
	"math"

	"cifarlab/net"
)

// Array is a host tensor in float64, the currency of the reference
// implementations.
type Array struct {
	Shape net.Shape
	Data  []float64
}

// NewArray returns a zero-filled array of shape s.
func NewArray(s net.Shape) Array {
	return Array{Shape: append(net.Shape(nil), s...), Data: make([]float64, s.Len())}
}

// ArrayOf returns an array of shape s holding the float32 values v widened
// to float64. It panics if len(v) != s.Len().
func ArrayOf(s net.Shape, v []float32) Array {
	if len(v) != s.Len() {
		panic(fmt.Sprintf("backendtest: ArrayOf: %d values for shape %v", len(v), s))
	}
	a := NewArray(s)
	for i, x := range v {
		a.Data[i] = float64(x)
	}
	return a
}

// Clone returns a deep copy of a.
func (a Array) Clone() Array {
	return Array{Shape: append(net.Shape(nil), a.Shape...), Data: append([]float64(nil), a.Data...)}
}

// Abs returns a copy of a with every value replaced by its absolute value:
// a reference op applied to absolute values gives the magnitude of each
// sum it computes.
func (a Array) Abs() Array {
	out := a.Clone()
	for i, v := range out.Data {
		out.Data[i] = math.Abs(v)
	}
	return out
}

// Float32 returns a's values rounded to float32.
func (a Array) Float32() []float32 {
	out := make([]float32, len(a.Data))
	for i, x := range a.Data {
		out[i] = float32(x)
	}
	return out
}

func dims4(what string, s net.Shape) (int, int, int, int) {
	if len(s) != 4 {
		panic(fmt.Sprintf("backendtest: %s has shape %v, want 4 dimensions", what, s))
	}
	return s[0], s[1], s[2], s[3]
}

func dims2(what string, s net.Shape) (int, int) {
	if len(s) != 2 {
		panic(fmt.Sprintf("backendtest: %s has shape %v, want 2 dimensions", what, s))
	}
	return s[0], s[1]
}

func mustShape(what string, got, want net.Shape) {
	if !got.Equal(want) {
		panic(fmt.Sprintf("backendtest: %s has shape %v, want %v", what, got, want))
	}
}

// RefConv2D is y[N,Co,Ho,Wo] = x[N,Ci,H,W] ⋆ w[Co,Ci,K,K] + b[Co] with zero
// padding g.Pad and stride g.Stride (a cross-correlation, as in PyTorch).
func RefConv2D(x, w, b Array, g net.ConvGeom) Array {
	n, ci, h, wd := dims4("x", x.Shape)
	co, ci2, k, k2 := dims4("w", w.Shape)
	if ci2 != ci || k2 != k {
		panic(fmt.Sprintf("backendtest: RefConv2D: w %v does not fit x %v", w.Shape, x.Shape))
	}
	mustShape("b", b.Shape, net.Shape{co})
	ho, wo := g.Out(h, k), g.Out(wd, k)
	y := NewArray(net.Shape{n, co, ho, wo})
	for in := 0; in < n; in++ {
		for o := 0; o < co; o++ {
			for oy := 0; oy < ho; oy++ {
				// Kernel rows and columns that land inside the image.
				ky0, ky1 := taps(oy*g.Stride-g.Pad, k, h)
				for ox := 0; ox < wo; ox++ {
					kx0, kx1 := taps(ox*g.Stride-g.Pad, k, wd)
					s := b.Data[o]
					for c := 0; c < ci; c++ {
						xp := x.Data[(in*ci+c)*h*wd:][:h*wd]
						wp := w.Data[(o*ci+c)*k*k:][:k*k]
						for ky := ky0; ky < ky1; ky++ {
							base := (oy*g.Stride-g.Pad+ky)*wd + ox*g.Stride - g.Pad
							for kx := kx0; kx < kx1; kx++ {
								s += xp[base+kx] * wp[ky*k+kx]
							}
						}
					}
					y.Data[((in*co+o)*ho+oy)*wo+ox] = s
				}
			}
		}
	}
	return y
}

// taps returns the kernel offsets [k0, k1) for which start+offset lies in
// [0, size).
func taps(start, k, size int) (k0, k1 int) {
	k0, k1 = max(0, -start), min(k, size-start)
	return k0, max(k0, k1)
}

// convTaps calls f for every (input, weight, output) index triple of a
// convolution that touches a real (not padded) input pixel.
func convTaps(xs, ws net.Shape, g net.ConvGeom, f func(xi, wi, yi int)) {
	n, ci, h, wd := dims4("x", xs)
	co, _, k, _ := dims4("w", ws)
	ho, wo := g.Out(h, k), g.Out(wd, k)
	for in := 0; in < n; in++ {
		for o := 0; o < co; o++ {
			for oy := 0; oy < ho; oy++ {
				for ox := 0; ox < wo; ox++ {
					yi := ((in*co+o)*ho+oy)*wo + ox
					for c := 0; c < ci; c++ {
						for ky := 0; ky < k; ky++ {
							iy := oy*g.Stride - g.Pad + ky
							if iy < 0 || iy >= h {
								continue
							}
							for kx := 0; kx < k; kx++ {
								ix := ox*g.Stride - g.Pad + kx
								if ix < 0 || ix >= wd {
									continue
								}
								f(((in*ci+c)*h+iy)*wd+ix, ((o*ci+c)*k+ky)*k+kx, yi)
							}
						}
					}
				}
			}
		}
	}
}

// RefConv2DBackwardData is dx = ∂L/∂x of RefConv2D for an input of shape
// xs, given dy = ∂L/∂y.
func RefConv2DBackwardData(dy, w Array, xs net.Shape, g net.ConvGeom) Array {
	n, _, h, wd := dims4("x", xs)
	co, _, k, _ := dims4("w", w.Shape)
	mustShape("dy", dy.Shape, net.Shape{n, co, g.Out(h, k), g.Out(wd, k)})
	dx := NewArray(xs)
	convTaps(xs, w.Shape, g, func(xi, wi, yi int) { dx.Data[xi] += dy.Data[yi] * w.Data[wi] })
	return dx
}

// RefConv2DBackwardParams is dw = ∂L/∂w and db = ∂L/∂b of RefConv2D for a
// weight of shape ws, given dy = ∂L/∂y and the forward input x.
func RefConv2DBackwardParams(dy, x Array, ws net.Shape, g net.ConvGeom) (dw, db Array) {
	n, _, h, wd := dims4("x", x.Shape)
	co, _, k, _ := dims4("w", ws)
	mustShape("dy", dy.Shape, net.Shape{n, co, g.Out(h, k), g.Out(wd, k)})
	dw, db = NewArray(ws), NewArray(net.Shape{co})
	convTaps(x.Shape, ws, g, func(xi, wi, yi int) { dw.Data[wi] += dy.Data[yi] * x.Data[xi] })
	plane := dy.Shape[2] * dy.Shape[3]
	for i, v := range dy.Data {
		db.Data[(i/plane)%co] += v
	}
	return dw, db
}

// RefLinear is y[N,O] = x[N,I]·w[O,I]ᵀ + b[O].
func RefLinear(x, w, b Array) Array {
	n, in := dims2("x", x.Shape)
	o, in2 := dims2("w", w.Shape)
	if in2 != in {
		panic(fmt.Sprintf("backendtest: RefLinear: w %v does not fit x %v", w.Shape, x.Shape))
	}
	mustShape("b", b.Shape, net.Shape{o})
	y := NewArray(net.Shape{n, o})
	for r := 0; r < n; r++ {
		for j := 0; j < o; j++ {
			s := b.Data[j]
			for i := 0; i < in; i++ {
				s += x.Data[r*in+i] * w.Data[j*in+i]
			}
			y.Data[r*o+j] = s
		}
	}
	return y
}

// RefLinearBackwardData is dx[N,I] = dy[N,O]·w[O,I].
func RefLinearBackwardData(dy, w Array) Array {
	n, o := dims2("dy", dy.Shape)
	o2, in := dims2("w", w.Shape)
	if o2 != o {
		panic(fmt.Sprintf("backendtest: RefLinearBackwardData: w %v does not fit dy %v", w.Shape, dy.Shape))
	}
	dx := NewArray(net.Shape{n, in})
	for r := 0; r < n; r++ {
		for i := 0; i < in; i++ {
			var s float64
			for j := 0; j < o; j++ {
				s += dy.Data[r*o+j] * w.Data[j*in+i]
			}
			dx.Data[r*in+i] = s
		}
	}
	return dx
}

// RefLinearBackwardParams is dw[O,I] = dyᵀ·x and db[O] = Σₙ dy.
func RefLinearBackwardParams(dy, x Array) (dw, db Array) {
	n, o := dims2("dy", dy.Shape)
	n2, in := dims2("x", x.Shape)
	if n2 != n {
		panic(fmt.Sprintf("backendtest: RefLinearBackwardParams: x %v does not fit dy %v", x.Shape, dy.Shape))
	}
	dw, db = NewArray(net.Shape{o, in}), NewArray(net.Shape{o})
	for r := 0; r < n; r++ {
		for j := 0; j < o; j++ {
			db.Data[j] += dy.Data[r*o+j]
			for i := 0; i < in; i++ {
				dw.Data[j*in+i] += dy.Data[r*o+j] * x.Data[r*in+i]
			}
		}
	}
	return dw, db
}

// RefMaxPool2D is max pooling of x[N,C,H,W]; argmax holds, per output, the
// flat index into the H×W plane of the first maximum in row-major order.
func RefMaxPool2D(x Array, g net.PoolGeom) (y Array, argmax []int32) {
	n, c, h, w := dims4("x", x.Shape)
	ho, wo := g.Out(h, w)
	y = NewArray(net.Shape{n, c, ho, wo})
	argmax = make([]int32, y.Shape.Len())
	for p := 0; p < n*c; p++ {
		plane := x.Data[p*h*w : (p+1)*h*w]
		for oy := 0; oy < ho; oy++ {
			for ox := 0; ox < wo; ox++ {
				best := oy*g.SH*w + ox*g.SW
				for ky := 0; ky < g.KH; ky++ {
					for kx := 0; kx < g.KW; kx++ {
						i := (oy*g.SH+ky)*w + ox*g.SW + kx
						if plane[i] > plane[best] {
							best = i
						}
					}
				}
				o := (p*ho+oy)*wo + ox
				y.Data[o] = plane[best]
				argmax[o] = int32(best)
			}
		}
	}
	return y, argmax
}

// RefMaxPool2DBackward routes dy[N,C,Ho,Wo] to the argmax positions of a
// zero dx of shape xs, summing where windows overlap.
func RefMaxPool2DBackward(dy Array, argmax []int32, xs net.Shape) Array {
	n, c, h, w := dims4("x", xs)
	_, _, ho, wo := dims4("dy", dy.Shape)
	mustShape("dy", dy.Shape, net.Shape{n, c, ho, wo})
	dx := NewArray(xs)
	for i, v := range dy.Data {
		p := i / (ho * wo)
		dx.Data[p*h*w+int(argmax[i])] += v
	}
	return dx
}

// channelStats returns the mean and biased variance of each channel of
// x[N,C,H,W] (two passes) and the number of values per channel.
func channelStats(x Array) (mean, variance []float64, count int) {
	n, c, h, w := dims4("x", x.Shape)
	hw := h * w
	count = n * hw
	mean, variance = make([]float64, c), make([]float64, c)
	for ch := 0; ch < c; ch++ {
		var s float64
		for in := 0; in < n; in++ {
			for _, v := range x.Data[(in*c+ch)*hw : (in*c+ch+1)*hw] {
				s += v
			}
		}
		m := s / float64(count)
		var q float64
		for in := 0; in < n; in++ {
			for _, v := range x.Data[(in*c+ch)*hw : (in*c+ch+1)*hw] {
				q += (v - m) * (v - m)
			}
		}
		mean[ch], variance[ch] = m, q/float64(count)
	}
	return mean, variance, count
}

// BNTrain is the result of RefBatchNorm2DTrain.
type BNTrain struct {
	Y                Array // [N,C,H,W]
	Mean, InvStd     Array // [C] batch mean and 1/sqrt(biased var + eps)
	RunMean, RunVar  Array // [C] updated running statistics
	BiasedVar        Array // [C] batch variance (for messages)
	UnbiasedVar      Array // [C] batch variance ·n/(n−1)
	PerChannelValues int   // N·H·W
}

// RefBatchNorm2DTrain is a training-mode batch norm of x[N,C,H,W]: output
// from the batch mean and biased variance, running statistics updated with
// momentum from the unbiased variance (PyTorch's BatchNorm2d).
func RefBatchNorm2DTrain(x, gamma, beta, runMean, runVar Array, momentum, eps float64) BNTrain {
	n, c, h, w := dims4("x", x.Shape)
	for _, a := range []struct {
		name string
		s    net.Shape
	}{{"gamma", gamma.Shape}, {"beta", beta.Shape}, {"runMean", runMean.Shape}, {"runVar", runVar.Shape}} {
		mustShape(a.name, a.s, net.Shape{c})
	}
	mean, variance, count := channelStats(x)
	r := BNTrain{
		Y: NewArray(x.Shape), Mean: NewArray(net.Shape{c}), InvStd: NewArray(net.Shape{c}),
		RunMean: NewArray(net.Shape{c}), RunVar: NewArray(net.Shape{c}),
		BiasedVar: NewArray(net.Shape{c}), UnbiasedVar: NewArray(net.Shape{c}),
		PerChannelValues: count,
	}
	hw := h * w
	for ch := 0; ch < c; ch++ {
		inv := 1 / math.Sqrt(variance[ch]+eps)
		unbiased := variance[ch] * float64(count) / float64(count-1)
		r.Mean.Data[ch], r.InvStd.Data[ch] = mean[ch], inv
		r.BiasedVar.Data[ch], r.UnbiasedVar.Data[ch] = variance[ch], unbiased
		r.RunMean.Data[ch] = (1-momentum)*runMean.Data[ch] + momentum*mean[ch]
		r.RunVar.Data[ch] = (1-momentum)*runVar.Data[ch] + momentum*unbiased
		for in := 0; in < n; in++ {
			for i := (in*c + ch) * hw; i < (in*c+ch+1)*hw; i++ {
				r.Y.Data[i] = (x.Data[i]-mean[ch])*inv*gamma.Data[ch] + beta.Data[ch]
			}
		}
	}
	return r
}

// RefBatchNorm2DEval normalises x[N,C,H,W] with the running statistics.
func RefBatchNorm2DEval(x, gamma, beta, runMean, runVar Array, eps float64) Array {
	n, c, h, w := dims4("x", x.Shape)
	y := NewArray(x.Shape)
	hw := h * w
	for in := 0; in < n; in++ {
		for ch := 0; ch < c; ch++ {
			inv := 1 / math.Sqrt(runVar.Data[ch]+eps)
			for i := (in*c + ch) * hw; i < (in*c+ch+1)*hw; i++ {
				y.Data[i] = (x.Data[i]-runMean.Data[ch])*inv*gamma.Data[ch] + beta.Data[ch]
			}
		}
	}
	return y
}

// RefBatchNorm2DBackward is dx, dgamma and dbeta of a training-mode batch
// norm (the batch statistics depend on x) from dy, x and the forward's
// mean and invstd.
func RefBatchNorm2DBackward(dy, x, mean, invstd, gamma Array) (dx, dgamma, dbeta Array) {
	n, c, h, w := dims4("x", x.Shape)
	mustShape("dy", dy.Shape, x.Shape)
	hw := h * w
	count := float64(n * hw)
	dx, dgamma, dbeta = NewArray(x.Shape), NewArray(net.Shape{c}), NewArray(net.Shape{c})
	for ch := 0; ch < c; ch++ {
		var sdy, sdyxhat float64
		for in := 0; in < n; in++ {
			for i := (in*c + ch) * hw; i < (in*c+ch+1)*hw; i++ {
				xhat := (x.Data[i] - mean.Data[ch]) * invstd.Data[ch]
				sdy += dy.Data[i]
				sdyxhat += dy.Data[i] * xhat
			}
		}
		dbeta.Data[ch], dgamma.Data[ch] = sdy, sdyxhat
		k := gamma.Data[ch] * invstd.Data[ch]
		for in := 0; in < n; in++ {
			for i := (in*c + ch) * hw; i < (in*c+ch+1)*hw; i++ {
				xhat := (x.Data[i] - mean.Data[ch]) * invstd.Data[ch]
				dx.Data[i] = k * (dy.Data[i] - sdy/count - xhat*sdyxhat/count)
			}
		}
	}
	return dx, dgamma, dbeta
}

// RefReLU is y = max(x, 0).
func RefReLU(x Array) Array {
	y := NewArray(x.Shape)
	for i, v := range x.Data {
		y.Data[i] = math.Max(v, 0)
	}
	return y
}

// RefReLUBackward is dx = dy where y > 0, else 0.
func RefReLUBackward(dy, y Array) Array {
	dx := NewArray(dy.Shape)
	for i, v := range dy.Data {
		if y.Data[i] > 0 {
			dx.Data[i] = v
		}
	}
	return dx
}

// RefAdd is y = a + b elementwise.
func RefAdd(a, b Array) Array {
	y := NewArray(a.Shape)
	for i := range a.Data {
		y.Data[i] = a.Data[i] + b.Data[i]
	}
	return y
}

// Xent is the result of RefSoftmaxCrossEntropy.
type Xent struct {
	DLogits Array   // [N,K] gradient of the mean loss
	Loss    float64 // mean loss
	Correct int     // rows whose first maximum is the label
}

// RefSoftmaxCrossEntropy is the mean cross-entropy of softmax(logits[N,K])
// against labels[N], its gradient and the number of correct predictions.
func RefSoftmaxCrossEntropy(logits Array, labels []int32) Xent {
	n, k := dims2("logits", logits.Shape)
	if len(labels) != n {
		panic(fmt.Sprintf("backendtest: RefSoftmaxCrossEntropy: %d labels for %d rows", len(labels), n))
	}
	r := Xent{DLogits: NewArray(logits.Shape)}
	for i := 0; i < n; i++ {
		row := logits.Data[i*k : (i+1)*k]
		best := 0
		for j, v := range row {
			if v > row[best] {
				best = j
			}
		}
		if best == int(labels[i]) {
			r.Correct++
		}
		var s float64
		for _, v := range row {
			s += math.Exp(v - row[best])
		}
		r.Loss += math.Log(s) - (row[labels[i]] - row[best])
		for j, v := range row {
			p := math.Exp(v-row[best]) / s
			if j == int(labels[i]) {
				p--
			}
			r.DLogits.Data[i*k+j] = p / float64(n)
		}
	}
	r.Loss /= float64(n)
	return r
}

// RefAdam is one PyTorch Adam step: it returns the new param, m and v.
//
//	m = β1·m + (1−β1)·g;  v = β2·v + (1−β2)·g²
//	p −= lr · (m/(1−β1ᵗ)) / (√(v/(1−β2ᵗ)) + eps)
func RefAdam(param, grad, m, v Array, p net.AdamParams) (newParam, newM, newV Array) {
	lr, b1, b2, eps := float64(p.LR), float64(p.Beta1), float64(p.Beta2), float64(p.Eps)
	t := float64(p.Step)
	newParam, newM, newV = param.Clone(), m.Clone(), v.Clone()
	for i, g := range grad.Data {
		mi := b1*m.Data[i] + (1-b1)*g
		vi := b2*v.Data[i] + (1-b2)*g*g
		mhat := mi / (1 - math.Pow(b1, t))
		vhat := vi / (1 - math.Pow(b2, t))
		newParam.Data[i] -= lr * mhat / (math.Sqrt(vhat) + eps)
		newM.Data[i], newV.Data[i] = mi, vi
	}
	return newParam, newM, newV
}

// RefGather assembles a batch from CIFAR-style records (a label byte then
// C×H×W pixel bytes each): x[i] is record index[i]'s image, cropped from the
// image zero-padded by pad (pixel byte 0) at crop[i] and flipped when asked
// (no crop when crop is nil), then normalised as (b/255 − mean[c])/std[c].
func RefGather(data []byte, img net.Shape, index []int32, crop []net.Crop, pad int, norm net.Normalize) (x Array, labels []int32) {
	if len(img) != 3 {
		panic(fmt.Sprintf("backendtest: RefGather: image shape %v, want [C,H,W]", img))
	}
	c, h, w := img[0], img[1], img[2]
	rec := 1 + img.Len()
	x = NewArray(net.Shape{len(index), c, h, w})
	labels = make([]int32, len(index))
	for i, r := range index {
		base := int(r) * rec
		labels[i] = int32(data[base])
		for ch := 0; ch < c; ch++ {
			for y := 0; y < h; y++ {
				for xx := 0; xx < w; xx++ {
					sy, sx := y, xx
					if crop != nil {
						if crop[i].Flip {
							sx = w - 1 - xx
						}
						sy += int(crop[i].DY) - pad
						sx += int(crop[i].DX) - pad
					}
					var b byte
					if sy >= 0 && sy < h && sx >= 0 && sx < w {
						b = data[base+1+(ch*h+sy)*w+sx]
					}
					x.Data[((i*c+ch)*h+y)*w+xx] = (float64(b)/255 - float64(norm.Mean[ch])) / float64(norm.Std[ch])
				}
			}
		}
	}
	return x, labels
}

// RefGlobalAvgPool2D is adaptive_avg_pool2d(x, 1): y[n,c,0,0] is the mean
// of plane (n, c) of x.
func RefGlobalAvgPool2D(x Array) Array {
	n, c, h, w := dims4("x", x.Shape)
	y := NewArray(net.Shape{n, c, 1, 1})
	hw := h * w
	for p := range y.Data {
		var s float64
		for _, v := range x.Data[p*hw : (p+1)*hw] {
			s += v
		}
		y.Data[p] = s / float64(hw)
	}
	return y
}

// RefGlobalAvgPool2DBackward is dx[n,c,i,j] = dy[n,c,0,0] / (H·W).
func RefGlobalAvgPool2DBackward(dy Array, xs net.Shape) Array {
	n, c, h, w := dims4("dx", xs)
	mustShape("dy", dy.Shape, net.Shape{n, c, 1, 1})
	dx := NewArray(xs)
	hw := h * w
	for i := range dx.Data {
		dx.Data[i] = dy.Data[i/hw] / float64(hw)
	}
	return dx
}

// RefSumSquares is Σ x².
func RefSumSquares(x Array) float64 {
	var s float64
	for _, v := range x.Data {
		s += v * v
	}
	return s
}
