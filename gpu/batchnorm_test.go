package gpu

import (
	"math"
	"math/rand/v2"
	"testing"

	"cifarlab/cpu"
	"cifarlab/net"
	"cifarlab/net/backendtest"
)

// withBNChunks runs f with plans that split every batch norm reduction
// into chunks of one image (perLane values per invocation and pass), on
// any device.
func withBNChunks(f func()) {
	t, tc, m := bnTargetGroups, bnTargetGroupsCPU, bnMinValues
	bnTargetGroups, bnTargetGroupsCPU, bnMinValues = math.MaxInt32, math.MaxInt32, 1
	defer func() { bnTargetGroups, bnTargetGroupsCPU, bnMinValues = t, tc, m }()
	f()
}

// TestBatchNormChunked runs the suite's batch norm checks with every
// reduction split into one-image chunks (TestConformance runs them with
// the device's plans).
func TestBatchNormChunked(t *testing.T) {
	b := open(t, Options{})
	t.Run("chunked", func(t *testing.T) {
		withBNChunks(func() { backendtest.CheckBatchNorm2D(t, b, backendtest.Small) })
	})
}

// TestBNPlan checks the reduction plans: every channel and image is in
// exactly one workgroup's share, a workgroup's channels fit its 256
// invocations, the partials fit the scratch layout, the dispatch fits
// WebGPU's limits, and chunks are only as short as the target needs.
func TestBNPlan(t *testing.T) {
	for _, target := range []int{1, 7, 1024, math.MaxInt32} {
		for _, n := range []int{1, 2, 3, 8, 19, 64, 256} {
			for _, c := range []int{1, 3, 5, 64, 512} {
				for _, hw := range []int{1, 4, 9, 25, 100, 255, 256, 257, 400, 1024} {
					p := bnPlan(n, c, hw, target)
					seg, cpg, groups := int(p.Seg), int(p.CPG), int(p.Groups)
					per, chunks := int(p.PerChunk), int(p.Chunks)
					perLane := (hw + 255) / 256
					switch {
					case seg != min(hw, 256) || cpg*seg > 256 || cpg < 1:
						t.Errorf("n %d c %d hw %d: %d channels of %d lanes", n, c, hw, cpg, seg)
					case groups*cpg < c || (groups-1)*cpg >= c:
						t.Errorf("n %d c %d hw %d: %d groups of %d channels", n, c, hw, groups, cpg)
					case per < 1 || chunks*per < n || (chunks-1)*per >= n:
						t.Errorf("n %d c %d hw %d: %d chunks of %d images", n, c, hw, chunks, per)
					case int(p.CoefOff) != 2*chunks*c:
						t.Errorf("n %d c %d hw %d: coefficients at %d", n, c, hw, p.CoefOff)
					case groups*chunks > 65535*65535:
						t.Errorf("n %d c %d hw %d: %d workgroups", n, c, hw, groups*chunks)
					case per > (bnMinValues+perLane-1)/perLane && groups*chunks > target+groups:
						t.Errorf("n %d c %d hw %d: %d workgroups for a target of %d", n, c, hw, groups*chunks, target)
					}
				}
			}
		}
	}
}

// bnCase is a batch norm compared with the CPU backend.
type bnCase struct {
	name string
	x    net.Shape
}

// bnCases are the batch norms of ResNet18 at a small batch and shapes
// around the reduction's edges: planes of 256 values and more (several
// passes of a lane), a last chunk shorter than the others, and channels
// not a multiple of a workgroup's.
var bnCases = []bnCase{
	{"resnet18_conv1", net.Shape{8, 64, 10, 10}},
	{"resnet18_blk1", net.Shape{8, 128, 5, 5}},
	{"resnet18_blk2", net.Shape{8, 256, 3, 3}},
	{"resnet18_blk3", net.Shape{8, 512, 2, 2}},
	{"resnet18_blk4", net.Shape{8, 512, 1, 1}},
	{"n64_c3x20x20", net.Shape{64, 3, 20, 20}},
	{"n4_c3x16x16", net.Shape{4, 3, 16, 16}},
	{"n2_c3x17x17", net.Shape{2, 3, 17, 17}},
	{"n19_c30x3x3", net.Shape{19, 30, 3, 3}},
}

// bnInputs are x (normal with outliers, channel 0 constant, channel 1 at
// 20 ± 0.5), dy (normal with outliers) and the per-channel parameters.
func bnInputs(seed uint64, xs net.Shape) (x, dy, gamma, beta, rm, rv []float32) {
	rnd := rand.New(rand.NewPCG(seed, 99))
	c, hw := xs[1], xs[2]*xs[3]
	normal := func(n int) []float32 {
		v := make([]float32, n)
		for i := range v {
			v[i] = float32(rnd.NormFloat64())
			if rnd.IntN(100) == 0 {
				v[i] = float32(40 * (2*float64(rnd.IntN(2)) - 1))
			}
		}
		return v
	}
	x, dy = normal(xs.Len()), normal(xs.Len())
	for i := range x {
		switch (i / hw) % c {
		case 0:
			x[i] = 0.7
		case 1:
			x[i] = 20 + 0.5*float32(rnd.NormFloat64())
		}
	}
	gamma, beta, rm, rv = make([]float32, c), make([]float32, c), make([]float32, c), make([]float32, c)
	for i := range gamma {
		gamma[i] = 1 + 0.5*float32(rnd.NormFloat64())
		beta[i] = float32(rnd.NormFloat64())
		rm[i] = float32(rnd.NormFloat64())
		rv[i] = 0.5 + 1.5*float32(rnd.Float64())
	}
	return
}

