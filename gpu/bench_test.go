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
