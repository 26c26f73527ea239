package app_test

import (
	"math"
	"testing"

	"cifarlab/internal/app"
	"cifarlab/viz"
)

// After an epoch the session has an evaluation: a confusion matrix that
// sums to the test images, each class's accuracy and the loss; a cell's
// images can be shown and one of them inspected; Evaluate evaluates the
// weights of the moment.
func TestEvaluation(t *testing.T) {
	s := start(t, app.Config{Model: "lenet5", Batch: 8, StripSize: 4}, synthetic(24, 30, 2))
	for range 3 { // one epoch
		s.Handle(viz.Intent{Kind: viz.StepOnce})
	}
	st := waitFor(t, s, "the evaluation", func(st app.Status) bool { return st.EvalImages > 0 })
	total, correct := 0, 0
	for i, row := range st.Confusion {
		for j, v := range row {
			total += v
			if i == j {
				correct += v
			}
		}
	}
	if total != 30 || st.EvalImages != 30 || st.EvalStep != 3 || len(st.PerClassAccuracy) != 10 || !(st.TestLoss > 0) ||
		math.Abs(float64(correct)/30-st.TestAccuracy) > 1e-6 {
		t.Fatalf("confusion %v (%d images, %d correct), status %+v", st.Confusion, total, correct, st)
	}
	var cell [2]int
	for i, row := range st.Confusion {
		for j, v := range row {
			if v > 0 {
				cell = [2]int{i, j}
			}
		}
	}
	s.Handle(viz.Intent{Kind: viz.ShowCell, Cell: cell})
	settle(t, s)
	e := s.Snapshot().Evaluation
	if e == nil || e.Cell != cell || e.CellTotal != st.Confusion[cell[0]][cell[1]] || len(e.CellImages) != e.CellTotal ||
		len(e.CellIndex) != e.CellTotal || e.Images != 30 || len(e.PerClass) != 10 {
		t.Fatalf("evaluation %+v", e)
	}
	s.Handle(viz.Intent{Kind: viz.InspectTestImage, Image: e.CellIndex[0]})
	settle(t, s)
	if snap := s.Snapshot(); snap.Label != cell[0] || snap.Selected != -1 || snap.Input.Title != e.CellImages[0].Title || len(snap.Probs) != 10 {
		t.Errorf("the cell's image inspected: label %d, selected %d, input %q", snap.Label, snap.Selected, snap.Input.Title)
	}

	s.Handle(viz.Intent{Kind: viz.StepOnce})
	s.Handle(viz.Intent{Kind: viz.Evaluate})
	st = waitFor(t, s, "the evaluation asked for", func(st app.Status) bool { return st.EvalStep == 4 })
	if st.EvalImages != 30 || len(s.Snapshot().TestAcc) != 1 {
		t.Errorf("an evaluation asked for: %+v, test accuracies %v (one per epoch)", st, s.Snapshot().TestAcc)
	}
}
