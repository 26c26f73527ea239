package cpu

import (
	"cifarlab/cpu/sgemm"
	"cifarlab/cpu/vec"
	"cifarlab/net"
	"runtime"
)

// Convolutions are lowered to matrix products. A chunk of nb images is
// unrolled (im2col) into col[Ci·K·K, nb·Ho·Wo], whose column j·Ho·Wo+p holds
// the receptive field of output pixel p of image j; then
//
//	forward:         out[Co, cols]     = w[Co, Ci·K·K] · col
//	backward data:   dcol[Ci·K·K, cols] = wᵀ · dy'[Co, cols], then col2im
//	backward params: dw[Co, Ci·K·K]   += dy' · colᵀ
//
// where out and dy' are y and dy with the images of the chunk side by side.
// A chunk of one image reads and writes y and dy in place (a plane of
// [Co, Ho·Wo] is already that layout), and a 1×1 stride-1 unpadded
// convolution of one image uses x itself as col.
//
// Wide lowering: a stride-1 unpadded convolution with few output channels
// (LeNet's) computes every output row at the full input width W, so that
// each row of col is one contiguous slice of an input plane (one copy
// instead of Ho) and col2im one vector add. The W−Wo extra columns of each
// row are dropped from out, and are zero in dy' so that they add nothing.
//
// Dead taps: when a kernel row or column lands in the zero padding for
// every output position (the 3×3 convolutions of a 1×1 or 2×2 input),
// its rows of col are zero; they are left out of col, and the weights are
// compacted to the live taps for the product (dw is zero there).
//
// Chunks are spread over the workers, each with its own scratch buffers.
//
// Where the CPU's matrix product reads rows in place, a centred stride-1
// convolution (every 3×3 with padding 1) on planes of 8×8 or more makes no
// col at all: see the shifted lowering (shift.go).

// convDims are the sizes of one convolution.
type convDims struct {
	n, ci, h, w int // input [N, Ci, H, W]
	co, k       int // weight [Co, Ci, K, K]
	ho, wo      int // output [N, Co, Ho, Wo]
	stride, pad int
	hw, howo    int // H·W, Ho·Wo
	pointwise   bool

	// Live taps: kernel rows [ky0, ky1) and columns [kx0, kx1) touch the
	// input for some output; kdim = Ci·(ky1−ky0)·(kx1−kx0) rows of col.
	ky0, ky1, kx0, kx1 int
	kdim               int
	allLive            bool
	imgIn, imgOut      int // floats per image of x and y

	wide  bool // wide lowering (see above)
	rowW  int  // columns of an output row in col: W when wide, else Wo
	pcols int  // columns of col per image: Ho·rowW
}

// wideMaxCo is the most output channels for which wide lowering pays: the
// product grows by W/Wo, the lowering shrinks by about Wo times.
const wideMaxCo = 32

// convShapes validates a convolution of input shape xs with weight shape ws
// (net.ConvShapes) and plans it.
func convShapes(op string, xs, ws net.Shape, g net.ConvGeom) convDims {
	c, err := net.ConvShapes(op, xs, ws, g)
	if err != nil {
		panicf("%v", err)
	}
	n, ci, h, w, co, kh, ho, wo := c.N, c.Ci, c.H, c.W, c.Co, c.K, c.Ho, c.Wo
	d := convDims{
		n: n, ci: ci, h: h, w: w, co: co, k: kh, ho: ho, wo: wo, stride: g.Stride, pad: g.Pad,
		hw: h * w, howo: ho * wo,
	}
	d.ky0, d.ky1 = liveTaps(ho, h, g.Stride, g.Pad, kh)
	d.kx0, d.kx1 = liveTaps(wo, w, g.Stride, g.Pad, kh)
	d.kdim = ci * (d.ky1 - d.ky0) * (d.kx1 - d.kx0)
	d.allLive = d.kdim == ci*kh*kh
	d.pointwise = kh == 1 && g.Stride == 1 && g.Pad == 0
	d.imgIn, d.imgOut = ci*d.hw, co*d.howo
	d.wide = kh > 1 && g.Stride == 1 && g.Pad == 0 && co <= wideMaxCo
	d.rowW = wo
	if d.wide {
		d.rowW = w
	}
	d.pcols = ho * d.rowW
	return d
}

// liveTaps is the range of kernel offsets t < k for which some output
// position o < out reads input o·stride − pad + t inside [0, in).
func liveTaps(out, in, stride, pad, k int) (t0, t1 int) {
	t0 = max(0, pad-(out-1)*stride)
	t1 = min(k, in+pad)
	return t0, max(t0, t1)
}

