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
	kMaxPool             = newKernel[poolParams]("pool.wgsl", "max_pool", 256, slot{1, read}, slot{2, readWrite}, slot{3, readWrite})
	kMaxPoolBackward     = newKernel[poolParams]("pool.wgsl", "max_pool_backward", 256, slot{4, read}, slot{5, read}, slot{6, readWrite})
	kMaxPoolBackwardRows = newKernel[poolParams]("pool.wgsl", "max_pool_backward_rows", 256, slot{4, read}, slot{5, read}, slot{6, readWrite})
)

// poolRow is ROW in pool.wgsl, the longest row segment of
// max_pool_backward_rows.
const poolRow = 64

// poolGatherMax is the most windows per input element for which
// MaxPool2DBackward gathers per element; beyond it, per row segment. A
// variable so that tests can force either kernel.
var poolGatherMax = 4

// poolWindowsPerInput bounds the windows of any pooling from h×w to ho×wo
// that contain one input element: window oy lies within rows
// [oy, oy+h−ho], so at most min(ho, h−ho+1) windows share a row, and
// likewise in x (1 for global pooling and for 1×1 planes).
func poolWindowsPerInput(h, w, ho, wo int) int {
	return min(ho, h-ho+1) * min(wo, w-wo+1)
}

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
	n, c, h, w := dims4(op, "x", X.shape)
	if g.KH < 1 || g.KW < 1 || g.SH < 1 || g.SW < 1 || g.KH > h || g.KW > w {
		panicf("%s: window %+v does not fit x %v", op, g, X.shape)
	}
	ho, wo := g.Out(h, w)
	mustShape(op, "y", Y.shape, n, c, ho, wo)
	mustShape(op, "argmax", A.shape, n, c, ho, wo)
	total := n * c * ho * wo
	dispatch(b, op, kMaxPool, total, &poolParams{
		Total: uint32(total), H: uint32(h), W: uint32(w), Ho: uint32(ho), Wo: uint32(wo),
		KH: uint32(g.KH), KW: uint32(g.KW), SH: uint32(g.SH), SW: uint32(g.SW),
	}, X.st.region(), Y.st.region(), A.st.region())
}

// MaxPool2DBackward routes dy to the argmax positions of dx (zero
// elsewhere, summed in output order where windows overlap), by a gather
// without atomics that gives the CPU backend's sums bit for bit. The op is
// not given the window geometry, so the windows an element may be in are
// bounded from the shapes (see shaders/pool.wgsl): where that leaves few
// windows (exactly one for global pooling and 1×1 planes), one invocation
// per element of dx gathers from them; otherwise (LeNet5's 2×2 pooling,
// where it leaves a quarter of the plane's outputs) one invocation per row
// segment of dx reads the segment's windows once. g is the geometry of the
// forward that made argmax; dy must have the shape it gives dx.
func (b *Backend) MaxPool2DBackward(dx, dy net.Tensor, argmax net.IntTensor, g net.PoolGeom) {
	const op = "MaxPool2DBackward"
	DX, DY, A := tensor(op, "dx", dx), tensor(op, "dy", dy), intTensor(op, "argmax", argmax)
	n, c, h, w := dims4(op, "dx", DX.shape)
	if g.KH < 1 || g.KW < 1 || g.SH < 1 || g.SW < 1 || g.KH > h || g.KW > w {
		panicf("%s: window %+v does not fit dx %v", op, g, DX.shape)
	}
	ho, wo := g.Out(h, w)
	mustShape(op, "dy", DY.shape, n, c, ho, wo)
	mustShape(op, "argmax", A.shape, n, c, ho, wo)
	p := poolParams{H: uint32(h), W: uint32(w), Ho: uint32(ho), Wo: uint32(wo)}
	k, work := kMaxPoolBackward, n*c*h*w
	if poolWindowsPerInput(h, w, ho, wo) > poolGatherMax {
		k, work = kMaxPoolBackwardRows, n*c*h*((w+poolRow-1)/poolRow)
	}
	p.Total = uint32(work)
	dispatch(b, op, k, work, &p, DY.st.region(), A.st.region(), DX.st.region())
}
