package backendtest

import (
	"fmt"
	"testing"

	"cifarlab/net"
)

// CheckGlobalAvgPool2D checks GlobalAvgPool2D against the reference and
// GlobalAvgPool2DBackward against the reference and finite differences.
func CheckGlobalAvgPool2D(t *testing.T, b net.Backend, p Profile) {
	shapes := []net.Shape{
		{3, 5, 7, 9},   // odd planes
		{2, 13, 8, 8},  // resnet20's last stage
		{3, 6, 1, 1},   // 1×1 planes: a copy
		{1, 1, 1, 3},   // one row
		{3, 7, 11, 1},  // one column
		{5, 64, 8, 8},  // He et al.'s pool at batch 5
		{2, 3, 32, 32}, // a plane larger than one workgroup
	}
	if p == Standard {
		shapes = append(shapes, net.Shape{16, 64, 8, 8}, net.Shape{4, 16, 32, 32})
	}
	for i, xs := range shapes {
		name := shapeName(xs)
		ys := net.Shape{xs[0], xs[1], 1, 1}
		rnd := newGen(uint64(20000 + i))
		x := rnd.normal(xs.Len(), 1)
		r := rnd.normal(ys.Len(), 1)
		X, R := ArrayOf(xs, x), ArrayOf(ys, r)

		t.Run("GlobalAvgPool2D/"+name, func(t *testing.T) {
			s := newSession(t, b)
			y := s.dst(ys)
			b.GlobalAvgPool2D(y, s.tensor(xs, x))
			mag := RefGlobalAvgPool2D(X.Abs())
			checkSum(t, "y", s.get(y), RefGlobalAvgPool2D(X), mag, tolSum)
		})

		t.Run("GlobalAvgPool2DBackward/"+name, func(t *testing.T) {
			s := newSession(t, b)
			dx := s.dst(xs)
			b.GlobalAvgPool2DBackward(dx, s.tensor(ys, r))
			got := s.get(dx)
			checkClose(t, "dx vs reference", got, RefGlobalAvgPool2DBackward(R, xs), tolElem)
			// L = Σ r·y is linear in x: any step gives the derivative.
			loss := func() float64 { return dot(R.Data, RefGlobalAvgPool2D(X).Data) }
			idx := newGen(uint64(21000+i)).sample(xs.Len(), fdCount(xs.Len()))
			want := memo("GlobalAvgPool2DBackward/"+name+"/fd", func() []float64 { return fd(loss, X.Data, idx, 0.5) })
			checkAt(t, "dx vs finite differences", xs, got, want, idx, nil, tolSum)
		})
	}
}

// CheckSumSquares checks SumSquares on tensors of every size a network's
// gradients have (one element to millions, odd lengths), into different
// slots of one stats tensor, leaving the other slots as they were.
func CheckSumSquares(t *testing.T, b net.Backend, p Profile) {
	shapes := []net.Shape{{1}, {10}, {3, 5, 7, 9}, {255}, {257}, {16, 3, 3, 3}, {64, 16, 3, 3}, {1000, 7}}
	if p == Standard {
		shapes = append(shapes, net.Shape{512, 512, 3, 3}, net.Shape{1 << 16, 3})
	}
	for i, xs := range shapes {
		t.Run(fmt.Sprintf("SumSquares/%s", shapeName(xs)), func(t *testing.T) {
			rnd := newGen(uint64(22000 + i))
			x := rnd.normal(xs.Len(), 1e-3)
			ss := net.Shape{3, 4}
			before := rnd.normal(ss.Len(), 1)
			s := newSession(t, b)
			stats := s.tensor(ss, before)
			slot := (i*5 + 1) % ss.Len()
			b.SumSquares(stats, slot, s.tensor(xs, x))
			got := s.get(stats)
			want := ArrayOf(ss, before)
			X := ArrayOf(xs, x)
			want.Data[slot] = RefSumSquares(X)
			// Every term is positive, so the sum is its own magnitude.
			checkSum(t, "stats", got, want, want, tolSum)
		})
	}
}