// bnResults are the outputs of a training forward, an evaluation forward
// and a backward.
type bnResults struct {
	y, mean, invstd, rm, rv, eval, dx, dgamma, dbeta []float32
}

// runBN runs the three ops on backend b.
func runBN(t *testing.T, b net.Backend, xs net.Shape, x, dy, gamma, beta, rm, rv []float32) bnResults {
	t.Helper()
	cs := net.Shape{xs[1]}
	var all []net.Tensor
	up := func(s net.Shape, v []float32) net.Tensor {
		u := b.NewTensor(s)
		if v != nil {
			b.Upload(u, v)
		}
		all = append(all, u)
		return u
	}
	defer func() {
		for _, u := range all {
			b.Free(u)
		}
	}()
	X, DY, G, B, RM, RV := up(xs, x), up(xs, dy), up(cs, gamma), up(cs, beta), up(cs, rm), up(cs, rv)
	Y, M, I, E, DX, DG, DB := up(xs, nil), up(cs, nil), up(cs, nil), up(xs, nil), up(xs, nil), up(cs, nil), up(cs, nil)
	b.BatchNorm2DEval(E, X, G, B, RM, RV, 1e-5)
	b.BatchNorm2DTrain(Y, M, I, X, G, B, RM, RV, 0.1, 1e-5)
	b.BatchNorm2DBackward(DX, DG, DB, DY, X, M, I, G)
	return bnResults{fetch(t, b, Y), fetch(t, b, M), fetch(t, b, I), fetch(t, b, RM), fetch(t, b, RV),
		fetch(t, b, E), fetch(t, b, DX), fetch(t, b, DG), fetch(t, b, DB)}
}

// TestBatchNormVsCPU compares the three batch norm ops with the CPU
// backend on ResNet18's shapes and the reduction's edge cases, with the
// device's plans and with one-image chunks, and checks that a rerun gives
// the same bits.
func TestBatchNormVsCPU(t *testing.T) {
	g := open(t, Options{})
	c := cpu.New()
	defer c.Close()
	for i, tc := range bnCases {
		x, dy, gamma, beta, rm, rv := bnInputs(uint64(i), tc.x)
		want := runBN(t, c, tc.x, x, dy, gamma, beta, rm, rv)
		magG, magB := bnMagnitudes(tc.x, x, dy, want.mean, want.invstd)
		check := func(t *testing.T, got bnResults) {
			const stat, elem = 1e-5, 1e-4
			closeAll(t, "y", got.y, want.y, elem, elem, nil)
			closeAll(t, "mean", got.mean, want.mean, stat, stat, nil)
			closeAll(t, "invstd", got.invstd, want.invstd, stat, stat, nil)
			closeAll(t, "runMean", got.rm, want.rm, stat, stat, nil)
			closeAll(t, "runVar", got.rv, want.rv, stat, stat, nil)
			closeAll(t, "eval y", got.eval, want.eval, elem, elem, nil)
			closeAll(t, "dx", got.dx, want.dx, elem, elem, nil)
			closeAll(t, "dgamma", got.dgamma, want.dgamma, stat, stat, magG)
			closeAll(t, "dbeta", got.dbeta, want.dbeta, stat, stat, magB)
		}
		t.Run(tc.name, func(t *testing.T) {
			got := runBN(t, g, tc.x, x, dy, gamma, beta, rm, rv)
			check(t, got)
			again := runBN(t, g, tc.x, x, dy, gamma, beta, rm, rv)
			sameBits(t, "rerun y", again.y, got.y)
			sameBits(t, "rerun dx", again.dx, got.dx)
			sameBits(t, "rerun dgamma", again.dgamma, got.dgamma)
		})
		t.Run(tc.name+"/chunked", func(t *testing.T) {
			withBNChunks(func() { check(t, runBN(t, g, tc.x, x, dy, gamma, beta, rm, rv)) })
		})
	}
}

// bnMagnitudes returns Σ|dy·x̂| and Σ|dy| per channel, the magnitudes of
// dgamma's and dbeta's sums.
func bnMagnitudes(xs net.Shape, x, dy, mean, invstd []float32) (magG, magB []float64) {
	c, hw := xs[1], xs[2]*xs[3]
	magG, magB = make([]float64, c), make([]float64, c)
	for i := range x {
		ch := (i / hw) % c
		xhat := (float64(x[i]) - float64(mean[ch])) * float64(invstd[ch])
		magG[ch] += math.Abs(float64(dy[i]) * xhat)
		magB[ch] += math.Abs(float64(dy[i]))
	}
	return magG, magB
}

// closeAll checks |got − want| ≤ atol + rtol·|want| (+ rtol·mag[i] for
// sums of magnitude mag) for every value.
func closeAll(t *testing.T, what string, got, want []float32, atol, rtol float64, mag []float64) {
	t.Helper()
	bad := 0
	for i := range want {
		bound := atol + rtol*math.Abs(float64(want[i]))
		if mag != nil {
			bound += rtol * mag[i]
		}
		if d := math.Abs(float64(got[i]) - float64(want[i])); !(d <= bound) {
			if bad == 0 {
				t.Errorf("%s[%d] = %.9g, want %.9g (bound %.3g)", what, i, got[i], want[i], bound)
			}
			bad++
		}
	}
	if bad > 1 {
		t.Errorf("%s: %d of %d values off", what, bad, len(want))
	}
}
