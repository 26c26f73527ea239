package gpu

import (
	"math"
	"math/rand/v2"
	"testing"

	"cifarlab/net"
)

// TestSumSquares checks SumSquares against a float64 sum on lengths at the
// edges of its blocks (a round of 1,024, a block of 16 rounds, a group of
// 2¹⁸) and ResNet18's largest gradient, with outliers, to 1e-6 of the sum:
// the blocked float32 sum is off by about 1e-7 there, one running sum per
// invocation by 4e-6. In one dispatch, writing its slot only (the others
// hold NaN and keep their bits).
func TestSumSquares(t *testing.T) {
	b := open(t, Options{})
	for i, n := range []int{1, 3, 255, 1024, 1025, 16*1024 + 7, 1<<18 - 1, 1<<18 + 1, 512 * 512 * 9, 512*512*9 + 13} {
		x := convRandom(uint64(100+i), n, 1e-3)
		var want float64
		for _, v := range x {
			want += float64(v) * float64(v)
		}
		ss := net.Shape{2, 3}
		before := make([]float32, ss.Len())
		for j := range before {
			before[j] = float32(math.NaN())
		}
		stats := tensorOf(t, b, ss, before)
		X := tensorOf(t, b, net.Shape{n}, x)
		slot := i % ss.Len()
		d0 := b.Counters().Dispatches
		b.SumSquares(stats, slot, X)
		if d := b.Counters().Dispatches - d0; d != 1 {
			t.Errorf("n %d: %d dispatches, want 1", n, d)
		}
		got := get(t, b, stats)
		rel := math.Abs(float64(got[slot])-want) / want
		if !(rel <= 1e-6) {
			t.Errorf("n %d: got %.9g, want %.9g (relative error %.3g)", n, got[slot], want, rel)
		}
		t.Logf("n %d: relative error %.3g", n, rel)
		for j := range got {
			if j != slot && math.Float32bits(got[j]) != math.Float32bits(before[j]) {
				t.Errorf("n %d, slot %d: stats[%d] became %g", n, slot, j, got[j])
			}
		}
	}
}

// TestSumSquaresEdges: an empty x stores 0, and x may be stats itself (the
// op then reads a copy).
func TestSumSquaresEdges(t *testing.T) {
	b := open(t, Options{})
	stats := tensorOf(t, b, net.Shape{4}, []float32{1, 2, 3, 4})
	b.SumSquares(stats, 1, tensorOf(t, b, net.Shape{0, 5}, nil))
	if got := get(t, b, stats); got[1] != 0 || got[0] != 1 || got[2] != 3 || got[3] != 4 {
		t.Errorf("empty x: stats %v, want [1 0 3 4]", got)
	}
	b.SumSquares(stats, 3, b.Reshape(stats, net.Shape{2, 2}))
	if got := get(t, b, stats); got[3] != 1+0+9+16 || got[0] != 1 || got[1] != 0 || got[2] != 3 {
		t.Errorf("x = stats: stats %v, want [1 0 3 26]", got)
	}
}

// BenchmarkSumSquares times SumSquares on gradients of ResNet18's sizes
// (the stem's, a 3×3 convolution's of 64 and of 512 channels). On a real
// GPU:
//
//	go test ./gpu -run '^$' -bench SumSquares -benchtime 2000x
func BenchmarkSumSquares(tb *testing.B) {
	g := openLayerBench(tb)
	stats := g.NewTensor(net.Shape{64})
	defer g.Free(stats)
	for _, c := range []struct {
		name string
		x    net.Shape
	}{
		{"resnet18_stem_w", net.Shape{64, 3, 3, 3}},
		{"resnet18_64x64x3x3", net.Shape{64, 64, 3, 3}},
		{"resnet18_512x512x3x3", net.Shape{512, 512, 3, 3}},
	} {
		x := randomTensor(g, rand.New(rand.NewPCG(1, 2)), c.x)
		benchLayer(tb, g, c.name, float64(4*c.x.Len()), stats, func() { g.SumSquares(stats, 5, x) })
		g.Free(x)
	}
}
