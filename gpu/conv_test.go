package gpu

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"cifarlab/cpu"
	"cifarlab/internal/testenv"
	"cifarlab/net"
)

// convCase is one convolution: x [n, ci, h, w], w [co, ci, k, k].
type convCase struct{ n, ci, h, w, co, k, stride, pad int }

func (c convCase) String() string {
	return fmt.Sprintf("n%d_c%dx%dx%d_o%d_k%ds%dp%d", c.n, c.ci, c.h, c.w, c.co, c.k, c.stride, c.pad)
}

func (c convCase) shapes() (xs, ws, bs, ys net.Shape) {
	g := net.ConvGeom{Stride: c.stride, Pad: c.pad}
	return net.Shape{c.n, c.ci, c.h, c.w}, net.Shape{c.co, c.ci, c.k, c.k}, net.Shape{c.co},
		net.Shape{c.n, c.co, g.Out(c.h, c.k), g.Out(c.w, c.k)}
}

// convResults are the three ops' results for one case (db nil without
// bias).
type convResults struct{ y, dx, dw, db []float32 }

// runConv runs Conv2D, Conv2DBackwardData and Conv2DBackwardParams on any
// backend, starting from NaN-filled destinations; without bias (bias nil)
// the ops get a nil b and db.
func runConv(t *testing.T, b net.Backend, c convCase, x, w, bias, dy []float32) convResults {
	t.Helper()
	xs, ws, bs, ys := c.shapes()
	g := net.ConvGeom{Stride: c.stride, Pad: c.pad}
	var tensors []net.Tensor
	up := func(s net.Shape, v []float32) net.Tensor {
		x := b.NewTensor(s)
		tensors = append(tensors, x)
		b.Upload(x, v)
		return x
	}
	defer func() {
		for _, x := range tensors {
			b.Free(x)
		}
	}()
	nan := func(s net.Shape) net.Tensor {
		v := make([]float32, s.Len())
		for i := range v {
			v[i] = float32(math.NaN())
		}
		return up(s, v)
	}
	X, W, DY := up(xs, x), up(ws, w), up(ys, dy)
	Y, DX, DW := nan(ys), nan(xs), nan(ws)
	var B, DB net.Tensor
	if bias != nil {
		B, DB = up(bs, bias), nan(bs)
	}
	b.Conv2D(Y, X, W, B, g)
	b.Conv2DBackwardData(DX, DY, W, g)
	b.Conv2DBackwardParams(DW, DB, DY, X, g)
	if err := b.Submit(); err != nil {
		t.Fatalf("Submit: %v", err)
	}
	get := func(x net.Tensor) []float32 {
		v := make([]float32, x.Shape().Len())
		if err := b.Download(v, x); err != nil {
			t.Fatalf("Download: %v", err)
		}
		return v
	}
	r := convResults{y: get(Y), dx: get(DX), dw: get(DW)}
	if DB != nil {
		r.db = get(DB)
	}
	return r
}

// convRef is what the CPU backend computes for a case, and the same ops
// over absolute values (the magnitudes of the sums, which scale the
// tolerance).
func convRef(t *testing.T, c convCase, x, w, bias, dy []float32) (ref, mag convResults) {
	b := cpu.New()
	defer b.Close()
	return runConv(t, b, c, x, w, bias, dy), runConv(t, b, c, convAbs(x), convAbs(w), convAbs(bias), convAbs(dy))
}

// convData returns the inputs of case i: N(0,1) with about 2% outliers
// of ±50, weights scaled by 1/√(ci·k²).
func convData(i int, c convCase) (x, w, bias, dy []float32) {
	xs, ws, bs, ys := c.shapes()
	return convRandom(uint64(4*i), xs.Len(), 1),
		convRandom(uint64(4*i+1), ws.Len(), 1/math.Sqrt(float64(c.ci*c.k*c.k))),
		convRandom(uint64(4*i+2), bs.Len(), 1),
		convRandom(uint64(4*i+3), ys.Len(), 1)
}

