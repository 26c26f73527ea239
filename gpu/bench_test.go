package gpu

import (
	"testing"

	"cifarlab/internal/testenv"
	"cifarlab/net"
)

func openBench(b *testing.B) *Backend {
	g, err := Open(Options{})
	if err != nil {
		testenv.GPU(b, err)
	}
	b.Cleanup(func() { g.Close() })
	b.Logf("%s", g.Name())
	return g
}

// BenchmarkGather_cifar_b256 assembles a batch of 256 augmented CIFAR
// images and submits it, reading nothing back.
func BenchmarkGather_cifar_b256(b *testing.B) {
	g := openBench(b)
	img := net.Shape{3, 32, 32}
	const nrec, batch = 2048, 256
	recs, err := g.UploadRecords(make([]byte, nrec*(1+img.Len())), img)
	if err != nil {
		b.Fatal(err)
	}
	x, labels := g.NewTensor(append(net.Shape{batch}, img...)), g.NewIntTensor(net.Shape{batch})
	index, crops := make([]int32, batch), make([]net.Crop, batch)
	for i := range index {
		index[i] = int32(i * 7 % nrec)
		crops[i] = net.Crop{DX: int32(i % 9), DY: int32(i / 9 % 9), Flip: i%2 == 0}
	}
	norm := net.Normalize{Mean: []float32{0.485, 0.456, 0.406}, Std: []float32{0.229, 0.224, 0.225}}
	out := make([]float32, 1)
	for b.Loop() {
		g.Gather(x, labels, recs, index, crops, 4, norm)
		if err := g.Submit(); err != nil {
			b.Fatal(err)
		}
	}
	if err := g.Download(out[:0], g.NewTensor(net.Shape{0})); err != nil { // drain
		b.Fatal(err)
	}
}

// BenchmarkAdam_lenet5 updates LeNet5's 62,006 parameters as one tensor
// and reads one value back per update: the round trip of a small step.
func BenchmarkAdam_lenet5(b *testing.B) {
	g := openBench(b)
	sh := net.Shape{62006}
	p, grad, m, v := g.NewTensor(sh), g.NewTensor(sh), g.NewTensor(sh), g.NewTensor(sh)
	stats := g.NewTensor(net.Shape{1, 2})
	step := 0
	for b.Loop() {
		step++
		g.Adam(p, grad, m, v, net.AdamParams{LR: 1e-3, Beta1: 0.9, Beta2: 0.999, Eps: 1e-8, Step: step})
		if err := g.Submit(); err != nil {
			b.Fatal(err)
		}
		if _, err := g.ReadLater(stats)(); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkTrainStep trains whole steps of each network (gather, forward,
// loss, backward, Adam, the loss read back) with each variant of the
// matrix-product kernels, staged and unstaged, whatever the adapter's
// default: the comparison behind running the unstaged ones on CPU
// emulations. Batch 64 for LeNet5, 16 for ResNet18 (an emulation is slow).
func BenchmarkTrainStep(b *testing.B) {
	for _, m := range []struct {
		model string
		batch int
	}{{"lenet5", 64}, {"resnet18", 16}} {
		for _, v := range []struct {
			name string
			kc   kernelChoice
		}{{"staged", stagedKernels}, {"unstaged", unstagedKernels}} {
			b.Run(m.model+"/"+v.name, func(b *testing.B) {
				g, err := Open(Options{kernels: v.kc})
				if err != nil {
					testenv.GPU(b, err)
				}
				defer g.Close()
				benchTrainStep(b, g, m.model, m.batch)
			})
		}
	}
}

func benchTrainStep(b *testing.B, g *Backend, model string, batch int) {
	n, err := net.New(g, model, 10, 7)
	if err != nil {
		b.Fatal(err)
	}
	defer n.Free()
	norm := net.Normalize{Mean: []float32{0.5, 0.5, 0.5}, Std: []float32{0.25, 0.25, 0.25}}
	tr, err := net.NewTrainer(g, n, net.TrainConfig{Batch: batch, Norm: norm}, 1e-3)
	if err != nil {
		b.Fatal(err)
	}
	defer tr.Free()
	const size = 1 + 3*32*32
	data := make([]byte, batch*size)
	for i := range data {
		data[i] = byte(i * 7)
	}
	for i := 0; i < batch; i++ {
		data[i*size] = byte(i % 10)
	}
	recs, err := g.UploadRecords(data, net.InputShape)
	if err != nil {
		b.Fatal(err)
	}
	defer g.Free(recs)
	index := make([]int32, batch)
	for i := range index {
		index[i] = int32(i)
	}
	if _, err := tr.Step(recs, index, nil); err != nil { // compiles the pipelines
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := tr.Step(recs, index, nil); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(batch*b.N)/b.Elapsed().Seconds(), "images/s")
}