// liveWeights returns w[Co, Ci, K, K] restricted to the live taps, as a
// [Co, kdim] matrix: w itself when every tap is live.
func (b *Backend) liveWeights(d convDims, w []float32) []float32 {
	if d.allLive {
		return w
	}
	out := grow(&b.wlive, d.co*d.kdim)
	i := 0
	for o := 0; o < d.co; o++ {
		for c := 0; c < d.ci; c++ {
			for ky := d.ky0; ky < d.ky1; ky++ {
				src := w[((o*d.ci+c)*d.k+ky)*d.k:][d.kx0:d.kx1]
				i += copy(out[i:], src)
			}
		}
	}
	return out
}

// chunk is the number of images lowered together: about colTarget
// columns, col within colMax floats, and enough chunks for every worker.
func (b *Backend) chunk(d convDims) int { return b.chunkOf(d, b.colTarget) }

// chunkOf is chunk for about target columns.
func (b *Backend) chunkOf(d convDims, target int) int {
	nb := target / d.pcols
	nb = min(nb, b.colMax/max(1, d.kdim*d.pcols)) // kdim is 0 when padding exceeds the input
	nb = min(nb, (d.n+b.threads-1)/b.threads)
	return max(nb, 1)
}

// forChunks runs f(s, i0, i1) for every chunk of nb images [i0, i1),
// spreading chunks over the workers.
func (b *Backend) forChunks(n, nb int, f func(s *scratch, w, i0, i1 int)) {
	chunks := (n + nb - 1) / nb
	b.parallel(chunks, 1, func(w, lo, hi int) {
		for c := lo; c < hi; c++ {
			f(&b.work[w], w, c*nb, min(n, (c+1)*nb))
		}
	})
}

// Conv2D is y = x ⋆ w + b.
func (b *Backend) Conv2D(y, x, w, bias net.Tensor, g net.ConvGeom) {
	const op = "Conv2D"
	Y, X, W := tensor(op, "y", y), tensor(op, "x", x), tensor(op, "w", w)
	d := convShapes(op, X.shape, W.shape, g)
	var bv []float32 // nil without bias
	if bias != nil {
		B := tensor(op, "b", bias)
		mustShape(op, "b", B.shape, d.co)
		bv = B.data
	}
	mustShape(op, "y", Y.shape, d.n, d.co, d.ho, d.wo)
	if d.shiftable() {
		b.forChunks(d.n, b.shiftChunk(d, b.colTarget), func(s *scratch, _, i0, i1 int) {
			shiftConv(s, Y.data, X.data, W.data, bv, d.ci, d.co, d.h, d.w, d.k, d.pad, false, i0, i1)
		})
		return
	}
	wl := b.liveWeights(d, W.data)
	b.forChunks(d.n, b.chunk(d), func(s *scratch, _, i0, i1 int) {
		convForward(s, d, Y.data, X.data, wl, bv, i0, i1)
	})
}

// biasOf is bias[o], or 0 for a convolution without bias (bias nil).
func biasOf(bias []float32, o int) float32 {
	if bias == nil {
		return 0
	}
	return bias[o]
}

func convForward(s *scratch, d convDims, y, x, w, bias []float32, i0, i1 int) {
	if d.kdim == 0 { // the kernel only ever sees padding: y = b
		for i := i0; i < i1; i++ {
			for o := 0; o < d.co; o++ {
				out := y[i*d.imgOut+o*d.howo:][:d.howo]
				for p := range out {
					out[p] = biasOf(bias, o)
				}
			}
		}
		return
	}
	nb := i1 - i0
	cols := nb * d.pcols
	var col []float32
	if d.pointwise && nb == 1 {
		col = x[i0*d.imgIn : i1*d.imgIn]
	} else {
		col = grow(&s.col, d.kdim*cols)
		im2col(col, x, d, i0, i1)
	}
	if nb == 1 && !d.wide {
		out := y[i0*d.imgOut : i1*d.imgOut]
		sgemm.Gemm(false, false, d.co, cols, d.kdim, 1, w, d.kdim, col, cols, 0, out, cols)
		for o := 0; o < d.co && bias != nil; o++ {
			addScalar(out[o*cols:(o+1)*cols], bias[o])
		}
		return
	}
	out := grow(&s.out, d.co*cols)
	sgemm.Gemm(false, false, d.co, cols, d.kdim, 1, w, d.kdim, col, cols, 0, out, cols)
	for j := 0; j < nb; j++ {
		for o := 0; o < d.co; o++ {
			dst := y[(i0+j)*d.imgOut+o*d.howo:][:d.howo]
			src := out[o*cols+j*d.pcols:][:d.pcols]
			switch {
			case d.wide: // rows of rowW, of which the first wo are y's
				for oy := 0; oy < d.ho; oy++ {
					vec.Affine(dst[oy*d.wo:][:d.wo], src[oy*d.rowW:][:d.wo], 1, biasOf(bias, o)) // v·1 + b is v + b
				}
			case bias == nil:
				copy(dst, src)
			default: // the plane in one run
				vec.Affine(dst, src, 1, bias[o])
			}
		}
	}
}

