package backendtest

import (
	"fmt"
	"testing"

	"cifarlab/net"
)

// cifarNorm is CIFAR-10's usual per-channel normalisation.
var cifarNorm = net.Normalize{
	Mean: []float32{0.4914, 0.4822, 0.4465},
	Std:  []float32{0.2470, 0.2435, 0.2616},
}

// records returns n random records of image shape img: labels below 10
// except record 1's (200, a byte above 127), pixels covering 0 and 255.
func records(rnd *gen, n int, img net.Shape) []byte {
	rec := 1 + img.Len()
	data := make([]byte, n*rec)
	for i := range data {
		data[i] = byte(rnd.r.IntN(256))
	}
	for i := 0; i < n; i++ {
		data[i*rec] = byte(rnd.r.IntN(10))
		data[i*rec+1] = 0
		data[i*rec+2] = 255
	}
	data[rec] = 200
	return data
}

// crops returns one crop per index covering both edges (0 and 2·pad) in
// each direction, the identity crop (pad, pad) and flips.
func crops(n, pad int) []net.Crop {
	p2 := int32(2 * pad)
	p := int32(pad)
	all := []net.Crop{
		{DX: 0, DY: 0}, {DX: p2, DY: p2, Flip: true}, {DX: 0, DY: p2, Flip: true}, {DX: p2, DY: 0},
		{DX: 1, DY: 3, Flip: true}, {DX: p, DY: p}, {DX: 3, DY: 1}, {DX: p2, DY: 1, Flip: true},
		{DX: p, DY: p, Flip: true},
	}
	out := make([]net.Crop, n)
	for i := range out {
		out[i] = all[i%len(all)]
	}
	return out
}

// CheckGather checks Gather with repeated, out-of-order indices, crops at
// the padded edges, flips and no crop, on a CIFAR-sized and a small
// non-square image; labels must come back as int32 (200 stays 200).
func CheckGather(t *testing.T, b net.Backend, p Profile) {
	type gatherCase struct {
		img   net.Shape
		nrec  int
		index []int32
		pad   int
		crop  bool
	}
	index := []int32{4, 0, 10, 4, 4, 7, 1, 10, 2}
	cases := []gatherCase{
		{net.Shape{3, 7, 9}, 11, index, 2, true},
		{net.Shape{3, 7, 9}, 11, index, 0, false},
		{net.Shape{3, 32, 32}, 11, index, 4, true},
		{net.Shape{3, 32, 32}, 3, []int32{2}, 4, true},
	}
	for i, c := range cases {
		name := fmt.Sprintf("Gather/img%s_recs%d_batch%d_pad%d", shapeName(c.img), c.nrec, len(c.index), c.pad)
		if !c.crop {
			name = fmt.Sprintf("Gather/img%s_recs%d_batch%d_nocrop", shapeName(c.img), c.nrec, len(c.index))
		}
		t.Run(name, func(t *testing.T) {
			s := newSession(t, b)
			data := records(newGen(uint64(60000+i)), c.nrec, c.img)
			recs, err := b.UploadRecords(data, c.img)
			if err != nil {
				t.Fatalf("UploadRecords: %v", err)
			}
			t.Cleanup(func() { b.Free(recs) })
			if recs.Len() != c.nrec || !recs.Image().Equal(c.img) {
				t.Fatalf("records: Len %d Image %v, want %d %v", recs.Len(), recs.Image(), c.nrec, c.img)
			}
			var cr []net.Crop
			if c.crop {
				cr = crops(len(c.index), c.pad)
			}
			xs := append(net.Shape{len(c.index)}, c.img...)
			x, labels := s.dst(xs), s.ints(net.Shape{len(c.index)}, fill32(len(c.index), -7))
			b.Gather(x, labels, recs, c.index, cr, c.pad, cifarNorm)
			want, wantLabels := RefGather(data, c.img, c.index, cr, c.pad, cifarNorm)
			checkClose(t, "x", s.get(x), want, tolElem)
			checkInts(t, "labels", net.Shape{len(c.index)}, s.getInts(labels), wantLabels)
		})
	}
	t.Run("UploadRecords/bad_length", func(t *testing.T) {
		recs, err := b.UploadRecords(make([]byte, 2*(1+3*4*4)+5), net.Shape{3, 4, 4})
		if err == nil {
			b.Free(recs)
			t.Errorf("UploadRecords of 2 records and 5 stray bytes returned no error")
		}
	})
}
