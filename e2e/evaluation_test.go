package e2e

import (
	"fmt"
	"image"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"cifarlab/viz"
)

func center(r image.Rectangle) image.Point { return r.Min.Add(r.Max).Div(2) }

// clickCanvas clicks the viewer at p, in the viewer's coordinates.
func (b *browser) clickCanvas(s shot, p image.Point) {
	b.t.Helper()
	r := s.area(image.Rectangle{Min: p, Max: p.Add(image.Pt(1, 1))})
	run(b, "click the canvas", 10*time.Second, chromedp.MouseClickXY(float64(r.Min.X), float64(r.Min.Y)))
}

// evalLayout is where the viewer puts the evaluation's cell (i, j) of a
// ten-class matrix, and the first image of a cell shown.
func evalLayout(t *testing.T, i, j int) (cell, first image.Rectangle) {
	t.Helper()
	s := viz.Synthetic("lenet5", 1, 1)
	e := &viz.Evaluation{Classes: s.Classes, CellImages: s.Strip[:1], CellIndex: []int{0}, CellTotal: 1}
	for range 10 {
		e.Confusion = append(e.Confusion, make([]int, 10))
		e.PerClass = append(e.PerClass, 0)
	}
	s.Evaluation = e
	opts := viz.Options{Evaluation: true}
	return locate(t, s, opts, fmt.Sprintf("cell:%d", i*10+j)), locate(t, s, opts, "cellimg:0")
}

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
	c00, _ := evalLayout(t, 0, 0)
	c99, _ := evalLayout(t, 9, 9)
	if p := summarise(s.page, s.area(c00.Union(c99))); p.distinct < 4 {
		t.Fatalf("the matrix is not drawn: %+v", p)
	}
	cell, first := evalLayout(t, row, col)
	b.clickCanvas(s, center(cell))
	time.Sleep(500 * time.Millisecond) // the click's intent, then a snapshot
	b.clickCanvas(b.screenshot(), center(first))
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
