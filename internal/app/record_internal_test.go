package app

import (
	"math"
	"strings"
	"testing"

	"cifarlab/net"
)

// A long run keeps every step's loss and at most maxNormRecords steps'
// gradient norms, on every NormsEvery-th step.
func TestRecordThinsNorms(t *testing.T) {
	r := &RunRecord{Model: "lenet5", Layers: []string{"a", "b"}, NormsEvery: 1}
	const steps = 2*maxNormRecords + 100
	for s := 1; s <= steps; s++ {
		r.addStep(net.StepResult{Step: s, Epoch: 1, Loss: float64(s), N: 4, Correct: 1}, []float32{float32(s), 1})
	}
	if len(r.Steps) != steps || r.NormsEvery != 4 {
		t.Fatalf("%d steps kept, norms every %d; want %d and 4", len(r.Steps), r.NormsEvery, steps)
	}
	n := 0
	for _, s := range r.Steps {
		if s.GradNorms == nil {
			continue
		}
		n++
		if s.Step%4 != 0 || float32(s.GradNorms[0]) != float32(s.Step) {
			t.Fatalf("step %d keeps norms %v", s.Step, s.GradNorms)
		}
	}
	if n > maxNormRecords || n < steps/4 || n != r.normCount {
		t.Errorf("%d steps keep norms (count %d), want %d", n, r.normCount, steps/4)
	}
	if a := float64(r.Steps[0].Accuracy); a != 0.25 {
		t.Errorf("accuracy %v, want 0.25", a)
	}
	r.addStep(net.StepResult{Step: steps + 1, Loss: math.NaN()}, nil)
	if s := r.Steps[len(r.Steps)-1]; !math.IsNaN(float64(s.Loss)) || !math.IsNaN(float64(s.Accuracy)) || s.GradNorms != nil {
		t.Errorf("a diverged step without images: %+v", s)
	}
}

// The finding tells a vanishing gradient from degradation, from the
// numbers alone.
func TestFinding(t *testing.T) {
	res := laneSummary{title: "ResNet-56", step: 40, first: 0.5, last: 1, loss: 1.5, testAcc: math.NaN()}
	for _, c := range []struct {
		plain laneSummary
		want  string
	}{
		{laneSummary{title: "plain-56", step: 40, first: 1e-9, last: 1, loss: 2.3, testAcc: math.NaN()}, "vanishing gradient"},
		{laneSummary{title: "plain-56", step: 40, first: 0.3, last: 1, loss: 1.9, testAcc: math.NaN()}, "degradation, not a vanishing gradient"},
		{laneSummary{title: "plain-56", step: 40, first: 0.3, last: 1, loss: 1.51, testAcc: math.NaN()}, "about the same so far"},
		{laneSummary{title: "plain-56", step: 40, first: 0, last: 0, loss: 2.3, testAcc: math.NaN()}, "and ? in plain-56"},
		{laneSummary{title: "plain-56", step: 0, first: math.NaN(), last: math.NaN(), loss: math.NaN(), testAcc: math.NaN()}, "once both networks have trained"},
	} {
		if got := finding(res, c.plain); !strings.Contains(got, c.want) {
			t.Errorf("%+v: %q, want %q", c.plain, got, c.want)
		}
	}
}

// TestCutAfterLoss: a run that goes on from an earlier step (after a lost
// device) drops its curve's points and its records after that step.
func TestCutAfterLoss(t *testing.T) {
	var h lossHistory
	r := &RunRecord{NormsEvery: 1}
	for s := 1; s <= 5; s++ {
		h.add(s, float64(s))
		r.addStep(net.StepResult{Step: s, Loss: float64(s), N: 1}, nil)
	}
	h.cut(3)
	r.cut(3)
	h.add(4, 40)
	r.addStep(net.StepResult{Step: 4, Loss: 40, N: 1}, nil)
	values, steps := h.points()
	if len(steps) != 4 || steps[3] != 4 || values[3] != 40 || steps[2] != 3 {
		t.Errorf("curve after the cut at 3 and step 4 again: steps %v, values %v", steps, values)
	}
	if len(r.Steps) != 4 || r.Steps[3].Step != 4 || float64(r.Steps[3].Loss) != 40 {
		t.Errorf("records after the cut: %+v", r.Steps)
	}
	var e epochSums
	for s := 1; s <= 5; s++ {
		e.add(net.StepResult{Step: s, N: 10, Correct: s})
	}
	e.cut(3)
	if e.images != 30 || e.correct != 6 || len(e.steps) != 3 {
		t.Errorf("the epoch's sums after the cut at 3: %d images, %d correct, %d steps; want 30, 6, 3", e.images, e.correct, len(e.steps))
	}
}
