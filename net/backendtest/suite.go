// Package backendtest is the conformance suite of net.Backend: every
// backend's tests call RunAll, which checks every op against the plain-Go
// float64 reference implementations of this package (ref.go) on awkward
// shapes with outliers, and every backward op against finite differences of
// the reference forward.
//
// A backend's test runs it like this (Small keeps every awkward shape but
// drops the larger ones, for a slow device such as an emulated GPU):
//
//	func TestConformance(t *testing.T) {
//		b := cpu.New()
//		defer b.Close()
//		backendtest.RunAll(t, b) // or backendtest.Run(t, b, backendtest.Small)
//	}
//
// The Check functions run one op family each. Subtests are named by op and
// shape ("Conv2D/n3_c5x7x9_o6_k3s2p1"), so -run selects them. Data come from
// fixed seeds; reference results and finite differences are computed once
// per process and shared by every backend a test binary checks.
//
// Tolerances are atol + rtol·|ref| (plus a multiple of Σ|terms| for sums,
// so any summation order passes); a failure names the op and shape, the
// count of bad values and the worst one with its coordinates.
//
// A backend under test is used by one goroutine; the suite frees every
// tensor it allocates (records included). Checks that expect a shape-misuse
// panic run last, and a backend must stay usable after such a panic.
package backendtest

import (
	"testing"

	"cifarlab/net"
)

// Profile selects the shapes the suite runs.
type Profile int

const (
	// Standard runs every shape, including a few larger ones that exercise
	// blocking and threading in a CPU backend.
	Standard Profile = iota
	// Small keeps the awkward shapes but drops the larger ones, for slow
	// devices (a CPU-emulated GPU).
	Small
)

// String names the profile.
func (p Profile) String() string {
	if p == Small {
		return "small"
	}
	return "standard"
}

// RunAll runs the whole suite against b with the Standard profile.
func RunAll(t *testing.T, b net.Backend) { Run(t, b, Standard) }

// Run runs the whole suite against b with the shapes of profile p.
func Run(t *testing.T, b net.Backend, p Profile) {
	t.Helper()
	t.Logf("backend %q, profile %v", b.Name(), p)
	for _, check := range []func(*testing.T, net.Backend, Profile){
		CheckTensors,
		CheckGather,
		CheckConv2D,
		CheckLinear,
		CheckMaxPool2D,
		CheckGlobalAvgPool2D,
		CheckBatchNorm2D,
		CheckBatchNormReLU,
		CheckBatchNormAddReLU,
		CheckElementwise,
		CheckSoftmaxCrossEntropy,
		CheckSumSquares,
		CheckAdam,
		CheckPanics,
	} {
		check(t, b, p)
	}
}

// session wraps a backend for one (sub)test: it frees what it allocates
// when the test ends and fails the test on download errors.
type session struct {
	t *testing.T
	b net.Backend
}

func newSession(t *testing.T, b net.Backend) session { return session{t: t, b: b} }

// tensor allocates a tensor of shape s, uploads v when non-nil and frees
// it when the test ends.
func (s session) tensor(shape net.Shape, v []float32) net.Tensor {
	s.t.Helper()
	x := s.b.NewTensor(shape)
	s.t.Cleanup(func() { s.b.Free(x) })
	if !x.Shape().Equal(shape) {
		s.t.Fatalf("NewTensor(%v) has shape %v", shape, x.Shape())
	}
	if v != nil {
		s.b.Upload(x, v)
	}
	return x
}

// dst allocates a destination tensor filled with NaN, so that an op that
// reads its destination or leaves part of it unwritten is caught.
func (s session) dst(shape net.Shape) net.Tensor {
	s.t.Helper()
	return s.tensor(shape, fill(shape.Len(), nan32))
}

// ints allocates an int tensor of shape s, uploads v when non-nil and frees
// it when the test ends.
func (s session) ints(shape net.Shape, v []int32) net.IntTensor {
	s.t.Helper()
	x := s.b.NewIntTensor(shape)
	s.t.Cleanup(func() { s.b.Free(x) })
	if !x.Shape().Equal(shape) {
		s.t.Fatalf("NewIntTensor(%v) has shape %v", shape, x.Shape())
	}
	if v != nil {
		s.b.UploadInt(x, v)
	}
	return x
}

// arr uploads a reference array as a new tensor.
func (s session) arr(a Array) net.Tensor {
	s.t.Helper()
	return s.tensor(a.Shape, a.Float32())
}

// get submits pending work and downloads x.
func (s session) get(x net.Tensor) []float32 {
	s.t.Helper()
	if err := s.b.Submit(); err != nil {
		s.t.Fatalf("Submit: %v", err)
	}
	out := make([]float32, x.Shape().Len())
	if err := s.b.Download(out, x); err != nil {
		s.t.Fatalf("Download %v: %v", x.Shape(), err)
	}
	return out
}

// getInts submits pending work and downloads x.
func (s session) getInts(x net.IntTensor) []int32 {
	s.t.Helper()
	if err := s.b.Submit(); err != nil {
		s.t.Fatalf("Submit: %v", err)
	}
	out := make([]int32, x.Shape().Len())
	if err := s.b.DownloadInt(out, x); err != nil {
		s.t.Fatalf("DownloadInt %v: %v", x.Shape(), err)
	}
	return out
}
