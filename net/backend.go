// Package net holds the two networks of cifarlab (LeNet5 and ResNet18), the
// layers they are built from, the loss, the Adam optimizer, the trainer and
// safetensors checkpoints with PyTorch state-dict names.
//
// net computes nothing itself: every tensor operation goes through the
// Backend interface below, implemented by cpu/ (the reference) and gpu/.
// Tensors are opaque handles owned by a backend; data crosses between host
// and backend only through Upload and Download, so a GPU backend keeps a
// whole training step on the device.
package net

import "fmt"

// Shape is a tensor's dimensions, outermost first (NCHW for images, [N, F]
// for features).
type Shape []int

// Len is the number of elements.
func (s Shape) Len() int {
	n := 1
	for _, d := range s {
		n *= d
	}
	return n
}

// Equal reports whether s and t have the same dimensions.
func (s Shape) Equal(t Shape) bool {
	if len(s) != len(t) {
		return false
	}
	for i := range s {
		if s[i] != t[i] {
			return false
		}
	}
	return true
}

func (s Shape) String() string {
	out := "["
	for i, d := range s {
		if i > 0 {
			out += ","
		}
		out += fmt.Sprint(d)
	}
	return out + "]"
}

// Tensor is a float32 array owned by a backend.
type Tensor interface {
	Shape() Shape
}

// IntTensor is an int32 array owned by a backend: class labels and the
// argmax of max pooling.
type IntTensor interface {
	Shape() Shape
}

// Records is a dataset uploaded to a backend as raw bytes: Len records of
// 1 label byte followed by C×H×W pixel bytes (C planes of H×W, row-major),
// the layout of the CIFAR-10 binary files.
type Records interface {
	Len() int
	// Image is the [C, H, W] shape of one record's pixels.
	Image() Shape
}

// ConvGeom is the stride and zero padding of a 2-D convolution (the same
// in both spatial directions, as in every convolution of the two networks).
type ConvGeom struct {
	Stride, Pad int
}

// Out is the output size of a convolution over in pixels with a k×k kernel.
func (g ConvGeom) Out(in, k int) int { return (in+2*g.Pad-k)/g.Stride + 1 }

// PoolGeom is a max pooling window and its strides (no padding).
type PoolGeom struct {
	KH, KW, SH, SW int
}

// Out is the pooled size of an in×in (h×w) input.
func (g PoolGeom) Out(h, w int) (int, int) { return (h-g.KH)/g.SH + 1, (w-g.KW)/g.SW + 1 }

// AdamParams is one Adam update in PyTorch's form (no weight decay, no
// amsgrad): Step is the 1-based step count used for bias correction.
type AdamParams struct {
	LR, Beta1, Beta2, Eps float32
	Step                  int
}

// Crop is one sample's augmentation: the top-left corner (DX, DY) of the
// 32×32 window taken from the image zero-padded by Pad pixels on every side
// (so 0 ≤ DX, DY ≤ 2·Pad), then a horizontal flip when Flip is set. The
// zero padding is pixel value 0, before normalisation, as torchvision's
// RandomCrop pads a PIL image.
type Crop struct {
	DX, DY int32
	Flip   bool
}

// Normalize is the per-channel normalisation applied after scaling pixel
// bytes to [0, 1]: x = (b/255 − Mean[c]) / Std[c].
type Normalize struct {
	Mean, Std []float32
}

// Pooling is a backend that keeps freed memory for reuse, such as the GPU
// backend, whose tensors come from a pool of device buffers. MemoryHeld is
// the bytes it holds, in use or pooled; TrimMemory gives back what no
// tensor uses (after the work recorded so far no longer needs it).
type Pooling interface {
	MemoryHeld() int64
	TrimMemory()
}

// TrimMemory gives back b's pooled memory when b pools it, and returns the
// bytes it holds then (0 for a backend that does not pool).
func TrimMemory(b Backend) int64 {
	p, ok := b.(Pooling)
	if !ok {
		return 0
	}
	p.TrimMemory()
	return p.MemoryHeld()
}

// MemoryHeld is the bytes b holds when it pools memory, else 0.
func MemoryHeld(b Backend) int64 {
	if p, ok := b.(Pooling); ok {
		return p.MemoryHeld()
	}
	return 0
}

