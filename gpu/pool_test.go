package gpu

import (
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"testing"

	"cifarlab/cpu"
	"cifarlab/net"
)

// poolData returns n values of which most lie on a coarse grid (ties in
// most windows) with a few large outliers of both signs.
func poolData(rnd *rand.Rand, n int) []float32 {
	v := make([]float32, n)
	for i := range v {
		switch r := rnd.IntN(100); {
		case r < 2:
			v[i] = float32(60 * (2*float64(r) - 1))
		case r < 60:
			v[i] = float32(rnd.IntN(5) - 2)
		default:
			v[i] = float32(rnd.NormFloat64())
		}
	}
	return v
}

// TestPoolVsCPU compares MaxPool2D and MaxPool2DBackward with the CPU
// backend, bit for bit, on the shapes of the two networks, on larger planes
// with overlapping windows and on strides longer than the window (rows and
// columns in no window).
func TestPoolVsCPU(t *testing.T) {
	g := open(t, Options{})
	c := cpu.New()
	defer c.Close()
	for i, tc := range []struct {
		name string
		x    net.Shape
		g    net.PoolGeom
	}{
		{"lenet5_pool1", net.Shape{4, 6, 28, 28}, net.PoolGeom{KH: 2, KW: 2, SH: 2, SW: 2}},
		{"lenet5_pool2", net.Shape{4, 16, 10, 10}, net.PoolGeom{KH: 2, KW: 2, SH: 2, SW: 2}},
		{"resnet18_pool", net.Shape{8, 512, 1, 1}, net.PoolGeom{KH: 1, KW: 1, SH: 1, SW: 1}},
		{"global_5x7", net.Shape{3, 70, 5, 7}, net.PoolGeom{KH: 5, KW: 7, SH: 5, SW: 7}},
		{"large_3x3s2", net.Shape{2, 3, 50, 150}, net.PoolGeom{KH: 3, KW: 3, SH: 2, SW: 2}},
		{"wide_4x3s1x2", net.Shape{2, 5, 9, 11}, net.PoolGeom{KH: 4, KW: 3, SH: 1, SW: 2}},
		{"gaps_2x1s3x2", net.Shape{3, 4, 11, 10}, net.PoolGeom{KH: 2, KW: 1, SH: 3, SW: 2}},
	} {
		rnd := rand.New(rand.NewPCG(uint64(i), 77))
		ho, wo := tc.g.Out(tc.x[2], tc.x[3])
		ys := net.Shape{tc.x[0], tc.x[1], ho, wo}
		xv, dyv := poolData(rnd, tc.x.Len()), poolData(rnd, ys.Len())

		cx, cy, cam := c.NewTensor(tc.x), c.NewTensor(ys), c.NewIntTensor(ys)
		c.Upload(cx, xv)
		c.MaxPool2D(cy, cam, cx, tc.g)
		cdy, cdx := c.NewTensor(ys), c.NewTensor(tc.x)
		c.Upload(cdy, dyv)
		c.MaxPool2DBackward(cdx, cdy, cam, tc.g)
		wantY, wantAM, wantDX := fetch(t, c, cy), fetchInts(t, c, cam), fetch(t, c, cdx)

		t.Run(tc.name, func(t *testing.T) {
			x, y, am := tensorOf(t, g, tc.x, xv), tensorOf(t, g, ys, nil), g.NewIntTensor(ys)
			defer g.Free(am)
			dy, dx := tensorOf(t, g, ys, dyv), tensorOf(t, g, tc.x, nil)
			g.MaxPool2D(y, am, x, tc.g)
			g.MaxPool2DBackward(dx, dy, am, tc.g)
			sameBits(t, "y", fetch(t, g, y), wantY)
			if got := fetchInts(t, g, am); !slices.Equal(got, wantAM) {
				t.Errorf("argmax differs from the CPU backend's")
			}
			sameBits(t, "dx", fetch(t, g, dx), wantDX)
		})
		for _, v := range []any{cx, cy, cam, cdy, cdx} {
			c.Free(v)
		}
	}
}

// TestPoolNaN checks that a window holding a NaN outputs NaN with the
// argmax of its last NaN, as PyTorch does, and that the other windows are
// unaffected.
func TestPoolNaN(t *testing.T) {
	b := open(t, Options{})
	nan := float32(math.NaN())
	xs := net.Shape{1, 1, 4, 4}
	x := tensorOf(t, b, xs, []float32{
		1, nan, 3, 4,
		nan, 2, 0, -1,
		5, 6, -1, -2,
		7, 8, -3, nan,
	})
	ys := net.Shape{1, 1, 2, 2}
	y, am := tensorOf(t, b, ys, nil), b.NewIntTensor(ys)
	defer b.Free(am)
	b.MaxPool2D(y, am, x, net.PoolGeom{KH: 2, KW: 2, SH: 2, SW: 2})
	got, gotAM := fetch(t, b, y), fetchInts(t, b, am)
	if !math.IsNaN(float64(got[0])) || gotAM[0] != 4 {
		t.Errorf("window with NaNs at 1 and 4: y %g argmax %d, want NaN and 4", got[0], gotAM[0])
	}
	if got[1] != 4 || gotAM[1] != 3 || got[2] != 8 || gotAM[2] != 13 {
		t.Errorf("windows without NaN: y %v argmax %v", got[1:3], gotAM[1:3])
	}
	if !math.IsNaN(float64(got[3])) || gotAM[3] != 15 {
		t.Errorf("window with a NaN at 15: y %g argmax %d, want NaN and 15", got[3], gotAM[3])
	}
}

