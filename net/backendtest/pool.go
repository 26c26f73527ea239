package backendtest

import (
	"fmt"
	"testing"

	"cifarlab/net"
)

type poolCase struct {
	n, c, h, w int
	g          net.PoolGeom
}

func (c poolCase) name() string {
	return fmt.Sprintf("n%d_c%dx%dx%d_k%dx%ds%dx%d", c.n, c.c, c.h, c.w, c.g.KH, c.g.KW, c.g.SH, c.g.SW)
}

func poolCases(p Profile) []poolCase {
	cs := []poolCase{
		{3, 5, 7, 9, net.PoolGeom{KH: 2, KW: 2, SH: 2, SW: 2}},    // odd sizes drop the last row and column
		{3, 13, 11, 11, net.PoolGeom{KH: 2, KW: 2, SH: 2, SW: 2}}, // LeNet-like
		{3, 6, 7, 9, net.PoolGeom{KH: 3, KW: 3, SH: 2, SW: 2}},    // overlapping windows
		{2, 3, 5, 6, net.PoolGeom{KH: 2, KW: 2, SH: 1, SW: 1}},    // overlapping, stride 1
		{3, 5, 9, 7, net.PoolGeom{KH: 3, KW: 2, SH: 2, SW: 1}},    // non-square window
		{3, 5, 7, 9, net.PoolGeom{KH: 7, KW: 9, SH: 7, SW: 9}},    // global H×W
		{1, 1, 1, 1, net.PoolGeom{KH: 1, KW: 1, SH: 1, SW: 1}},
		{3, 13, 1, 1, net.PoolGeom{KH: 1, KW: 1, SH: 1, SW: 1}}, // ResNet18's global pool of 1×1 maps
	}
	if p == Standard {
		cs = append(cs,
			poolCase{8, 16, 16, 16, net.PoolGeom{KH: 2, KW: 2, SH: 2, SW: 2}},
			poolCase{6, 20, 4, 4, net.PoolGeom{KH: 4, KW: 4, SH: 4, SW: 4}},
		)
	}
	return cs
}

// CheckMaxPool2D checks MaxPool2D (values and first-maximum argmax, on data
// full of ties and on distinct data) and MaxPool2DBackward (against the
// reference on tied data and against finite differences on distinct data).
func CheckMaxPool2D(t *testing.T, b net.Backend, p Profile) {
	for i, c := range poolCases(p) {
		xs := net.Shape{c.n, c.c, c.h, c.w}
		ho, wo := c.g.Out(c.h, c.w)
		ys := net.Shape{c.n, c.c, ho, wo}
		rnd := newGen(uint64(10000 + i))
		tied := rnd.ties(xs.Len())
		// One plane is constant: every window is one long tie.
		for j := 0; j < c.h*c.w; j++ {
			tied[xs.Len()-1-j] = 1
		}
		distinct, gap := rnd.distinct(xs.Len())
		r := rnd.normal(ys.Len(), 1)
		R := ArrayOf(ys, r)

		forward := func(t *testing.T, what string, x []float32) net.IntTensor {
			s := newSession(t, b)
			y, am := s.dst(ys), s.ints(ys, fill32(ys.Len(), -7))
			b.MaxPool2D(y, am, s.tensor(xs, x), c.g)
			refY, refAM := RefMaxPool2D(ArrayOf(xs, x), c.g)
			checkClose(t, what+": y", s.get(y), refY, tolExact)
			checkInts(t, what+": argmax", ys, s.getInts(am), refAM)
			return am
		}

		t.Run("MaxPool2D/"+c.name()+"_ties", func(t *testing.T) { forward(t, "tied data", tied) })
		t.Run("MaxPool2D/"+c.name()+"_distinct", func(t *testing.T) { forward(t, "distinct data", distinct) })

		t.Run("MaxPool2DBackward/"+c.name()+"_ties", func(t *testing.T) {
			// The reference argmax (first maximum) routes the gradient.
			s := newSession(t, b)
			_, am := RefMaxPool2D(ArrayOf(xs, tied), c.g)
			dx := s.dst(xs)
			b.MaxPool2DBackward(dx, s.tensor(ys, r), s.ints(ys, am), c.g)
			checkClose(t, "dx vs reference", s.get(dx), RefMaxPool2DBackward(R, am, xs), tolElem)
		})

		t.Run("MaxPool2DBackward/"+c.name()+"_distinct", func(t *testing.T) {
			// The backend's own argmax, against finite differences of the
			// reference forward with a step below half the gap between values.
			s := newSession(t, b)
			y, am := s.dst(ys), s.ints(ys, nil)
			b.MaxPool2D(y, am, s.tensor(xs, distinct), c.g)
			dx := s.dst(xs)
			b.MaxPool2DBackward(dx, s.tensor(ys, r), am, c.g)
			got := s.get(dx)
			X := ArrayOf(xs, distinct)
			loss := func() float64 { y, _ := RefMaxPool2D(X, c.g); return dot(R.Data, y.Data) }
			idx := newGen(uint64(11000+i)).sample(xs.Len(), fdCount(xs.Len()))
			want := memo("MaxPool2DBackward/"+c.name()+"/fd", func() []float64 { return fd(loss, X.Data, idx, gap/4) })
			checkAt(t, "dx vs finite differences", xs, got, want, idx, nil, tolElem)
		})
	}
}

func fill32(n int, v int32) []int32 {
	out := make([]int32, n)
	for i := range out {
		out[i] = v
	}
	return out
}