// convRandom returns n values from N(0,1)·scale with about 2% outliers of
// ±50·scale, from a fixed seed.
func convRandom(seed uint64, n int, scale float64) []float32 {
	r := rand.New(rand.NewPCG(seed, 0xc0a7))
	v := make([]float32, n)
	for i := range v {
		v[i] = float32(r.NormFloat64() * scale)
	}
	for j := 0; j < n/50; j++ {
		v[r.IntN(n)] = float32(50 * scale * float64(1-2*(j%2)))
	}
	return v
}

// convAbs is |v| elementwise (nil for nil: no bias).
func convAbs(v []float32) []float32 {
	if v == nil {
		return nil
	}
	out := make([]float32, len(v))
	for i, x := range v {
		out[i] = float32(math.Abs(float64(x)))
	}
	return out
}

// convClose checks got against the CPU's want within 1e-5 + 1e-5·mag (mag
// is the sum of the absolute values of the terms, so any summation order
// passes) and reports the worst value, at its coordinates in shape s.
func convClose(t *testing.T, what string, s net.Shape, got, want, mag []float32) {
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
		at := make([]int, len(s))
		for d, i := len(s)-1, worstAt; d >= 0; d-- {
			at[d], i = i%s[d], i/s[d]
		}
		t.Errorf("%s %v: %d of %d values off; worst at %v: got %.9g, want %.9g (%.3g× the bound)",
			what, s, bad, len(want), at, got[worstAt], want[worstAt], worst)
	}
}

// withConvPlan sets the plan thresholds for the rest of t.
func withConvPlan(t *testing.T, thinMax, fill, minChunk int) {
	a, f, m, c := convThinMax, convFill, convMinChunk, convCapTraffic
	convThinMax, convFill, convMinChunk, convCapTraffic = thinMax, fill, minChunk, false
	t.Cleanup(func() { convThinMax, convFill, convMinChunk, convCapTraffic = a, f, m, c })
}

// convPlans force each tiling: wide or thin tiles, whole or split
// reductions (splits of 16, so that reduce runs several lanes per output).
var convPlans = []struct {
	name                    string
	thinMax, fill, minChunk int
}{
	{"wide", -1, 0, math.MaxInt / 4},
	{"thin", math.MaxInt, 0, math.MaxInt / 4},
	{"wide_split", -1, math.MaxInt / 4, 16},
	{"thin_split", math.MaxInt, math.MaxInt / 4, 16},
}

// TestConvTiles compares the three ops with the CPU backend, under every
// plan, on shapes at the edges of the tiles (channels one past a multiple
// of 16 or 64, n·ho·wo one past a multiple of 64), the layers of LeNet5 and
// ResNet18 at a small batch, dead taps, and strides whose phases see
// different numbers of taps; with the staged and the unstaged kernels, with
// and without bias.
func TestConvTiles(t *testing.T) {
	for _, v := range kernelVariants(t) {
		t.Run(v.name, func(t *testing.T) {
			convTiles(t, v.b)
			for _, k := range []*kernel{kConvForwardThin, kConvBackwardDataThin, kConvBackwardParamsThin} {
				ranVariant(t, v.b, k)
			}
		})
	}
}

