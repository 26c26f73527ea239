package app_test

import (
	"testing"
	"time"

	"cifarlab/internal/app"
	"cifarlab/viz"
)

// TestPauseShowsTheLastStep: while training, the maps and the saliency are
// taken only every so often (here never, after the first); once paused,
// they are of the weights of the last step.
func TestPauseShowsTheLastStep(t *testing.T) {
	s := start(t, app.Config{Model: "lenet5", Batch: 8, Seed: 1, InspectEvery: time.Hour}, synthetic(4096, 16, 5))
	s.Handle(viz.Intent{Kind: viz.Start})
	waitFor(t, s, "a few steps", func(st app.Status) bool { return st.Step >= 5 })
	s.Handle(viz.Intent{Kind: viz.Pause})
	settle(t, s)
	st, snap := s.Status(), s.Snapshot()
	if snap.Saliency != nil {
		t.Logf("paused at step %d, saliency of step %d", st.Step, snap.Saliency.Step)
	}
	if st.Running || snap.Saliency == nil || snap.Saliency.Step != st.Step {
		var at int
		if snap.Saliency != nil {
			at = snap.Saliency.Step
		}
		t.Errorf("paused at step %d (running %v), the saliency is of step %d", st.Step, st.Running, at)
	}
}