// fetch submits and reads back a tensor of any backend.
func fetch(t *testing.T, b net.Backend, x net.Tensor) []float32 {
	t.Helper()
	if err := b.Submit(); err != nil {
		t.Fatalf("Submit: %v", err)
	}
	out := make([]float32, x.Shape().Len())
	if err := b.Download(out, x); err != nil {
		t.Fatalf("Download: %v", err)
	}
	return out
}

// fetchInts submits and reads back an int tensor of any backend.
func fetchInts(t *testing.T, b net.Backend, x net.IntTensor) []int32 {
	t.Helper()
	if err := b.Submit(); err != nil {
		t.Fatalf("Submit: %v", err)
	}
	out := make([]int32, x.Shape().Len())
	if err := b.DownloadInt(out, x); err != nil {
		t.Fatalf("DownloadInt: %v", err)
	}
	return out
}

// sameBits reports the first of got's values whose bits differ from want's.
func sameBits(t *testing.T, what string, got, want []float32) {
	t.Helper()
	bad := 0
	for i := range want {
		if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
			if bad == 0 {
				t.Errorf("%s[%d] = %g, want %g", what, i, got[i], want[i])
			}
			bad++
		}
	}
	if bad > 1 {
		t.Errorf("%s: %d of %d values differ", what, bad, len(want))
	}
}

// TestGlobalAvgPoolVsCPU compares GlobalAvgPool2D and its backward with the
// CPU backend (which sums in float64) on ResNet18's pool at a small batch,
// odd planes, a plane of one row or column and a large plane, with
// outliers: y to 1e-6 + 1e-5 of the mean magnitude, dx to 1e-6 relative
// (one division, rounded by the GPU within 2.5 ulp).
func TestGlobalAvgPoolVsCPU(t *testing.T) {
	g := open(t, Options{})
	c := cpu.New()
	defer c.Close()
	for i, xs := range []net.Shape{{8, 512, 4, 4}, {3, 70, 5, 7}, {2, 3, 1, 13}, {3, 2, 11, 1}, {2, 3, 50, 150}} {
		rnd := rand.New(rand.NewPCG(uint64(i), 78))
		ys := net.Shape{xs[0], xs[1], 1, 1}
		xv, dyv := poolData(rnd, xs.Len()), poolData(rnd, ys.Len())

		cx, cy, cdy, cdx := c.NewTensor(xs), c.NewTensor(ys), c.NewTensor(ys), c.NewTensor(xs)
		c.Upload(cx, xv)
		c.Upload(cdy, dyv)
		c.GlobalAvgPool2D(cy, cx)
		c.GlobalAvgPool2DBackward(cdx, cdy)
		wantY, wantDX := fetch(t, c, cy), fetch(t, c, cdx)
		c.Upload(cx, convAbs(xv))
		c.GlobalAvgPool2D(cy, cx)
		magY := fetch(t, c, cy)

		t.Run(shapeString(xs), func(t *testing.T) {
			x, y := tensorOf(t, g, xs, xv), tensorOf(t, g, ys, nil)
			dy, dx := tensorOf(t, g, ys, dyv), tensorOf(t, g, xs, nil)
			g.GlobalAvgPool2D(y, x)
			g.GlobalAvgPool2DBackward(dx, dy)
			gotY, gotDX := fetch(t, g, y), fetch(t, g, dx)
			for j, want := range wantY {
				if err := math.Abs(float64(gotY[j] - want)); !(err <= 1e-6+1e-5*float64(magY[j])) {
					t.Fatalf("y[%d] = %.9g, want %.9g", j, gotY[j], want)
				}
			}
			for j, want := range wantDX {
				if err := math.Abs(float64(gotDX[j] - want)); !(err <= 1e-6*math.Abs(float64(want))) {
					t.Fatalf("dx[%d] = %.9g, want %.9g", j, gotDX[j], want)
				}
			}
		})
		for _, v := range []any{cx, cy, cdy, cdx} {
			c.Free(v)
		}
	}
}

// shapeString is a shape as a test name, e.g. "8x512x4x4".
func shapeString(s net.Shape) string {
	out := ""
	for i, d := range s {
		if i > 0 {
			out += "x"
		}
		out += strconv.Itoa(d)
	}
	return out
}
