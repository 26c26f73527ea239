package backendtest

import (
	"math"
	"testing"

	"cifarlab/net"
)

// CheckTensors checks the tensor plumbing: Upload/Download round trips bit
// for bit, NewTensor and NewIntTensor are zero even when storage is reused,
// Reshape shares storage both ways, and freeing a view frees nothing.
func CheckTensors(t *testing.T, b net.Backend, p Profile) {
	t.Run("Tensors/round_trip", func(t *testing.T) {
		s := newSession(t, b)
		for i, sh := range []net.Shape{{1}, {17, 11}, {3, 5, 7, 9}} {
			v := newGen(uint64(70000+i)).normal(sh.Len(), 1)
			special := []float32{0, float32(math.Copysign(0, -1)), float32(math.Inf(1)), float32(math.Inf(-1)),
				math.SmallestNonzeroFloat32, math.MaxFloat32, -1e-30, 1e30}
			for j := range special {
				if j < len(v) {
					v[len(v)-1-j] = special[j]
				}
			}
			x := s.tensor(sh, v)
			if !x.Shape().Equal(sh) {
				t.Errorf("Shape() = %v, want %v", x.Shape(), sh)
			}
			got := s.get(x)
			for j := range v {
				if math.Float32bits(got[j]) != math.Float32bits(v[j]) {
					t.Errorf("%v: element %v: got %g (%#x), want %g (%#x)", sh, coords(sh, j),
						got[j], math.Float32bits(got[j]), v[j], math.Float32bits(v[j]))
					break
				}
			}
			iv := make([]int32, sh.Len())
			for j := range iv {
				iv[j] = int32(j*7919 - 40000)
			}
			iv[0] = math.MinInt32
			if len(iv) > 1 {
				iv[1] = math.MaxInt32
			}
			xi := s.ints(sh, iv)
			checkInts(t, "int round trip", sh, s.getInts(xi), iv)
		}
	})

	t.Run("Tensors/new_is_zero", func(t *testing.T) {
		s := newSession(t, b)
		sh := net.Shape{3, 5, 7, 9}
		junk := fill(sh.Len(), 3.5)
		junkInt := fill32(sh.Len(), -9)
		// Allocate and free dirty tensors first, so that a backend that
		// recycles storage must clear it.
		for i := 0; i < 3; i++ {
			x := b.NewTensor(sh)
			b.Upload(x, junk)
			xi := b.NewIntTensor(sh)
			b.UploadInt(xi, junkInt)
			if err := b.Submit(); err != nil {
				t.Fatalf("Submit: %v", err)
			}
			b.Free(x)
			b.Free(xi)
		}
		checkClose(t, "NewTensor", s.get(s.tensor(sh, nil)), NewArray(sh), tolExact)
		checkInts(t, "NewIntTensor", sh, s.getInts(s.ints(sh, nil)), make([]int32, sh.Len()))
	})

	t.Run("Tensors/reshape_shares_storage", func(t *testing.T) {
		s := newSession(t, b)
		sh, vs := net.Shape{2, 3, 4, 5}, net.Shape{6, 20}
		rnd := newGen(71000)
		v1, v2, v3 := rnd.normal(sh.Len(), 1), rnd.normal(sh.Len(), 1), rnd.normal(sh.Len(), 1)
		x := s.tensor(sh, v1)
		view := b.Reshape(x, vs)
		if !view.Shape().Equal(vs) {
			t.Fatalf("Reshape: view shape %v, want %v", view.Shape(), vs)
		}
		if !x.Shape().Equal(sh) {
			t.Fatalf("Reshape changed the original's shape to %v", x.Shape())
		}
		checkClose(t, "view after upload to original", s.get(view), ArrayOf(vs, v1), tolExact)
		b.Upload(view, v2)
		checkClose(t, "original after upload to view", s.get(x), ArrayOf(sh, v2), tolExact)
		// An op writing through the view is seen through the original.
		b.Add(view, s.tensor(vs, v3), s.tensor(vs, fill(vs.Len(), 0)))
		checkClose(t, "original after an op into the view", s.get(x), ArrayOf(sh, v3), tolExact)
		// Freeing the view frees nothing.
		b.Free(view)
		checkClose(t, "original after freeing the view", s.get(x), ArrayOf(sh, v3), tolExact)
	})
}

