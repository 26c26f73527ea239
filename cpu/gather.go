package cpu

import "cifarlab/net"

// Gather assembles a batch from the records: crop (from the image padded
// with pixel byte 0) and flip, then normalise through a per-channel table
// of the 256 byte values computed as torchvision does in float32:
// (float32(b)/255 − mean) / std.
func (b *Backend) Gather(x net.Tensor, labels net.IntTensor, recs net.Records, index []int32, crop []net.Crop, pad int, norm net.Normalize) {
	const op = "Gather"
	X, L := tensor(op, "x", x), intTensor(op, "labels", labels)
	R, ok := recs.(*records)
	if !ok || R == nil || R.data == nil {
		panicf("%s: records are %T, not live cpu records", op, recs)
	}
	if err := net.GatherShapes(X.shape, L.shape, R.img, R.n, index, crop, pad, norm); err != nil {
		panicf("%v", err)
	}
	c, h, w := R.img[0], R.img[1], R.img[2]
	n := len(index)
	lut := make([]float32, 256*c)
	for ch := 0; ch < c; ch++ {
		for v := 0; v < 256; v++ {
			lut[ch*256+v] = (float32(v)/255 - norm.Mean[ch]) / norm.Std[ch]
		}
	}
	rec := 1 + c*h*w
	b.parallel(n, 16, func(_, lo, hi int) {
		for i := lo; i < hi; i++ {
			src := R.data[int(index[i])*rec:][:rec]
			L.data[i] = int32(src[0])
			var cr net.Crop
			dx, dy := 0, 0
			if crop != nil {
				cr = crop[i]
				dx, dy = int(cr.DX)-pad, int(cr.DY)-pad
			}
			for ch := 0; ch < c; ch++ {
				tab := lut[ch*256 : (ch+1)*256]
				plane := src[1+ch*h*w:][:h*w]
				out := X.data[(i*c+ch)*h*w:][:h*w]
				for y := 0; y < h; y++ {
					row := out[y*w : (y+1)*w]
					sy := y + dy
					if sy < 0 || sy >= h {
						for j := range row {
							row[j] = tab[0]
						}
						continue
					}
					in := plane[sy*w : (sy+1)*w]
					// Columns xx whose source column lies in the image:
					// sx = xx+dx, or w−1−xx+dx when flipped.
					lo, hi := max(0, -dx), min(w, w-dx)
					if cr.Flip {
						lo, hi = max(0, dx), min(w, w+dx)
					}
					lo = min(lo, w)
					hi = max(hi, lo)
					for j := range row[:lo] {
						row[j] = tab[0]
					}
					for j := range row[hi:] {
						row[hi+j] = tab[0]
					}
					if cr.Flip {
						src := in[w-hi+dx : w-lo+dx] // reversed
						dst := row[lo:hi]
						for j := range dst {
							dst[j] = tab[src[len(src)-1-j]]
						}
					} else {
						src := in[lo+dx : hi+dx]
						dst := row[lo:hi]
						for j, v := range src {
							dst[j] = tab[v]
						}
					}
				}
			}
		}
	})
}
