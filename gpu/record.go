package gpu

import (
	"fmt"
	"reflect"
	"strings"
	"unsafe"

	"github.com/gogpu/wgpu"
)

// recorder holds the ops recorded since the last submit: one command
// encoder, its open compute pass, and the per-submit arena of uniform and
// small storage data (Params of every dispatch, Gather's index lists)
// written with the queue just before the submit.
type recorder struct {
	enc  *wgpu.CommandEncoder
	pass *wgpu.ComputePassEncoder
	ops  []string // op of every dispatch and copy, for errors
	// passes counts the compute passes begun, for tests.
	passes int

	chunks []*chunk // arena chunks used by this submit, the last one open
	reads  []*pendingRead
	// retired buffers are destroyed after the submit of the ops that use
	// them.
	retired []*buffer
}

// Arena sizes: uniform offsets must be multiples of 256 bytes
// (minUniformBufferOffsetAlignment, WebGPU's default and its worst case).
const (
	arenaAlign = 256
	chunkSize  = 64 << 10
)

// chunk is one buffer of the arena with its contents built on the host.
type chunk struct {
	buf  *buffer
	data []byte
	// busyUntil is the submission that last used the chunk: it is reused
	// once the queue has completed it (the browser reports 0 for every
	// submission, where WebGPU's queue ordering makes reuse safe at once).
	busyUntil uint64
}

// arenaAlloc reserves n bytes at a 256-byte aligned offset of an arena
// chunk for this submit, returning the chunk and offset.
func (b *Backend) arenaAlloc(op string, n uint64) (*chunk, uint64) {
	n = (n + arenaAlign - 1) &^ (arenaAlign - 1)
	r := &b.rec
	if len(r.chunks) > 0 {
		c := r.chunks[len(r.chunks)-1]
		if off := uint64(len(c.data)); off+n <= c.buf.size {
			c.data = c.data[:off+n]
			return c, off
		}
	}
	c := b.takeChunk(op, n)
	if c == nil {
		return nil, 0
	}
	r.chunks = append(r.chunks, c)
	c.data = c.data[:n]
	return c, 0
}

// takeChunk returns a free arena chunk of at least n bytes whose last
// submission has completed, creating one when there is none.
func (b *Backend) takeChunk(op string, n uint64) *chunk {
	done := b.queue.Poll()
	for i, c := range b.freeChunks {
		if c.buf.size >= n && c.busyUntil <= done {
			b.freeChunks = append(b.freeChunks[:i], b.freeChunks[i+1:]...)
			c.data = c.data[:0]
			return c
		}
	}
	size := max(uint64(chunkSize), sizeClass(n))
	buf := b.newBuffer(op, "arena", size, usageArena)
	if buf == nil {
		return nil
	}
	return &chunk{buf: buf, data: make([]byte, 0, size)}
}

// params reserves an arena slot holding p and returns its chunk and offset.
func params[P any](b *Backend, op string, p *P) (*chunk, uint64) {
	raw := unsafe.Slice((*byte)(unsafe.Pointer(p)), unsafe.Sizeof(*p))
	c, off := b.arenaAlloc(op, uint64(len(raw)))
	if c != nil {
		copy(c.data[off:], raw)
	}
	return c, off
}

// words reserves an arena region for little-endian 32-bit words and returns
// it as a binding.
func (b *Backend) words(op string, w []uint32) region {
	raw := unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(w))), 4*len(w))
	c, off := b.arenaAlloc(op, uint64(len(raw)))
	if c == nil {
		return region{}
	}
	copy(c.data[off:], raw)
	return region{buf: c.buf, off: off, size: uint64(len(raw))}
}

// encoder returns the command encoder of the ops being recorded.
func (b *Backend) encoder(op string) *wgpu.CommandEncoder {
	r := &b.rec
	if r.enc == nil {
		enc, err := b.device.CreateCommandEncoder(&wgpu.CommandEncoderDescriptor{Label: "cifarlab step"})
		if err != nil {
			b.fail(op, fmt.Errorf("create command encoder: %w", err))
			return nil
		}
		r.enc = enc
	}
	return r.enc
}

