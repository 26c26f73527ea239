package cpu

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"cifarlab/net"
)

// Benchmarks of the heaviest ops at the shapes of the two networks, batch
// 256, and of whole training steps:
//
//	go test ./cpu -run '^$' -bench . -benchtime 2x

const benchN = 256

type benchConv struct {
	name                     string
	ci, h, co, k, stride, pd int
}

// The convolutions of LeNet5 and of cifarlab's ResNet18 (stem stride 3,
// four stride-2 blocks: 10×10 → 5×5 → 3×3 → 2×2 → 1×1).
var benchConvs = []benchConv{
	{"lenet_conv1", 3, 32, 6, 5, 1, 0},
	{"lenet_conv2", 6, 14, 16, 5, 1, 0},
	{"resnet_conv1", 3, 32, 64, 3, 3, 0},
	{"resnet_blk1_conv1", 64, 10, 128, 3, 2, 1},
	{"resnet_blk1_conv2", 128, 5, 128, 3, 1, 1},
	{"resnet_blk1_extra", 64, 10, 128, 1, 2, 0},
	{"resnet_blk2_conv1", 128, 5, 256, 3, 2, 1},
	{"resnet_blk2_conv2", 256, 3, 256, 3, 1, 1},
	{"resnet_blk3_conv1", 256, 3, 512, 3, 2, 1},
	{"resnet_blk3_conv2", 512, 2, 512, 3, 1, 1},
	{"resnet_blk4_conv1", 512, 2, 512, 3, 2, 1},
	{"resnet_blk4_conv2", 512, 1, 512, 3, 1, 1},
	// He et al.'s CIFAR networks: 3×3 convolutions of each stage.
	{"resnet20_stage1", 16, 32, 16, 3, 1, 1},
	{"resnet20_stage2", 32, 16, 32, 3, 1, 1},
	{"resnet20_stage3", 64, 8, 64, 3, 1, 1},
}

func randTensor(b *Backend, rng *rand.Rand, s ...int) net.Tensor {
	t := b.NewTensor(s)
	v := make([]float32, net.Shape(s).Len())
	for i := range v {
		v[i] = float32(rng.NormFloat64())
	}
	b.Upload(t, v)
	return t
}

// flopsPerSec reports GFLOP/s for flops per op.
func flopsPerSec(tb *testing.B, flops float64) {
	tb.ReportMetric(flops*float64(tb.N)/tb.Elapsed().Seconds()/1e9, "GFLOP/s")
}

func BenchmarkConv2D(tb *testing.B) {
	for _, c := range benchConvs {
		g := net.ConvGeom{Stride: c.stride, Pad: c.pd}
		ho := g.Out(c.h, c.k)
		flops := 2 * float64(benchN*c.co*ho*ho*c.ci*c.k*c.k)
		name := fmt.Sprintf("%s_n%d", c.name, benchN)
		b := New()
		rng := rand.New(rand.NewPCG(1, 2))
		x := randTensor(b, rng, benchN, c.ci, c.h, c.h)
		w := randTensor(b, rng, c.co, c.ci, c.k, c.k)
		bias := randTensor(b, rng, c.co)
		y := randTensor(b, rng, benchN, c.co, ho, ho)
		dx := b.NewTensor(x.Shape())
		dw, db := b.NewTensor(w.Shape()), b.NewTensor(bias.Shape())
		tb.Run("forward/"+name, func(tb *testing.B) {
			for tb.Loop() {
				b.Conv2D(y, x, w, bias, g)
			}
			flopsPerSec(tb, flops)
		})
		tb.Run("backward_data/"+name, func(tb *testing.B) {
			for tb.Loop() {
				b.Conv2DBackwardData(dx, y, w, g)
			}
			flopsPerSec(tb, flops)
		})
		tb.Run("backward_params/"+name, func(tb *testing.B) {
			for tb.Loop() {
				b.Conv2DBackwardParams(dw, db, y, x, g)
			}
			flopsPerSec(tb, flops)
		})
	}
}

