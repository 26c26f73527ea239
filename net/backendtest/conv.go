package backendtest

import (
	"fmt"
	"math"
	"testing"

	"cifarlab/net"
)

type convCase struct{ n, ci, h, w, co, k, stride, pad int }

func (c convCase) name() string {
	return fmt.Sprintf("n%d_c%dx%dx%d_o%d_k%ds%dp%d", c.n, c.ci, c.h, c.w, c.co, c.k, c.stride, c.pad)
}

func convCases(p Profile) []convCase {
	cs := []convCase{
		{3, 3, 11, 11, 6, 5, 1, 0}, // LeNet conv1-like
		{3, 5, 7, 9, 6, 3, 2, 1},
		{3, 6, 11, 11, 13, 3, 1, 1}, // ResNet 3×3-like
		{3, 13, 7, 9, 5, 1, 1, 0},   // pointwise
		{3, 5, 11, 11, 3, 1, 2, 0},  // strided 1×1 shortcut
		{3, 3, 7, 9, 5, 5, 3, 1},
		{3, 5, 9, 7, 6, 3, 3, 0}, // stride drops trailing pixels
		{1, 3, 5, 5, 4, 5, 1, 0}, // 1×1 output
		{2, 6, 3, 3, 5, 5, 1, 1}, // kernel larger than the image: outer taps only see padding
		{3, 5, 1, 1, 6, 3, 1, 1}, // 1×1 image: only the centre tap sees it
		{3, 6, 2, 2, 5, 3, 2, 1}, // 2×2 → 1×1 at stride 2: the first row and column are padding
		{3, 5, 1, 3, 4, 3, 1, 1}, // one row: only the middle kernel row sees it
	}
	if p == Standard {
		cs = append(cs,
			convCase{4, 16, 17, 17, 24, 3, 1, 1},
			convCase{5, 32, 6, 6, 20, 3, 2, 1},
			convCase{3, 24, 16, 16, 8, 1, 1, 0},
			convCase{7, 8, 5, 5, 12, 3, 1, 1},
			convCase{2, 7, 16, 19, 40, 5, 1, 2}, // centred 5×5, more output channels than a CPU reads in place
			convCase{2, 3, 1, 1, 4, 3, 10, 5},   // padding so wide that the kernel never sees the image: y = b
			// Output channels in vectors of 16 (one, two, three), the
			// weight gradient of a CPU with AVX-512 on its panel kernels.
			convCase{3, 5, 9, 10, 16, 3, 1, 1},
			convCase{2, 9, 8, 8, 32, 3, 1, 1},
			convCase{2, 4, 12, 11, 48, 5, 1, 2},
			// Rows 32 wide: a CPU's shifted lowering writes each output row
			// in place (the second also with AVX2 alone, whose lowering
			// takes only planes of about 32×32).
			convCase{2, 5, 6, 32, 16, 3, 1, 1},
			convCase{1, 3, 16, 32, 16, 3, 1, 1},
		)
	}
	return cs
}

// gradCheck is the reference side of a backward check: the reference
// gradient, the magnitude of its sums, and finite differences at idx.
type gradCheck struct {
	ref, mag Array
	idx      []int
	fd       []float64
}

// check compares a backend gradient with the reference and the finite
// differences.
func (g gradCheck) check(t *testing.T, name string, got []float32, tol Tol) {
	t.Helper()
	checkSum(t, name+" vs reference", got, g.ref, g.mag, tol)
	checkAt(t, name+" vs finite differences", g.ref.Shape, got, g.fd, g.idx, g.mag.Data, tol)
}

