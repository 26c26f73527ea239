package gpu

import (
	"testing"

	// gogpu's Software adapter, registered so that the tests see Open
	// pass it over.
	_ "github.com/gogpu/wgpu/hal/software"

	"cifarlab/internal/testenv"
	"cifarlab/net"
	"cifarlab/net/backendtest"
)

// open opens a backend for t, closed when t ends; without a usable adapter
// t skips (fails under CIFARLAB_REQUIRE=gpu).
func open(t *testing.T, opts Options) *Backend {
	t.Helper()
	b, err := Open(opts)
	if err != nil {
		testenv.GPU(t, err)
	}
	t.Cleanup(func() {
		if err := b.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return b
}

// TestConformance runs the conformance suite's families this backend
// implements, with the small shapes of a slow (emulated) device.
func TestConformance(t *testing.T) {
	b := open(t, Options{})
	t.Logf("backend %q", b.Name())
	for _, check := range []func(*testing.T, net.Backend, backendtest.Profile){
		backendtest.CheckTensors,
		backendtest.CheckGather,
		backendtest.CheckElementwise,
		backendtest.CheckSoftmaxCrossEntropy,
		backendtest.CheckAdam,
	} {
		check(t, b, backendtest.Small)
	}
}