func convTiles(t *testing.T, b *Backend) {
	cases := []convCase{
		{2, 3, 32, 32, 6, 5, 1, 0},   // LeNet5 conv1
		{3, 6, 14, 14, 16, 5, 1, 0},  // LeNet5 conv2
		{2, 3, 32, 32, 64, 3, 3, 0},  // ResNet18 stem: 10×10
		{2, 64, 10, 10, 65, 3, 2, 1}, // blk1 conv1-like, 65 outputs
		{2, 17, 5, 5, 17, 3, 1, 1},   // 17 channels: one past a thin tile
		{1, 5, 13, 5, 3, 1, 1, 0},    // n·ho·wo = 65
		{2, 64, 10, 10, 33, 1, 2, 0}, // projection: phases without taps
		{2, 40, 2, 2, 24, 3, 2, 1},   // blk4 conv1-like: 2×2 → 1×1, dead row and column
		{3, 33, 1, 1, 20, 3, 1, 1},   // 1×1 map: only the centre tap lives
		{2, 5, 11, 9, 7, 5, 3, 2},    // stride 3: phases with 1 or 2 taps a direction
		{2, 4, 3, 3, 5, 5, 1, 2},     // kernel larger than the image
		{1, 2, 1, 1, 3, 3, 10, 5},    // the kernel never sees the image
	}
	for i, c := range cases {
		x, w, bias, dy := convData(i, c)
		ref, mag := convRef(t, c, x, w, bias, dy)
		// Without bias: the same case with a nil b and db; dx is the
		// same op, so only y and dw are compared.
		refNB, magNB := convRef(t, c, x, w, nil, dy)
		for _, p := range convPlans {
			t.Run(p.name+"/"+c.String(), func(t *testing.T) {
				withConvPlan(t, p.thinMax, p.fill, p.minChunk)
				got := runConv(t, b, c, x, w, bias, dy)
				xs, ws, bs, ys := c.shapes()
				convClose(t, "y", ys, got.y, ref.y, mag.y)
				convClose(t, "dx", xs, got.dx, ref.dx, mag.dx)
				convClose(t, "dw", ws, got.dw, ref.dw, mag.dw)
				convClose(t, "db", bs, got.db, ref.db, mag.db)
				got = runConv(t, b, c, x, w, nil, dy)
				convClose(t, "y without bias", ys, got.y, refNB.y, magNB.y)
				convClose(t, "dw without bias", ws, got.dw, refNB.dw, magNB.dw)
			})
		}
	}
}

// TestConvDeterministic runs split products twice and checks that the
// results are the same bits.
func TestConvDeterministic(t *testing.T) {
	b := open(t, Options{})
	withConvPlan(t, -1, math.MaxInt/4, 16)
	c := convCase{2, 16, 9, 9, 24, 3, 1, 1}
	x, w, bias, dy := convData(0, c)
	first := runConv(t, b, c, x, w, bias, dy)
	second := runConv(t, b, c, x, w, bias, dy)
	for _, r := range []struct {
		name string
		a, b []float32
	}{{"y", first.y, second.y}, {"dx", first.dx, second.dx}, {"dw", first.dw, second.dw}, {"db", first.db, second.db}} {
		if !slices.EqualFunc(r.a, r.b, func(u, v float32) bool { return math.Float32bits(u) == math.Float32bits(v) }) {
			t.Errorf("%s differs between two runs", r.name)
		}
	}
}

// convLayers are the convolutions of LeNet5 and ResNet18 at batch 256.
var convLayers = []struct {
	name string
	c    convCase
}{
	{"lenet5_conv1", convCase{256, 3, 32, 32, 6, 5, 1, 0}},
	{"lenet5_conv2", convCase{256, 6, 14, 14, 16, 5, 1, 0}},
	{"resnet18_stem", convCase{256, 3, 32, 32, 64, 3, 3, 0}},
	{"resnet18_blk1_conv1", convCase{256, 64, 10, 10, 128, 3, 2, 1}},
	{"resnet18_blk1_conv2", convCase{256, 128, 5, 5, 128, 3, 1, 1}},
	{"resnet18_blk1_extra", convCase{256, 64, 10, 10, 128, 1, 2, 0}},
	{"resnet18_blk2_conv1", convCase{256, 128, 5, 5, 256, 3, 2, 1}},
	{"resnet18_blk2_conv2", convCase{256, 256, 3, 3, 256, 3, 1, 1}},
	{"resnet18_blk2_extra", convCase{256, 128, 5, 5, 256, 1, 2, 0}},
	{"resnet18_blk3_conv1", convCase{256, 256, 3, 3, 512, 3, 2, 1}},
	{"resnet18_blk3_conv2", convCase{256, 512, 2, 2, 512, 3, 1, 1}},
	{"resnet18_blk3_extra", convCase{256, 256, 3, 3, 512, 1, 2, 0}},
	{"resnet18_blk4_conv1", convCase{256, 512, 2, 2, 512, 3, 2, 1}},
	{"resnet18_blk4_conv2", convCase{256, 512, 1, 1, 512, 3, 1, 1}},
	{"resnet18_blk4_extra", convCase{256, 512, 2, 2, 512, 1, 2, 0}},
}

