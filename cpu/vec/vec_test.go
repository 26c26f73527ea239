package vec

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// lengths cover the SIMD kernels' groups of four and the tails done in Go.
var lengths = []int{0, 1, 3, 4, 5, 8, 17, 1023, 4096 + 2}

func randSlice(rng *rand.Rand, n int) []float32 {
	s := make([]float32, n)
	for i := range s {
		s[i] = float32(rng.NormFloat64())
		switch rng.IntN(16) {
		case 0:
			s[i] = 0
		case 1:
			s[i] = float32(math.Copysign(0, -1))
		}
	}
	return s
}

// same fails unless got and want hold the same bits, NaNs aside (any NaN
// matches any NaN).
func same(t *testing.T, what string, got, want []float32) {
	t.Helper()
	for i := range want {
		g, w := got[i], want[i]
		if g != g && w != w {
			continue
		}
		if math.Float32bits(g) != math.Float32bits(w) {
			t.Fatalf("%s: element %d of %d is %v (%#x), want %v (%#x)", what, i, len(want), g, math.Float32bits(g), w, math.Float32bits(w))
		}
	}
}

// TestElementwise checks each function on every length against the formula
// it implements, written out here: with the kernels in use (the browser's
// SIMD128 ones, AVX2 on amd64) and with the Go loops alone.
func TestElementwise(t *testing.T) {
	t.Run("used", checkElementwise)
	t.Run("go", func(t *testing.T) {
		a0, a1, a2, a3, a4, a5 := add, add3, relu, reluMask, affine, bnInputGrad
		defer func() { add, add3, relu, reluMask, affine, bnInputGrad = a0, a1, a2, a3, a4, a5 }()
		add, add3, relu, reluMask, affine, bnInputGrad = addGo, add3Go, reluGo, reluMaskGo, affineGo, bnInputGradGo
		checkElementwise(t)
	})
}

func checkElementwise(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, n := range lengths {
		a, b, c := randSlice(rng, n), randSlice(rng, n), randSlice(rng, n)
		if n > 2 {
			a[1], b[2] = float32(math.NaN()), float32(math.Inf(-1))
		}
		want, got := make([]float32, n), make([]float32, n)
		name := func(f string) string { return fmt.Sprintf("%s, n=%d", f, n) }

		copy(got, c)
		Add(got, a)
		for i := range want {
			want[i] = c[i] + a[i]
		}
		same(t, name("Add"), got, want)

		Add3(got, a, b)
		for i := range want {
			want[i] = a[i] + b[i]
		}
		same(t, name("Add3"), got, want)

		ReLU(got, a)
		for i, v := range a {
			switch {
			case v != v:
				want[i] = v
			case v > 0:
				want[i] = v
			default:
				want[i] = 0 // −0 too
			}
		}
		same(t, name("ReLU"), got, want)

		ReLUMask(got, b, a)
		for i, v := range a {
			want[i] = 0
			if v > 0 {
				want[i] = b[i]
			}
		}
		same(t, name("ReLUMask"), got, want)

		const s, o = 0.37, -1.25
		Affine(got, a, s, o)
		for i, v := range a {
			p := v * s
			want[i] = p + o
		}
		same(t, name("Affine"), got, want)

		const mu, ka, kx, k0 = 0.1, 1.7, -0.3, 0.05
		BNInputGrad(got, b, c, mu, ka, kx, k0)
		for i, v := range b {
			p, q := ka*v, c[i]-mu
			r := kx * q
			u := p + r
			want[i] = u + k0
		}
		same(t, name("BNInputGrad"), got, want)
	}
}

// TestSums checks the float64 sums, those in use and Go's loops, against
// ones in another order.
func TestSums(t *testing.T) {
	t.Run("used", checkSums)
	t.Run("go", func(t *testing.T) {
		s0, s1 := shiftedSums, dotSums
		defer func() { shiftedSums, dotSums = s0, s1 }()
		shiftedSums, dotSums = shiftedSumsGo, dotSumsGo
		checkSums(t)
	})
}

func checkSums(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for _, n := range lengths {
		x, y := randSlice(rng, n), randSlice(rng, n)
		const shift, mu = 0.25, -0.5
		var ws, wq, wd, wx float64
		for i := n - 1; i >= 0; i-- {
			d := float64(x[i]) - shift
			ws += d
			wq += d * d
			wd += float64(y[i])
			wx += float64(y[i]) * (float64(x[i]) - mu)
		}
		s, q := ShiftedSums(x, shift)
		d, dx := DotSums(y, x, mu)
		for _, c := range []struct {
			name      string
			got, want float64
		}{{"ShiftedSums s", s, ws}, {"ShiftedSums q", q, wq}, {"DotSums s", d, wd}, {"DotSums sx", dx, wx}} {
			if math.Abs(c.got-c.want) > 1e-12*(1+math.Abs(c.want))*float64(n) {
				t.Errorf("%s, n=%d: %v, want %v", c.name, n, c.got, c.want)
			}
		}
	}
}

// BenchmarkLoops times the loops on a plane stack of ResNet20's first
// stage (64 images of 16×32×32): the Go ones and those in use.
func BenchmarkLoops(b *testing.B) {
	const n = 64 * 16 * 32 * 32
	rng := rand.New(rand.NewPCG(5, 6))
	x, y, z := randSlice(rng, n), randSlice(rng, n), make([]float32, n)
	for _, c := range []struct {
		name string
		f    func()
	}{
		{"ReLU/go", func() { reluGo(z, x) }},
		{"ReLU/used", func() { ReLU(z, x) }},
		{"Add/go", func() { addGo(z, x) }},
		{"Add/used", func() { Add(z, x) }},
		{"Affine/go", func() { affineGo(z, x, 2, 1) }},
		{"Affine/used", func() { Affine(z, x, 2, 1) }},
		{"DotSums/go", func() { dotSumsGo(x, y, 0.5) }},
		{"DotSums/used", func() { DotSums(x, y, 0.5) }},
	} {
		b.Run(c.name, func(b *testing.B) {
			for b.Loop() {
				c.f()
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/n, "ns/elem")
		})
	}
}
