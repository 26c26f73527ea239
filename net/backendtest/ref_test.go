package backendtest

import (
	"math"
	"testing"

	"cifarlab/net"
)

// The reference implementations against values worked out by hand, and
// their backward against finite differences of their forward.

func arr(s net.Shape, v ...float64) Array { return Array{Shape: s, Data: v} }

func near(t *testing.T, what string, got, want []float64) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: got %d values, want %d", what, len(got), len(want))
	}
	for i := range want {
		if math.Abs(got[i]-want[i]) > 1e-12*(1+math.Abs(want[i])) {
			t.Errorf("%s: [%d] = %.15g, want %.15g", what, i, got[i], want[i])
		}
	}
}

func TestRefConv2DByHand(t *testing.T) {
	x := arr(net.Shape{1, 1, 3, 3}, 1, 2, 3, 4, 5, 6, 7, 8, 9)
	w := arr(net.Shape{1, 1, 2, 2}, 1, 0, 0, -1)
	b := arr(net.Shape{1}, 0.5)
	near(t, "stride 1 pad 0", RefConv2D(x, w, b, net.ConvGeom{Stride: 1}).Data, []float64{-3.5, -3.5, -3.5, -3.5})
	near(t, "stride 2 pad 1", RefConv2D(x, w, b, net.ConvGeom{Stride: 2, Pad: 1}).Data, []float64{-0.5, -2.5, -6.5, -3.5})
	// dx of Σ y with stride 1 pad 0: every x[i][j] gets w[0][0] from the
	// window at (i, j) and w[1][1] from the window at (i−1, j−1).
	dy := arr(net.Shape{1, 1, 2, 2}, 1, 1, 1, 1)
	near(t, "dx", RefConv2DBackwardData(dy, w, x.Shape, net.ConvGeom{Stride: 1}).Data,
		[]float64{1, 1, 0, 1, 0, -1, 0, -1, -1})
	dw, db := RefConv2DBackwardParams(dy, x, w.Shape, net.ConvGeom{Stride: 1})
	near(t, "dw", dw.Data, []float64{1 + 2 + 4 + 5, 2 + 3 + 5 + 6, 4 + 5 + 7 + 8, 5 + 6 + 8 + 9})
	near(t, "db", db.Data, []float64{4})
}

func TestRefMaxPoolByHand(t *testing.T) {
	x := arr(net.Shape{1, 1, 3, 4},
		1, 1, 0, 2,
		1, 1, 2, 0,
		5, 9, 3, 4)
	y, am := RefMaxPool2D(x, net.PoolGeom{KH: 2, KW: 2, SH: 2, SW: 2})
	near(t, "y", y.Data, []float64{1, 2})
	if am[0] != 0 || am[1] != 3 {
		t.Errorf("argmax = %v, want [0 3] (first maximum, row-major)", am)
	}
	// Overlapping 2×2 windows with stride 1: two windows share the 9.
	y, am = RefMaxPool2D(x, net.PoolGeom{KH: 2, KW: 2, SH: 1, SW: 1})
	near(t, "overlapping y", y.Data, []float64{1, 2, 2, 9, 9, 4})
	wantAM := []int32{0, 6, 3, 9, 9, 11}
	for i := range wantAM {
		if am[i] != wantAM[i] {
			t.Errorf("overlapping argmax = %v, want %v", am, wantAM)
			break
		}
	}
	dx := RefMaxPool2DBackward(arr(net.Shape{1, 1, 2, 3}, 1, 1, 1, 1, 1, 1), am, x.Shape)
	near(t, "overlapping dx", dx.Data, []float64{1, 0, 0, 1, 0, 0, 1, 0, 0, 2, 0, 1})
}

func TestRefBatchNormByHand(t *testing.T) {
	x := arr(net.Shape{4, 1, 1, 1}, 1, 2, 3, 4)
	one, zero := arr(net.Shape{1}, 1), arr(net.Shape{1}, 0)
	r := RefBatchNorm2DTrain(x, arr(net.Shape{1}, 2), arr(net.Shape{1}, 0.5), zero, one, 0.1, 0)
	near(t, "mean", r.Mean.Data, []float64{2.5})
	near(t, "invstd", r.InvStd.Data, []float64{1 / math.Sqrt(1.25)})
	near(t, "runMean", r.RunMean.Data, []float64{0.25})
	near(t, "runVar", r.RunVar.Data, []float64{0.9 + 0.1*5.0/3})
	s := 2 / math.Sqrt(1.25)
	near(t, "y", r.Y.Data, []float64{-1.5*s + 0.5, -0.5*s + 0.5, 0.5*s + 0.5, 1.5*s + 0.5})
	near(t, "eval", RefBatchNorm2DEval(x, one, zero, arr(net.Shape{1}, 1), arr(net.Shape{1}, 4), 0).Data, []float64{0, 0.5, 1, 1.5})
}

