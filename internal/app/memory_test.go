package app_test

import (
	"testing"

	"cifarlab/gpu"
	"cifarlab/internal/app"
	"cifarlab/internal/testenv"
	"cifarlab/viz"
)

// TestMemoryGivenBack switches a session on the GPU backend from LeNet5 to
// ResNet18 and back, and from a batch of 32 to 8: the device memory the
// backend holds falls back to what the smaller network or batch needs,
// not the largest peak.
func TestMemoryGivenBack(t *testing.T) {
	g, err := gpu.Open(gpu.Options{})
	if err != nil {
		testenv.GPU(t, err)
	}
	t.Cleanup(func() { g.Close() })
	s := app.New(app.Config{Model: "lenet5", Batch: 8, Seed: 1})
	s.SetBackend(g, "")
	s.SetData(synthetic(64, 16, 3))
	run(t, s)
	waitFor(t, s, "ready", func(st app.Status) bool { return st.Ready })
	step := func(what string) int64 {
		t.Helper()
		s.Handle(viz.Intent{Kind: viz.StepOnce})
		settle(t, s)
		st := s.Status()
		if st.Error != "" {
			t.Fatalf("%s: %s", what, st.Error)
		}
		t.Logf("%s: %d bytes held", what, st.DeviceMemory)
		return st.DeviceMemory
	}
	lenet := step("lenet5, batch 8")
	s.Handle(viz.Intent{Kind: viz.SetModel, Model: "resnet18"})
	resnet := step("resnet18, batch 8")
	if resnet < 4*lenet {
		t.Fatalf("resnet18 holds %d bytes, lenet5 %d: the test expects the larger network to need far more", resnet, lenet)
	}
	s.Handle(viz.Intent{Kind: viz.SetModel, Model: "lenet5"})
	if back := step("lenet5 again"); back > lenet+lenet/4 {
		t.Errorf("after switching back to lenet5 the backend holds %d bytes, lenet5 needed %d (resnet18 %d)", back, lenet, resnet)
	}

	s.Handle(viz.Intent{Kind: viz.SetBatch, Batch: 64})
	big := step("lenet5, batch 64")
	s.Handle(viz.Intent{Kind: viz.SetBatch, Batch: 8})
	if small := step("lenet5, batch 8 again"); small > lenet+lenet/4 || small >= big {
		t.Errorf("after the batch went from 64 back to 8 the backend holds %d bytes; at 8 it held %d, at 64 %d", small, lenet, big)
	}
}
