package gpu

import "cifarlab/net"

// xentParams mirrors Params in shaders/softmax_xent.wgsl.
type xentParams struct {
	N    uint32 `wgsl:"n"`
	K    uint32 `wgsl:"k"`
	Slot uint32 `wgsl:"slot"`
	Pad0 uint32 `wgsl:"_pad0"`
}

// kSoftmaxXent is softmax_xent.wgsl's single-workgroup kernel. Bindings:
// 1 logits, 2 labels, 3 dlogits, 4 stats.
var kSoftmaxXent = newKernel[xentParams]("softmax_xent.wgsl", "softmax_xent", 0,
	slot{1, read}, slot{2, read}, slot{3, readWrite}, slot{4, readWrite})

// mustShape panics unless s equals want.
func mustShape(op, name string, s net.Shape, want ...int) {
	if !s.Equal(want) {
		panicf("%s: %s has shape %v, want %v", op, name, s, net.Shape(want))
	}
}

// SoftmaxCrossEntropy writes dlogits, the gradient of the mean loss, and
// the mean loss and number of correct predictions into stats[slot], in one
// workgroup that loops over the batch. Labels live on the device and are
// not checked here: one outside [0, K) makes the loss NaN.
func (b *Backend) SoftmaxCrossEntropy(dlogits, stats net.Tensor, slot int, logits net.Tensor, labels net.IntTensor) {
	const op = "SoftmaxCrossEntropy"
	D, S, L := tensor(op, "dlogits", dlogits), tensor(op, "stats", stats), tensor(op, "logits", logits)
	Lab := intTensor(op, "labels", labels)
	n, k, err := net.SoftmaxCrossEntropyShapes(D.shape, S.shape, slot, L.shape, Lab.shape)
	if err != nil {
		panicf("%v", err)
	}
	if n == 0 || k == 0 {
		return
	}
	dispatch(b, op, kSoftmaxXent, n, &xentParams{N: uint32(n), K: uint32(k), Slot: uint32(slot)},
		L.st.region(), Lab.st.region(), D.st.region(), S.st.region())
}
