package gpu

import "cifarlab/net"

// convParams mirrors Params in shaders/conv.wgsl.
type convParams struct {
	N      uint32 `wgsl:"n"`
	Ci     uint32 `wgsl:"ci"`
	H      uint32 `wgsl:"h"`
	W      uint32 `wgsl:"w"`
	Co     uint32 `wgsl:"co"`
	K      uint32 `wgsl:"k"`
	Ho     uint32 `wgsl:"ho"`
	Wo     uint32 `wgsl:"wo"`
	Stride uint32 `wgsl:"stride"`
	Pad    uint32 `wgsl:"pad"`
	KY0    uint32 `wgsl:"ky0"`
	KX0    uint32 `wgsl:"kx0"`
	NKY    uint32 `wgsl:"nky"`
	NKX    uint32 `wgsl:"nkx"`
	GN     uint32 `wgsl:"gn"`
	GK     uint32 `wgsl:"gk"`
	TilesM uint32 `wgsl:"tiles_m"`
	TilesN uint32 `wgsl:"tiles_n"`
	Splits uint32 `wgsl:"splits"`
	Chunk  uint32 `wgsl:"chunk"`
	OutLen uint32 `wgsl:"out_len"`
	Bias   uint32 `wgsl:"bias"`
	Direct uint32 `wgsl:"direct"`
	Lanes  uint32 `wgsl:"lanes"`
}

// The kernels of conv.wgsl, each product in a wide (64-row tiles, 256
// invocations) and a thin (16-row tiles, 64 invocations) size, the thin
// ones with their unstaged variants (unstaged, each invocation of a wide
// tile would gather 16 times what it stages). Bindings:
// 1 x, 2 w, 3 bias, 4 dy (read); 5 out, 6 out2 (written); 7 partial
// products (read). A convolution without bias binds the unused placeholder
// at 3 and 6, which Params.bias = 0 keeps every entry point from touching.
var (
	kConvForward            = newKernel[convParams]("conv.wgsl", "forward", 256, slot{1, read}, slot{2, read}, slot{3, read}, slot{5, readWrite})
	kConvForwardThin        = newStagedKernel[convParams]("conv.wgsl", "forward_thin", 64, slot{1, read}, slot{2, read}, slot{3, read}, slot{5, readWrite})
	kConvBackwardData       = newKernel[convParams]("conv.wgsl", "backward_data", 256, slot{4, read}, slot{2, read}, slot{5, readWrite})
	kConvBackwardDataThin   = newStagedKernel[convParams]("conv.wgsl", "backward_data_thin", 64, slot{4, read}, slot{2, read}, slot{5, readWrite})
	kConvBackwardParams     = newKernel[convParams]("conv.wgsl", "backward_params", 256, slot{4, read}, slot{1, read}, slot{5, readWrite}, slot{6, readWrite})
	kConvBackwardParamsThin = newStagedKernel[convParams]("conv.wgsl", "backward_params_thin", 64, slot{4, read}, slot{1, read}, slot{5, readWrite}, slot{6, readWrite})
	kConvReduce             = newKernel[convParams]("conv.wgsl", "reduce", 256, slot{7, read}, slot{3, read}, slot{5, readWrite})
	kConvReduceParams       = newKernel[convParams]("conv.wgsl", "reduce_params", 256, slot{7, read}, slot{5, readWrite}, slot{6, readWrite})
)

// Tiling of the products (see conv.wgsl).
const (
	convStep     = 16 // reduction step
	convTileCols = 64 // columns of a tile
	convWideRows = 64 // rows of a wide tile (256 invocations)
	convThinRows = 16 // rows of a thin tile (64 invocations), for M ≤ 16
	convMaxLanes = 64 // invocations of reduce per output
	convLaneRun  = 16 // splits one lane of reduce adds, at most
	convMaxSplit = convMaxLanes * convLaneRun
)

// Plans, variables for the tests: products of at most convThinMax rows
// use thin tiles. A product splits its reduction when its tiles alone would
// not occupy convFill invocations (a large GPU: 132 multiprocessors of
// 1,024 resident invocations), into splits of at least convMinChunk, with
// at most convMaxPartial bytes of partial results.
var (
	convThinMax    = convThinRows
	convFill       = 1 << 17
	convMinChunk   = 256
	convMaxPartial = 64 << 20
	// convCapTraffic keeps the partial sums' traffic within the product's
	// (see planProduct); tests that force splits turn it off.
	convCapTraffic = true
)

