// Package cpu is the reference backend of cifarlab: net.Backend on the
// host, in float32, with matrix products through cpu/sgemm and the work of
// large ops split across goroutines.
//
// A Backend is synchronous (Submit does nothing) and is not safe for
// concurrent use: it keeps grow-only scratch buffers between calls.
package cpu

import (
	"fmt"
	"runtime"
	"sync"

	"cifarlab/cpu/sgemm"
	"cifarlab/net"
)

// Tensor is a float32 array on the host.
type Tensor struct {
	shape net.Shape
	data  []float32
	view  bool // made by Reshape: Free leaves the storage alone
}

// Shape is the tensor's shape; callers must not modify it.
func (t *Tensor) Shape() net.Shape { return t.shape }

// IntTensor is an int32 array on the host.
type IntTensor struct {
	shape net.Shape
	data  []int32
}

// Shape is the tensor's shape; callers must not modify it.
func (t *IntTensor) Shape() net.Shape { return t.shape }

// records is a dataset of CIFAR-style records held as bytes.
type records struct {
	data []byte
	n    int
	img  net.Shape
}

func (r *records) Len() int         { return r.n }
func (r *records) Image() net.Shape { return r.img }

// Backend implements net.Backend on the CPU.
type Backend struct {
	threads int
	work    []scratch // one per worker
	wlive   []float32 // weights or dw compacted to a convolution's live taps
	wflip   []float32 // weights of backward data in the shifted lowering

	// Convolution blocking: a chunk of images is lowered to one matrix of
	// about colTarget columns (at least one image), holding at most
	// colMax floats unless a single image needs more.
	colTarget, colMax int
}

// scratch is one worker's grow-only buffers.
type scratch struct {
	col, out, acc []float32
	wt            []float32 // a transposed weight gradient
	offs          []int     // row offsets of the shifted lowering
	segQ, segAt   []int     // its output rows' columns and places (segs)
}

// grow returns (*buf)[:n], reallocating when the capacity is short.
func grow(buf *[]float32, n int) []float32 {
	if cap(*buf) < n {
		*buf = make([]float32, n)
	}
	return (*buf)[:n]
}

var _ net.BatchNormAddBackend = (*Backend)(nil)

// New returns a backend using runtime.GOMAXPROCS(0) goroutines.
func New() *Backend { return NewWithThreads(runtime.GOMAXPROCS(0)) }

// NewWithThreads returns a backend splitting large ops across n goroutines
// (at least 1).
func NewWithThreads(n int) *Backend {
	n = max(n, 1)
	return &Backend{threads: n, work: make([]scratch, n), colTarget: 1024, colMax: 1 << 21}
}

// Name is "cpu (N threads)".
func (b *Backend) Name() string {
	if b.threads == 1 {
		return "cpu (1 thread, " + sgemm.Kernel() + ")"
	}
	return fmt.Sprintf("cpu (%d threads, %s)", b.threads, sgemm.Kernel())
}

// Threads is the number of goroutines large ops are split across.
func (b *Backend) Threads() int { return b.threads }

// parallel splits [0, n) into at most b.threads contiguous parts of at
// least grain items and calls f(w, lo, hi) for part w concurrently; with a
// single part it calls f on the calling goroutine.
func (b *Backend) parallel(n, grain int, f func(w, lo, hi int)) {
	parts := min(b.threads, n/max(grain, 1))
	if parts <= 1 {
		if n > 0 {
			f(0, 0, n)
		}
		return
	}
	var wg sync.WaitGroup
	for w := 1; w < parts; w++ {
		lo, hi := n*w/parts, n*(w+1)/parts
		wg.Go(func() { f(w, lo, hi) })
	}
	f(0, 0, n/parts)
	wg.Wait()
}

// panicf reports shape misuse.
func panicf(format string, args ...any) {
	panic(fmt.Sprintf("cpu: "+format, args...))
}

// tensor unwraps a net.Tensor of this backend.
func tensor(op, name string, t net.Tensor) *Tensor {
	x, ok := t.(*Tensor)
	if !ok || x == nil {
		panicf("%s: %s is %T, not a cpu tensor", op, name, t)
	}
	if x.data == nil && x.shape.Len() > 0 {
		panicf("%s: %s was freed", op, name)
	}
	return x
}

// intTensor unwraps a net.IntTensor of this backend.
func intTensor(op, name string, t net.IntTensor) *IntTensor {
	x, ok := t.(*IntTensor)
	if !ok || x == nil {
		panicf("%s: %s is %T, not a cpu int tensor", op, name, t)
	}
	if x.data == nil && x.shape.Len() > 0 {
		panicf("%s: %s was freed", op, name)
	}
	return x
}