// CheckConv2D checks Conv2D, Conv2DBackwardData and Conv2DBackwardParams
// against the reference and finite differences.
func CheckConv2D(t *testing.T, b net.Backend, p Profile) {
	for i, c := range convCases(p) {
		g := net.ConvGeom{Stride: c.stride, Pad: c.pad}
		xs := net.Shape{c.n, c.ci, c.h, c.w}
		ws := net.Shape{c.co, c.ci, c.k, c.k}
		bs := net.Shape{c.co}
		ys := net.Shape{c.n, c.co, g.Out(c.h, c.k), g.Out(c.w, c.k)}
		rnd := newGen(uint64(1000 + i))
		x := rnd.normal(xs.Len(), 1)
		w := rnd.normal(ws.Len(), 1/math.Sqrt(float64(c.ci*c.k*c.k)))
		bias := rnd.normal(bs.Len(), 1)
		r := rnd.normal(ys.Len(), 1) // projection of L = Σ r·y, i.e. dy
		X, W, B, R := ArrayOf(xs, x), ArrayOf(ws, w), ArrayOf(bs, bias), ArrayOf(ys, r)
		count := fdCount(ys.Len() * c.ci * c.k * c.k)
		key := "Conv2D/" + c.name()
		// L is linear in x, w and b: any step gives the exact derivative
		// up to rounding.
		const h = 0.5
		loss := func() float64 { return dot(R.Data, RefConv2D(X, W, B, g).Data) }

		t.Run("Conv2D/"+c.name(), func(t *testing.T) {
			want := memo(key+"/y", func() [2]Array {
				return [2]Array{RefConv2D(X, W, B, g), RefConv2D(X.Abs(), W.Abs(), B.Abs(), g)}
			})
			s := newSession(t, b)
			y := s.dst(ys)
			b.Conv2D(y, s.tensor(xs, x), s.tensor(ws, w), s.tensor(bs, bias), g)
			checkSum(t, "y", s.get(y), want[0], want[1], tolSum)
		})

		t.Run("Conv2DBackwardData/"+c.name(), func(t *testing.T) {
			want := memo(key+"/dx", func() gradCheck {
				idx := newGen(uint64(2000+i)).sample(xs.Len(), count)
				return gradCheck{RefConv2DBackwardData(R, W, xs, g), RefConv2DBackwardData(R.Abs(), W.Abs(), xs, g),
					idx, fd(loss, X.Data, idx, h)}
			})
			s := newSession(t, b)
			dx := s.dst(xs)
			b.Conv2DBackwardData(dx, s.tensor(ys, r), s.tensor(ws, w), g)
			want.check(t, "dx", s.get(dx), tolSum)
		})

		t.Run("Conv2DBackwardParams/"+c.name(), func(t *testing.T) {
			want := memo(key+"/dw", func() [2]gradCheck {
				dw, db := RefConv2DBackwardParams(R, X, ws, g)
				magW, magB := RefConv2DBackwardParams(R.Abs(), X.Abs(), ws, g)
				idxW := newGen(uint64(3000+i)).sample(ws.Len(), count)
				idxB := newGen(uint64(4000+i)).sample(bs.Len(), count)
				return [2]gradCheck{{dw, magW, idxW, fd(loss, W.Data, idxW, h)}, {db, magB, idxB, fd(loss, B.Data, idxB, h)}}
			})
			s := newSession(t, b)
			dw, db := s.dst(ws), s.dst(bs)
			b.Conv2DBackwardParams(dw, db, s.tensor(ys, r), s.tensor(xs, x), g)
			want[0].check(t, "dw", s.get(dw), tolSum)
			want[1].check(t, "db", s.get(db), tolSum)
		})

		// Without bias (bias=False): a nil b and db.
		t.Run("Conv2D/"+c.name()+"_nobias", func(t *testing.T) {
			want := memo(key+"/y_nobias", func() [2]Array {
				zero := NewArray(bs)
				return [2]Array{RefConv2D(X, W, zero, g), RefConv2D(X.Abs(), W.Abs(), zero, g)}
			})
			s := newSession(t, b)
			y := s.dst(ys)
			b.Conv2D(y, s.tensor(xs, x), s.tensor(ws, w), nil, g)
			checkSum(t, "y", s.get(y), want[0], want[1], tolSum)
		})

		t.Run("Conv2DBackwardParams/"+c.name()+"_nobias", func(t *testing.T) {
			want := memo(key+"/dw_nobias", func() gradCheck {
				dw, _ := RefConv2DBackwardParams(R, X, ws, g)
				magW, _ := RefConv2DBackwardParams(R.Abs(), X.Abs(), ws, g)
				idxW := newGen(uint64(3000+i)).sample(ws.Len(), count)
				return gradCheck{dw, magW, idxW, fd(loss, W.Data, idxW, h)}
			})
			s := newSession(t, b)
			dw := s.dst(ws)
			b.Conv2DBackwardParams(dw, nil, s.tensor(ys, r), s.tensor(xs, x), g)
			want.check(t, "dw", s.get(dw), tolSum)
		})
	}
}