func TestRefSoftmaxCrossEntropyByHand(t *testing.T) {
	r := RefSoftmaxCrossEntropy(arr(net.Shape{2, 4}, 1, 1, 1, 1, 0, 3, 3, 0), []int32{0, 2})
	near(t, "loss", []float64{r.Loss}, []float64{(math.Log(4) + math.Log(2+2*math.Exp(-3))) / 2})
	if r.Correct != 1 {
		t.Errorf("correct = %d, want 1 (row 0's first maximum is its label, row 1's is not)", r.Correct)
	}
	near(t, "dlogits row 0", r.DLogits.Data[:4], []float64{-0.375, 0.125, 0.125, 0.125})
}

func TestRefAdamByHand(t *testing.T) {
	// Step 1: m̂ = g and v̂ = g², so p moves by lr·g/(|g|+eps).
	p := arr(net.Shape{2}, 1, 1)
	g := arr(net.Shape{2}, 2, -0.5)
	z := arr(net.Shape{2}, 0, 0)
	np, m, v := RefAdam(p, g, z, z, net.AdamParams{LR: 0.5, Beta1: 0.5, Beta2: 0.75, Eps: 1, Step: 1})
	near(t, "param", np.Data, []float64{1 - 0.5*2/3.0, 1 + 0.5*0.5/1.5})
	near(t, "m", m.Data, []float64{1, -0.25})
	near(t, "v", v.Data, []float64{1, 0.0625})
	// Step 2 from there with the same gradient: m = 1.5, m̂ = 2; v = 1.75, v̂ = 4.
	np, _, _ = RefAdam(np, g, m, v, net.AdamParams{LR: 0.5, Beta1: 0.5, Beta2: 0.75, Eps: 1, Step: 2})
	near(t, "param step 2", np.Data[:1], []float64{1 - 0.5*2/3.0 - 0.5*2/3.0})
}

func TestRefGatherByHand(t *testing.T) {
	// Two records of a one-channel 2×3 image; record 1 has label 7.
	data := []byte{3, 1, 2, 3, 4, 5, 6, 7, 10, 20, 30, 40, 50, 60}
	norm := net.Normalize{Mean: []float32{0}, Std: []float32{1}}
	px := func(b ...float64) []float64 {
		for i := range b {
			b[i] /= 255
		}
		return b
	}
	img := net.Shape{1, 2, 3}
	x, labels := RefGather(data, img, []int32{1, 1}, []net.Crop{{DX: 0, DY: 0}, {DX: 2, DY: 1, Flip: true}}, 1, norm)
	if labels[0] != 7 || labels[1] != 7 {
		t.Errorf("labels = %v, want [7 7]", labels)
	}
	// Crop (0,0) of the padded image: a zero row, then 0, 10, 20.
	near(t, "crop (0,0)", x.Data[:6], px(0, 0, 0, 0, 10, 20))
	// Crop (2,1) is rows 0..1, columns 1..3 of the image; then flipped.
	near(t, "crop (2,1) flipped", x.Data[6:], px(0, 30, 20, 0, 60, 50))
	x, _ = RefGather(data, img, []int32{1}, nil, 0, net.Normalize{Mean: []float32{0.5}, Std: []float32{0.25}})
	near(t, "no crop", x.Data, []float64{(10.0/255 - 0.5) / 0.25, (20.0/255 - 0.5) / 0.25, (30.0/255 - 0.5) / 0.25,
		(40.0/255 - 0.5) / 0.25, (50.0/255 - 0.5) / 0.25, (60.0/255 - 0.5) / 0.25})
}

