package app

import (
	"errors"
	"fmt"
	"math"

	"cifarlab/net"
	"cifarlab/viz"
)

// The evaluation on the test split, after every epoch and on the user's
// request: net.Evaluator, one batch per unit of work so that intents and
// the page's event loop get through, over the test images spread evenly
// over the split (all of them, or Config.EvalLimit).

// evalRun is an evaluation in progress.
type evalRun struct {
	index    []int32 // the test images
	pos      int
	ev       *net.Evaluator
	cells    [][][]int32 // [true class][predicted class]: the images' record indices
	epochEnd bool        // at the end of an epoch (else asked for)
}

// evaluation is the last finished evaluation of a lane.
type evaluation struct {
	res   net.EvalResult
	cells [][][]int32
	step  int // the step of the weights evaluated
	epoch int // the epochs finished then
}

// startEval starts evaluating the lane's network, unless one is running
// or there is no test split.
func (w *worker) startEval(epochEnd bool) {
	if w.tests == nil || w.eval != nil || w.net == nil {
		return
	}
	n, limit := w.tests.Len(), w.s.cfg.EvalLimit
	if limit <= 0 || limit > n {
		limit = n
	}
	e := &evalRun{index: make([]int32, limit), epochEnd: epochEnd, cells: make([][][]int32, w.net.Classes)}
	for i := range e.index {
		e.index[i] = int32(i * n / limit)
	}
	for i := range e.cells {
		e.cells[i] = make([][]int32, w.net.Classes)
	}
	e.ev = net.NewEvaluator(w.b, w.net, w.tests, norm, func(p net.Prediction) {
		e.cells[p.Label][p.Pred()] = append(e.cells[p.Label][p.Pred()], int32(p.Index))
	})
	w.eval = e
}

// stopEval drops the evaluation in progress.
func (l *lane) stopEval() {
	if l.eval != nil {
		l.eval.ev.Free()
		l.eval = nil
	}
}

// evalBatch evaluates the next batch; after the last, the lane has its
// evaluation (and, at the end of an epoch, its test accuracy).
func (w *worker) evalBatch() error {
	e := w.eval
	idx := e.index[e.pos:min(e.pos+w.set.Batch, len(e.index))]
	if err := e.ev.Batch(idx); err != nil {
		w.stopEval()
		return err
	}
	if e.pos += len(idx); e.pos < len(e.index) {
		return nil
	}
	res := e.ev.Result()
	w.stopEval()
	epochs := 0
	if w.tr != nil {
		epochs = w.tr.Epoch
	}
	w.evaluation = &evaluation{res: res, cells: e.cells, step: w.step, epoch: epochs}
	if e.epochEnd {
		w.testAcc = append(w.testAcc, float32(res.Accuracy()))
		if w.rec != nil {
			w.rec.setTestAccuracy(res.Accuracy())
			w.runsChanged = true
		}
	}
	w.publish()
	return nil
}

// view is the evaluation as the viewer shows it.
func (e *evaluation) view(classes []string) *viz.Evaluation {
	v := &viz.Evaluation{Step: e.step, Epoch: e.epoch, Images: e.res.N, Loss: e.res.Loss, Accuracy: e.res.Accuracy(),
		Confusion: e.res.Confusion, Classes: classes}
	for _, a := range e.res.PerClass() {
		v.PerClass = append(v.PerClass, float32(a))
	}
	return v
}

// perClass is the per-class accuracy with NaN (no image of the class) as
// -1, for JSON.
func perClass(res net.EvalResult) []float64 {
	out := res.PerClass()
	for i, v := range out {
		if math.IsNaN(v) {
			out[i] = -1
		}
	}
	return out
}

// cellPage is how many of a cell's images the viewer shows.
const cellPage = 24

// showCell shows the test images of a cell of the last evaluation.
func (w *worker) showCell(cell [2]int) error {
	e := w.evaluation
	if e == nil {
		return errors.New("no evaluation yet")
	}
	if cell[0] < 0 || cell[0] >= len(e.cells) || cell[1] < 0 || cell[1] >= len(e.cells) {
		return fmt.Errorf("cell %v: the evaluation has %d classes", cell, len(e.cells))
	}
	w.cell = &cell
	return nil
}

// inspectTest inspects the test image of record index i.
func (w *worker) inspectTest(i int) error {
	if w.test == nil || i < 0 || i >= w.test.Len() {
		return fmt.Errorf("test image %d: there is none", i)
	}
	w.dropPicture()
	w.testImage = i
	w.inspectAgain()
	return nil
}

// testMap is test record i as the viewer shows it.
func (w *worker) testMap(i int) viz.Map {
	pix := w.test.Pixels(i)
	m := viz.Map{C: 3, H: net.InputShape[1], W: net.InputShape[2], Data: make([]float32, len(pix))}
	for j, b := range pix {
		m.Data[j] = float32(b) / 255
	}
	if l := w.test.Label(i); l < len(w.classes) {
		m.Title = w.classes[l]
	}
	return m
}

// evaluationView is the front lane's evaluation for the snapshot, with
// the images of the cell asked for.
func (w *worker) evaluationView() *viz.Evaluation {
	e := w.evaluation
	if e == nil {
		return nil
	}
	v := e.view(w.classes)
	if c := w.cell; c != nil && c[0] < len(e.cells) && c[1] < len(e.cells) && w.test != nil {
		idx := e.cells[c[0]][c[1]]
		v.Cell, v.CellTotal = *c, len(idx)
		for _, r := range idx[:min(len(idx), cellPage)] {
			v.CellImages = append(v.CellImages, w.testMap(int(r)))
			v.CellIndex = append(v.CellIndex, int(r))
		}
	}
	return v
}
