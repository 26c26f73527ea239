package gpu

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"cifarlab/internal/testenv"
	"cifarlab/net"
)

// BenchmarkLinear times the linear layers of LeNet5 and ResNet18, each op
// alone, as a training step records them: 64 ops per submit, the time of
// the device included (the benchmark waits for the last op). On a real
// GPU:
//
//	go test ./gpu -run '^$' -bench Linear -benchtime 5000x
//
// The batch-4096 cases exercise the large tiles and the split batch
// reduction.
func BenchmarkLinear(tb *testing.B) {
	g, err := Open(Options{})
	if err != nil {
		testenv.GPU(tb, err)
	}
	defer g.Close()
	tb.Logf("%s", g.Name())
	for _, c := range []struct {
		name       string
		n, in, out int
	}{
		{"lenet_fc1", 256, 400, 120},
		{"lenet_fc2", 256, 120, 84},
		{"lenet_fc3", 256, 84, 10},
		{"resnet_outlayer", 256, 512, 10},
		{"lenet_fc1", 4096, 400, 120},
		{"resnet_outlayer", 4096, 512, 10},
	} {
		rng := rand.New(rand.NewPCG(1, 2))
		random := func(s ...int) net.Tensor {
			t := g.NewTensor(s)
			v := make([]float32, net.Shape(s).Len())
			for i := range v {
				v[i] = float32(rng.NormFloat64())
			}
			g.Upload(t, v)
			return t
		}
		x, w, bias, dy := random(c.n, c.in), random(c.out, c.in), random(c.out), random(c.n, c.out)
		y, dx, dw, db := g.NewTensor(dy.Shape()), g.NewTensor(x.Shape()), g.NewTensor(w.Shape()), g.NewTensor(bias.Shape())
		flops := 2 * float64(c.n*c.in*c.out)
		name := fmt.Sprintf("%s_n%d", c.name, c.n)
		benchOp(tb, g, "forward/"+name, flops, y, func() { g.Linear(y, x, w, bias) })
		benchOp(tb, g, "backward_data/"+name, flops, dx, func() { g.LinearBackwardData(dx, dy, w) })
		benchOp(tb, g, "backward_params/"+name, flops, dw, func() { g.LinearBackwardParams(dw, db, dy, x) })
		for _, t := range []net.Tensor{x, w, bias, dy, y, dx, dw, db} {
			g.Free(t)
		}
	}
}

// benchOp runs op b.N times, submitting every 64 ops, and waits for the
// device by reading out back; it reports GFLOP/s for flops per op.
func benchOp(tb *testing.B, g *Backend, name string, flops float64, out net.Tensor, op func()) {
	const perSubmit = 64
	sink := make([]float32, out.Shape().Len())
	tb.Run(name, func(tb *testing.B) {
		op() // compile the pipeline, make the bind groups
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
		tb.ReportMetric(flops*float64(tb.N)/tb.Elapsed().Seconds()/1e9, "GFLOP/s")
	})
}
