package cpu

import "cifarlab/net"

// planeGrain is the number of planes of hw values per worker that makes at
// least about 16k values.
func planeGrain(hw int) int { return max(1, (1<<14)/max(hw, 1)) }

// MaxPool2D is max pooling over windows of each plane; argmax is the flat
// index in the plane of the first maximum in row-major order (the last NaN
// when the window holds NaNs, as in PyTorch's CPU kernel).
func (b *Backend) MaxPool2D(y net.Tensor, argmax net.IntTensor, x net.Tensor, g net.PoolGeom) {
	const op = "MaxPool2D"
	Y, A, X := tensor(op, "y", y), intTensor(op, "argmax", argmax), tensor(op, "x", x)
	n, c, h, w := dims4(op, "x", X.shape)
	if g.KH < 1 || g.KW < 1 || g.SH < 1 || g.SW < 1 || g.KH > h || g.KW > w {
		panicf("%s: window %+v does not fit x %v", op, g, X.shape)
	}
	ho, wo := g.Out(h, w)
	mustShape(op, "y", Y.shape, n, c, ho, wo)
	mustShape(op, "argmax", A.shape, n, c, ho, wo)
	hw, howo := h*w, ho*wo
	b.parallel(n*c, planeGrain(hw), func(_, lo, hi int) {
		for p := lo; p < hi; p++ {
			in := X.data[p*hw : (p+1)*hw]
			out, am := Y.data[p*howo:(p+1)*howo], A.data[p*howo:(p+1)*howo]
			if g == (net.PoolGeom{KH: 2, KW: 2, SH: 2, SW: 2}) {
				pool2x2(out, am, in, w, ho, wo)
			} else {
				poolPlane(out, am, in, w, ho, wo, g)
			}
		}
	})
}

func poolPlane(out []float32, am []int32, in []float32, w, ho, wo int, g net.PoolGeom) {
	for oy := 0; oy < ho; oy++ {
		for ox := 0; ox < wo; ox++ {
			best := oy*g.SH*w + ox*g.SW
			bv := in[best]
			for ky := 0; ky < g.KH; ky++ {
				row := (oy*g.SH+ky)*w + ox*g.SW
				for kx := 0; kx < g.KW; kx++ {
					if v := in[row+kx]; v > bv || v != v {
						best, bv = row+kx, v
					}
				}
			}
			out[oy*wo+ox], am[oy*wo+ox] = bv, int32(best)
		}
	}
}

func pool2x2(out []float32, am []int32, in []float32, w, ho, wo int) {
	for oy := 0; oy < ho; oy++ {
		r0 := in[2*oy*w : (2*oy+1)*w]
		r1 := in[(2*oy+1)*w : (2*oy+2)*w]
		o, a := out[oy*wo:(oy+1)*wo], am[oy*wo:(oy+1)*wo]
		for ox := range o {
			i := 2 * ox
			best, bv := 2*oy*w+i, r0[i]
			if v := r0[i+1]; v > bv || v != v {
				best, bv = 2*oy*w+i+1, v
			}
			if v := r1[i]; v > bv || v != v {
				best, bv = (2*oy+1)*w+i, v
			}
			if v := r1[i+1]; v > bv || v != v {
				best, bv = (2*oy+1)*w+i+1, v
			}
			o[ox], a[ox] = bv, int32(best)
		}
	}
}

// MaxPool2DBackward routes dy to the argmax positions of dx, summing where
// windows overlap.
func (b *Backend) MaxPool2DBackward(dx, dy net.Tensor, argmax net.IntTensor) {
	const op = "MaxPool2DBackward"
	DX, DY, A := tensor(op, "dx", dx), tensor(op, "dy", dy), intTensor(op, "argmax", argmax)
	n, c, h, w := dims4(op, "dx", DX.shape)
	n2, c2, ho, wo := dims4(op, "dy", DY.shape)
	if n2 != n || c2 != c {
		panicf("%s: dy %v does not fit dx %v", op, DY.shape, DX.shape)
	}
	mustShape(op, "argmax", A.shape, n, c, ho, wo)
	hw, howo := h*w, ho*wo
	b.parallel(n*c, planeGrain(hw), func(_, lo, hi int) {
		for p := lo; p < hi; p++ {
			d := DX.data[p*hw : (p+1)*hw]
			clear(d)
			for j, a := range A.data[p*howo : (p+1)*howo] {
				d[a] += DY.data[p*howo+j]
			}
		}
	})
}
