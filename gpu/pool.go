package gpu

import "cifarlab/net"

// poolParams mirrors Params in shaders/pool.wgsl.
type poolParams struct {
	Total uint32 `wgsl:"total"`
	H     uint32 `wgsl:"h"`
	W     uint32 `wgsl:"w"`
	Ho    uint32 `wgsl:"ho"`
	Wo    uint32 `wgsl:"wo"`
	KH    uint32 `wgsl:"kh"`
	KW    uint32 `wgsl:"kw"`
	SH    uint32 `wgsl:"sh"`
	SW    uint32 `wgsl:"sw"`
	Pad0  uint32 `wgsl:"_pad0"`
	Pad1  uint32 `wgsl:"_pad1"`
	Pad2  uint32 `wgsl:"_pad2"`
}

// The kernels of pool.wgsl. Bindings: 1 x, 2 y, 3 argmax_out (forward);
// 4 dy, 5 argmax, 6 dx (backward).
var (
	kMaxPool               = newKernel[poolParams]("pool.wgsl", "max_pool", 256, slot{1, read}, slot{2, readWrite}, slot{3, readWrite})
	kMaxPoolBackward       = newKernel[poolParams]("pool.wgsl", "max_pool_backward", 256, slot{4, read}, slot{5, read}, slot{6, readWrite})
	kGlobalAvgPool         = newKernel[poolParams]("pool.wgsl", "global_avg_pool", 256, slot{1, read}, slot{2, readWrite})
	kGlobalAvgPoolBackward = newKernel[poolParams]("pool.wgsl", "global_avg_pool_backward", 256, slot{4, read}, slot{6, readWrite})
)

// dims4 returns the dimensions of a 4-D shape.
func dims4(op, name string, s net.Shape) (n, c, h, w int) {
	if len(s) != 4 {
		panicf("%s: %s has shape %v, want 4 dimensions", op, name, s)
	}
	return s[0], s[1], s[2], s[3]
}

// MaxPool2D is max pooling over windows of each plane, one invocation per
// output; argmax is the flat index in the plane of the first maximum in
// row-major order. A NaN in a window makes the output NaN (its argmax is
// the window's last NaN, as in PyTorch).
func (b *Backend) MaxPool2D(y net.Tensor, argmax net.IntTensor, x net.Tensor, g net.PoolGeom) {
	const op = "MaxPool2D"
	Y, A, X := tensor(op, "y", y), intTensor(op, "argmax", argmax), tensor(op, "x", x)
	n, c, h, w, ho, wo := poolDims(op, "x", X.shape, g)
	mustShape(op, "y", Y.shape, n, c, ho, wo)
	mustShape(op, "argmax", A.shape, n, c, ho, wo)
	total := n * c * ho * wo
	dispatch(b, op, kMaxPool, total, newPoolParams(total, h, w, ho, wo, g), X.st.region(), Y.st.region(), A.st.region())
}

// MaxPool2DBackward routes dy to the argmax positions of dx (zero
// elsewhere, summed in output order where windows overlap), by a gather
// without atomics that gives the CPU backend's sums bit for bit: one
// invocation per element of dx visits exactly the windows of g that
// contain it (at most one for LeNet5's 2×2 pooling at stride 2, global
// pooling and 1×1 planes). g is the geometry of the forward that made argmax.
func (b *Backend) MaxPool2DBackward(dx, dy net.Tensor, argmax net.IntTensor, g net.PoolGeom) {
	const op = "MaxPool2DBackward"
	DX, DY, A := tensor(op, "dx", dx), tensor(op, "dy", dy), intTensor(op, "argmax", argmax)
	n, c, h, w, ho, wo := poolDims(op, "dx", DX.shape, g)
	mustShape(op, "dy", DY.shape, n, c, ho, wo)
	mustShape(op, "argmax", A.shape, n, c, ho, wo)
	total := n * c * h * w
	dispatch(b, op, kMaxPoolBackward, total, newPoolParams(total, h, w, ho, wo, g), DY.st.region(), A.st.region(), DX.st.region())
}

// GlobalAvgPool2D is y[n,c,0,0] = the mean of plane (n, c) of x, one
// invocation per plane.
func (b *Backend) GlobalAvgPool2D(y, x net.Tensor) {
	const op = "GlobalAvgPool2D"
	Y, X := tensor(op, "y", y), tensor(op, "x", x)
	planes, h, w := globalPoolDims(op, Y.shape, X.shape)
	dispatch(b, op, kGlobalAvgPool, planes, newGlobalPoolParams(planes, h, w), X.st.region(), Y.st.region())
}

// GlobalAvgPool2DBackward spreads dy[n,c,0,0] / (H·W) over plane (n, c) of
// dx, one invocation per element of dx.
func (b *Backend) GlobalAvgPool2DBackward(dx, dy net.Tensor) {
	const op = "GlobalAvgPool2DBackward"
	DX, DY := tensor(op, "dx", dx), tensor(op, "dy", dy)
	planes, h, w := globalPoolDims(op, DY.shape, DX.shape)
	total := planes * h * w
	dispatch(b, op, kGlobalAvgPoolBackward, total, newGlobalPoolParams(total, h, w), DY.st.region(), DX.st.region())
}

// globalPoolDims checks the shapes of a global average pool (y and x, or
// dy and dx) and returns the number of planes and their size.
func globalPoolDims(op string, y, x net.Shape) (planes, h, w int) {
	planes, _, err := net.GlobalAvgPoolShapes(op, y, x)
	if err != nil {
		panicf("%v", err)
	}
	return planes, x[2], x[3]
}

// newGlobalPoolParams is the Params of a global pool over h×w planes: the
// window of the whole plane, whose output is 1×1.
func newGlobalPoolParams(total, h, w int) *poolParams {
	return newPoolParams(total, h, w, 1, 1, net.PoolGeom{KH: h, KW: w, SH: h, SW: w})
}

// poolDims returns the dimensions of the pooled input x (or dx) and the
// output plane that g makes of it; it panics if g's window does not fit.
func poolDims(op, name string, x net.Shape, g net.PoolGeom) (n, c, h, w, ho, wo int) {
	n, c, h, w = dims4(op, name, x)
	if g.KH < 1 || g.KW < 1 || g.SH < 1 || g.SW < 1 || g.KH > h || g.KW > w {
		panicf("%s: window %+v does not fit %s %v", op, g, name, x)
	}
	ho, wo = g.Out(h, w)
	return n, c, h, w, ho, wo
}

// newPoolParams is the Params of a dispatch of total invocations.
func newPoolParams(total, h, w, ho, wo int, g net.PoolGeom) *poolParams {
	return &poolParams{
		Total: uint32(total), H: uint32(h), W: uint32(w), Ho: uint32(ho), Wo: uint32(wo),
		KH: uint32(g.KH), KW: uint32(g.KW), SH: uint32(g.SH), SW: uint32(g.SW),
	}
}
