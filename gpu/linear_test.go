package gpu

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"cifarlab/cpu"
	"cifarlab/net"
)

// withPlan sets the plan thresholds for the rest of t.
func withPlan(t *testing.T, largeMin, chunk, target int) {
	l, c, g := largeTilesMin, splitChunk, splitTarget
	largeTilesMin, splitChunk, splitTarget = largeMin, chunk, target
	t.Cleanup(func() { largeTilesMin, splitChunk, splitTarget = l, c, g })
}

// linearData returns n values from N(0,1)·scale with about 2% outliers of
// ±50·scale, from a fixed seed.
func linearData(seed uint64, n int, scale float64) []float32 {
	r := rand.New(rand.NewPCG(seed, 0x11ea7))
	v := make([]float32, n)
	for i := range v {
		v[i] = float32(r.NormFloat64() * scale)
	}
	for j := 0; j < n/50; j++ {
		v[r.IntN(n)] = float32(50 * scale * float64(1-2*(j%2)))
	}
	return v
}

func abs32(v []float32) []float32 {
	out := make([]float32, len(v))
	for i, x := range v {
		out[i] = float32(math.Abs(float64(x)))
	}
	return out
}

// linearRef is what the CPU backend computes for one case, and the same
// products over absolute values: the magnitudes of the sums, which scale
// the tolerance.
type linearRef struct {
	y, dx, dw, db             []float32
	magY, magDX, magDW, magDB []float32
}

func cpuLinear(n, in, out int, x, w, bias, dy []float32) (r linearRef) {
	c := cpu.New()
	defer c.Close()
	run := func(x, w, bias, dy []float32) (y, dx, dw, db []float32) {
		up := func(s net.Shape, v []float32) net.Tensor { t := c.NewTensor(s); c.Upload(t, v); return t }
		X, W, B, DY := up(net.Shape{n, in}, x), up(net.Shape{out, in}, w), up(net.Shape{out}, bias), up(net.Shape{n, out}, dy)
		Y, DX, DW, DB := c.NewTensor(net.Shape{n, out}), c.NewTensor(net.Shape{n, in}), c.NewTensor(net.Shape{out, in}), c.NewTensor(net.Shape{out})
		c.Linear(Y, X, W, B)
		c.LinearBackwardData(DX, DY, W)
		c.LinearBackwardParams(DW, DB, DY, X)
		get := func(t net.Tensor) []float32 {
			v := make([]float32, t.Shape().Len())
			if err := c.Download(v, t); err != nil {
				panic(err)
			}
			return v
		}
		return get(Y), get(DX), get(DW), get(DB)
	}
	r.y, r.dx, r.dw, r.db = run(x, w, bias, dy)
	r.magY, r.magDX, r.magDW, r.magDB = run(abs32(x), abs32(w), abs32(bias), abs32(dy))
	return r
}

// closeTo checks got against the CPU's want within 1e-5 + 1e-5·mag (mag
// is the sum of the absolute values of the terms) and reports the worst.
func closeTo(t *testing.T, what string, cols int, got, want, mag []float32) {
	t.Helper()
	bad, worst, worstAt := 0, 0.0, -1
	for i := range want {
		err := math.Abs(float64(got[i]) - float64(want[i]))
		bound := 1e-5 + 1e-5*float64(mag[i])
		if !(err <= bound) {
			bad++
		}
		if r := err / bound; worstAt < 0 || r > worst || math.IsNaN(err) {
			worst, worstAt = r, i
		}
	}
	if bad > 0 {
		i := worstAt
		t.Errorf("%s: %d of %d values off; worst at [%d,%d]: got %.9g, want %.9g (%.3g× the bound)",
			what, bad, len(want), i/cols, i%cols, got[i], want[i], worst)
	}
}

// TestLinearTiles compares the three ops with the CPU backend on shapes
// at the edges of the tiles (one row or column past a multiple of 32 or
// 64, batch 1, a reduction shorter than one step or over a few thousand
// samples), under each plan: small tiles, large tiles, and the batch
// reduction of LinearBackwardParams split into pieces; with the staged and
// the unstaged kernels.
func TestLinearTiles(t *testing.T) {
	for _, v := range kernelVariants(t) {
		t.Run(v.name, func(t *testing.T) {
			linearTiles(t, v.b)
			ranVariant(t, v.b, smallTiles.forward)
			ranVariant(t, v.b, largeTiles.backwardParams)
		})
	}
}