func BenchmarkLinear(tb *testing.B) {
	for _, c := range []struct {
		name    string
		in, out int
	}{{"lenet_fc1", 400, 120}, {"lenet_fc2", 120, 84}, {"resnet_outlayer", 512, 10}} {
		b := New()
		rng := rand.New(rand.NewPCG(1, 2))
		x, w, bias := randTensor(b, rng, benchN, c.in), randTensor(b, rng, c.out, c.in), randTensor(b, rng, c.out)
		y := randTensor(b, rng, benchN, c.out)
		dx, dw, db := b.NewTensor(x.Shape()), b.NewTensor(w.Shape()), b.NewTensor(bias.Shape())
		name := fmt.Sprintf("%s_n%d", c.name, benchN)
		tb.Run("forward/"+name, func(tb *testing.B) {
			for tb.Loop() {
				b.Linear(y, x, w, bias)
			}
		})
		tb.Run("backward/"+name, func(tb *testing.B) {
			for tb.Loop() {
				b.LinearBackwardData(dx, y, w)
				b.LinearBackwardParams(dw, db, y, x)
			}
		})
	}
}

func BenchmarkBatchNorm2D(tb *testing.B) {
	for _, c := range []struct {
		name    string
		c, h, w int
	}{{"resnet_conv1", 64, 10, 10}, {"resnet_blk1", 128, 5, 5}, {"resnet_blk3", 512, 2, 2}} {
		b := New()
		rng := rand.New(rand.NewPCG(1, 2))
		x := randTensor(b, rng, benchN, c.c, c.h, c.w)
		y, dx := b.NewTensor(x.Shape()), b.NewTensor(x.Shape())
		vec := func() net.Tensor { return randTensor(b, rng, c.c) }
		gamma, beta, mean, invstd, rm, rv, dg, dbeta := vec(), vec(), vec(), vec(), vec(), vec(), vec(), vec()
		b.Upload(rv, make([]float32, c.c))
		name := fmt.Sprintf("%s_n%d", c.name, benchN)
		tb.Run("train/"+name, func(tb *testing.B) {
			for tb.Loop() {
				b.BatchNorm2DTrain(y, mean, invstd, x, gamma, beta, rm, rv, 0.1, 1e-5)
			}
		})
		tb.Run("backward/"+name, func(tb *testing.B) {
			for tb.Loop() {
				b.BatchNorm2DBackward(dx, dg, dbeta, y, x, mean, invstd, gamma)
			}
		})
	}
}

func BenchmarkMaxPool2D(tb *testing.B) {
	for _, c := range []struct {
		name       string
		c, h, k, s int
	}{{"lenet_pool1", 6, 28, 2, 2}, {"lenet_pool2", 16, 10, 2, 2}, {"resnet_global", 512, 1, 1, 1}} {
		b := New()
		rng := rand.New(rand.NewPCG(1, 2))
		g := net.PoolGeom{KH: c.k, KW: c.k, SH: c.s, SW: c.s}
		x := randTensor(b, rng, benchN, c.c, c.h, c.h)
		ho, wo := g.Out(c.h, c.h)
		y, am := b.NewTensor(net.Shape{benchN, c.c, ho, wo}), b.NewIntTensor(net.Shape{benchN, c.c, ho, wo})
		dx := b.NewTensor(x.Shape())
		name := fmt.Sprintf("%s_n%d", c.name, benchN)
		tb.Run("forward/"+name, func(tb *testing.B) {
			for tb.Loop() {
				b.MaxPool2D(y, am, x, g)
			}
		})
		tb.Run("backward/"+name, func(tb *testing.B) {
			for tb.Loop() {
				b.MaxPool2DBackward(dx, y, am, g)
			}
		})
	}
}

func BenchmarkElementwise(tb *testing.B) {
	b := New()
	rng := rand.New(rand.NewPCG(1, 2))
	s := []int{benchN, 64, 10, 10}
	x, y, z := randTensor(b, rng, s...), randTensor(b, rng, s...), b.NewTensor(s)
	tb.Run("ReLU/resnet_conv1_n256", func(tb *testing.B) {
		for tb.Loop() {
			b.ReLU(z, x)
		}
	})
	tb.Run("ReLUBackward/resnet_conv1_n256", func(tb *testing.B) {
		for tb.Loop() {
			b.ReLUBackward(z, x, y)
		}
	})
	tb.Run("Add/resnet_conv1_n256", func(tb *testing.B) {
		for tb.Loop() {
			b.Add(z, x, y)
		}
	})
}