// mustShape panics unless s equals want.
func mustShape(op, name string, s net.Shape, want ...int) {
	if !s.Equal(want) {
		panicf("%s: %s has shape %v, want %v", op, name, s, net.Shape(want))
	}
}

// dims4 returns the dimensions of a 4-D shape.
func dims4(op, name string, s net.Shape) (int, int, int, int) {
	if len(s) != 4 {
		panicf("%s: %s has shape %v, want [N,C,H,W]", op, name, s)
	}
	return s[0], s[1], s[2], s[3]
}

func checkShape(s net.Shape) net.Shape {
	for _, d := range s {
		if d < 0 {
			panicf("negative dimension in shape %v", s)
		}
	}
	return append(net.Shape(nil), s...)
}

// NewTensor allocates a zero-filled tensor.
func (b *Backend) NewTensor(s net.Shape) net.Tensor {
	s = checkShape(s)
	return &Tensor{shape: s, data: make([]float32, s.Len())}
}

// NewIntTensor allocates a zero-filled int32 tensor.
func (b *Backend) NewIntTensor(s net.Shape) net.IntTensor {
	s = checkShape(s)
	return &IntTensor{shape: s, data: make([]int32, s.Len())}
}

// Reshape returns a view of t with shape s.
func (b *Backend) Reshape(t net.Tensor, s net.Shape) net.Tensor {
	x := tensor("Reshape", "t", t)
	s = checkShape(s)
	if s.Len() != len(x.data) {
		panicf("Reshape: %v has %d elements, tensor %v has %d", s, s.Len(), x.shape, len(x.data))
	}
	return &Tensor{shape: s, data: x.data, view: true}
}

// Free drops a tensor's storage (views keep it); using it afterwards
// panics.
func (b *Backend) Free(t any) {
	switch x := t.(type) {
	case *Tensor:
		if !x.view {
			x.data = nil
		}
	case *IntTensor:
		x.data = nil
	case *records:
		x.data = nil
	default:
		panicf("Free: %T is not a cpu tensor", t)
	}
}

// Upload copies src into dst.
func (b *Backend) Upload(dst net.Tensor, src []float32) {
	d := tensor("Upload", "dst", dst)
	if len(src) != len(d.data) {
		panicf("Upload: %d values for tensor %v", len(src), d.shape)
	}
	copy(d.data, src)
}

// UploadInt copies src into dst.
func (b *Backend) UploadInt(dst net.IntTensor, src []int32) {
	d := intTensor("UploadInt", "dst", dst)
	if len(src) != len(d.data) {
		panicf("UploadInt: %d values for tensor %v", len(src), d.shape)
	}
	copy(d.data, src)
}

// Download copies src into dst.
func (b *Backend) Download(dst []float32, src net.Tensor) error {
	s := tensor("Download", "src", src)
	if len(dst) != len(s.data) {
		panicf("Download: %d values for tensor %v", len(dst), s.shape)
	}
	copy(dst, s.data)
	return nil
}

// ReadLater copies src at once; the returned function hands the copy out.
func (b *Backend) ReadLater(src net.Tensor) func() ([]float32, error) {
	s := tensor("ReadLater", "src", src)
	v := append([]float32(nil), s.data...)
	return func() ([]float32, error) { return v, nil }
}

// DownloadInt copies src into dst.
func (b *Backend) DownloadInt(dst []int32, src net.IntTensor) error {
	s := intTensor("DownloadInt", "src", src)
	if len(dst) != len(s.data) {
		panicf("DownloadInt: %d values for tensor %v", len(dst), s.shape)
	}
	copy(dst, s.data)
	return nil
}

// UploadRecords copies a dataset of records (a label byte, then C×H×W
// pixel bytes each).
func (b *Backend) UploadRecords(data []byte, img net.Shape) (net.Records, error) {
	if len(img) != 3 || img.Len() <= 0 {
		return nil, fmt.Errorf("cpu: upload records: image shape %v, want [C,H,W]", img)
	}
	rec := 1 + img.Len()
	if len(data)%rec != 0 {
		return nil, fmt.Errorf("cpu: upload records: %d bytes is not a whole number of %d-byte records", len(data), rec)
	}
	return &records{data: append([]byte(nil), data...), n: len(data) / rec, img: checkShape(img)}, nil
}

// Submit does nothing: every op has finished when it returns.
func (b *Backend) Submit() error { return nil }

// Close drops the scratch buffers.
func (b *Backend) Close() error {
	b.work = make([]scratch, b.threads)
	return nil
}
