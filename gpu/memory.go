package gpu

import (
	"fmt"
	"math/bits"
	"unsafe"

	"github.com/gogpu/gputypes"
	"github.com/gogpu/wgpu"

	"cifarlab/net"
)

// buffer is one GPU buffer the backend created.
type buffer struct {
	buf   *wgpu.Buffer
	size  uint64
	usage gputypes.BufferUsage
	label string
}

// Buffer usages of the backend's kinds of buffer. Tensors (and records)
// also carry Uniform, though never bound as one: natively gogpu follows a
// queue write with a barrier only for buffers with a read usage among
// vertex, index, uniform and indirect, so without it the shaders of the
// next submit could read a storage buffer before an Upload's copy lands.
// TestTensorUsagePinned fails when gogpu is another release than the one
// this was checked against.
const (
	usageTensor  = gputypes.BufferUsageStorage | gputypes.BufferUsageUniform | gputypes.BufferUsageCopySrc | gputypes.BufferUsageCopyDst
	usageStaging = gputypes.BufferUsageMapRead | gputypes.BufferUsageCopyDst
	usageArena   = gputypes.BufferUsageUniform | gputypes.BufferUsageStorage | gputypes.BufferUsageCopyDst
)

// newBuffer creates a buffer, recording a failure (and returning nil) when
// the device cannot.
func (b *Backend) newBuffer(op, label string, size uint64, usage gputypes.BufferUsage) *buffer {
	if size > b.limits.MaxBufferSize {
		b.fail(op, fmt.Errorf("buffer of %d bytes exceeds the device's largest buffer (%d bytes): %w", size, b.limits.MaxBufferSize, errOutOfMemory))
		return nil
	}
	b.nbuf++
	label = fmt.Sprintf("cifarlab %s %d", label, b.nbuf)
	wb, err := b.device.CreateBuffer(&wgpu.BufferDescriptor{Label: label, Size: size, Usage: usage})
	if err != nil {
		b.fail(op, fmt.Errorf("create buffer of %d bytes: %w", size, err))
		return nil
	}
	buf := &buffer{buf: wb, size: size, usage: usage, label: label}
	b.live[buf] = struct{}{}
	return buf
}

// destroy releases a buffer and the bind groups that bind it.
func (b *Backend) destroy(buf *buffer) {
	b.dropGroups(buf)
	delete(b.live, buf)
	buf.buf.Release()
}

// MemoryHeld is the bytes of every device buffer the backend holds:
// tensors, pooled buffers, staging buffers, records, arenas.
func (b *Backend) MemoryHeld() int64 {
	var n int64
	for buf := range b.live {
		n += int64(buf.size)
	}
	return n
}

// TrimMemory destroys the pooled tensor and staging buffers, once the work
// recorded so far no longer needs them: the pool only grows while a
// network trains, so after a model switch, a reset or a change of batch
// size it would keep holding the largest network's peak.
func (b *Backend) TrimMemory() {
	if b.closed {
		return
	}
	for _, p := range []*pool{b.tensors, b.stagings} {
		for c, l := range p.free {
			for _, buf := range l {
				b.retire(buf)
			}
			delete(p.free, c)
		}
	}
}

// sizeClass rounds n bytes up to the pool's classes: 256 bytes, then powers
// of two and one and a half times them, so a pooled buffer wastes at most a
// third of itself.
func sizeClass(n uint64) uint64 {
	if n <= 256 {
		return 256
	}
	p := uint64(1) << (63 - bits.LeadingZeros64(n-1)) // largest power of two < n
	if n <= p+p/2 {
		return p + p/2
	}
	return 2 * p
}

// pool keeps released buffers of one usage by size class, so that the
// tensors of every training step reuse the buffers of the one before.
type pool struct {
	usage gputypes.BufferUsage
	label string
	free  map[uint64][]*buffer
}

func newPool(usage gputypes.BufferUsage, label string) *pool {
	return &pool{usage: usage, label: label, free: map[uint64][]*buffer{}}
}

// get returns a buffer of at least n bytes (nil after a failure).
func (p *pool) get(b *Backend, op string, n uint64) *buffer {
	c := sizeClass(n)
	if c > b.limits.MaxBufferSize && n <= b.limits.MaxBufferSize {
		c = (n + 3) &^ 3
	}
	if l := p.free[c]; len(l) > 0 {
		buf := l[len(l)-1]
		p.free[c] = l[:len(l)-1]
		return buf
	}
	return b.newBuffer(op, p.label, c, p.usage)
}

// put returns a buffer to the pool.
func (p *pool) put(buf *buffer) {
	p.free[buf.size] = append(p.free[buf.size], buf)
}

// unused returns a small buffer to bind where a dispatch leaves a binding
// of its kernel unused (the bias of a convolution without one, the x of an
// empty SumSquares): a bind group needs a buffer at every binding of its
// layout. Kernels never read or write it; it is made on first use and
// filled with NaN, so that a kernel that did read it would show.
func (b *Backend) unused(op string) region {
	if b.spare == nil {
		buf := b.newBuffer(op, "unused", 256, usageTensor)
		if buf == nil {
			return region{}
		}
		nan := make([]uint32, buf.size/4)
		for i := range nan {
			nan[i] = 0x7fc00000
		}
		if err := b.queue.WriteBuffer(buf.buf, 0, unsafe.Slice((*byte)(unsafe.Pointer(&nan[0])), buf.size)); err != nil {
			b.fail(op, fmt.Errorf("fill the unused-binding buffer: %w", err))
			return region{}
		}
		b.spare = buf
	}
	return region{buf: b.spare, size: b.spare.size}
}

