package backendtest

import (
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"

	"cifarlab/net"
)

// Tol is a tolerance: got passes when |got − ref| ≤ Atol + Rtol·|ref|,
// plus Mag·mag where a check supplies the magnitude mag of a sum (the same
// sum over absolute values of its terms), so that float32 rounding of a
// sum with large cancelling terms is allowed in any summation order.
type Tol struct{ Atol, Rtol, Mag float64 }

func (tol Tol) bound(ref, mag float64) float64 {
	return tol.Atol + tol.Rtol*math.Abs(ref) + tol.Mag*mag
}

// Tolerances of the suite. Float32 results are compared with float64
// references; sums over up to a few hundred terms with outliers stay well
// inside these, while an indexing error, a missing term or a biased/unbiased
// variance mix-up lands far outside.
var (
	tolExact = Tol{}
	tolElem  = Tol{Atol: 1e-6, Rtol: 1e-6}            // one or two float32 roundings
	tolSum   = Tol{Atol: 1e-5, Rtol: 1e-5, Mag: 1e-5} // dot products and sums, with their magnitude
	tolBN    = Tol{Atol: 1e-4, Rtol: 1e-4}
	tolStat  = Tol{Atol: 1e-5, Rtol: 1e-5} // batch and running statistics
	tolXent  = Tol{Atol: 1e-6, Rtol: 1e-5}
)

// logWorst, set by BACKENDTEST_LOG=1, logs how close every check came to
// its tolerance (the ratio of the worst error to its bound), for tuning.
var logWorst = os.Getenv("BACKENDTEST_LOG") != ""

// coords formats flat index i of shape s as [i0,i1,…].
func coords(s net.Shape, i int) string {
	if len(s) == 0 {
		return fmt.Sprint(i)
	}
	c := make([]string, len(s))
	for d := len(s) - 1; d >= 0; d-- {
		c[d] = fmt.Sprint(i % s[d])
		i /= s[d]
	}
	return "[" + strings.Join(c, ",") + "]"
}

// checkClose compares every element of got with want.
func checkClose(t *testing.T, what string, got []float32, want Array, tol Tol) bool {
	t.Helper()
	return checkAt(t, what, want.Shape, got, want.Data, nil, nil, tol)
}

// checkSum compares every element of got with want, the elements being
// sums of magnitude mag.
func checkSum(t *testing.T, what string, got []float32, want, mag Array, tol Tol) bool {
	t.Helper()
	return checkAt(t, what, want.Shape, got, want.Data, nil, mag.Data, tol)
}

// checkAt compares got[idx[j]] with want[j] (got[j] with want[j] when idx
// is nil), with magnitudes mag[idx[j]] when mag is not nil, and reports the
// number of failures and the worst one.
func checkAt(t *testing.T, what string, shape net.Shape, got []float32, want []float64, idx []int, mag []float64, tol Tol) bool {
	t.Helper()
	if len(got) != shape.Len() {
		t.Errorf("%s: got %d values, want %d (shape %v)", what, len(got), shape.Len(), shape)
		return false
	}
	if idx == nil && len(want) != len(got) {
		t.Errorf("%s: %d reference values for %d results", what, len(want), len(got))
		return false
	}
	bad, worst, worstRatio, maxErr := 0, -1, 0.0, 0.0
	var examples []string
	for j, w := range want {
		i := j
		if idx != nil {
			i = idx[j]
		}
		g := float64(got[i])
		err := math.Abs(g - w)
		var m float64
		if mag != nil {
			m = mag[i]
		}
		bound := tol.bound(w, m)
		var ratio float64
		switch {
		case math.IsNaN(err):
			ratio = math.Inf(1)
		case err > 0:
			ratio = err / bound // +Inf when the bound is 0
		}
		if err > maxErr || math.IsNaN(err) {
			maxErr = err
		}
		if worst < 0 || ratio > worstRatio {
			worst, worstRatio = j, ratio
		}
		if !(err <= bound) {
			bad++
			if len(examples) < 4 {
				examples = append(examples, fmt.Sprintf("%v: got %.9g want %.9g", coords(shape, i), g, w))
			}
		}
	}
	if logWorst && worst >= 0 {
		t.Logf("%s: worst error %.3g of bound (max abs error %.3g)", what, worstRatio, maxErr)
	}
	if bad == 0 {
		return true
	}
	i := worst
	if idx != nil {
		i = idx[worst]
	}
	magNote := ""
	if mag != nil {
		magNote = fmt.Sprintf(" + %g·magnitude", tol.Mag)
	}
	t.Errorf("%s: %d of %d values off by more than %g + %g·|ref|%s (max abs error %.3g); worst (%.3g× its bound) at %v: got %.9g, want %.9g; first: %s",
		what, bad, len(want), tol.Atol, tol.Rtol, magNote, maxErr, worstRatio, coords(shape, i), got[i], want[worst], strings.Join(examples, "; "))
	return false
}