// Packer is a backend that can keep many tensors in one allocation and
// update a whole network's parameters with one Adam dispatch: the GPU
// backend, where each dispatch costs a launch and a barrier. NewTrainer
// packs the parameters, their gradients and Adam's moments when the
// backend is one, and Adam.Update then uses AdamAll.
type Packer interface {
	// Pack moves ts into one allocation, in order, keeping their contents.
	Pack(ts []Tensor)
	// AdamAll is Adam over every (params[i], grads[i], ms[i], vs[i]),
	// each list packed by one Pack call; false when they are not, and
	// then nothing was done.
	AdamAll(params, grads, ms, vs []Tensor, p AdamParams) bool
}

// Backend is every tensor operation the two networks need. Layouts are
// NCHW for images and [N, F] for features; weights are in PyTorch's layout
// ([Cout, Cin, KH, KW] for convolutions, [Out, In] for linears). The first
// argument of an op is its destination, which it overwrites.
//
// Ops panic on shape misuse (a programmer error). A backend that runs ops
// asynchronously reports failures from Submit and Download.
type Backend interface {
	// Name identifies the backend and its device, e.g. "cpu (2 threads)".
	Name() string

	// NewTensor allocates a zero-filled tensor.
	NewTensor(s Shape) Tensor
	// NewIntTensor allocates a zero-filled int32 tensor.
	NewIntTensor(s Shape) IntTensor
	// Reshape returns a tensor of shape s sharing t's storage; s.Len()
	// must equal t's length.
	Reshape(t Tensor, s Shape) Tensor
	// Free releases a tensor's storage. Freeing a reshaped view frees
	// nothing; the original must be freed.
	Free(t any)
	Upload(dst Tensor, src []float32)
	UploadInt(dst IntTensor, src []int32)
	// Download copies a tensor to dst, waiting for pending work.
	Download(dst []float32, src Tensor) error
	DownloadInt(dst []int32, src IntTensor) error
	// ReadLater starts copying src to the host without waiting for the
	// device, and returns a function that waits for that copy and returns
	// the values: src as the ops recorded before the call left it, whatever
	// later ops write into it.
	ReadLater(src Tensor) func() ([]float32, error)
	// UploadRecords copies a dataset to the backend once.
	UploadRecords(data []byte, img Shape) (Records, error)
	// Submit sends the ops recorded so far to the device (a no-op for a
	// synchronous backend) and returns the first error any of them met.
	Submit() error
	// Close releases everything the backend holds.
	Close() error

	// Gather assembles a batch: for i < len(index), x[i] is record
	// index[i]'s pixels normalised by norm (after crop[i] when crop is
	// non-nil) and labels[i] its label. x is [len(index), C, H, W].
	Gather(x Tensor, labels IntTensor, recs Records, index []int32, crop []Crop, pad int, norm Normalize)

	// Conv2D: y[N,Co,Ho,Wo] = x[N,Ci,H,W] ⋆ w[Co,Ci,K,K] + b[Co]; b is
	// nil for a convolution without bias (bias=False).
	Conv2D(y, x, w, b Tensor, g ConvGeom)
	// Conv2DBackwardData: dx = ∂L/∂x from dy.
	Conv2DBackwardData(dx, dy, w Tensor, g ConvGeom)
	// Conv2DBackwardParams: dw = ∂L/∂w and db = ∂L/∂b from dy and the
	// forward input x; db is nil for a convolution without bias.
	Conv2DBackwardParams(dw, db, dy, x Tensor, g ConvGeom)

	// Linear: y[N,O] = x[N,I]·w[O,I]ᵀ + b[O].
	Linear(y, x, w, b Tensor)
	// LinearBackwardData: dx[N,I] = dy[N,O]·w[O,I].
	LinearBackwardData(dx, dy, w Tensor)
	// LinearBackwardParams: dw[O,I] = dyᵀ·x, db[O] = Σₙ dy.
	LinearBackwardParams(dw, db, dy, x Tensor)

	// MaxPool2D: y[N,C,Ho,Wo] is the maximum of each window of x; argmax
	// holds, per output, the flat index into the H×W plane of the first
	// maximum (PyTorch's choice on ties).
	MaxPool2D(y Tensor, argmax IntTensor, x Tensor, g PoolGeom)
	// MaxPool2DBackward routes dy to the argmax positions of dx (zero
	// elsewhere, summed where windows overlap). g is the geometry of the
	// forward that produced argmax; dy's shape must be g.Out of dx's (a
	// mismatch panics, like other shape misuse).
	MaxPool2DBackward(dx, dy Tensor, argmax IntTensor, g PoolGeom)

	// GlobalAvgPool2D: y[N,C,1,1] is the mean of each H×W plane of
	// x[N,C,H,W] (adaptive_avg_pool2d to 1×1).
	GlobalAvgPool2D(y, x Tensor)
	// GlobalAvgPool2DBackward: dx[n,c,i,j] = dy[n,c,0,0] / (H·W) for
	// dx[N,C,H,W] and dy[N,C,1,1].
	GlobalAvgPool2DBackward(dx, dy Tensor)

	// BatchNorm2DTrain normalises x[N,C,H,W] with the batch mean and
	// biased variance of each channel, scales by gamma and shifts by beta.
	// It stores the batch mean and 1/sqrt(var+eps) in mean and invstd
	// (for backward) and updates runMean and runVar in place with
	// momentum, runVar from the unbiased variance, as PyTorch does.
	BatchNorm2DTrain(y, mean, invstd, x, gamma, beta, runMean, runVar Tensor, momentum, eps float32)
	// BatchNorm2DEval normalises with the running statistics.
	BatchNorm2DEval(y, x, gamma, beta, runMean, runVar Tensor, eps float32)
	// BatchNorm2DBackward computes dx, dgamma and dbeta of a training-mode
	// forward from dy, x and that forward's mean and invstd.
	BatchNorm2DBackward(dx, dgamma, dbeta, dy, x, mean, invstd, gamma Tensor)

	// ReLU: y = max(x, 0).
	ReLU(y, x Tensor)
	// ReLUBackward: dx = dy where y > 0, else 0 (y is the forward output).
	ReLUBackward(dx, dy, y Tensor)
	// Add: y = a + b, elementwise, all of one length.
	Add(y, a, b Tensor)

	// SoftmaxCrossEntropy takes logits[N,K] and labels[N]. It writes
	// dlogits = (softmax(logits) − onehot(labels)) / N, the gradient of
	// the mean loss, and stores the mean loss and the number of correct
	// predictions (argmax equal to label, first maximum on ties) into
	// stats[slot, 0] and stats[slot, 1]; stats is [S, 2].
	SoftmaxCrossEntropy(dlogits, stats Tensor, slot int, logits Tensor, labels IntTensor)

	// SumSquares stores Σ x² over every element of x (of any shape) into
	// element slot of stats (of any shape, indexed flat), overwriting it:
	// the squared L2 norm of a gradient, kept on the device.
	SumSquares(stats Tensor, slot int, x Tensor)

	// Adam updates param in place from grad and its moment estimates m, v.
	Adam(param, grad, m, v Tensor, p AdamParams)
}