// storage is the memory of a tensor and of its reshaped views.
type storage struct {
	buf   *buffer // nil for an empty tensor, or after a failure
	off   uint64  // where the tensor starts in buf (0 unless packed)
	bytes uint64  // 4 × elements
	slab  *slab   // the shared buffer of a packed tensor (see Pack), else nil
	freed bool
}

// region is the storage's bytes as a binding.
func (s *storage) region() region { return region{buf: s.buf, off: s.off, size: s.bytes} }

// slab is a buffer that holds the storage of several tensors, packed by
// Pack; it is destroyed when the last of them is freed.
type slab struct {
	buf     *buffer
	members int // tensors packed into it
	live    int // of them, not yet freed
}

// Tensor is a float32 array in a GPU storage buffer.
type Tensor struct {
	shape net.Shape
	st    *storage
	view  bool // made by Reshape: Free leaves the storage alone
}

// Shape is the tensor's shape; callers must not modify it.
func (t *Tensor) Shape() net.Shape { return t.shape }

// IntTensor is an int32 array in a GPU storage buffer.
type IntTensor struct {
	shape net.Shape
	st    *storage
}

// Shape is the tensor's shape; callers must not modify it.
func (t *IntTensor) Shape() net.Shape { return t.shape }

// panicf reports shape misuse.
func panicf(format string, args ...any) {
	panic(fmt.Sprintf("gpu: "+format, args...))
}

// tensor unwraps a net.Tensor of this backend.
func tensor(op, name string, t net.Tensor) *Tensor {
	x, ok := t.(*Tensor)
	if !ok || x == nil {
		panicf("%s: %s is %T, not a gpu tensor", op, name, t)
	}
	if x.st.freed {
		panicf("%s: %s was freed", op, name)
	}
	return x
}

// intTensor unwraps a net.IntTensor of this backend.
func intTensor(op, name string, t net.IntTensor) *IntTensor {
	x, ok := t.(*IntTensor)
	if !ok || x == nil {
		panicf("%s: %s is %T, not a gpu int tensor", op, name, t)
	}
	if x.st.freed {
		panicf("%s: %s was freed", op, name)
	}
	return x
}

func checkShape(s net.Shape) net.Shape {
	for _, d := range s {
		if d < 0 {
			panicf("negative dimension in shape %v", s)
		}
	}
	return append(net.Shape(nil), s...)
}

// newStorage takes a buffer for n 4-byte elements from the pool and
// records a dispatch that zeroes it.
func (b *Backend) newStorage(op string, n int) *storage {
	st := &storage{bytes: 4 * uint64(n)}
	if n == 0 || b.failed() {
		return st
	}
	if st.bytes > b.limits.MaxStorageBufferBindingSize {
		b.fail(op, fmt.Errorf("tensor of %d bytes exceeds the device's largest storage binding (%d bytes): %w",
			st.bytes, b.limits.MaxStorageBufferBindingSize, errOutOfMemory))
		return st
	}
	st.buf = b.tensors.get(b, op, st.bytes)
	if st.buf != nil {
		b.zero(op, st)
	}
	return st
}

// NewTensor allocates a zero-filled tensor (the zeroing is recorded like
// an op, so a recycled buffer is cleared in stream order).
func (b *Backend) NewTensor(s net.Shape) net.Tensor {
	s = checkShape(s)
	return &Tensor{shape: s, st: b.newStorage("NewTensor", s.Len())}
}

// NewIntTensor allocates a zero-filled int32 tensor.
func (b *Backend) NewIntTensor(s net.Shape) net.IntTensor {
	s = checkShape(s)
	return &IntTensor{shape: s, st: b.newStorage("NewIntTensor", s.Len())}
}

// Reshape returns a view of t with shape s sharing its storage.
func (b *Backend) Reshape(t net.Tensor, s net.Shape) net.Tensor {
	x := tensor("Reshape", "t", t)
	s = checkShape(s)
	if s.Len() != x.shape.Len() {
		panicf("Reshape: %v has %d elements, tensor %v has %d", s, s.Len(), x.shape, x.shape.Len())
	}
	return &Tensor{shape: s, st: x.st, view: true}
}

// Free returns a tensor's buffer to the pool (views free nothing) and
// destroys the buffers of records; using a freed tensor panics. Ops
// recorded before Free still see the tensor's contents.
func (b *Backend) Free(t any) {
	switch x := t.(type) {
	case *Tensor:
		if !x.view {
			b.release(x.st)
		}
	case *IntTensor:
		b.release(x.st)
	case *records:
		if !x.freed {
			x.freed = true
			for _, c := range x.chunks {
				if c.buf != nil && !b.closed {
					b.retire(c.buf)
				}
			}
		}
	default:
		panicf("Free: %T is not a gpu tensor", t)
	}
}

func (b *Backend) release(st *storage) {
	if st.freed {
		return
	}
	st.freed = true
	switch {
	case st.slab != nil:
		if st.slab.live--; st.slab.live == 0 && st.slab.buf != nil && !b.closed {
			b.retire(st.slab.buf)
		}
		st.slab = nil
	case st.buf != nil && !b.closed:
		b.tensors.put(st.buf)
	}
	st.buf = nil
}

// retire destroys buf once the ops recorded so far no longer need it: at
// once when nothing is recorded, else after the next submit.
func (b *Backend) retire(buf *buffer) {
	if b.rec.enc == nil {
		b.destroy(buf)
		return
	}
	b.rec.retired = append(b.rec.retired, buf)
}