func addScalar(v []float32, a float32) { vec.Affine(v, v, 1, a) }

// dyCols returns dy for images [i0, i1) as a [Co, cols] matrix: dy itself
// for one image, else gathered into s.out (with zero extra columns when
// wide).
func dyCols(s *scratch, d convDims, dy []float32, i0, i1 int) []float32 {
	nb := i1 - i0
	if nb == 1 && !d.wide {
		return dy[i0*d.imgOut : i1*d.imgOut]
	}
	cols := nb * d.pcols
	out := grow(&s.out, d.co*cols)
	for j := 0; j < nb; j++ {
		for o := 0; o < d.co; o++ {
			dst := out[o*cols+j*d.pcols:][:d.pcols]
			src := dy[(i0+j)*d.imgOut+o*d.howo:][:d.howo]
			if !d.wide {
				copy(dst, src)
				continue
			}
			for oy := 0; oy < d.ho; oy++ {
				dr := dst[oy*d.rowW:][:d.rowW]
				copy(dr, src[oy*d.wo:][:d.wo])
				clear(dr[d.wo:])
			}
		}
	}
	return out
}

// Conv2DBackwardData is dx = ∂L/∂x from dy.
func (b *Backend) Conv2DBackwardData(dx, dy, w net.Tensor, g net.ConvGeom) {
	const op = "Conv2DBackwardData"
	DX, DY, W := tensor(op, "dx", dx), tensor(op, "dy", dy), tensor(op, "w", w)
	d := convShapes(op, DX.shape, W.shape, g)
	mustShape(op, "dy", DY.shape, d.n, d.co, d.ho, d.wo)
	if d.shiftable() {
		wf := b.flipWeights(d, W.data)
		b.forChunks(d.n, b.shiftChunk(d, b.colTarget), func(s *scratch, _, i0, i1 int) {
			shiftConv(s, DX.data, DY.data, wf, nil, d.co, d.ci, d.h, d.w, d.k, d.pad, true, i0, i1)
		})
		return
	}
	wl := b.liveWeights(d, W.data)
	b.forChunks(d.n, b.chunk(d), func(s *scratch, _, i0, i1 int) {
		cols := (i1 - i0) * d.pcols
		dyc := dyCols(s, d, DY.data, i0, i1)
		dxc := DX.data[i0*d.imgIn : i1*d.imgIn]
		if d.kdim == 0 { // the kernel only ever sees padding
			clear(dxc)
			return
		}
		if d.pointwise && i1-i0 == 1 {
			sgemm.Gemm(true, false, d.ci, cols, d.co, 1, wl, d.kdim, dyc, cols, 0, dxc, cols)
			return
		}
		dcol := grow(&s.col, d.kdim*cols)
		sgemm.Gemm(true, false, d.kdim, cols, d.co, 1, wl, d.kdim, dyc, cols, 0, dcol, cols)
		clear(dxc)
		col2im(dxc, dcol, d, i1-i0)
	})
}