// CheckPanics checks that shape misuse panics, and that the backend still
// works afterwards.
func CheckPanics(t *testing.T, b net.Backend, p Profile) {
	t.Run("Tensors/read_later_is_a_snapshot", func(t *testing.T) {
		s := newSession(t, b)
		sh := net.Shape{5, 3}
		v := newGen(71500).normal(sh.Len(), 1)
		x := s.tensor(sh, v)
		read := b.ReadLater(x)
		// Ops recorded after ReadLater must not show in what it returns.
		b.ReLU(x, s.tensor(sh, fill(sh.Len(), -1)))
		later := b.ReadLater(x)
		if err := b.Submit(); err != nil {
			t.Fatal(err)
		}
		got, err := read()
		if err != nil {
			t.Fatal(err)
		}
		checkClose(t, "ReadLater before a later op", got, ArrayOf(sh, v), tolExact)
		got, err = later()
		if err != nil {
			t.Fatal(err)
		}
		checkClose(t, "ReadLater after that op", got, ArrayOf(sh, fill(sh.Len(), 0)), tolExact)
	})

	t.Run("Panics/shape_misuse", func(t *testing.T) {
		s := newSession(t, b)
		g := net.ConvGeom{Stride: 1, Pad: 1}
		x := s.tensor(net.Shape{3, 5, 7, 9}, nil)
		w6 := s.tensor(net.Shape{4, 6, 3, 3}, nil)
		w5 := s.tensor(net.Shape{4, 5, 3, 3}, nil)
		b4 := s.tensor(net.Shape{4}, nil)
		y := s.tensor(net.Shape{3, 4, 7, 9}, nil)
		mustPanic(t, "Conv2D with x of 5 channels and w of 6", func() { b.Conv2D(y, x, w6, b4, g) })
		mustPanic(t, "Conv2D with a wrongly sized y", func() { b.Conv2D(s.tensor(net.Shape{3, 4, 7, 8}, nil), x, w5, b4, g) })
		mustPanic(t, "Conv2D with a wrongly sized bias", func() { b.Conv2D(y, x, w5, s.tensor(net.Shape{5}, nil), g) })
		mustPanic(t, "Conv2DBackwardData with a wrongly sized dx", func() { b.Conv2DBackwardData(s.tensor(net.Shape{3, 6, 7, 9}, nil), y, w5, g) })
		mustPanic(t, "Linear with x of 17 features and w of 16", func() {
			b.Linear(s.tensor(net.Shape{3, 11}, nil), s.tensor(net.Shape{3, 17}, nil), s.tensor(net.Shape{11, 16}, nil), s.tensor(net.Shape{11}, nil))
		})
		mustPanic(t, "MaxPool2D with a wrongly sized y", func() {
			b.MaxPool2D(s.tensor(net.Shape{3, 5, 4, 4}, nil), s.ints(net.Shape{3, 5, 4, 4}, nil), x, net.PoolGeom{KH: 2, KW: 2, SH: 2, SW: 2})
		})
		mustPanic(t, "MaxPool2DBackward with a geometry that does not give dy's shape", func() {
			// dy and argmax are 7×9 pooled 2×2 at stride 2 (3×4); the
			// geometry, 2×2 at stride 1, gives 6×8.
			ps := net.Shape{3, 5, 3, 4}
			b.MaxPool2DBackward(s.tensor(net.Shape{3, 5, 7, 9}, nil), s.tensor(ps, nil), s.ints(ps, nil), net.PoolGeom{KH: 2, KW: 2, SH: 1, SW: 1})
		})
		mustPanic(t, "BatchNorm2DTrain with gamma of 4 channels for x of 5", func() {
			c5 := func() net.Tensor { return s.tensor(net.Shape{5}, nil) }
			b.BatchNorm2DTrain(s.tensor(net.Shape{3, 5, 7, 9}, nil), c5(), c5(), x, b4, c5(), c5(), c5(), 0.1, 1e-5)
		})
		mustPanic(t, "Add of different lengths", func() {
			b.Add(s.tensor(net.Shape{17}, nil), s.tensor(net.Shape{17}, nil), s.tensor(net.Shape{16}, nil))
		})
		mustPanic(t, "SoftmaxCrossEntropy into slot 4 of 4", func() {
			b.SoftmaxCrossEntropy(s.tensor(net.Shape{3, 10}, nil), s.tensor(net.Shape{4, 2}, nil), 4, s.tensor(net.Shape{3, 10}, nil), s.ints(net.Shape{3}, nil))
		})
		mustPanic(t, "Reshape to another length", func() { b.Reshape(x, net.Shape{3, 5, 7, 8}) })
		mustPanic(t, "Upload of the wrong length", func() { b.Upload(x, make([]float32, 10)) })

		// Still usable.
		v := newGen(72000).normal(17, 1)
		out := s.dst(net.Shape{17})
		b.ReLU(out, s.tensor(net.Shape{17}, v))
		checkClose(t, "ReLU after the panics", s.get(out), RefReLU(ArrayOf(net.Shape{17}, v)), tolExact)
	})
}
