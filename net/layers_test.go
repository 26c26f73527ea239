package net_test

import (
	"math"
	"math/rand/v2"
	"testing"

	"cifarlab/cpu"
	"cifarlab/net"
)

// Each layer's Backward against central differences of its Forward (in
// training mode, so BatchNorm differentiates through its batch statistics):
// L = Σ r·y for a fixed random r, so ∂L/∂y = r.

func randHost(rng *rand.Rand, n int) []float32 {
	v := make([]float32, n)
	for i := range v {
		v[i] = float32(rng.NormFloat64())
	}
	return v
}

type fdCase struct {
	name  string
	layer func(b net.Backend, rng *rand.Rand) net.Layer
	in    net.Shape
}

func TestLayerBackwardMatchesFiniteDifferences(t *testing.T) {
	cases := []fdCase{
		{"Conv2d_k3s2p1", func(b net.Backend, r *rand.Rand) net.Layer { return net.NewConv2d(b, r, "c", 3, 4, 3, 2, 1) }, net.Shape{2, 3, 5, 5}},
		{"Conv2d_k5", func(b net.Backend, r *rand.Rand) net.Layer { return net.NewConv2d(b, r, "c", 3, 5, 5, 1, 0) }, net.Shape{2, 3, 7, 6}},
		{"Linear", func(b net.Backend, r *rand.Rand) net.Layer { return net.NewLinear(b, r, "l", 7, 5) }, net.Shape{3, 7}},
		{"BatchNorm2d", func(b net.Backend, r *rand.Rand) net.Layer { return withAffine(b, r, net.NewBatchNorm2d(b, "bn", 4)) }, net.Shape{3, 4, 3, 3}},
		{"ReLU", func(b net.Backend, r *rand.Rand) net.Layer { return net.NewReLU(b, "r") }, net.Shape{3, 11}},
		{"MaxPool2d", func(b net.Backend, r *rand.Rand) net.Layer { return net.NewMaxPool2d(b, "p", 2, 2) }, net.Shape{2, 3, 5, 5}},
		{"GlobalMaxPool2d", func(b net.Backend, r *rand.Rand) net.Layer { return net.NewGlobalMaxPool2d(b, "p") }, net.Shape{2, 3, 3, 2}},
		{"Flatten", func(b net.Backend, r *rand.Rand) net.Layer { return net.NewFlatten(b, "f") }, net.Shape{2, 3, 2, 2}},
		{"ResBlk_identity", func(b net.Backend, r *rand.Rand) net.Layer { return net.NewResBlk(b, r, "blk", 4, 4, 1) }, net.Shape{3, 4, 4, 3}},
		{"ResBlk_projection", func(b net.Backend, r *rand.Rand) net.Layer { return net.NewResBlk(b, r, "blk", 3, 5, 2) }, net.Shape{3, 3, 5, 5}},
		{"GlobalAvgPool2d", func(b net.Backend, r *rand.Rand) net.Layer { return net.NewGlobalAvgPool2d(b, "p") }, net.Shape{2, 3, 3, 2}},
		{"Conv2d_nobias", func(b net.Backend, r *rand.Rand) net.Layer { return net.NewConv2dNoBias(b, r, "c", 3, 4, 3, 1, 1) }, net.Shape{2, 3, 4, 5}},
		{"ResBlk_plain", func(b net.Backend, r *rand.Rand) net.Layer {
			o := net.TutorialBlock
			o.Shortcut = false
			return net.NewBlock(b, r, "blk", 3, 5, 2, o)
		}, net.Shape{3, 3, 5, 5}},
		{"HeBlock_identity", func(b net.Backend, r *rand.Rand) net.Layer { return net.NewBlock(b, r, "blk", 4, 4, 1, net.HeBlock) }, net.Shape{3, 4, 4, 3}},
		{"HeBlock_projection", func(b net.Backend, r *rand.Rand) net.Layer { return net.NewBlock(b, r, "blk", 3, 5, 2, net.HeBlock) }, net.Shape{3, 3, 5, 5}},
		{"HeBlock_plain", func(b net.Backend, r *rand.Rand) net.Layer {
			o := net.HeBlock
			o.Shortcut = false
			return net.NewBlock(b, r, "blk", 4, 4, 1, o)
		}, net.Shape{3, 4, 4, 3}},
		{"HeBlock_plain_nobn", func(b net.Backend, r *rand.Rand) net.Layer {
			o := net.HeBlock
			o.Shortcut, o.BatchNorm = false, false
			return net.NewBlock(b, r, "blk", 3, 5, 2, o)
		}, net.Shape{3, 3, 5, 5}},
		{"Sequential", func(b net.Backend, r *rand.Rand) net.Layer {
			return net.NewSequential("s", net.NewConv2d(b, r, "s.0", 2, 3, 3, 1, 1), net.NewMaxPool2d(b, "s.1", 2, 2),
				net.NewFlatten(b, "s.2"), net.NewLinear(b, r, "s.3", 12, 4), net.NewReLU(b, "s.4"))
		}, net.Shape{2, 2, 4, 4}},
	}
	b := cpu.New()
	defer b.Close()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(fnv1a(c.name), 7))
			l := c.layer(b, rng)
			defer l.Free()
			checkLayer(t, b, l, c.in, rng)
		})
	}
}

