package gpu

import (
	"cifarlab/net"
)

// Pack moves the storage of ts into one buffer, in order, each tensor at an
// offset aligned for a storage binding; their contents, views and uses
// stay as they were (the copies are recorded in stream order). The net
// package packs a network's parameters, their gradients and Adam's two
// moments this way, four buffers laid out alike, so that AdamAll updates
// them all in one dispatch. Tensors already packed, views, and lists whose
// buffer would exceed the device's largest storage binding are left as
// they are.
func (b *Backend) Pack(ts []net.Tensor) {
	const op = "Pack"
	xs := make([]*Tensor, len(ts))
	offs := make([]uint64, len(ts))
	align := max(uint64(b.limits.MinStorageBufferOffsetAlignment), 4)
	var total uint64
	for i, t := range ts {
		x := tensor(op, "tensor", t)
		if x.view || x.st.slab != nil {
			return
		}
		xs[i], offs[i] = x, total
		total += (x.st.bytes + align - 1) / align * align
	}
	if total == 0 || b.failed() || total > b.limits.MaxStorageBufferBindingSize {
		return
	}
	buf := b.newBuffer(op, "packed", total, usageTensor)
	if buf == nil {
		return
	}
	s := &slab{buf: buf, members: len(xs), live: len(xs)}
	// The padding between tensors is zeroed, so that AdamAll, which runs
	// over it too, finds zeros there and leaves zeros. The tensors are
	// copied by a kernel: gogpu (v0.34) counts a buffer written by one
	// copy command and read by a later one in the same encoder as a usage
	// conflict, which a read-back of a packed tensor would be.
	b.zero(op, &storage{buf: buf, bytes: total})
	for i, x := range xs {
		if x.st.buf != nil {
			n := uint32(x.st.bytes / 4)
			dispatch(b, op, kCopy, int(n), &elementwiseParams{N: n}, x.st.region(), region{buf: buf, off: offs[i], size: x.st.bytes})
			b.retire(x.st.buf) // destroyed after the submit of the copy, not pooled: packing is once
		}
		x.st.buf, x.st.off, x.st.slab = buf, offs[i], s
	}
}

// AdamAll is Adam (see Adam) over every parameter at once: params, grads,
// ms and vs must each have been packed by one Pack call, in the same order,
// with nothing else in their buffers. It reports false, doing nothing,
// when they are not (the caller then updates each tensor with Adam).
func (b *Backend) AdamAll(params, grads, ms, vs []net.Tensor, p net.AdamParams) bool {
	const op = "AdamAll"
	n := len(params)
	if n == 0 || len(grads) != n || len(ms) != n || len(vs) != n {
		return false
	}
	var slabs [4]*slab
	for k, list := range [][]net.Tensor{params, grads, ms, vs} {
		for i, t := range list {
			x := tensor(op, "tensor", t)
			lead := tensor(op, "param", params[i])
			if x.st.slab == nil || x.st.off != lead.st.off || x.st.bytes != lead.st.bytes {
				return false
			}
			if i == 0 {
				slabs[k] = x.st.slab
			} else if x.st.slab != slabs[k] {
				return false
			}
		}
		if s := slabs[k]; s.members != n || s.live != n || s.buf == nil || s.buf.size != slabs[0].buf.size {
			return false
		}
	}
	whole := func(s *slab) region { return region{buf: s.buf, size: s.buf.size} }
	b.adam(op, int(slabs[0].buf.size/4), p, whole(slabs[1]), whole(slabs[0]), whole(slabs[2]), whole(slabs[3]))
	return true
}

var _ net.Packer = (*Backend)(nil)