// convDims are the sizes of one convolution.
type convDims struct {
	n, ci, h, w int // input [N, Ci, H, W]
	co, k       int // weight [Co, Ci, K, K]
	ho, wo      int // output [N, Co, Ho, Wo]
	stride, pad int
	// Live taps: kernel rows [ky0, ky0+nky) and columns [kx0, kx0+nkx)
	// touch the input for some output.
	ky0, nky, kx0, nkx int
}

// flops is 2·N·Co·Ho·Wo·Ci·K², the arithmetic of the convolution (and of
// each of its backward products).
func (d convDims) flops() int { return 2 * d.n * d.co * d.ho * d.wo * d.ci * d.k * d.k }

// convShapes validates a convolution of input shape xs with weight shape
// ws, as the CPU backend does.
func convShapes(op string, xs, ws net.Shape, g net.ConvGeom) convDims {
	c, err := net.ConvShapes(op, xs, ws, g)
	if err != nil {
		panicf("%v", err)
	}
	n, ci, h, w, co, kh, ho, wo := c.N, c.Ci, c.H, c.W, c.Co, c.K, c.Ho, c.Wo
	d := convDims{n: n, ci: ci, h: h, w: w, co: co, k: kh, ho: ho, wo: wo, stride: g.Stride, pad: g.Pad}
	d.ky0, d.nky = liveTaps(ho, h, g.Stride, g.Pad, kh)
	d.kx0, d.nkx = liveTaps(wo, w, g.Stride, g.Pad, kh)
	if idx := max(n*ho*wo, max(ci, co)*kh*kh+1); idx > convMaxIndex {
		panicf("%s: x %v, w %v: %d indices in one product, the kernels split at most %d", op, xs, ws, idx, convMaxIndex)
	}
	return d
}

// convMaxIndex is the most indices a convolution kernel splits into
// (image, pixel) or (channel, tap): quot in shaders/conv.wgsl is exact
// below it. A batch of 4,096 32×32 images has that many pixels.
const convMaxIndex = 1 << 22

// liveTaps is the range [t0, t0+count) of kernel offsets t < k for which
// some output position o < out reads input o·stride − pad + t inside
// [0, in).
func liveTaps(out, in, stride, pad, k int) (t0, count int) {
	t0 = max(0, pad-(out-1)*stride)
	return t0, max(0, min(k, in+pad)-t0)
}

// phaseTaps are the live kernel offsets [t0, t0+nt) that reach the input
// positions ≡ p (mod stride): first, first+stride, … (count of them). The
// Go twin of phase_taps in conv.wgsl.
func phaseTaps(p, t0, nt, stride, pad int) (first, count int) {
	r := (p + pad) % stride
	first = t0 + (r+stride-t0%stride)%stride
	if first < t0+nt {
		count = (t0+nt-1-first)/stride + 1
	}
	return first, count
}

// params is the part of Params that describes the convolution.
func (d convDims) params() convParams {
	return convParams{
		N: uint32(d.n), Ci: uint32(d.ci), H: uint32(d.h), W: uint32(d.w),
		Co: uint32(d.co), K: uint32(d.k), Ho: uint32(d.ho), Wo: uint32(d.wo),
		Stride: uint32(d.stride), Pad: uint32(d.pad),
		KY0: uint32(d.ky0), KX0: uint32(d.kx0), NKY: uint32(d.nky), NKX: uint32(d.nkx),
	}
}

// product is a convolution's matrix product C[m, n] over a reduction of
// length k, in phases independent products of at most that size, and its
// tiling.
type product struct {
	m, n, k, phases int
	thin            bool
	tilesM, tilesN  int
	splits, chunk   int // the reduction in splits of chunk (a multiple of convStep)
	outLen          int // elements of the result, the size of one partial
}

// planProduct tiles a product whose result has outLen elements, splitting
// the reduction when the tiles are too few to fill a large GPU, but never
// into partial sums that move more memory than the product itself:
// operands is the elements of the tensors it reads and writes, and the
// partials are written once and read once, 2·splits·outLen elements. The
// plan depends on the shapes only, so results are deterministic.
func planProduct(m, n, k, phases, outLen, operands int) product {
	pr := product{m: m, n: n, k: k, phases: phases, thin: m <= convThinMax, outLen: outLen}
	pr.tilesM = ceilDiv(m, pr.rows())
	pr.tilesN = ceilDiv(n, convTileCols)
	splits := 1
	if groups := pr.tilesM * pr.tilesN * phases; groups > 0 && k >= 2*convMinChunk {
		want := convFill / pr.threads() / groups
		if convCapTraffic {
			want = min(want, operands/(2*max(outLen, 1)))
		}
		splits = max(1, min(want, k/convMinChunk, convMaxSplit, convMaxPartial/(4*max(outLen, 1))))
	}
	pr.chunk = max(convStep, ceilDiv(ceilDiv(k, splits), convStep)*convStep)
	pr.splits = max(1, ceilDiv(k, pr.chunk))
	return pr
}