// Conv2DBackwardParams is dw = ∂L/∂w and db = ∂L/∂b from dy and the forward
// input x. Each worker accumulates its chunks' dw in its own buffer; the
// buffers are summed at the end.
func (b *Backend) Conv2DBackwardParams(dw, db, dy, x net.Tensor, g net.ConvGeom) {
	const op = "Conv2DBackwardParams"
	DW, DY, X := tensor(op, "dw", dw), tensor(op, "dy", dy), tensor(op, "x", x)
	d := convShapes(op, X.shape, DW.shape, g)
	var DB *Tensor // nil without bias
	if db != nil {
		DB = tensor(op, "db", db)
		mustShape(op, "db", DB.shape, d.co)
	}
	mustShape(op, "dy", DY.shape, d.n, d.co, d.ho, d.wo)
	nw := d.co * d.kdim // live part of dw
	used := make([]bool, b.threads)
	// The product dw += dy'·colᵀ has the columns as its inner dimension:
	// with enough of them, one of few channels takes sgemm's dot path (no
	// packing; [16,16,3,3] of resnet20 in Chromium 175 → 104 ms a step).
	// Natively the longer chunks were no faster ([32,16,3,3] slower), and
	// the chunks stay as they are.
	nb := b.chunk(d)
	if k := sgemm.DotDepth(d.co, d.kdim); runtime.GOARCH == "wasm" && k > nb*d.pcols {
		nb = b.chunkOf(d, k+d.pcols-1)
	}
	// Shifted, dw is a product with a long inner dimension whose operands
	// are read where they lie: with Co a multiple of 16 on a CPU with
	// sgemm's panel kernels (AVX-512 or AVX2), dwᵀ = col·dy'ᵀ with dy' transposed
	// (resnet20 at batch 256, ms a call, alternating: [16,16,3,3] 11.6–17.4
	// → 9.8, [32,32,3,3] 17.5–19.5 → 10.5, [64,64,3,3] 12.4–14.0 → 10.1);
	// else, for up to shiftParamsMaxCo channels, sgemm's dot path, in
	// pieces of the columns of dw it takes ([16,16,3,3] 21–23 → 12 against
	// im2col, [32,32,3,3] 12–16 → 11–13, but [64,64,3,3] 9–10 → 13–15:
	// there, and without either, im2col).
	shifted := d.shiftable() && (sgemm.PanelCols(d.co) || d.co <= shiftParamsMaxCo && sgemm.DotMaxCols(d.co) > 0)
	if shifted {
		nb = b.shiftChunk(d, shiftParamsCols*b.colTarget)
	}
	b.forChunks(d.n, nb, func(s *scratch, w, i0, i1 int) {
		if d.kdim == 0 { // the kernel only ever sees padding: dw = 0
			return
		}
		var beta float32
		if used[w] {
			beta = 1
		}
		if shifted {
			shiftParams(s, grow(&s.acc, nw), beta, DY.data, X.data, d, i0, i1)
			used[w] = true
			return
		}
		cols := (i1 - i0) * d.pcols
		var col []float32
		if d.pointwise && i1-i0 == 1 {
			col = X.data[i0*d.imgIn : i1*d.imgIn]
		} else {
			col = grow(&s.col, d.kdim*cols)
			im2col(col, X.data, d, i0, i1)
		}
		dyc := dyCols(s, d, DY.data, i0, i1)
		sgemm.Gemm(false, true, d.co, d.kdim, cols, 1, dyc, cols, col, cols, beta, grow(&s.acc, nw), d.kdim)
		used[w] = true
	})
	// Sum the workers' partial dw.
	var parts [][]float32
	for w, u := range used {
		if u {
			parts = append(parts, b.work[w].acc[:nw])
		}
	}
	if len(parts) == 0 { // no images, or no live tap
		parts = append(parts, make([]float32, nw))
	}
	sum := DW.data
	if !d.allLive {
		sum = grow(&b.wlive, nw)
	}
	b.parallel(nw, 1<<14, func(_, lo, hi int) {
		copy(sum[lo:hi], parts[0][lo:hi])
		for _, p := range parts[1:] {
			vec.Add(sum[lo:hi], p[lo:hi])
		}
	})
	if !d.allLive {
		clear(DW.data)
		i := 0
		for o := 0; o < d.co; o++ {
			for c := 0; c < d.ci; c++ {
				for ky := d.ky0; ky < d.ky1; ky++ {
					i += copy(DW.data[((o*d.ci+c)*d.k+ky)*d.k:][d.kx0:d.kx1], sum[i:])
				}
			}
		}
	}
	if DB == nil {
		return
	}
	// db[o] = Σ over images and pixels of dy.
	b.parallel(d.co, max(1, (1<<14)/(d.n*d.howo)), func(_, lo, hi int) {
		for o := lo; o < hi; o++ {
			var s float64
			for i := 0; i < d.n; i++ {
				s += sum64(DY.data[i*d.imgOut+o*d.howo:][:d.howo])
			}
			DB.data[o] = float32(s)
		}
	})
}

