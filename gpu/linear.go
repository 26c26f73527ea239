package gpu

import "cifarlab/net"

// matmulParams mirrors Params in shaders/matmul.wgsl: the product
// C[M,N] = A[M,K]·B[K,N] of one dispatch.
type matmulParams struct {
	M      uint32 `wgsl:"m"`
	N      uint32 `wgsl:"n"`
	K      uint32 `wgsl:"k"`
	TilesN uint32 `wgsl:"tiles_n"` // tiles across the columns of C
	Tiles  uint32 `wgsl:"tiles"`   // tiles of C
	KSplit uint32 `wgsl:"k_split"` // reduction length of one split
	Splits uint32 `wgsl:"splits"`  // splits of the reduction, 1 for none
	Pad0   uint32 `wgsl:"_pad0"`
}

// tiling is one of matmul.wgsl's two tile shapes with its entry points
// (each with its unstaged variant).
// Bindings: 1 a, 2 b, 3 bias (read); 4 c, 5 rowsum (written); 6 part_c,
// 7 part_sum (read, by sum_splits).
type tiling struct {
	width, step    int // tile width (and height) and reduction step
	forward        *kernel
	backwardData   *kernel
	backwardParams *kernel
}

func newTiling(suffix string, width, step int) *tiling {
	return &tiling{
		width: width, step: step,
		forward:        newStagedKernel[matmulParams]("matmul.wgsl", "linear_forward_"+suffix, 256, slot{1, read}, slot{2, read}, slot{3, read}, slot{4, readWrite}),
		backwardData:   newStagedKernel[matmulParams]("matmul.wgsl", "linear_backward_data_"+suffix, 256, slot{1, read}, slot{2, read}, slot{4, readWrite}),
		backwardParams: newStagedKernel[matmulParams]("matmul.wgsl", "linear_backward_params_"+suffix, 256, slot{1, read}, slot{2, read}, slot{4, readWrite}, slot{5, readWrite}),
	}
}

var (
	largeTiles = newTiling("large", 64, 16) // 4×4 outputs per invocation
	smallTiles = newTiling("small", 32, 32) // 2×2 outputs per invocation
	kSumSplits = newKernel[matmulParams]("matmul.wgsl", "sum_splits", 256,
		slot{6, read}, slot{7, read}, slot{4, readWrite}, slot{5, readWrite})
)

// largeTilesMin is the number of large tiles from which a product uses
// them. A small tile's workgroup has a quarter of a large one's work, at
// twice the workgroup-memory reads per multiply-add, so small tiles spread
// a product over four times as many compute units; large tiles pay off
// once a product fills a big GPU several times over (an H100 runs up to 8
// workgroups of 256 on each of its 132 units). The linear layers of LeNet5
// and ResNet18 at batch 256 use small tiles; a product of 1M outputs or
// more uses large ones.
var largeTilesMin = 256

// A reduction over the batch (LinearBackwardParams) longer than
// 2·splitChunk whose product has fewer than splitTarget tiles is split into
// pieces of at least splitChunk, enough to make about splitTarget
// workgroups, whose partial products sum_splits adds in order. At batch
// 256 nothing is split.
var (
	splitChunk  = 256
	splitTarget = 128
)

// matmulPlan is how one product is dispatched.
type matmulPlan struct {
	t      *tiling
	p      matmulParams
	groups int // workgroups, tiles × splits
}

// ceilDiv is ⌈a/b⌉ for a ≥ 0, b > 0.
func ceilDiv(a, b int) int { return (a + b - 1) / b }

// planMatmul plans C[m,n] = A[m,k]·B[k,n]; split allows splitting the
// reduction.
func planMatmul(m, n, k int, split bool) matmulPlan {
	t := smallTiles
	if ceilDiv(m, largeTiles.width)*ceilDiv(n, largeTiles.width) >= largeTilesMin {
		t = largeTiles
	}
	tn := ceilDiv(n, t.width)
	tiles := ceilDiv(m, t.width) * tn
	kSplit := ceilDiv(max(k, 1), t.step) * t.step
	splits := 1
	if split && k/2 >= splitChunk && tiles < splitTarget {
		s := min(k/splitChunk, ceilDiv(splitTarget, tiles))
		kSplit = ceilDiv(ceilDiv(k, s), t.step) * t.step
		splits = ceilDiv(k, kSplit)
	}
	return matmulPlan{t: t, groups: tiles * splits, p: matmulParams{
		M: uint32(m), N: uint32(n), K: uint32(k), TilesN: uint32(tn), Tiles: uint32(tiles),
		KSplit: uint32(kSplit), Splits: uint32(splits),
	}}
}