type linearCase struct{ n, in, out int }

func (c linearCase) name() string { return fmt.Sprintf("n%d_%dto%d", c.n, c.in, c.out) }

func linearCases(p Profile) []linearCase {
	cs := []linearCase{{3, 17, 11}, {1, 1, 1}, {3, 10, 33}, {4, 84, 10}, {5, 400, 120}}
	if p == Standard {
		cs = append(cs, linearCase{37, 129, 65}, linearCase{256, 84, 10})
	}
	return cs
}

// CheckLinear checks Linear, LinearBackwardData and LinearBackwardParams
// against the reference and finite differences.
func CheckLinear(t *testing.T, b net.Backend, p Profile) {
	for i, c := range linearCases(p) {
		xs, ws, bs, ys := net.Shape{c.n, c.in}, net.Shape{c.out, c.in}, net.Shape{c.out}, net.Shape{c.n, c.out}
		rnd := newGen(uint64(5000 + i))
		x := rnd.normal(xs.Len(), 1)
		w := rnd.normal(ws.Len(), 1/math.Sqrt(float64(c.in)))
		bias := rnd.normal(bs.Len(), 1)
		r := rnd.normal(ys.Len(), 1)
		X, W, B, R := ArrayOf(xs, x), ArrayOf(ws, w), ArrayOf(bs, bias), ArrayOf(ys, r)
		count := fdCount(c.n * c.in * c.out)
		key := "Linear/" + c.name()
		const h = 0.5 // L is linear
		loss := func() float64 { return dot(R.Data, RefLinear(X, W, B).Data) }

		t.Run("Linear/"+c.name(), func(t *testing.T) {
			want := memo(key+"/y", func() [2]Array {
				return [2]Array{RefLinear(X, W, B), RefLinear(X.Abs(), W.Abs(), B.Abs())}
			})
			s := newSession(t, b)
			y := s.dst(ys)
			b.Linear(y, s.tensor(xs, x), s.tensor(ws, w), s.tensor(bs, bias))
			checkSum(t, "y", s.get(y), want[0], want[1], tolSum)
		})

		t.Run("LinearBackwardData/"+c.name(), func(t *testing.T) {
			want := memo(key+"/dx", func() gradCheck {
				idx := newGen(uint64(6000+i)).sample(xs.Len(), count)
				return gradCheck{RefLinearBackwardData(R, W), RefLinearBackwardData(R.Abs(), W.Abs()), idx, fd(loss, X.Data, idx, h)}
			})
			s := newSession(t, b)
			dx := s.dst(xs)
			b.LinearBackwardData(dx, s.tensor(ys, r), s.tensor(ws, w))
			want.check(t, "dx", s.get(dx), tolSum)
		})

		t.Run("LinearBackwardParams/"+c.name(), func(t *testing.T) {
			want := memo(key+"/dw", func() [2]gradCheck {
				dw, db := RefLinearBackwardParams(R, X)
				magW, magB := RefLinearBackwardParams(R.Abs(), X.Abs())
				idxW := newGen(uint64(7000+i)).sample(ws.Len(), count)
				idxB := newGen(uint64(8000+i)).sample(bs.Len(), count)
				return [2]gradCheck{{dw, magW, idxW, fd(loss, W.Data, idxW, h)}, {db, magB, idxB, fd(loss, B.Data, idxB, h)}}
			})
			s := newSession(t, b)
			dw, db := s.dst(ws), s.dst(bs)
			b.LinearBackwardParams(dw, db, s.tensor(ys, r), s.tensor(xs, x))
			want[0].check(t, "dw", s.get(dw), tolSum)
			want[1].check(t, "db", s.get(db), tolSum)
		})
	}
}
