package gpu

import "cifarlab/net"

// elementwiseParams mirrors Params in shaders/elementwise.wgsl.
type elementwiseParams struct {
	N    uint32 `wgsl:"n"`
	Pad0 uint32 `wgsl:"_pad0"`
	Pad1 uint32 `wgsl:"_pad1"`
	Pad2 uint32 `wgsl:"_pad2"`
}

// The kernels of elementwise.wgsl. Bindings: 1 in0, 2 in1, 6 in2, 3 out
// (f32); 4 src_bits, 5 dst_bits (u32).
var (
	kReLU         = newKernel[elementwiseParams]("elementwise.wgsl", "relu", 256, slot{1, read}, slot{3, readWrite})
	kReLUBackward = newKernel[elementwiseParams]("elementwise.wgsl", "relu_backward", 256, slot{1, read}, slot{2, read}, slot{3, readWrite})
	kAdd          = newKernel[elementwiseParams]("elementwise.wgsl", "add", 256, slot{1, read}, slot{2, read}, slot{3, readWrite})
	kAddReLUBack  = newKernel[elementwiseParams]("elementwise.wgsl", "add_relu_backward", 256, slot{1, read}, slot{2, read}, slot{6, read}, slot{3, readWrite})
	kZero         = newKernel[elementwiseParams]("elementwise.wgsl", "zero_bits", 256, slot{5, readWrite})
	kCopy         = newKernel[elementwiseParams]("elementwise.wgsl", "copy_bits", 256, slot{4, read}, slot{5, readWrite})
)

// sameLen panics unless every tensor has n elements.
func sameLen(op string, n int, names []string, ts ...*Tensor) {
	for i, t := range ts {
		if t.shape.Len() != n {
			panicf("%s: %s %v has %d elements, want %d", op, names[i], t.shape, t.shape.Len(), n)
		}
	}
}

// zero records the zeroing of a new tensor's storage.
func (b *Backend) zero(op string, st *storage) {
	n := uint32(st.bytes / 4)
	dispatch(b, op, kZero, int(n), &elementwiseParams{N: n}, st.region())
}

// ReLU is y = max(x, 0); NaN stays NaN.
func (b *Backend) ReLU(y, x net.Tensor) {
	const op = "ReLU"
	Y, X := tensor(op, "y", y), tensor(op, "x", x)
	n := Y.shape.Len()
	sameLen(op, n, []string{"x"}, X)
	dispatch(b, op, kReLU, n, &elementwiseParams{N: uint32(n)}, X.st.region(), Y.st.region())
}

// ReLUBackward is dx = dy where y > 0, else 0.
func (b *Backend) ReLUBackward(dx, dy, y net.Tensor) {
	const op = "ReLUBackward"
	DX, DY, Y := tensor(op, "dx", dx), tensor(op, "dy", dy), tensor(op, "y", y)
	n := DX.shape.Len()
	sameLen(op, n, []string{"dy", "y"}, DY, Y)
	dispatch(b, op, kReLUBackward, n, &elementwiseParams{N: uint32(n)}, DY.st.region(), Y.st.region(), DX.st.region())
}

// AddReLUBackward is dx = a + (dy where y > 0, else 0), one dispatch.
func (b *Backend) AddReLUBackward(dx, a, dy, y net.Tensor) {
	const op = "AddReLUBackward"
	DX, A, DY, Y := tensor(op, "dx", dx), tensor(op, "a", a), tensor(op, "dy", dy), tensor(op, "y", y)
	n := DX.shape.Len()
	sameLen(op, n, []string{"a", "dy", "y"}, A, DY, Y)
	dispatch(b, op, kAddReLUBack, n, &elementwiseParams{N: uint32(n)}, A.st.region(), DY.st.region(), Y.st.region(), DX.st.region())
}

// Add is y = a + b elementwise.
func (b *Backend) Add(y, a, c net.Tensor) {
	const op = "Add"
	Y, A, C := tensor(op, "y", y), tensor(op, "a", a), tensor(op, "b", c)
	n := Y.shape.Len()
	sameLen(op, n, []string{"a", "b"}, A, C)
	dispatch(b, op, kAdd, n, &elementwiseParams{N: uint32(n)}, A.st.region(), C.st.region(), Y.st.region())
}