func linearTiles(t *testing.T, b *Backend) {
	cases := []struct {
		n, in, out int
		split      bool // also under the plans that split the batch
	}{
		{1, 17, 11, false},
		{1, 512, 10, false},
		{3, 1, 5, false},
		{33, 65, 31, false},
		{65, 33, 129, false},
		{64, 64, 64, false},
		{7, 1000, 3, false},
		{256, 400, 120, false},
		{2048, 84, 10, true},
		{100, 5, 7, true},
		{1000, 7, 9, true},
	}
	plans := []struct {
		name                    string
		largeMin, chunk, target int
		split                   bool // the plan splits the batch
	}{
		{"small", math.MaxInt, math.MaxInt, 0, false},
		{"large", 0, math.MaxInt, 0, false},
		{"small_split", math.MaxInt, 40, 1 << 20, true},
		{"large_split", 0, 40, 1 << 20, true},
	}
	for ci, c := range cases {
		x := linearData(uint64(3*ci), c.n*c.in, 1)
		w := linearData(uint64(3*ci+1), c.out*c.in, 1/math.Sqrt(float64(c.in)))
		bias := linearData(uint64(3*ci+2), c.out, 1)
		dy := linearData(uint64(3*ci+3), c.n*c.out, 1)
		ref := cpuLinear(c.n, c.in, c.out, x, w, bias, dy)
		for _, p := range plans {
			if p.split && !c.split {
				continue
			}
			t.Run(fmt.Sprintf("%s/n%d_%dto%d", p.name, c.n, c.in, c.out), func(t *testing.T) {
				withPlan(t, p.largeMin, p.chunk, p.target)
				X, W, B := tensorOf(t, b, net.Shape{c.n, c.in}, x), tensorOf(t, b, net.Shape{c.out, c.in}, w), tensorOf(t, b, net.Shape{c.out}, bias)
				DY := tensorOf(t, b, net.Shape{c.n, c.out}, dy)
				nan := func(s net.Shape) net.Tensor { // a destination an op must overwrite entirely
					v := make([]float32, s.Len())
					for i := range v {
						v[i] = float32(math.NaN())
					}
					return tensorOf(t, b, s, v)
				}
				Y, DX, DW, DB := nan(net.Shape{c.n, c.out}), nan(net.Shape{c.n, c.in}), nan(net.Shape{c.out, c.in}), nan(net.Shape{c.out})
				b.Linear(Y, X, W, B)
				b.LinearBackwardData(DX, DY, W)
				b.LinearBackwardParams(DW, DB, DY, X)
				closeTo(t, "y", c.out, get(t, b, Y), ref.y, ref.magY)
				closeTo(t, "dx", c.in, get(t, b, DX), ref.dx, ref.magDX)
				dw, db := get(t, b, DW), get(t, b, DB)
				closeTo(t, "dw", c.in, dw, ref.dw, ref.magDW)
				closeTo(t, "db", c.out, db, ref.db, ref.magDB)
				if !p.split {
					return
				}
				// Deterministic: the same bits again.
				b.LinearBackwardParams(DW, DB, DY, X)
				dw2, db2 := get(t, b, DW), get(t, b, DB)
				for i := range dw {
					if math.Float32bits(dw[i]) != math.Float32bits(dw2[i]) {
						t.Fatalf("dw[%d] differs between two runs: %g, %g", i, dw[i], dw2[i])
					}
				}
				for i := range db {
					if math.Float32bits(db[i]) != math.Float32bits(db2[i]) {
						t.Fatalf("db[%d] differs between two runs: %g, %g", i, db[i], db2[i])
					}
				}
			})
		}
	}
}

// TestPlanMatmul checks the plans of the networks' layers and of the
// extremes of the batch.
func TestPlanMatmul(t *testing.T) {
	for _, c := range []struct {
		m, n, k     int
		split       bool
		large       bool
		splits, grp int
	}{
		{256, 120, 400, false, false, 1, 32},   // LeNet5 fc1 forward
		{256, 400, 120, false, false, 1, 104},  // fc1 backward data
		{120, 400, 256, true, false, 1, 52},    // fc1 backward params: batch 256, not split
		{10, 84, 256, true, false, 1, 3},       // fc3 backward params
		{256, 10, 512, false, false, 1, 8},     // ResNet18 outlayer forward
		{10, 512, 4096, true, false, 8, 128},   // its backward params at batch 4096, split
		{10, 84, 4096, true, false, 16, 48},    // fc3 at batch 4096: 16 pieces of 256
		{120, 400, 4096, true, false, 3, 156},  // fc1 at batch 4096
		{4096, 512, 10, false, true, 1, 512},   // ResNet18 backward data at batch 4096
		{1, 10, 512, false, false, 1, 1},       // batch 1
		{4096, 120, 400, false, false, 1, 512}, // LeNet5 fc1 forward at batch 4096
	} {
		p := planMatmul(c.m, c.n, c.k, c.split)
		if (p.t == largeTiles) != c.large || int(p.p.Splits) != c.splits || p.groups != c.grp {
			t.Errorf("plan %d×%d·%d (split %v): large %v, %d splits of %d, %d workgroups; want large %v, %d splits, %d workgroups",
				c.m, c.n, c.k, c.split, p.t == largeTiles, p.p.Splits, p.p.KSplit, p.groups, c.large, c.splits, c.grp)
		}
		if int(p.p.KSplit)%p.t.step != 0 || int(p.p.KSplit*p.p.Splits) < c.k || int(p.p.KSplit*(p.p.Splits-1)) >= max(c.k, 1) {
			t.Errorf("plan %d×%d·%d: %d splits of %d do not cover k once", c.m, c.n, c.k, p.p.Splits, p.p.KSplit)
		}
	}
}