// sum64 is Σ v in float64.
func sum64(v []float32) float64 {
	var s0, s1, s2, s3 float64
	i := 0
	for ; i+4 <= len(v); i += 4 {
		s0 += float64(v[i])
		s1 += float64(v[i+1])
		s2 += float64(v[i+2])
		s3 += float64(v[i+3])
	}
	for ; i < len(v); i++ {
		s0 += float64(v[i])
	}
	return (s0 + s1) + (s2 + s3)
}

// validRange is the range [lo, hi) of output positions o < out whose input
// position o·stride − pad + t lies in [0, in).
func validRange(out, in, stride, pad, t int) (lo, hi int) {
	if pad > t {
		lo = (pad - t + stride - 1) / stride
	}
	if last := in - 1 + pad - t; last >= 0 {
		hi = min(out, last/stride+1)
	}
	lo = min(lo, out)
	return lo, max(hi, lo)
}

// im2col unrolls images [i0, i1) of x into col[Ci·K·K, (i1−i0)·pcols].
func im2col(col, x []float32, d convDims, i0, i1 int) {
	if d.wide {
		im2colWide(col, x, d, i0, i1)
		return
	}
	if d.same() {
		im2colSame(col, x, d, i0, i1)
		return
	}
	cols := (i1 - i0) * d.howo
	r := 0 // row of col: (c, ky, kx) over the live taps
	for c := 0; c < d.ci; c++ {
		for ky := d.ky0; ky < d.ky1; ky++ {
			yLo, yHi := validRange(d.ho, d.h, d.stride, d.pad, ky)
			for kx := d.kx0; kx < d.kx1; kx++ {
				xLo, xHi := validRange(d.wo, d.w, d.stride, d.pad, kx)
				row := col[r*cols:][:cols]
				r++
				for j := 0; j < i1-i0; j++ {
					plane := x[(i0+j)*d.imgIn+c*d.hw:][:d.hw]
					dst := row[j*d.howo:][:d.howo]
					clear(dst[:yLo*d.wo])
					clear(dst[yHi*d.wo:])
					for oy := yLo; oy < yHi; oy++ {
						out := dst[oy*d.wo:][:d.wo]
						src := plane[(oy*d.stride-d.pad+ky)*d.w:][:d.w]
						clear(out[:xLo])
						clear(out[xHi:])
						off := kx - d.pad
						if d.stride == 1 {
							copy(out[xLo:xHi], src[xLo+off:xHi+off])
							continue
						}
						for ox := xLo; ox < xHi; ox++ {
							out[ox] = src[ox*d.stride+off]
						}
					}
				}
			}
		}
	}
}

// col2im adds col[Ci·K·K, nb·pcols] into the receptive fields of nb
// images dx (zeroed by the caller). It may zero the values of col that
// fall in the padding.
func col2im(dx, col []float32, d convDims, nb int) {
	if d.wide {
		col2imWide(dx, col, d, nb)
		return
	}
	if d.same() {
		col2imSame(dx, col, d, nb)
		return
	}
	cols := nb * d.howo
	r := 0
	for c := 0; c < d.ci; c++ {
		for ky := d.ky0; ky < d.ky1; ky++ {
			yLo, yHi := validRange(d.ho, d.h, d.stride, d.pad, ky)
			for kx := d.kx0; kx < d.kx1; kx++ {
				xLo, xHi := validRange(d.wo, d.w, d.stride, d.pad, kx)
				row := col[r*cols:][:cols]
				r++
				off := kx - d.pad
				for j := 0; j < nb; j++ {
					plane := dx[j*d.imgIn+c*d.hw:][:d.hw]
					src := row[j*d.howo:][:d.howo]
					for oy := yLo; oy < yHi; oy++ {
						in := src[oy*d.wo:][:d.wo]
						dst := plane[(oy*d.stride-d.pad+ky)*d.w:][:d.w]
						if d.stride == 1 {
							vec.Add(dst[xLo+off:xHi+off], in[xLo:xHi])
							continue
						}
						for ox := xLo; ox < xHi; ox++ {
							dst[ox*d.stride+off] += in[ox]
						}
					}
				}
			}
		}
	}
}

// same reports a stride-1 convolution whose output is as wide as its
// input (a 3×3 with padding 1): then output pixel p of a row of col reads
// input pixel p + shift of its plane, one shift for the whole row, so
// that a row is one copy and the padding's few columns are set to zero
// after it (im2colSame), instead of a copy per output row.
func (d convDims) same() bool { return d.stride == 1 && d.wo == d.w }