func BenchmarkAdam(tb *testing.B) {
	for _, c := range []struct {
		name string
		n    int
	}{{"lenet5", 62006}, {"resnet18_blk3_conv2", 512 * 512 * 9}} {
		b := New()
		rng := rand.New(rand.NewPCG(1, 2))
		p, g, m, v := randTensor(b, rng, c.n), randTensor(b, rng, c.n), b.NewTensor(net.Shape{c.n}), b.NewTensor(net.Shape{c.n})
		tb.Run(c.name, func(tb *testing.B) {
			step := 0
			for tb.Loop() {
				step++
				b.Adam(p, g, m, v, net.AdamParams{LR: 1e-3, Beta1: 0.9, Beta2: 0.999, Eps: 1e-8, Step: step})
			}
		})
	}
}

// benchRecords returns n random CIFAR-10 records uploaded to b.
func benchRecords(tb testing.TB, b *Backend, n int) net.Records {
	rng := rand.New(rand.NewPCG(3, 4))
	data := make([]byte, n*(1+net.InputShape.Len()))
	for i := range data {
		data[i] = byte(rng.IntN(256))
	}
	for i := 0; i < n; i++ {
		data[i*(1+net.InputShape.Len())] = byte(rng.IntN(10))
	}
	recs, err := b.UploadRecords(data, net.InputShape)
	if err != nil {
		tb.Fatal(err)
	}
	return recs
}

var benchNorm = net.Normalize{Mean: []float32{0.4914, 0.4822, 0.4465}, Std: []float32{0.2470, 0.2435, 0.2616}}

func BenchmarkGather(tb *testing.B) {
	b := New()
	recs := benchRecords(tb, b, 1024)
	x, labels := b.NewTensor(append(net.Shape{benchN}, net.InputShape...)), b.NewIntTensor(net.Shape{benchN})
	index := make([]int32, benchN)
	crops := make([]net.Crop, benchN)
	for i := range index {
		index[i] = int32(i * 3 % 1024)
		crops[i] = net.Crop{DX: int32(i % 9), DY: int32(i / 9 % 9), Flip: i%2 == 0}
	}
	tb.Run("cifar_crop_flip_n256", func(tb *testing.B) {
		for tb.Loop() {
			b.Gather(x, labels, recs, index, crops, net.AugmentPad, benchNorm)
		}
	})
}

// BenchmarkTrainStep is one whole training step (gather, forward, loss,
// backward, Adam) through net's trainer, reported as images per second.
func BenchmarkTrainStep(tb *testing.B) {
	for _, model := range []string{"lenet5", "resnet18", "resnet20"} {
		tb.Run(fmt.Sprintf("%s_n%d", model, benchN), func(tb *testing.B) {
			b := New()
			nw, err := net.New(b, model, 10, 1)
			if err != nil {
				tb.Fatal(err)
			}
			tr, err := net.NewTrainer(b, nw, net.TrainConfig{Batch: benchN, Augment: true, Norm: benchNorm}, 1e-3)
			if err != nil {
				tb.Fatal(err)
			}
			recs := benchRecords(tb, b, 2*benchN)
			index, crops := tr.Plan(1, 2*benchN)
			step := func(i int) {
				lo := i % 2 * benchN
				if _, err := tr.Step(recs, index[lo:lo+benchN], crops[lo:lo+benchN]); err != nil {
					tb.Fatal(err)
				}
			}
			step(0) // allocate
			i := 1
			for tb.Loop() {
				step(i)
				i++
			}
			tb.ReportMetric(float64(benchN*tb.N)/tb.Elapsed().Seconds(), "images/s")
		})
	}
}

// BenchmarkGradNorms is what measuring the gradient norms adds to a
// training step: SumSquares of every parameter's gradient into a stats
// tensor. Compare its time with BenchmarkTrainStep's.
func BenchmarkGradNorms(tb *testing.B) {
	for _, model := range []string{"lenet5", "resnet18", "resnet56"} {
		tb.Run(model, func(tb *testing.B) {
			b := New()
			nw, err := net.New(b, model, 10, 1)
			if err != nil {
				tb.Fatal(err)
			}
			ps := nw.Params()
			stats := b.NewTensor(net.Shape{len(ps)})
			for tb.Loop() {
				for i, p := range ps {
					b.SumSquares(stats, i, p.Grad)
				}
			}
		})
	}
}