// withAffine gives a BatchNorm non-trivial gamma and beta.
func withAffine(b net.Backend, rng *rand.Rand, n *net.BatchNorm2d) net.Layer {
	g := randHost(rng, n.C)
	for i := range g {
		g[i] = 1 + 0.3*g[i]
	}
	b.Upload(n.Weight.Value, g)
	b.Upload(n.Bias.Value, randHost(rng, n.C))
	return n
}

func checkLayer(t *testing.T, b net.Backend, l net.Layer, in net.Shape, rng *rand.Rand) {
	out, err := l.OutShape(in)
	if err != nil {
		t.Fatal(err)
	}
	x := randHost(rng, in.Len())
	r := randHost(rng, out.Len())
	xt, rt := b.NewTensor(in), b.NewTensor(out)
	defer b.Free(xt)
	defer b.Free(rt)
	b.Upload(rt, r)
	loss := func() float64 {
		b.Upload(xt, x)
		y := make([]float32, out.Len())
		if err := b.Download(y, l.Forward(xt, true)); err != nil {
			t.Fatal(err)
		}
		s := 0.0
		for i := range y {
			s += float64(r[i]) * float64(y[i])
		}
		return s
	}
	loss()
	dx := make([]float32, in.Len())
	if err := b.Download(dx, l.Backward(rt, true)); err != nil {
		t.Fatal(err)
	}
	params := l.State().Params
	grads := make([][]float32, len(params))
	for i, p := range params {
		grads[i] = make([]float32, p.Shape.Len())
		b.Download(grads[i], p.Grad)
	}
	fd := func(v []float32, i int, set func(), h float32) float64 {
		old := v[i]
		v[i] = old + h
		set()
		lp := loss()
		v[i] = old - h
		set()
		lm := loss()
		v[i] = old
		set()
		return (lp - lm) / float64(v[i]+h-(v[i]-h))
	}
	// A step may cross a kink of ReLU or max pooling, which spoils that
	// difference (after a BatchNorm many values lie near ReLU's kink); one
	// of five step sizes must agree with the backward.
	compare := func(what string, ana []float32, num func(i int, h float32) float64) {
		for i := range ana {
			var tried []float64
			ok := false
			for _, h := range []float32{1e-2, 3e-3, 1e-3, 3e-4, 1e-4} {
				n := num(i, h)
				tried = append(tried, n)
				if math.Abs(n-float64(ana[i])) <= 3e-3+1e-2*math.Abs(n) {
					ok = true
					break
				}
			}
			if !ok {
				t.Errorf("%s[%d]: backward %g, finite differences %v", what, i, ana[i], tried)
				return
			}
		}
	}
	compare("dx", dx, func(i int, h float32) float64 { return fd(x, i, func() {}, h) })
	for pi, p := range params {
		v := make([]float32, p.Shape.Len())
		b.Download(v, p.Value)
		compare("d"+p.Name, grads[pi], func(i int, h float32) float64 { return fd(v, i, func() { b.Upload(p.Value, v) }, h) })
	}
}

// A network with BatchNorm leaves out the image a last batch of one would
// hold, and says that one image cannot train it.
func TestLastBatchOfOneIsLeftOutWithBatchNorm(t *testing.T) {
	b := cpu.New()
	defer b.Close()
	n, err := net.New(b, "resnet18", 10, 1)
	if err != nil {
		t.Fatal(err)
	}
	defer n.Free()
	tr, err := net.NewTrainer(b, n, net.TrainConfig{Batch: 2, Norm: net.Normalize{Mean: normMean, Std: normStd}}, 1e-3)
	if err != nil {
		t.Fatal(err)
	}
	defer tr.Free()
	recs, err := b.UploadRecords(goldenRecords(1, 5), net.InputShape)
	if err != nil {
		t.Fatal(err)
	}
	res, err := tr.RunEpoch(t.Context(), recs, nil)
	if err != nil || res.Images != 4 {
		t.Fatalf("epoch over 5 images in batches of 2: %d images, %v; want 4", res.Images, err)
	}
	one, err := b.UploadRecords(goldenRecords(1, 1), net.InputShape)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tr.RunEpoch(t.Context(), one, nil); err == nil {
		t.Fatal("training ResNet18 on one image: no error")
	}
}