// rows is the tile height and threads the workgroup size of the plan's
// kernels.
func (pr product) rows() int {
	if pr.thin {
		return convThinRows
	}
	return convWideRows
}

func (pr product) threads() int {
	if pr.thin {
		return 64
	}
	return 256
}

// kernel picks the wide or thin kernel.
func (pr product) kernel(wide, thin *kernel) *kernel {
	if pr.thin {
		return thin
	}
	return wide
}

// invocations is the dispatch size of the product's kernel.
func (pr product) invocations() int {
	return pr.tilesM * pr.tilesN * pr.splits * pr.phases * pr.threads()
}

// lanes is the number of reduce invocations per output: a power of two
// with each lane adding at most convLaneRun splits.
func (pr product) lanes() int {
	l := 1
	for l*convLaneRun < pr.splits {
		l *= 2
	}
	return l
}

// set fills the product's fields of p.
func (pr product) set(p *convParams) {
	p.GN, p.GK = uint32(pr.n), uint32(pr.k)
	p.TilesM, p.TilesN = uint32(pr.tilesM), uint32(pr.tilesN)
	p.Splits, p.Chunk = uint32(pr.splits), uint32(pr.chunk)
	p.OutLen = uint32(pr.outLen)
	p.Lanes = uint32(pr.lanes())
}

// partials returns a scratch buffer for the partial products of a split
// reduction, and a function that returns it to the pool once the ops that
// use it are recorded (later ops run after them).
func (b *Backend) partials(op string, pr product) (region, func()) {
	size := uint64(4 * pr.splits * pr.outLen)
	buf := b.tensors.get(b, op, size)
	if buf == nil {
		return region{}, func() {}
	}
	return region{buf: buf, size: size}, func() { b.tensors.put(buf) }
}

// optionalBias unwraps a convolution's bias b (or db), checked to be [co];
// nil for a convolution without bias.
func optionalBias(op, name string, t net.Tensor, co int) *Tensor {
	if t == nil {
		return nil
	}
	B := tensor(op, name, t)
	mustShape(op, name, B.shape, co)
	return B
}

// biasBinding is what a convolution binds for its bias (or db) B, and the
// value of Params.bias: B's storage and 1, or without bias (B nil) the
// unused placeholder and 0.
func (b *Backend) biasBinding(op string, B *Tensor) (region, uint32) {
	if B == nil {
		return b.unused(op), 0
	}
	return B.st.region(), 1
}

// Conv2D is y = x ⋆ w + b (no b when bias is nil): one product
// C[co, n·ho·wo] with the bias added at the store, or a split product and
// its sum, which adds the bias.
func (b *Backend) Conv2D(y, x, w, bias net.Tensor, g net.ConvGeom) {
	const op = "Conv2D"
	Y, X, W := tensor(op, "y", y), tensor(op, "x", x), tensor(op, "w", w)
	d := convShapes(op, X.shape, W.shape, g)
	b.noteFLOPs(d.flops())
	B := optionalBias(op, "b", bias, d.co)
	mustShape(op, "y", Y.shape, d.n, d.co, d.ho, d.wo)
	br, hasBias := b.biasBinding(op, B)
	pr := forwardPlan(d)
	p := d.params()
	pr.set(&p)
	k := pr.kernel(kConvForward, kConvForwardThin)
	if pr.splits == 1 {
		p.Bias = hasBias
		dispatch(b, op, k, pr.invocations(), &p, X.st.region(), W.st.region(), br, Y.st.region())
		return
	}
	part, done := b.partials(op, pr)
	defer done()
	dispatch(b, op, k, pr.invocations(), &p, X.st.region(), W.st.region(), br, part)
	p.Bias = hasBias
	dispatch(b, op, kConvReduce, pr.outLen*pr.lanes(), &p, part, br, Y.st.region())
}