// BatchNormReLUBackend is a Backend that fuses a training-mode BatchNorm2d
// with the ReLU that follows it, in one pass over the values where the
// two ops make two: the networks use it where a backend has it.
type BatchNormReLUBackend interface {
	Backend
	// BatchNorm2DTrainReLU is BatchNorm2DTrain with y = max(normalised, 0):
	// the same statistics, and y what ReLU of BatchNorm2DTrain's y gives.
	BatchNorm2DTrainReLU(y, mean, invstd, x, gamma, beta, runMean, runVar Tensor, momentum, eps float32)
	// BatchNorm2DBackwardReLU is BatchNorm2DBackward of dy masked by
	// y > 0, y being BatchNorm2DTrainReLU's output: what ReLUBackward then
	// BatchNorm2DBackward give.
	BatchNorm2DBackwardReLU(dx, dgamma, dbeta, dy, y, x, mean, invstd, gamma Tensor)
}

// BatchNormAddBackend is a BatchNormReLUBackend that also fuses the end of
// a residual block, bn2(conv2(…)) + shortcut (the tutorial's) or
// ReLU(bn2(conv2(…)) + shortcut) (He et al.'s), into one pass, and the
// latter's input gradient through the identity shortcut into another: the
// networks use it where a backend has it.
type BatchNormAddBackend interface {
	BatchNormReLUBackend
	// BatchNorm2DTrainAdd is BatchNorm2DTrain with y = normalised + r, r of
	// x's shape, and then max(y, 0) with relu: what Add of r and
	// BatchNorm2DTrain's y (then ReLU) give. BatchNorm2DBackward (with
	// relu, BatchNorm2DBackwardReLU of this y) is its backward.
	BatchNorm2DTrainAdd(y, mean, invstd, x, gamma, beta, runMean, runVar, r Tensor, relu bool, momentum, eps float32)
	// AddReLUBackward is dx = a + (dy where y > 0, else 0): what
	// ReLUBackward of dy and y, then Add with a, give.
	AddReLUBackward(dx, a, dy, y Tensor)
}