// zeroPadding zeroes, in rows [yLo, yHi) of the image m (rows of wo), the
// columns outside [xLo, xHi): the one or two that read the padding.
func zeroPadding(m []float32, wo, yLo, yHi, xLo, xHi int) {
	for oy := yLo; oy < yHi; oy++ {
		r := m[oy*wo:][:wo]
		for ox := 0; ox < xLo; ox++ {
			r[ox] = 0
		}
		for ox := xHi; ox < wo; ox++ {
			r[ox] = 0
		}
	}
}

// im2colSame is im2col for same-width convolutions (see same).
func im2colSame(col, x []float32, d convDims, i0, i1 int) {
	cols := (i1 - i0) * d.howo
	r := 0
	for c := 0; c < d.ci; c++ {
		for ky := d.ky0; ky < d.ky1; ky++ {
			yLo, yHi := validRange(d.ho, d.h, 1, d.pad, ky)
			for kx := d.kx0; kx < d.kx1; kx++ {
				xLo, xHi := validRange(d.wo, d.w, 1, d.pad, kx)
				row := col[r*cols:][:cols]
				r++
				shift := (ky-d.pad)*d.w + kx - d.pad
				a, b := yLo*d.wo+xLo, (yHi-1)*d.wo+xHi
				for j := 0; j < i1-i0; j++ {
					plane := x[(i0+j)*d.imgIn+c*d.hw:][:d.hw]
					dst := row[j*d.howo:][:d.howo]
					if yLo >= yHi || xLo >= xHi {
						clear(dst)
						continue
					}
					clear(dst[:yLo*d.wo])
					clear(dst[yHi*d.wo:])
					copy(dst[a:b], plane[a+shift:b+shift])
					zeroPadding(dst, d.wo, yLo, yHi, xLo, xHi)
				}
			}
		}
	}
}

// col2imSame is col2im for same-width convolutions (see same): the
// padding's columns of each row of col are zeroed, then the row is added
// in one run.
func col2imSame(dx, col []float32, d convDims, nb int) {
	cols := nb * d.howo
	r := 0
	for c := 0; c < d.ci; c++ {
		for ky := d.ky0; ky < d.ky1; ky++ {
			yLo, yHi := validRange(d.ho, d.h, 1, d.pad, ky)
			for kx := d.kx0; kx < d.kx1; kx++ {
				xLo, xHi := validRange(d.wo, d.w, 1, d.pad, kx)
				row := col[r*cols:][:cols]
				r++
				if yLo >= yHi || xLo >= xHi {
					continue
				}
				shift := (ky-d.pad)*d.w + kx - d.pad
				a, b := yLo*d.wo+xLo, (yHi-1)*d.wo+xHi
				for j := 0; j < nb; j++ {
					plane := dx[j*d.imgIn+c*d.hw:][:d.hw]
					src := row[j*d.howo:][:d.howo]
					zeroPadding(src, d.wo, yLo, yHi, xLo, xHi)
					vec.Add(plane[a+shift:b+shift], src[a:b])
				}
			}
		}
	}
}

// im2colWide is im2col for wide lowering: row (c, ky, kx) of image j is
// plane c from offset ky·W+kx on, cut at the end of the plane (the columns
// past it are extra ones).
func im2colWide(col, x []float32, d convDims, i0, i1 int) {
	cols := (i1 - i0) * d.pcols
	for c := 0; c < d.ci; c++ {
		for ky := 0; ky < d.k; ky++ {
			for kx := 0; kx < d.k; kx++ {
				row := col[((c*d.k+ky)*d.k+kx)*cols:][:cols]
				off := ky*d.w + kx
				for j := 0; j < i1-i0; j++ {
					plane := x[(i0+j)*d.imgIn+c*d.hw:][:d.hw]
					dst := row[j*d.pcols:][:d.pcols]
					n := copy(dst, plane[off:])
					clear(dst[n:])
				}
			}
		}
	}
}

// col2imWide is col2im for wide lowering (the extra columns of col are
// zero).
func col2imWide(dx, col []float32, d convDims, nb int) {
	cols := nb * d.pcols
	for c := 0; c < d.ci; c++ {
		for ky := 0; ky < d.k; ky++ {
			for kx := 0; kx < d.k; kx++ {
				row := col[((c*d.k+ky)*d.k+kx)*cols:][:cols]
				off := ky*d.w + kx
				for j := 0; j < nb; j++ {
					dst := dx[j*d.imgIn+c*d.hw:][off:d.hw]
					src := row[j*d.pcols:][:min(d.pcols, len(dst))]
					vec.Add(dst[:len(src)], src)
				}
			}
		}
	}
}
