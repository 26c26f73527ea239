package gpu

import "cifarlab/net"

// reduceParams mirrors Params in shaders/reduce.wgsl.
type reduceParams struct {
	N    uint32 `wgsl:"n"`
	Slot uint32 `wgsl:"slot"`
	Pad0 uint32 `wgsl:"_pad0"`
	Pad1 uint32 `wgsl:"_pad1"`
}

// kSumSquares is reduce.wgsl's single-workgroup kernel. Bindings: 1 x,
// 2 stats.
var kSumSquares = newKernel[reduceParams]("reduce.wgsl", "sum_squares", 0, slot{1, read}, slot{2, readWrite})

// SumSquares stores Σ x² into stats[slot] (flat), in one dispatch of one
// workgroup that sums in short blocks (see reduce.wgsl); the other elements
// of stats are left as they are. An empty x stores 0.
func (b *Backend) SumSquares(stats net.Tensor, slot int, x net.Tensor) {
	const op = "SumSquares"
	S, X := tensor(op, "stats", stats), tensor(op, "x", x)
	if err := net.SumSquaresShapes(S.shape, slot); err != nil {
		panicf("%v", err)
	}
	n := X.shape.Len()
	xr := X.st.region()
	if n == 0 { // no storage to bind: bind a placeholder, read nothing
		xr = b.unused(op)
	}
	dispatch(b, op, kSumSquares, max(n, 1), &reduceParams{N: uint32(n), Slot: uint32(slot)}, xr, S.st.region())
}
