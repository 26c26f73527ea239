package gpu

import (
	"math/rand/v2"
	"testing"

	"cifarlab/net"
)

// BenchmarkBatchNorm2D times the batch norms of ResNet18 at batch 256 (one
// per shape: the stem's and each block's), training forward, evaluation
// forward and backward. On a real GPU:
//
//	go test ./gpu -run '^$' -bench BatchNorm2D -benchtime 2000x
func BenchmarkBatchNorm2D(tb *testing.B) {
	g := openLayerBench(tb)
	for _, c := range []struct {
		name string
		x    net.Shape
	}{
		{"resnet18_conv1_b256", net.Shape{256, 64, 10, 10}},
		{"resnet18_blk1_b256", net.Shape{256, 128, 5, 5}},
		{"resnet18_blk2_b256", net.Shape{256, 256, 3, 3}},
		{"resnet18_blk3_b256", net.Shape{256, 512, 2, 2}},
		{"resnet18_blk4_b256", net.Shape{256, 512, 1, 1}},
	} {
		rng := rand.New(rand.NewPCG(3, 4))
		cs := net.Shape{c.x[1]}
		x, dy := randomTensor(g, rng, c.x), randomTensor(g, rng, c.x)
		gamma, beta, rm := randomTensor(g, rng, cs), randomTensor(g, rng, cs), randomTensor(g, rng, cs)
		rv := g.NewTensor(cs)
		ones := make([]float32, cs.Len())
		for i := range ones {
			ones[i] = 1
		}
		g.Upload(rv, ones)
		y, mean, invstd := g.NewTensor(c.x), g.NewTensor(cs), g.NewTensor(cs)
		dx, dgamma, dbeta := g.NewTensor(c.x), g.NewTensor(cs), g.NewTensor(cs)
		n := float64(c.x.Len())
		benchLayer(tb, g, c.name+"/train", 8*n, y, func() {
			g.BatchNorm2DTrain(y, mean, invstd, x, gamma, beta, rm, rv, 0.1, 1e-5)
		})
		benchLayer(tb, g, c.name+"/eval", 8*n, y, func() { g.BatchNorm2DEval(y, x, gamma, beta, rm, rv, 1e-5) })
		benchLayer(tb, g, c.name+"/backward", 12*n, dx, func() {
			g.BatchNorm2DBackward(dx, dgamma, dbeta, dy, x, mean, invstd, gamma)
		})
		for _, t := range []net.Tensor{x, dy, gamma, beta, rm, rv, y, mean, invstd, dx, dgamma, dbeta} {
			g.Free(t)
		}
	}
}
