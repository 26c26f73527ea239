package app

import (
	"context"
	"errors"
	"fmt"
	"time"

	"cifarlab/net"
)

// work does one unit of work: a batch of the evaluation, a run of training
// steps, or an inspection of a paused network. It reports false when there
// is nothing to do until the next command.
func (w *worker) work(ctx context.Context) bool {
	switch {
	case !w.ready():
		return false
	case w.evaluating() != nil:
		defer w.use(w.evaluating())()
		w.guard("evaluate", w.evalBatch)
		return true
	case w.running:
		w.guard("train", func() error { return w.trainRun(ctx) })
		return true
	case w.dirty:
		w.inspectNow()
	}
	return false
}

// evaluating is the lane whose evaluation is in progress, if any.
func (w *worker) evaluating() *lane {
	for _, l := range w.lanes() {
		if l.eval != nil {
			return l
		}
	}
	return nil
}

// inspectNow inspects the selected image and waits for the values.
func (w *worker) inspectNow() {
	w.dirty = false
	if !w.ready() {
		return
	}
	w.guard("inspect", func() error {
		if err := w.finishInspection(); err != nil {
			return err
		}
		if err := w.startInspection(); err != nil {
			return err
		}
		if err := w.finishInspection(); err != nil {
			return err
		}
		return w.computeSaliency()
	})
}

// trainRun trains until the epoch ends, a command arrives or ctx ends; in
// the shortcut experiment, also until the lane's turn ends, and then the
// other lane's turn begins.
func (w *worker) trainRun(ctx context.Context) error {
	l := w.front
	if w.twin != nil && w.twinTurn {
		l = w.twin
	}
	defer w.use(l)()
	tctx, cancel := context.WithCancel(ctx)
	defer cancel()
	if !w.s.setStop(cancel) {
		w.s.setStop(nil)
		return nil
	}
	w.abort, w.endTurn = nil, cancel
	_, err := w.tr.RunEpoch(tctx, w.recs, w.onStep)
	w.s.setStop(nil)
	w.endTurn = nil
	if w.twin != nil && w.turnLeft <= 0 {
		w.twinTurn, w.turnLeft = !w.twinTurn, experimentTurn
	}
	if w.abort != nil {
		w.running = w.goesOn(w.abort)
		return w.abort
	}
	if errors.Is(err, context.Canceled) {
		return nil
	}
	if err != nil {
		w.running = w.goesOn(err)
		return err
	}
	w.endEpoch()
	return nil
}

// onStep takes the result of one step; while training it is also where
// the inspected image is sent through the network and the snapshot
// published.
func (w *worker) onStep(r net.StepResult) {
	w.step, w.lastLoss = r.Step, r.Loss
	w.hist.add(r.Step, r.Loss)
	var norms []float32
	if r.GradNorms != nil && w.net != nil {
		w.grads.add(w.net, r.Step, r.GradNorms, r.BlockGradNorms)
		norms = w.grads.norms
	}
	if w.rec != nil {
		w.rec.addStep(r, norms)
	}
	w.epoch.add(r)
	now := time.Now()
	w.rate.add(now, r.N)
	if w.twin != nil {
		if w.turnLeft--; w.turnLeft <= 0 && w.endTurn != nil {
			w.endTurn()
		}
	}
	if w.lane == w.front { // the twin of an experiment is not inspected
		w.inspectWhileTraining(r.Step, now)
	}
	w.maybePublish()
	w.s.inspectNanos.Add(int64(time.Since(now)))
	if w.s.cfg.Yield != nil {
		w.s.cfg.Yield()
	}
}

// inspectWhileTraining collects the inspection in flight once its values
// are there, and starts the next when one is due.
func (w *worker) inspectWhileTraining(step int, now time.Time) {
	var err error
	if w.insp != nil && step > w.insp.after {
		// A step sent after the inspection is done, so its values are
		// there: collect them without waiting.
		err = w.finishInspection() // published with the next snapshot
	}
	due := now.Sub(w.lastInspect) >= w.s.cfg.InspectEvery && (step-w.inspectStep >= w.s.cfg.InspectSteps || w.view == nil)
	if err == nil && w.abort == nil && w.running && w.insp == nil && due {
		err = w.inspect()
	}
	if err == nil && w.abort == nil && w.running && w.insp == nil && w.saliencyDue(now) {
		err = w.computeSaliency()
	}
	if err != nil && w.abort == nil {
		w.abort = fmt.Errorf("inspect: %w", err)
		w.s.stop()
	}
}

// stepOnce trains every lane on the next batch of its epoch.
func (w *worker) stepOnce() error {
	for _, l := range w.lanes() {
		restore := w.use(l)
		err := w.stepLane()
		restore()
		if err != nil {
			return err
		}
	}
	w.turnLeft = experimentTurn
	return nil
}

// stepLane trains the lane on the next batch of its epoch and reads its
// loss back.
func (w *worker) stepLane() error {
	if !w.ready() {
		return errNotReady
	}
	tr := w.tr
	n := w.recs.Len()
	epoch := tr.Epoch + 1
	order, crops := w.epochPlan(epoch, n)
	m := tr.EpochImages(n)
	if m == 0 {
		return fmt.Errorf("one training image cannot train %s: BatchNorm needs more than one value per channel", w.net.Model)
	}
	nb := tr.Batches(m)
	lo, hi := tr.Batch*tr.Cfg.Batch, min((tr.Batch+1)*tr.Cfg.Batch, m)
	var c []net.Crop
	if crops != nil {
		c = crops[lo:hi]
	}
	r, err := tr.Step(w.recs, order[lo:hi], c)
	if err != nil {
		return err
	}
	r.Batches = nb
	w.onStep(r)
	w.dirty = true
	w.ok()
	if tr.Batch++; tr.Batch >= nb {
		tr.Epoch, tr.Batch = epoch, 0
		w.endEpoch()
	}
	return nil
}

func (w *worker) epochPlan(epoch, n int) ([]int32, []net.Crop) {
	p := &w.plan
	if p.order == nil || p.epoch != epoch || p.n != n {
		p.order, p.crops = w.tr.Plan(epoch, n)
		p.epoch, p.n = epoch, n
	}
	return p.order, p.crops
}

// endEpoch records the epoch's training accuracy and starts evaluating.
func (w *worker) endEpoch() {
	w.trainAcc = append(w.trainAcc, float32(w.epoch.accuracy()))
	if w.rec != nil {
		w.rec.endEpoch(w.tr.Epoch, w.step, w.epoch.accuracy())
		w.runsChanged = true
	}
	w.epoch = epochSums{}
	w.dirty = true
	w.startEval(true)
	w.publish()
}

// epochSums adds up the steps of the epoch in progress.
type epochSums struct {
	images, correct int
	steps           []epochStep // the epoch's steps so far, for cut
}

// epochStep is one step's part of the epoch's sums.
type epochStep struct{ step, images, correct int }

func (e *epochSums) add(r net.StepResult) {
	e.images += r.N
	e.correct += r.Correct
	e.steps = append(e.steps, epochStep{r.Step, r.N, r.Correct})
}

// cut takes the steps after step out of the sums, for a run that goes on
// from an earlier step.
func (e *epochSums) cut(step int) {
	for n := len(e.steps); n > 0 && e.steps[n-1].step > step; n-- {
		s := e.steps[n-1]
		e.images -= s.images
		e.correct -= s.correct
		e.steps = e.steps[:n-1]
	}
}

func (e epochSums) accuracy() float64 {
	if e.images == 0 {
		return nan()
	}
	return float64(e.correct) / float64(e.images)
}