// TestConvPlanLimits checks the plans of the two networks' layers against
// WebGPU's default limits: workgroups, the partial products' binding, and
// the reduce lanes; and logs them.
func TestConvPlanLimits(t *testing.T) {
	const maxBinding = 128 << 20
	for _, l := range convLayers {
		c := l.c
		xs, ws, _, ys := c.shapes()
		d := convShapes("test", xs, ws, net.ConvGeom{Stride: c.stride, Pad: c.pad})
		taps := d.ci * d.nky * d.nkx
		plans := map[string]product{
			"forward": forwardPlan(d),
			"params":  backwardParamsPlan(d, 1),
			"data":    backwardDataPlan(d),
		}
		operands := map[string]int{
			"forward": xs.Len() + ws.Len() + ys.Len(),
			"data":    ys.Len() + ws.Len() + xs.Len(),
			"params":  ys.Len() + xs.Len() + d.co*(taps+1),
		}
		for _, op := range []string{"forward", "data", "params"} {
			pr := plans[op]
			groups := pr.invocations() / pr.threads()
			t.Logf("%s %s: %d×%d·%d k %d: %s tiles %d×%d, %d phases, %d splits of %d, %d workgroups",
				l.name, op, pr.m, pr.n, pr.phases, pr.k, map[bool]string{true: "thin", false: "wide"}[pr.thin],
				pr.tilesM, pr.tilesN, pr.phases, pr.splits, pr.chunk, groups)
			switch {
			case pr.chunk%convStep != 0 || pr.splits*pr.chunk < pr.k || (pr.splits-1)*pr.chunk >= max(pr.k, 1):
				t.Errorf("%s %s: %d splits of %d for a reduction of %d", l.name, op, pr.splits, pr.chunk, pr.k)
			case groups > 65535*65535:
				t.Errorf("%s %s: %d workgroups", l.name, op, groups)
			case pr.splits > 1 && 4*pr.splits*pr.outLen > min(maxBinding, convMaxPartial):
				t.Errorf("%s %s: %d bytes of partial products", l.name, op, 4*pr.splits*pr.outLen)
			case pr.splits > 1 && 2*pr.splits*pr.outLen > operands[op]:
				t.Errorf("%s %s: %d splits of %d outputs move more than the %d elements of the product's tensors", l.name, op, pr.splits, pr.outLen, operands[op])
			case pr.lanes() > convMaxLanes || pr.lanes()*convLaneRun < pr.splits:
				t.Errorf("%s %s: %d lanes for %d splits", l.name, op, pr.lanes(), pr.splits)
			}
		}
	}
}

// TestPhaseTaps compares phaseTaps with the taps found by trying every
// kernel offset.
func TestPhaseTaps(t *testing.T) {
	for stride := 1; stride <= 4; stride++ {
		for pad := 0; pad <= 3; pad++ {
			for t0 := 0; t0 <= 3; t0++ {
				for nt := 0; nt <= 5; nt++ {
					for p := 0; p < stride; p++ {
						var want []int
						for k := t0; k < t0+nt; k++ {
							if (p+pad-k)%stride == 0 { // Go's % keeps the sign: 0 either way
								want = append(want, k)
							}
						}
						first, count := phaseTaps(p, t0, nt, stride, pad)
						var got []int
						for j := 0; j < count; j++ {
							got = append(got, first+j*stride)
						}
						if !slices.Equal(got, want) {
							t.Errorf("phaseTaps(p %d, t0 %d, nt %d, stride %d, pad %d) = %v, want %v", p, t0, nt, stride, pad, got, want)
						}
					}
				}
			}
		}
	}
}

