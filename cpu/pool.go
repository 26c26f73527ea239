package cpu

import "cifarlab/net"

// planeGrain is the number of planes of hw values per worker that makes at
// least about 16k values.
func planeGrain(hw int) int { return max(1, (1<<14)/max(hw, 1)) }

// MaxPool2D is max pooling over windows of each plane; argmax is the flat
// index in the plane of the first maximum in row-major order.
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
	is2x2 := g == net.PoolGeom{KH: 2, KW: 2, SH: 2, SW: 2}
	b.parallel(n*c, planeGrain(hw), func(_, lo, hi int) {
		switch {
		case hw == 1: // 1×1 planes (ResNet18's global pool): a copy
			copy(Y.data[lo:hi], X.data[lo:hi])
			clear(A.data[lo:hi])
		case is2x2:
			for p := lo; p < hi; p++ {
				pool2x2(Y.data[p*howo:(p+1)*howo], A.data[p*howo:(p+1)*howo], X.data[p*hw:(p+1)*hw], w, ho, wo)
			}
		default:
			for p := lo; p < hi; p++ {
				poolPlane(Y.data[p*howo:(p+1)*howo], A.data[p*howo:(p+1)*howo], X.data[p*hw:(p+1)*hw], w, ho, wo, g)
			}
		}
	})
}

// The window loops are written so that the compiler keeps them free of
// data-dependent branches (SETcc/CMOV and MAXSS): a branch per comparison
// would be mispredicted half the time on real data. A NaN in a window
// makes the output NaN; its argmax is then unspecified.

func poolPlane(out []float32, am []int32, in []float32, w, ho, wo int, g net.PoolGeom) {
	for oy := 0; oy < ho; oy++ {
		for ox := 0; ox < wo; ox++ {
			first := oy*g.SH*w + ox*g.SW
			best, bv := first, in[first]
			for ky := 0; ky < g.KH; ky++ {
				row := in[first+ky*w : first+ky*w+g.KW]
				for kx, v := range row {
					if v > bv {
						best = first + ky*w + kx
					}
					bv = max(bv, v)
				}
			}
			out[oy*wo+ox], am[oy*wo+ox] = bv, int32(best)
		}
	}
}

// pool2x2 is poolPlane for 2×2 windows at stride 2: the first maximum of
// each row pair, then the lower row's only if strictly greater.
func pool2x2(out []float32, am []int32, in []float32, w, ho, wo int) {
	for oy := 0; oy < ho; oy++ {
		r0 := in[2*oy*w : (2*oy+1)*w]
		r1 := in[(2*oy+1)*w : (2*oy+2)*w]
		o, a := out[oy*wo:(oy+1)*wo], am[oy*wo:(oy+1)*wo]
		base0, base1 := int32(2*oy*w), int32((2*oy+1)*w)
		for ox := range o {
			i := 2 * ox
			x0, x1, x2, x3 := r0[i], r0[i+1], r1[i], r1[i+1]
			t, ti := x0, base0+int32(i)
			if x1 > t {
				ti++
			}
			t = max(t, x1)
			u, ui := x2, base1+int32(i)
			if x3 > u {
				ui++
			}
			u = max(u, x3)
			if u > t {
				ti = ui
			}
			o[ox], a[ox] = max(t, u), ti
		}
	}
}

// MaxPool2DBackward routes dy to the argmax positions of dx, summing where
// windows overlap. g is the geometry of the forward that made argmax; the
// routing needs only argmax, but dy must have the shape g gives dx.
func (b *Backend) MaxPool2DBackward(dx, dy net.Tensor, argmax net.IntTensor, g net.PoolGeom) {
	const op = "MaxPool2DBackward"
	DX, DY, A := tensor(op, "dx", dx), tensor(op, "dy", dy), intTensor(op, "argmax", argmax)
	n, c, h, w := dims4(op, "dx", DX.shape)
	if g.KH < 1 || g.KW < 1 || g.SH < 1 || g.SW < 1 || g.KH > h || g.KW > w {
		panicf("%s: window %+v does not fit dx %v", op, g, DX.shape)
	}
	ho, wo := g.Out(h, w)
	if want := (net.Shape{n, c, ho, wo}); !DY.shape.Equal(want) {
		panicf("%s: dy has shape %v, want %v: dx %v pooled by %+v", op, DY.shape, want, DX.shape, g)
	}
	mustShape(op, "argmax", A.shape, n, c, ho, wo)
	hw, howo := h*w, ho*wo
	b.parallel(n*c, planeGrain(hw), func(_, lo, hi int) {
		dxs, dys, am := DX.data[lo*hw:hi*hw], DY.data[lo*howo:hi*howo], A.data[lo*howo:hi*howo]
		if hw == 1 { // 1×1 planes: every argmax is 0
			copy(dxs, dys)
			return
		}
		clear(dxs)
		for p := 0; p < hi-lo; p++ {
			d := dxs[p*hw : (p+1)*hw]
			for j, a := range am[p*howo : (p+1)*howo] {
				d[a] += dys[p*howo+j]
			}
		}
	})
}

// GlobalAvgPool2D is y[n,c,0,0] = the mean of plane (n, c) of x, summed in
// float64.
func (b *Backend) GlobalAvgPool2D(y, x net.Tensor) {
	const op = "GlobalAvgPool2D"
	Y, X := tensor(op, "y", y), tensor(op, "x", x)
	planes, hw, err := net.GlobalAvgPoolShapes(op, Y.shape, X.shape)
	if err != nil {
		panicf("%v", err)
	}
	b.parallel(planes, planeGrain(hw), func(_, lo, hi int) {
		for p := lo; p < hi; p++ {
			Y.data[p] = float32(sum64(X.data[p*hw:(p+1)*hw]) / float64(hw))
		}
	})
}

// GlobalAvgPool2DBackward spreads dy[n,c,0,0] / (H·W) over plane (n, c) of dx.
func (b *Backend) GlobalAvgPool2DBackward(dx, dy net.Tensor) {
	const op = "GlobalAvgPool2DBackward"
	DX, DY := tensor(op, "dx", dx), tensor(op, "dy", dy)
	planes, hw, err := net.GlobalAvgPoolShapes(op, DY.shape, DX.shape)
	if err != nil {
		panicf("%v", err)
	}
	b.parallel(planes, planeGrain(hw), func(_, lo, hi int) {
		for p := lo; p < hi; p++ {
			v := DY.data[p] / float32(hw)
			plane := DX.data[p*hw : (p+1)*hw]
			for i := range plane {
				plane[i] = v
			}
		}
	})
}
