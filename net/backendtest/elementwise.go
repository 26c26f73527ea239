package backendtest

import (
	"math"
	"strconv"
	"strings"
	"testing"

	"cifarlab/net"
)

func elemShapes(p Profile) []net.Shape {
	ss := []net.Shape{{1}, {17}, {3, 5, 7, 9}, {3, 13, 11, 11}}
	if p == Standard {
		ss = append(ss, net.Shape{8, 64, 16, 16}, net.Shape{3, 100003})
	}
	return ss
}

func shapeName(s net.Shape) string {
	parts := make([]string, len(s))
	for i, d := range s {
		parts[i] = strconv.Itoa(d)
	}
	return strings.Join(parts, "x")
}

// reluData is normal data with outliers in which about a fifth of the
// values are exact zeros (half of them −0).
func reluData(rnd *gen, n int) []float32 {
	x := rnd.normal(n, 1)
	for i := range x {
		switch rnd.r.IntN(10) {
		case 0:
			x[i] = 0
		case 1:
			x[i] = float32(math.Copysign(0, -1))
		}
	}
	return x
}

// CheckElementwise checks ReLU and Add against the reference and
// ReLUBackward against the reference (exact zeros included) and finite
// differences (away from zero).
func CheckElementwise(t *testing.T, b net.Backend, p Profile) {
	for i, sh := range elemShapes(p) {
		rnd := newGen(uint64(30000 + i))
		x := reluData(rnd, sh.Len())
		dy := rnd.normal(sh.Len(), 1)
		other := rnd.normal(sh.Len(), 1)
		X, DY := ArrayOf(sh, x), ArrayOf(sh, dy)
		name := shapeName(sh)

		t.Run("ReLU/"+name, func(t *testing.T) {
			s := newSession(t, b)
			y := s.dst(sh)
			b.ReLU(y, s.tensor(sh, x))
			checkClose(t, "y", s.get(y), RefReLU(X), tolExact)
		})

		t.Run("ReLUBackward/"+name+"_zeros", func(t *testing.T) {
			// y = relu(x) holds exact zeros: their gradient is 0.
			s := newSession(t, b)
			y := RefReLU(X)
			dx := s.dst(sh)
			b.ReLUBackward(dx, s.tensor(sh, dy), s.arr(y))
			checkClose(t, "dx vs reference", s.get(dx), RefReLUBackward(DY, y), tolExact)
		})

		t.Run("ReLUBackward/"+name+"_fd", func(t *testing.T) {
			// Away from the kink, against finite differences of Σ dy·relu(x)
			// with y from the backend's own forward.
			s := newSession(t, b)
			xf := make([]float32, len(x))
			for j, v := range x {
				xf[j] = v
				if math.Abs(float64(v)) < 0.01 {
					xf[j] = 0.5 - float32(j%2) // ±0.5
				}
			}
			y := s.dst(sh)
			b.ReLU(y, s.tensor(sh, xf))
			dx := s.dst(sh)
			b.ReLUBackward(dx, s.tensor(sh, dy), y)
			XF := ArrayOf(sh, xf)
			loss := func() float64 { return dot(DY.Data, RefReLU(XF).Data) }
			idx := newGen(uint64(31000+i)).sample(sh.Len(), fdCount(sh.Len()))
			want := memo("ReLUBackward/"+name+"/fd", func() []float64 { return fd(loss, XF.Data, idx, 1e-3) })
			checkAt(t, "dx vs finite differences", sh, s.get(dx), want, idx, nil, tolElem)
		})

		t.Run("Add/"+name, func(t *testing.T) {
			s := newSession(t, b)
			y := s.dst(sh)
			b.Add(y, s.tensor(sh, x), s.tensor(sh, other))
			checkClose(t, "y", s.get(y), RefAdd(X, ArrayOf(sh, other)), tolElem)
		})
	}
}
