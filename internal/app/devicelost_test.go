package app_test

import (
	"bytes"
	"errors"
	"strings"
	"sync"
	"testing"

	"cifarlab/gpu"
	"cifarlab/internal/app"
	"cifarlab/internal/testenv"
	"cifarlab/net"
	"cifarlab/viz"
)

// openGPU opens a GPU backend for the test, closed when it ends.
func openGPU(t *testing.T) *gpu.Backend {
	t.Helper()
	g, err := gpu.Open(gpu.Options{})
	if err != nil {
		testenv.GPU(t, err)
	}
	t.Cleanup(func() { g.Close() })
	return g
}

// stepTo steps the session once and waits for it to show.
func stepTo(t *testing.T, s *app.Session) app.Status {
	t.Helper()
	s.Handle(viz.Intent{Kind: viz.StepOnce})
	settle(t, s)
	return s.Status()
}

// TestGoOnAfterLostDevice loses the session's GPU after two steps: the
// session asks Reopen for the next backend, goes on from its copy of the
// weights on the host (made after the first step), says so, keeps the run,
// and trains and saves on the new device.
func TestGoOnAfterLostDevice(t *testing.T) {
	g := openGPU(t)
	var mu sync.Mutex
	var reopened []error
	s := app.New(app.Config{Model: "lenet5", Batch: 8, Seed: 1, Reopen: func(lost error, old net.Backend) (net.Backend, string) {
		mu.Lock()
		reopened = append(reopened, lost)
		mu.Unlock()
		if old != net.Backend(g) {
			t.Errorf("Reopen got %v, not the lost backend", old)
		}
		old.Close()
		return openGPU(t), ""
	}})
	s.SetBackend(g, "")
	s.SetData(synthetic(64, 16, 3))
	run(t, s)
	waitFor(t, s, "ready", func(st app.Status) bool { return st.Ready })
	stepTo(t, s)
	if st := stepTo(t, s); st.Step != 2 {
		t.Fatalf("after two steps the status says step %d", st.Step)
	}
	g.LoseDevice()
	st := stepTo(t, s)
	mu.Lock()
	n := len(reopened)
	mu.Unlock()
	if n != 1 || !errors.Is(reopened[0], net.ErrDeviceLost) {
		t.Fatalf("Reopen called %d times (%v), want once with the lost device", n, reopened)
	}
	if st.Error != "" || !strings.Contains(st.Notice, "the GPU was lost") || st.Step != 1 {
		t.Fatalf("after the loss: step %d, error %q, notice %q; want step 1 (the copy's), no error, a notice of the loss", st.Step, st.Error, st.Notice)
	}
	if st = stepTo(t, s); st.Step != 2 || st.Error != "" || !strings.HasPrefix(st.Backend, "gpu (") {
		t.Fatalf("a step on the new device: step %d on %s, error %q", st.Step, st.Backend, st.Error)
	}
	w, err := net.DecodeWeights(bytesReader(saveWeights(t, s)), int64(len(saveWeights(t, s))))
	if err != nil || w.Meta["step"] != "2" {
		t.Fatalf("weights saved after the loss: %v, step %q", err, w.Meta["step"])
	}
}

// TestSaveAfterLostDevice: without Reopen a lost device is an error, and
// Save still gives the weights, from the copy on the host: the copy made
// after the first step (the next is due 30 s later), equal byte for byte
// to what Save wrote from the device then.
func TestSaveAfterLostDevice(t *testing.T) {
	g := openGPU(t)
	s := app.New(app.Config{Model: "lenet5", Batch: 8, Seed: 1})
	s.SetBackend(g, "")
	s.SetData(synthetic(64, 16, 3))
	run(t, s)
	waitFor(t, s, "ready", func(st app.Status) bool { return st.Ready })
	stepTo(t, s)
	want := saveWeights(t, s) // from the device, after step 1
	stepTo(t, s)
	stepTo(t, s)
	g.LoseDevice()
	if st := stepTo(t, s); !strings.Contains(st.Error, "lost") {
		t.Fatalf("a step on the lost device: error %q", st.Error)
	}
	if got := saveWeights(t, s); !bytes.Equal(got, want) {
		t.Errorf("weights saved after the loss (%d bytes) are not those of step 1 (%d bytes), the copy on the host", len(got), len(want))
	}
}
