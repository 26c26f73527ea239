package e2e

import (
	"image"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// clickCanvas clicks the viewer at p, in the viewer's coordinates.
func (b *browser) clickCanvas(s shot, p image.Point) {
	b.t.Helper()
	r := s.area(image.Rectangle{Min: p, Max: p.Add(image.Pt(1, 1))})
	run(b, "click the canvas", 10*time.Second, chromedp.MouseClickXY(float64(r.Min.X), float64(r.Min.Y)))
}

// The viewer's geometry of the evaluation view (viz/evaluation.go): the
// matrix's first cell and its side, and where the first image of a cell
// is.
var (
	evalMatrix    = image.Pt(mapsArea.Min.X+8+84, mapsArea.Min.Y+24+40)
	evalCell      = 40
	evalFirstCell = image.Pt(mapsArea.Min.X+8+32, evalMatrix.Y+10*evalCell+12+20+32)
)

// TestEvaluationPage trains past an epoch in the evaluation view: the
// confusion matrix in status() sums to the test images evaluated, it is
// drawn, a click on a cell shows its images and a click on one inspects
// it (its true class is the cell's row).
func TestEvaluationPage(t *testing.T) {
	srv, b := setup(t, browserOptions{})
	noPageError(t, b.openTimed(srv.url+"?model=lenet5&autostart=1&limit=64&batch=16&eval=100&view=eval", 3*time.Minute))
	st := b.waitFor("an evaluation", 2*time.Minute, false, func(s status) bool { return s.EvalImages == 100 }, nil)
	eval[any](b, "globalThis.cifarlab.pause()")
	total, row, col := 0, -1, -1
	for i, r := range st.Confusion {
		for j, v := range r {
			total += v
			if v > 0 && row < 0 {
				row, col = i, j
			}
		}
	}
	if total != 100 || len(st.PerClassAccuracy) != 10 {
		t.Fatalf("the confusion matrix sums to %d, want 100; per class %v", total, st.PerClassAccuracy)
	}
	s := b.screenshot()
	matrix := s.area(image.Rect(evalMatrix.X, evalMatrix.Y, evalMatrix.X+10*evalCell, evalMatrix.Y+10*evalCell))
	if p := summarise(s.page, matrix); p.distinct < 4 {
		t.Fatalf("the matrix is not drawn: %+v", p)
	}
	b.clickCanvas(s, image.Pt(evalMatrix.X+col*evalCell+evalCell/2, evalMatrix.Y+row*evalCell+evalCell/2))
	time.Sleep(500 * time.Millisecond) // the click's intent, then a snapshot
	b.clickCanvas(b.screenshot(), evalFirstCell)
	var got pagePrediction
	b.waitFor("the cell's image inspected", time.Minute, false, func(status) bool {
		got = eval[pagePrediction](b, "globalThis.cifarlab.prediction() || {}")
		return got.Label == row && got.Picture == ""
	}, nil)
	b.screenshot().keep(b, "page-evaluation.png")
	for _, e := range b.console.errors() {
		t.Errorf("console: %s", e)
	}
}