// fdAll checks grad against central differences of f over every element
// of v.
func fdAll(t *testing.T, what string, f func() float64, v Array, grad Array, h, tol float64) {
	t.Helper()
	idx := make([]int, len(v.Data))
	for i := range idx {
		idx[i] = i
	}
	num := fd(f, v.Data, idx, h)
	worst := 0.0
	for i := range num {
		worst = max(worst, math.Abs(num[i]-grad.Data[i])/(1+math.Abs(num[i])))
	}
	if worst > tol {
		t.Errorf("%s: reference backward differs from finite differences by %.3g (relative)", what, worst)
	}
}

func TestRefBackwardMatchesFiniteDifferences(t *testing.T) {
	rnd := newGen(1)
	a := func(s net.Shape, scale float64) Array { return ArrayOf(s, rnd.normal(s.Len(), scale)) }

	t.Run("Conv2D", func(t *testing.T) {
		g := net.ConvGeom{Stride: 2, Pad: 1}
		x, w, b := a(net.Shape{2, 3, 7, 6}, 1), a(net.Shape{4, 3, 3, 3}, 0.2), a(net.Shape{4}, 1)
		r := a(net.Shape{2, 4, 4, 3}, 1)
		L := func() float64 { return dot(r.Data, RefConv2D(x, w, b, g).Data) }
		fdAll(t, "dx", L, x, RefConv2DBackwardData(r, w, x.Shape, g), 0.5, 1e-9)
		dw, db := RefConv2DBackwardParams(r, x, w.Shape, g)
		fdAll(t, "dw", L, w, dw, 0.5, 1e-9)
		fdAll(t, "db", L, b, db, 0.5, 1e-9)
	})
	t.Run("Linear", func(t *testing.T) {
		x, w, b, r := a(net.Shape{3, 7}, 1), a(net.Shape{5, 7}, 1), a(net.Shape{5}, 1), a(net.Shape{3, 5}, 1)
		L := func() float64 { return dot(r.Data, RefLinear(x, w, b).Data) }
		fdAll(t, "dx", L, x, RefLinearBackwardData(r, w), 0.5, 1e-9)
		dw, db := RefLinearBackwardParams(r, x)
		fdAll(t, "dw", L, w, dw, 0.5, 1e-9)
		fdAll(t, "db", L, b, db, 0.5, 1e-9)
	})
	t.Run("MaxPool2D", func(t *testing.T) {
		v, gap := rnd.distinct(2 * 3 * 7 * 5)
		x := ArrayOf(net.Shape{2, 3, 7, 5}, v)
		g := net.PoolGeom{KH: 3, KW: 2, SH: 2, SW: 1}
		y, am := RefMaxPool2D(x, g)
		r := a(y.Shape, 1)
		L := func() float64 { y, _ := RefMaxPool2D(x, g); return dot(r.Data, y.Data) }
		fdAll(t, "dx", L, x, RefMaxPool2DBackward(r, am, x.Shape), gap/4, 1e-9)
	})
	t.Run("BatchNorm2D", func(t *testing.T) {
		x := ArrayOf(net.Shape{3, 4, 3, 2}, bnData(rnd, net.Shape{3, 4, 3, 2}))
		gamma, beta, r := a(net.Shape{4}, 1), a(net.Shape{4}, 1), a(x.Shape, 1)
		one := ArrayOf(net.Shape{4}, fill(4, 1))
		L := func() float64 { return dot(r.Data, RefBatchNorm2DTrain(x, gamma, beta, one, one, 0.1, 1e-5).Y.Data) }
		f := RefBatchNorm2DTrain(x, gamma, beta, one, one, 0.1, 1e-5)
		dx, dg, db := RefBatchNorm2DBackward(r, x, f.Mean, f.InvStd, gamma)
		fdAll(t, "dx", L, x, dx, 1e-5, 1e-6)
		fdAll(t, "dgamma", L, gamma, dg, 0.5, 1e-9)
		fdAll(t, "dbeta", L, beta, db, 0.5, 1e-9)
	})
	t.Run("SoftmaxCrossEntropy", func(t *testing.T) {
		logits, labels := xentData(rnd, xentCase{5, 7})
		l := ArrayOf(net.Shape{5, 7}, logits)
		L := func() float64 { return RefSoftmaxCrossEntropy(l, labels).Loss }
		fdAll(t, "dlogits", L, l, RefSoftmaxCrossEntropy(l, labels).DLogits, 1e-4, 1e-7)
	})
}