// BenchmarkConv runs each op of each layer of the two networks at batch
// 256: record, submit, and wait for the device at the end.
func BenchmarkConv(b *testing.B) {
	g, err := Open(Options{})
	if err != nil {
		testenv.GPU(b, err)
	}
	defer g.Close()
	b.Logf("%s", g.Name())
	for _, l := range convLayers {
		c := l.c
		xs, ws, bs, ys := c.shapes()
		geom := net.ConvGeom{Stride: c.stride, Pad: c.pad}
		flops := 2 * float64(ys.Len()) * float64(c.ci*c.k*c.k)
		for _, op := range []string{"forward", "backward_data", "backward_params"} {
			b.Run(l.name+"/"+op, func(b *testing.B) {
				X, W, B, Y := g.NewTensor(xs), g.NewTensor(ws), g.NewTensor(bs), g.NewTensor(ys)
				DX, DW, DB := g.NewTensor(xs), g.NewTensor(ws), g.NewTensor(bs)
				defer func() {
					for _, t := range []net.Tensor{X, W, B, Y, DX, DW, DB} {
						g.Free(t)
					}
				}()
				run := func() {
					switch op {
					case "forward":
						g.Conv2D(Y, X, W, B, geom)
					case "backward_data":
						g.Conv2DBackwardData(DX, Y, W, geom)
					default:
						g.Conv2DBackwardParams(DW, DB, Y, X, geom)
					}
					if err := g.Submit(); err != nil {
						b.Fatal(err)
					}
				}
				run() // compile the pipelines, make the bind groups
				if err := g.Download(make([]float32, bs.Len()), B); err != nil {
					b.Fatal(err)
				}
				b.ResetTimer()
				for i := 0; i < b.N; i++ {
					run()
				}
				if err := g.Download(make([]float32, bs.Len()), B); err != nil { // wait for the device
					b.Fatal(err)
				}
				b.ReportMetric(flops*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
			})
		}
	}
}

// TestQuotExact checks the arithmetic of quot in shaders/conv.wgsl, done
// here in float32 as the shader does it, for every index below
// convMaxIndex that sits at the edge of a quotient (q·d − 1, q·d, q·d + 1)
// and the divisors the kernels meet. WGSL allows 1/d to be 2.5 ULP off;
// the reciprocal is taken 3 ULP either side too.
func TestQuotExact(t *testing.T) {
	quot := func(a, d uint32, inv float32) uint32 {
		q := uint32((float32(a) + 0.5) * inv)
		for range 2 {
			if q*d > a {
				q--
			}
		}
		for range 2 {
			if (q+1)*d <= a {
				q++
			}
		}
		return q
	}
	divs := []uint32{1, 2, 3, 4, 5, 6, 7, 8, 9, 12, 16, 25, 49, 64, 225, 1024, 1089, 4096, 1 << 21, convMaxIndex - 1}
	for _, d := range divs {
		exact := float32(1) / float32(d)
		for _, ulp := range []int{-3, 0, 3} {
			inv := math.Float32frombits(uint32(int(math.Float32bits(exact)) + ulp))
			for q := uint32(0); q*d < convMaxIndex; q++ {
				for _, a := range []uint32{q*d - 1, q * d, q*d + 1, q*d + d - 1} {
					if a >= convMaxIndex || (q == 0 && a == q*d-1) {
						continue
					}
					if got := quot(a, d, inv); got != a/d {
						t.Fatalf("quot(%d, %d) with 1/d %d ULP off = %d, want %d", a, d, ulp, got, a/d)
					}
				}
			}
		}
	}
}