// checkInts compares int results exactly.
func checkInts(t *testing.T, what string, shape net.Shape, got, want []int32) bool {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("%s: got %d values, want %d", what, len(got), len(want))
		return false
	}
	bad, first := 0, -1
	for i := range want {
		if got[i] != want[i] {
			if first < 0 {
				first = i
			}
			bad++
		}
	}
	if bad > 0 {
		t.Errorf("%s: %d of %d values differ; first at %v: got %d, want %d",
			what, bad, len(want), coords(shape, first), got[first], want[first])
		return false
	}
	return true
}

// gen makes the suite's random data from a fixed seed.
type gen struct{ r *rand.Rand }

func newGen(seed uint64) *gen { return &gen{rand.New(rand.NewPCG(seed, 0x5eed_cafe))} }

const outlier = 50

// normal returns n values from N(0,1)·scale with a few outliers ±50·scale
// (about 2%, at least two when n ≥ 8) at random positions.
func (g *gen) normal(n int, scale float64) []float32 {
	v := make([]float32, n)
	for i := range v {
		v[i] = float32(g.r.NormFloat64() * scale)
	}
	if n >= 8 {
		k := max(2, n/50)
		for j := 0; j < k; j++ {
			sign := 1.0
			if j%2 == 1 {
				sign = -1
			}
			v[g.r.IntN(n)] = float32(sign * outlier * scale * (1 + 0.1*g.r.Float64()))
		}
	}
	return v
}

// plain returns n values from N(0,1)·scale without outliers (parameters
// such as a batch norm's gamma).
func (g *gen) plain(n int, scale float64) []float32 {
	v := make([]float32, n)
	for i := range v {
		v[i] = float32(g.r.NormFloat64() * scale)
	}
	return v
}

// ties returns n small integers in [−2, 2] with a few outliers, so that
// windows hold ties, equal runs and non-monotone data.
func (g *gen) ties(n int) []float32 {
	v := make([]float32, n)
	for i := range v {
		v[i] = float32(g.r.IntN(5) - 2)
	}
	for j := 0; j < max(1, n/40); j++ {
		v[g.r.IntN(n)] = float32(outlier * (2*float64(j%2) - 1))
	}
	return v
}

// distinct returns n pairwise distinct values, shuffled, at least gap apart
// (outliers included), so that a finite difference with h < gap/2 never
// changes which element of a window is largest.
func (g *gen) distinct(n int) (v []float32, gap float64) {
	gap = 4.0 / float64(n+1)
	v = make([]float32, n)
	for i, p := range g.r.Perm(n) {
		v[i] = float32(gap * (float64(p) - float64(n)/2))
	}
	for j := 0; j < max(1, n/50); j++ {
		sign := float32(1 - 2*(j%2))
		v[g.r.IntN(n)] = sign * (outlier + float32(j))
	}
	// Outliers may overwrite each other; values stay distinct.
	return v, gap
}

// sample returns n's indices sorted: all when n ≤ k, else 0, n−1 and
// k−2 random others.
func (g *gen) sample(n, k int) []int {
	if n <= k {
		idx := make([]int, n)
		for i := range idx {
			idx[i] = i
		}
		return idx
	}
	seen := map[int]bool{0: true, n - 1: true}
	for len(seen) < k {
		seen[g.r.IntN(n)] = true
	}
	idx := make([]int, 0, k)
	for i := range seen {
		idx = append(idx, i)
	}
	slices.Sort(idx)
	return idx
}

// fdCount is how many coordinates a finite-difference check samples when
// one evaluation of the reference costs about cost multiply-adds: up to
// 400 for small problems, fewer (but at least 6) for large ones, whose
// every element is still compared with the reference backward.
func fdCount(cost int) int {
	const budget = 1e7
	return max(6, min(400, int(budget/float64(2*max(cost, 1)))))
}

// The reference results depend only on a case's seeded data, not on the
// backend: they are computed once per process and shared by every backend
// and configuration a test binary checks.
var (
	memoMu sync.Mutex
	memos  = map[string]any{}
)

// memo returns f's result for key, computing it on first use.
func memo[T any](key string, f func() T) T {
	memoMu.Lock()
	v, ok := memos[key]
	memoMu.Unlock()
	if ok {
		return v.(T)
	}
	r := f()
	memoMu.Lock()
	memos[key] = r
	memoMu.Unlock()
	return r
}

// fd returns central differences (f(v+h·eᵢ) − f(v−h·eᵢ)) / 2h for each i
// in idx, restoring v.
func fd(f func() float64, v []float64, idx []int, h float64) []float64 {
	out := make([]float64, len(idx))
	for j, i := range idx {
		old := v[i]
		v[i] = old + h
		fp := f()
		v[i] = old - h
		fm := f()
		v[i] = old
		out[j] = (fp - fm) / (2 * h)
	}
	return out
}

// dot is Σ a·b.
func dot(a, b []float64) float64 {
	var s float64
	for i := range a {
		s += a[i] * b[i]
	}
	return s
}

var nan32 = float32(math.NaN())

func fill(n int, v float32) []float32 {
	out := make([]float32, n)
	for i := range out {
		out[i] = v
	}
	return out
}

// mustPanic reports an error unless f panics.
func mustPanic(t *testing.T, what string, f func()) {
	t.Helper()
	defer func() {
		if recover() == nil {
			t.Errorf("%s did not panic", what)
		}
	}()
	f()
}