// computePass returns the open compute pass, beginning one when a copy
// closed the last.
func (b *Backend) computePass(op string) *wgpu.ComputePassEncoder {
	r := &b.rec
	if r.pass != nil {
		return r.pass
	}
	enc := b.encoder(op)
	if enc == nil {
		return nil
	}
	pass, err := enc.BeginComputePass(&wgpu.ComputePassDescriptor{Label: "cifarlab ops"})
	if err != nil {
		b.fail(op, fmt.Errorf("begin compute pass: %w", err))
		return nil
	}
	r.pass = pass
	r.passes++
	return pass
}

// endPass closes the open compute pass, before a copy.
func (b *Backend) endPass(op string) {
	r := &b.rec
	if r.pass == nil {
		return
	}
	if err := r.pass.End(); err != nil {
		b.fail(op, fmt.Errorf("end compute pass: %w", err))
	}
	r.pass = nil
}

// workgroups spreads g workgroups over x and y so that neither exceeds the
// device's limit per dimension; the shader's linear workgroup index is
// y·nx + x, and the invocations beyond the work check their index.
func (b *Backend) workgroups(g uint64) (x, y uint32) {
	lim := uint64(b.limits.MaxComputeWorkgroupsPerDimension)
	if g <= lim {
		return uint32(g), 1
	}
	ny := (g + lim - 1) / lim
	if ny > lim {
		panic(fmt.Sprintf("gpu: %d workgroups exceed %d×%d", g, lim, lim))
	}
	nx := (g + ny - 1) / ny
	return uint32(nx), uint32(ny)
}

// dispatch records kernel k over work invocations (one workgroup when k is
// single-workgroup) with Params p and the storage regions of k's slots, in
// order. Recording stops at the first failure, which Submit returns.
func dispatch[P any](b *Backend, op string, k *kernel, work int, p *P, regions ...region) {
	flops, first := b.flopsNext, b.firstReadNext // noted by the op for this dispatch only
	b.flopsNext, b.firstReadNext = 0, 0
	if b.failed() || work == 0 {
		return
	}
	k = b.variant(k)
	if len(regions) != len(k.slots) || reflect.TypeFor[P]() != k.params {
		panic(fmt.Sprintf("gpu: %s: %v and %d regions for %s, which takes %v and %d", op,
			reflect.TypeFor[P](), len(regions), k.name(), k.params, len(k.slots)))
	}
	for _, r := range regions {
		if r.buf == nil {
			return // an allocation failed and was recorded
		}
	}
	regions, scratch := b.unalias(op, k, regions)
	for _, buf := range scratch {
		defer b.tensors.put(buf) // later ops that reuse it run after this one
	}
	for _, r := range regions {
		if r.buf == nil {
			return
		}
	}
	pl, err := b.pipeline(k)
	if err != nil {
		b.fail(op, err)
		return
	}
	c, off := params(b, op, p)
	if c == nil {
		return
	}
	key := groupKey{p: pl, uniform: c.buf}
	copy(key.regions[:], regions)
	g, err := b.bindGroup(key)
	if err != nil {
		b.fail(op, err)
		return
	}
	pass := b.computePass(op)
	if pass == nil {
		return
	}
	x, y := uint32(1), uint32(1)
	if k.workgroup > 0 {
		x, y = b.workgroups((uint64(work) + uint64(k.workgroup) - 1) / uint64(k.workgroup))
	}
	pass.SetPipeline(pl.pipe)
	pass.SetBindGroup(0, g, []uint32{uint32(off)})
	pass.Dispatch(x, y, 1)
	b.rec.ops = append(b.rec.ops, op)
	b.counts.Dispatches++
	s := b.countDispatch(k, uint64(x)*uint64(y), flops, first, regions)
	if b.opts.Profile {
		b.timeDispatch(op, s)
	}
}

