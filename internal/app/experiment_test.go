package app_test

import (
	"math"
	"strings"
	"testing"

	"cifarlab/internal/app"
	"cifarlab/viz"
)

func TestExperimentPair(t *testing.T) {
	for _, c := range []struct{ model, res, plain string }{
		{"", app.DefaultExperiment, "plain20-nobn"},
		{"resnet18", "resnet18", "resnet18-plain"},
		{"resnet18-plain-nobn", "resnet18-nobn", "resnet18-plain-nobn"},
		{"plain56", "resnet56", "plain56"},
	} {
		res, plain, err := app.ExperimentPair(c.model)
		if err != nil || res != c.res || plain != c.plain {
			t.Errorf("ExperimentPair(%q) = %q, %q, %v; want %q, %q", c.model, res, plain, err, c.res, c.plain)
		}
	}
	for _, m := range []string{"lenet5", "resnet21", "lenet5-nobn"} {
		if _, _, err := app.ExperimentPair(m); err == nil {
			t.Errorf("ExperimentPair(%q): no error", m)
		}
	}
}

// The experiment trains both networks in turns, on the same batches as
// each would see alone, shows one and the other as a live run, and says
// what the run showed from its numbers.
func TestShortcutExperiment(t *testing.T) {
	const steps = 12 // more than an epoch of 160 images in batches of 16
	ds := synthetic(160, 16, 3)
	s := start(t, app.Config{Experiment: "plain20-nobn", Batch: 16, StripSize: 4}, ds)
	gap := 0
	st := waitFor(t, s, "both networks' steps", func(st app.Status) bool {
		gap = max(gap, st.Step-st.TwinStep, st.TwinStep-st.Step)
		return st.Step >= steps && st.TwinStep >= steps
	})
	s.Handle(viz.Intent{Kind: viz.Pause})
	settle(t, s)
	if st.Model != "resnet20-nobn" || st.Twin != "plain20-nobn" {
		t.Fatalf("status model %q, twin %q: want resnet20-nobn shown, plain20-nobn alongside", st.Model, st.Twin)
	}
	if gap > 6 {
		t.Errorf("one network was %d steps ahead of the other: they should take turns of 5", gap)
	}
	snap := s.Snapshot()
	e := snap.Experiment
	if e == nil || !strings.Contains(e.Title, "ResNet-20") || !strings.Contains(e.Title, "plain-20") || e.Twin != "plain-20, no BN" {
		t.Fatalf("experiment %+v", e)
	}
	t.Logf("%s. %s %s", e.Title, e.Look, e.Shown)
	// Without BatchNorm, 20 layers deep, the plain network's gradient
	// fades on the way back from the first step on.
	if !strings.Contains(e.Shown, "fades") || !strings.HasPrefix(e.Shown, "After ") {
		t.Errorf("what the run showed: %q", e.Shown)
	}
	twin := liveRun(t, snap)
	if twin.Short != "plain-20, no BN" || len(twin.Loss) < steps || len(twin.TestAcc) == 0 || len(snap.TestAcc) == 0 ||
		len(twin.Grads.Norms) != len(snap.Grads.Norms) || twin.Grads.Step < steps {
		t.Fatalf("live run %+v", twin)
	}
	if !(twin.Grads.Norms[0] < snap.Grads.Norms[0]/1e3) {
		t.Errorf("first layer's gradient: plain %g, residual %g", twin.Grads.Norms[0], snap.Grads.Norms[0])
	}

	// The twin alone, stepped by hand from the same seed, sees the same
	// batches: its losses are the live run's.
	alone := start(t, app.Config{Model: "plain20-nobn", Batch: 16, StripSize: 4}, ds)
	for range steps {
		alone.Handle(viz.Intent{Kind: viz.StepOnce})
	}
	settle(t, alone)
	want := alone.Snapshot().Loss
	for i := range steps {
		if d := math.Abs(float64(twin.Loss[i] - want[i])); d > 1e-5*math.Abs(float64(want[i])) {
			t.Fatalf("step %d: loss %g in the experiment, %g alone", i+1, twin.Loss[i], want[i])
		}
	}

	// Showing the other network swaps the two.
	s.Handle(viz.Intent{Kind: viz.ShowTwin})
	settle(t, s)
	snap = s.Snapshot()
	if snap.Model != "plain20-nobn" || liveRun(t, snap).Short != "ResNet-20, no BN" || snap.Experiment.Twin != "ResNet-20, no BN" {
		t.Fatalf("after ShowTwin: model %q, runs %+v", snap.Model, snap.Runs)
	}
	// A step steps both.
	before := s.Status()
	s.Handle(viz.Intent{Kind: viz.StepOnce})
	settle(t, s)
	if after := s.Status(); after.Step != before.Step+1 || after.TwinStep != before.TwinStep+1 {
		t.Errorf("a step went from %d and %d steps to %d and %d", before.Step, before.TwinStep, after.Step, after.TwinStep)
	}

	// Another model ends the experiment and keeps both runs.
	s.Handle(viz.Intent{Kind: viz.SetModel, Model: "lenet5"})
	settle(t, s)
	snap = s.Snapshot()
	if snap.Experiment != nil || len(snap.Runs) != 2 || snap.Runs[0].Live || snap.Runs[1].Live || s.Status().Twin != "" {
		t.Fatalf("after SetModel: experiment %+v, runs %+v", snap.Experiment, snap.Runs)
	}
	if snap.Runs[0].Short != "plain-20, no BN" || snap.Runs[1].Short != "ResNet-20, no BN" {
		t.Errorf("kept runs %q, %q", snap.Runs[0].Short, snap.Runs[1].Short)
	}

	// The button of the viewer starts it again, of another depth.
	s.Handle(viz.Intent{Kind: viz.StartExperiment, Model: "plain56"})
	settle(t, s)
	if st := s.Status(); st.Model != "resnet56" || st.Twin != "plain56" || !st.Running {
		t.Errorf("after StartExperiment plain56: %+v", st)
	}
	s.Handle(viz.Intent{Kind: viz.StartExperiment, Model: "lenet5"})
	settle(t, s)
	if st := s.Status(); !strings.Contains(st.Error, "no twin") || st.Model != "resnet56" {
		t.Errorf("StartExperiment lenet5: %+v", st)
	}
}

func liveRun(t *testing.T, snap *viz.Snapshot) viz.Run {
	t.Helper()
	var live []viz.Run
	for _, r := range snap.Runs {
		if r.Live {
			live = append(live, r)
		}
	}
	if len(live) != 1 || !snap.Runs[len(snap.Runs)-1].Live {
		t.Fatalf("want one live run, last: %+v", snap.Runs)
	}
	return live[0]
}