// Linear is y[N,O] = x[N,I]·w[O,I]ᵀ + b[O], one tiled product reading w
// by rows.
func (b *Backend) Linear(y, x, w, bias net.Tensor) {
	const op = "Linear"
	Y, X, W, B := tensor(op, "y", y), tensor(op, "x", x), tensor(op, "w", w), tensor(op, "b", bias)
	n, in, o := linearDims(net.LinearShapes(Y.shape, X.shape, W.shape, B.shape))
	b.noteFLOPs(2 * n * in * o)
	if n == 0 || o == 0 {
		return
	}
	pl := planMatmul(n, o, in, false)
	dispatch(b, op, pl.t.forward, pl.groups*256, &pl.p, X.st.region(), W.st.region(), B.st.region(), Y.st.region())
}

// LinearBackwardData is dx[N,I] = dy[N,O]·w[O,I], one tiled product.
func (b *Backend) LinearBackwardData(dx, dy, w net.Tensor) {
	const op = "LinearBackwardData"
	DX, DY, W := tensor(op, "dx", dx), tensor(op, "dy", dy), tensor(op, "w", w)
	n, in, o := linearDims(net.LinearBackwardDataShapes(DX.shape, DY.shape, W.shape))
	b.noteFLOPs(2 * n * in * o)
	if n == 0 || in == 0 {
		return
	}
	pl := planMatmul(n, in, o, false)
	dispatch(b, op, pl.t.backwardData, pl.groups*256, &pl.p, DY.st.region(), W.st.region(), DX.st.region())
}

// LinearBackwardParams is dw[O,I] = dyᵀ·x and db[O] = Σₙ dy: one tiled
// product reading dy by columns, whose first column of tiles also sums
// the rows of dyᵀ into db. A long batch is split into pieces whose
// partial dw and db go to scratch buffers and are added in order by a
// second dispatch.
func (b *Backend) LinearBackwardParams(dw, db, dy, x net.Tensor) {
	const op = "LinearBackwardParams"
	DW, DB, DY, X := tensor(op, "dw", dw), tensor(op, "db", db), tensor(op, "dy", dy), tensor(op, "x", x)
	n, in, o := linearDims(net.LinearBackwardParamsShapes(DW.shape, DB.shape, DY.shape, X.shape))
	b.noteFLOPs(2 * n * in * o)
	if o == 0 || in == 0 {
		return
	}
	pl := planMatmul(o, in, n, true)
	k := pl.t.backwardParams
	if pl.p.Splits == 1 {
		dispatch(b, op, k, pl.groups*256, &pl.p, DY.st.region(), X.st.region(), DW.st.region(), DB.st.region())
		return
	}
	if b.failed() {
		return
	}
	s := uint64(pl.p.Splits)
	partW := b.tensors.get(b, op, s*DW.st.bytes)
	if partW == nil {
		return
	}
	defer b.tensors.put(partW) // later ops that reuse it run after these
	partB := b.tensors.get(b, op, s*DB.st.bytes)
	if partB == nil {
		return
	}
	defer b.tensors.put(partB)
	pw := region{buf: partW, size: s * DW.st.bytes}
	pb := region{buf: partB, size: s * DB.st.bytes}
	dispatch(b, op, k, pl.groups*256, &pl.p, DY.st.region(), X.st.region(), pw, pb)
	dispatch(b, op, kSumSplits, o*in+o, &pl.p, pw, pb, DW.st.region(), DB.st.region())
}

// linearDims is the batch, input and output sizes of a product checked
// by net, or a panic with its error.
func linearDims(d net.LinearDims, err error) (n, in, o int) {
	if err != nil {
		panicf("%v", err)
	}
	return d.N, d.In, d.Out
}
