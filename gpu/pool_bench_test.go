package gpu

import (
	"math/rand/v2"
	"testing"

	"cifarlab/internal/testenv"
	"cifarlab/net"
)

// openLayerBench opens the device for a layer benchmark.
func openLayerBench(tb *testing.B) *Backend {
	g, err := Open(Options{})
	if err != nil {
		testenv.GPU(tb, err)
	}
	tb.Cleanup(func() { g.Close() })
	tb.Logf("%s", g.Name())
	return g
}

// randomTensor uploads a tensor of normal values.
func randomTensor(g *Backend, rng *rand.Rand, s net.Shape) net.Tensor {
	t := g.NewTensor(s)
	v := make([]float32, s.Len())
	for i := range v {
		v[i] = float32(rng.NormFloat64())
	}
	g.Upload(t, v)
	return t
}

// benchLayer runs op b.N times as a training step records it, submitting
// every 64 ops, and waits for the device by reading out back; it reports
// the device's throughput for the bytes an op must at least move.
func benchLayer(tb *testing.B, g *Backend, name string, bytes float64, out net.Tensor, op func()) {
	const perSubmit = 64
	sink := make([]float32, out.Shape().Len())
	tb.Run(name, func(tb *testing.B) {
		op() // compile the pipelines, make the bind groups
		if err := g.Download(sink, out); err != nil {
			tb.Fatal(err)
		}
		tb.ResetTimer()
		for i := 1; i <= tb.N; i++ {
			op()
			if i%perSubmit == 0 {
				if err := g.Submit(); err != nil {
					tb.Fatal(err)
				}
			}
		}
		if err := g.Download(sink, out); err != nil {
			tb.Fatal(err)
		}
		tb.ReportMetric(bytes*float64(tb.N)/tb.Elapsed().Seconds()/1e9, "GB/s")
	})
}

// BenchmarkMaxPool2D times the max pooling layers of LeNet5 and ResNet18
// at batch 256, forward and backward. On a real GPU:
//
//	go test ./gpu -run '^$' -bench MaxPool2D -benchtime 2000x
func BenchmarkMaxPool2D(tb *testing.B) {
	g := openLayerBench(tb)
	for _, c := range []struct {
		name string
		x    net.Shape
		k    int // window and stride; 0 for global pooling
	}{
		{"lenet5_pool1_b256", net.Shape{256, 6, 28, 28}, 2},
		{"lenet5_pool2_b256", net.Shape{256, 16, 10, 10}, 2},
		{"resnet18_pool_b256", net.Shape{256, 512, 1, 1}, 0},
	} {
		geom := net.PoolGeom{KH: c.k, KW: c.k, SH: c.k, SW: c.k}
		if c.k == 0 {
			geom = net.PoolGeom{KH: c.x[2], KW: c.x[3], SH: c.x[2], SW: c.x[3]}
		}
		ho, wo := geom.Out(c.x[2], c.x[3])
		ys := net.Shape{c.x[0], c.x[1], ho, wo}
		rng := rand.New(rand.NewPCG(1, 2))
		x, dy := randomTensor(g, rng, c.x), randomTensor(g, rng, ys)
		y, am, dx := g.NewTensor(ys), g.NewIntTensor(ys), g.NewTensor(c.x)
		bytes := float64(4*c.x.Len() + 8*ys.Len())
		benchLayer(tb, g, c.name+"/forward", bytes, y, func() { g.MaxPool2D(y, am, x, geom) })
		benchLayer(tb, g, c.name+"/backward", bytes, dx, func() { g.MaxPool2DBackward(dx, dy, am, geom) })
		for _, t := range []any{x, dy, y, am, dx} {
			g.Free(t)
		}
	}
}

// BenchmarkGlobalAvgPool2D times global average pooling at the end of
// ResNet18 (4×4 maps of 512 channels) and of ResNet20 (8×8 of 64) at batch
// 256, forward and backward. On a real GPU:
//
//	go test ./gpu -run '^$' -bench GlobalAvgPool2D -benchtime 2000x
func BenchmarkGlobalAvgPool2D(tb *testing.B) {
	g := openLayerBench(tb)
	for _, c := range []struct {
		name string
		x    net.Shape
	}{
		{"resnet18_gap_b256", net.Shape{256, 512, 4, 4}},
		{"resnet20_gap_b256", net.Shape{256, 64, 8, 8}},
	} {
		ys := net.Shape{c.x[0], c.x[1], 1, 1}
		rng := rand.New(rand.NewPCG(1, 2))
		x, dy := randomTensor(g, rng, c.x), randomTensor(g, rng, ys)
		y, dx := g.NewTensor(ys), g.NewTensor(c.x)
		bytes := float64(4*c.x.Len() + 4*ys.Len())
		benchLayer(tb, g, c.name+"/forward", bytes, y, func() { g.GlobalAvgPool2D(y, x) })
		benchLayer(tb, g, c.name+"/backward", bytes, dx, func() { g.GlobalAvgPool2DBackward(dx, dy) })
		for _, t := range []any{x, dy, y, dx} {
			g.Free(t)
		}
	}
}