// unalias replaces every read-only region that overlaps a region the
// kernel writes with a copy of it, since WebGPU forbids binding a buffer
// as writable storage and as anything else in one dispatch (an op whose
// destination is also an input, such as SoftmaxCrossEntropy writing
// dlogits over logits). It returns the scratch buffers of the copies, for
// the pool once the dispatch is recorded.
func (b *Backend) unalias(op string, k *kernel, regions []region) ([]region, []*buffer) {
	var out []region
	var scratch []*buffer
	for i, r := range regions {
		if k.slots[i].access != read {
			continue
		}
		for j, w := range regions {
			if k.slots[j].access != readWrite || w.buf != r.buf || r.off >= w.off+w.size || w.off >= r.off+r.size {
				continue
			}
			if out == nil {
				out = append([]region(nil), regions...)
			}
			out[i] = region{}
			for i2 := 0; i2 < i; i2++ { // the same region copied already
				if regions[i2] == r && out[i2] != r {
					out[i] = out[i2]
				}
			}
			if out[i].buf == nil {
				buf := b.tensors.get(b, op, r.size)
				if buf == nil {
					return out, scratch
				}
				scratch = append(scratch, buf)
				out[i] = region{buf: buf, size: r.size}
				n := uint32(r.size / 4)
				dispatch(b, op, kCopy, int(n), &elementwiseParams{N: n}, r, out[i])
			}
			break
		}
	}
	if out == nil {
		return regions, nil
	}
	return out, scratch
}

// flush submits the recorded ops, if any.
func (b *Backend) flush() error {
	r := &b.rec
	if r.enc == nil && len(r.chunks) == 0 {
		return b.failure()
	}
	b.endPass("Submit")
	if err := b.failure(); err != nil {
		b.discard()
		return err
	}
	for _, c := range r.chunks {
		if err := b.queue.WriteBuffer(c.buf.buf, 0, c.data); err != nil {
			b.fail("Submit", fmt.Errorf("write the arena: %w", err))
			b.discard()
			return b.failure()
		}
	}
	var idx uint64
	if r.enc != nil {
		b.counts.Submits++
		cmd, err := r.enc.Finish()
		r.enc = nil
		if err != nil {
			b.fail("Submit", fmt.Errorf("finish the commands of %s: %w", opList(r.ops), err))
			b.discard()
			return b.failure()
		}
		idx, err = b.queue.Submit(cmd)
		if err != nil {
			b.fail("Submit", fmt.Errorf("submit %s: %w", opList(r.ops), err))
			b.discard()
			return b.failure()
		}
		if b.loseAfter > 0 && b.counts.Submits >= b.loseAfter {
			b.LoseDevice()
			return b.failure()
		}
	}
	for _, c := range r.chunks {
		c.busyUntil = idx
		b.freeChunks = append(b.freeChunks, c)
	}
	r.chunks = r.chunks[:0]
	for _, pr := range r.reads {
		pr.submitted(b)
	}
	r.reads = r.reads[:0]
	for _, buf := range r.retired {
		b.destroy(buf)
	}
	r.retired = r.retired[:0]
	r.ops = r.ops[:0]
	return b.failure()
}

// discard drops the recorded ops after a failure.
func (b *Backend) discard() {
	r := &b.rec
	r.pass = nil
	if r.enc != nil {
		r.enc.DiscardEncoding()
		r.enc = nil
	}
	b.freeChunks = append(b.freeChunks, r.chunks...)
	r.chunks = r.chunks[:0]
	for _, pr := range r.reads {
		pr.cancel(b)
	}
	r.reads = r.reads[:0]
	for _, buf := range r.retired {
		b.destroy(buf)
	}
	r.retired = r.retired[:0]
	r.ops = r.ops[:0]
}

// opList names the ops of a submit for an error, the first few and a count.
func opList(ops []string) string {
	const show = 8
	if len(ops) <= show {
		return strings.Join(ops, ", ")
	}
	return fmt.Sprintf("%s and %d more ops", strings.Join(ops[:show], ", "), len(ops)-show)
}
