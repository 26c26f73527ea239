package gpu

import (
	"math"

	"cifarlab/net"
)

// gatherParams mirrors Params in shaders/gather.wgsl.
type gatherParams struct {
	N        uint32 `wgsl:"n"`
	C        uint32 `wgsl:"c"`
	H        uint32 `wgsl:"h"`
	W        uint32 `wgsl:"w"`
	RecLen   uint32 `wgsl:"rec_len"`
	First    uint32 `wgsl:"first"`
	Count    uint32 `wgsl:"count"`
	Pad      int32  `wgsl:"pad"`
	Crop     uint32 `wgsl:"crop"`
	CropOff  uint32 `wgsl:"crop_off"`
	TableOff uint32 `wgsl:"table_off"`
	Pad0     uint32 `wgsl:"_pad0"`
}

// kGather is gather.wgsl's batch assembly. Bindings: 1 records, 2 lists
// (indices, crops, normalisation table), 3 x, 4 labels.
var kGather = newKernel[gatherParams]("gather.wgsl", "gather", 256,
	slot{1, read}, slot{2, read}, slot{3, readWrite}, slot{4, readWrite})

// Gather assembles a batch from the records: crop (from the image padded
// with pixel byte 0) and flip, then normalise through a per-channel table of
// the 256 byte values computed on the host as the CPU backend does, so both
// give the same bits. The index list, crops and table travel in the
// per-submit arena; a dataset split over several buffers takes one
// dispatch per buffer.
func (b *Backend) Gather(x net.Tensor, labels net.IntTensor, recs net.Records, index []int32, crop []net.Crop, pad int, norm net.Normalize) {
	const op = "Gather"
	X, L := tensor(op, "x", x), intTensor(op, "labels", labels)
	R, ok := recs.(*records)
	if !ok || R == nil || R.freed {
		panicf("%s: records are %T, not live gpu records", op, recs)
	}
	if err := net.GatherShapes(X.shape, L.shape, R.img, R.n, index, crop, pad, norm); err != nil {
		panicf("%v", err)
	}
	c, h, w := R.img[0], R.img[1], R.img[2]
	n := len(index)
	if n == 0 || b.failed() {
		return
	}
	// lists: indices, then crops (dx, dy, flip), then the table.
	lists := make([]uint32, 0, n+3*len(crop)+256*c)
	for _, r := range index {
		lists = append(lists, uint32(r))
	}
	cropOff := uint32(len(lists))
	for _, cr := range crop {
		flip := uint32(0)
		if cr.Flip {
			flip = 1
		}
		lists = append(lists, uint32(cr.DX), uint32(cr.DY), flip)
	}
	tableOff := uint32(len(lists))
	for ch := 0; ch < c; ch++ {
		for v := 0; v < 256; v++ {
			lists = append(lists, math.Float32bits((float32(v)/255-norm.Mean[ch])/norm.Std[ch]))
		}
	}
	meta := b.words(op, lists)
	if meta.buf == nil {
		return
	}
	p := gatherParams{
		N: uint32(n), C: uint32(c), H: uint32(h), W: uint32(w), RecLen: uint32(R.recLen),
		Pad: int32(pad), CropOff: cropOff, TableOff: tableOff,
	}
	if crop != nil {
		p.Crop = 1
	}
	for _, ch := range R.chunks {
		if !chunkUsed(ch, index) {
			continue
		}
		p.First, p.Count = uint32(ch.first), uint32(ch.count)
		b.firstReadNext = int64(chunkCount(ch, index) * R.recLen)
		dispatch(b, op, kGather, n*c*h*w, &p, region{buf: ch.buf, size: ch.bytes}, meta, X.st.region(), L.st.region())
	}
}

// chunkCount is how many of the indexes fall in the chunk's records.
func chunkCount(ch recordChunk, index []int32) int {
	k := 0
	for _, r := range index {
		if int(r) >= ch.first && int(r) < ch.first+ch.count {
			k++
		}
	}
	return k
}

// chunkUsed reports whether any index falls in the chunk's records.
func chunkUsed(ch recordChunk, index []int32) bool {
	for _, r := range index {
		if int(r) >= ch.first && int(r) < ch.first+ch.count {
			return true
		}
	}
	return false
}