// Conv2DBackwardData is dx = ∂L/∂x from dy: one product per phase of the
// stride (all in one dispatch), C[ci, input pixels of the phase] over the
// output channels and the kernel taps that reach the phase.
func (b *Backend) Conv2DBackwardData(dx, dy, w net.Tensor, g net.ConvGeom) {
	const op = "Conv2DBackwardData"
	DX, DY, W := tensor(op, "dx", dx), tensor(op, "dy", dy), tensor(op, "w", w)
	d := convShapes(op, DX.shape, W.shape, g)
	b.noteFLOPs(d.flops())
	mustShape(op, "dy", DY.shape, d.n, d.co, d.ho, d.wo)
	pr := backwardDataPlan(d)
	p := d.params()
	pr.set(&p)
	k := pr.kernel(kConvBackwardData, kConvBackwardDataThin)
	if pr.splits == 1 {
		dispatch(b, op, k, pr.invocations(), &p, DY.st.region(), W.st.region(), DX.st.region())
		return
	}
	part, done := b.partials(op, pr)
	defer done()
	dispatch(b, op, k, pr.invocations(), &p, DY.st.region(), W.st.region(), part)
	dispatch(b, op, kConvReduce, pr.outLen*pr.lanes(), &p, part, part, DX.st.region())
}

// forwardPlan plans the forward product: C[co, output pixels] over the
// live taps of every input channel.
func forwardPlan(d convDims) product {
	y := d.n * d.co * d.ho * d.wo
	return planProduct(d.co, d.n*d.ho*d.wo, d.ci*d.nky*d.nkx, 1, y, d.inputLen()+d.weightLen()+y)
}

// inputLen and weightLen are the elements of x and w.
func (d convDims) inputLen() int  { return d.n * d.ci * d.h * d.w }
func (d convDims) weightLen() int { return d.co * d.ci * d.k * d.k }

// backwardDataPlan plans backward data's products: stride² phases, as many
// columns as phase (0, 0), the one with the most pixels, and the longest
// reduction of any phase.
func backwardDataPlan(d convDims) product {
	outLen := d.inputLen()
	cols := d.n * ceilDiv(d.h, d.stride) * ceilDiv(d.w, d.stride)
	taps := 0
	for py := 0; py < d.stride; py++ {
		_, ny := phaseTaps(py, d.ky0, d.nky, d.stride, d.pad)
		for px := 0; px < d.stride; px++ {
			_, nx := phaseTaps(px, d.kx0, d.nkx, d.stride, d.pad)
			taps = max(taps, ny*nx)
		}
	}
	dy := d.n * d.co * d.ho * d.wo
	return planProduct(d.ci, cols, d.co*taps, d.stride*d.stride, outLen, dy+d.weightLen()+outLen)
}

// Conv2DBackwardParams is dw = ∂L/∂w and db = ∂L/∂b from dy and the forward
// input x: one product C[co, taps + 1] over the batch's output pixels, its
// last column db (C[co, taps] without bias, db nil). The reduction is
// usually long, so it is usually split, and reduce_params writes dw and db
// (zero at dead taps) from the partials.
func (b *Backend) Conv2DBackwardParams(dw, db, dy, x net.Tensor, g net.ConvGeom) {
	const op = "Conv2DBackwardParams"
	DW, DY, X := tensor(op, "dw", dw), tensor(op, "dy", dy), tensor(op, "x", x)
	d := convShapes(op, X.shape, DW.shape, g)
	b.noteFLOPs(d.flops())
	DB := optionalBias(op, "db", db, d.co)
	mustShape(op, "dy", DY.shape, d.n, d.co, d.ho, d.wo)
	if d.n == 0 { // an empty batch: no product, zero gradients
		b.zero(op, DW.st)
		if DB != nil {
			b.zero(op, DB.st)
		}
		return
	}
	dbr, hasBias := b.biasBinding(op, DB)
	pr := backwardParamsPlan(d, hasBias)
	p := d.params()
	pr.set(&p)
	p.Bias = hasBias
	k := pr.kernel(kConvBackwardParams, kConvBackwardParamsThin)
	if pr.splits == 1 && d.ci*d.nky*d.nkx == d.ci*d.k*d.k {
		p.Direct = 1
		dispatch(b, op, k, pr.invocations(), &p, DY.st.region(), X.st.region(), DW.st.region(), dbr)
		return
	}
	part, done := b.partials(op, pr)
	defer done()
	dispatch(b, op, k, pr.invocations(), &p, DY.st.region(), X.st.region(), part, dbr)
	outs := DW.shape.Len() + int(hasBias)*d.co
	dispatch(b, op, kConvReduceParams, outs*pr.lanes(), &p, part, DW.st.region(), dbr)
}

// backwardParamsPlan plans backward params' product: a column per live
// tap, and db's column of ones when the convolution has a bias (bias 1).
func backwardParamsPlan(d convDims, bias uint32) product {
	cols := d.ci*d.nky*d.nkx + int(bias)
	dy := d.n * d.co * d.ho * d.wo
	return planProduct(d.co, cols, d.n*d.ho*d.wo, 1, d.co*cols, dy+d.inputLen()+d.co*cols)
}
