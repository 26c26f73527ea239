package app

import (
	"slices"
	"strings"
	"time"

	"cifarlab/net"
	"cifarlab/viz"
)

// modelChoices are net's networks for the viewer's model picker.
var modelChoices = func() []viz.ModelChoice {
	var out []viz.ModelChoice
	for _, s := range net.Specs {
		c := viz.ModelChoice{Name: s.Name, Title: s.Title, Twin: s.Twin}
		if s.BatchNorm {
			c.NoBN = net.ModelName(s.Name, false)
		}
		out = append(out, c)
	}
	return out
}()

// maybePublish publishes a snapshot when the last is old enough.
func (w *worker) maybePublish() {
	if time.Since(w.lastPublish) >= publishEvery {
		w.publish()
	}
}

// publish makes a snapshot and a status of the present state and makes
// them the session's latest.
func (w *worker) publish() {
	w.lastPublish = time.Now()
	defer w.use(w.front)() // the network shown, not the twin in its turn
	snap := &viz.Snapshot{
		Model:        w.set.Model,
		Models:       modelChoices,
		Classes:      w.classes,
		LR:           w.set.LR,
		Batch:        w.set.Batch,
		Running:      w.running,
		Step:         w.step,
		Epoch:        1,
		ImagesPerSec: w.rate.value(),
		TrainAcc:     slices.Clone(w.trainAcc),
		TestAcc:      slices.Clone(w.testAcc),
		Label:        -1,
		Strip:        w.strip,
		Selected:     w.selected,
	}
	if w.b != nil {
		snap.Backend = w.b.Name()
	}
	if w.tr != nil && w.recs != nil {
		snap.Epoch = w.tr.Epoch + 1
		if nb := w.tr.Batches(w.tr.EpochImages(w.recs.Len())); nb > 0 {
			snap.EpochProgress = min(float64(w.tr.Batch)/float64(nb), 1)
		}
	}
	snap.Loss, snap.LossStep = w.hist.points()
	snap.Grads = w.grads.flow()
	for _, k := range w.runs {
		snap.Runs = append(snap.Runs, k.view)
	}
	if w.twin != nil {
		if w.twin.rec != nil {
			snap.Runs = append(snap.Runs, w.twinRun())
		}
		snap.Experiment = w.experiment()
	}
	if w.selected < len(w.strip) {
		snap.Input = w.strip[w.selected]
		snap.Label = w.stripLabels[w.selected]
	}
	snap.Evaluation = w.evaluationView()
	snap.Saliency = w.saliencyView()
	if w.testImage >= 0 && w.test != nil && w.testImage < w.test.Len() {
		snap.Input, snap.Label, snap.Selected = w.testMap(w.testImage), w.test.Label(w.testImage), -1
	}
	if p := w.picture; p != nil {
		snap.Input, snap.Label, snap.Selected = p.in, -1, -1
		snap.Picture = &viz.Picture{Name: p.name, Format: p.pic.Format, Width: p.pic.Width, Height: p.pic.Height, Original: p.orig}
	}
	if v := w.view; v != nil && v.image == w.inspectedKey() {
		snap.Probs, snap.Panels, snap.Blocks, snap.FC, snap.Filters = v.probs, v.panels, v.blocks, v.fc, v.filters
	}
	notice := w.noticeText()
	snap.Notice, snap.Error = w.s.merge(notice, w.err, w.errAt)

	st := Status{
		Backend: snap.Backend, Model: snap.Model, Step: snap.Step, Epoch: snap.Epoch,
		Loss: w.lastLoss, TestAccuracy: nan(), TrainAccuracy: nan(),
		ImagesPerSec: snap.ImagesPerSec, Error: snap.Error, Notice: snap.Notice,
		Running: w.running, Ready: w.ready(), EpochProgress: snap.EpochProgress,
		Batch: w.set.Batch, LR: w.set.LR,
	}
	if e := snap.Experiment; e != nil {
		st.Experiment = e.Title + ". " + e.Look + " " + e.Shown
		st.Twin = w.twin.model
		st.TwinStep = w.twin.step
	}
	if n := len(w.testAcc); n > 0 {
		st.TestAccuracy = float64(w.testAcc[n-1])
	}
	if e := w.evaluation; e != nil {
		st.Confusion, st.PerClassAccuracy, st.TestLoss = e.res.Confusion, perClass(e.res), e.res.Loss
		st.EvalStep, st.EvalImages = e.step, e.res.N
	}
	if n := len(w.trainAcc); n > 0 {
		st.TrainAccuracy = float64(w.trainAcc[n-1])
	}
	if w.train != nil {
		st.TrainImages = w.train.Len()
	}
	if w.test != nil {
		st.TestImages = w.test.Len()
	}
	if w.ds != nil {
		st.Dataset = w.ds.Source
	}
	if w.b != nil {
		st.DeviceMemory = net.MemoryHeld(w.b)
	}
	w.s.pub.Store(&published{snap: snap, status: st, notice: notice, errMsg: w.err, errAt: w.errAt})
	w.s.notify()
	w.saveRuns()
}

// noticeText is the session's own notice: what it waits for, the
// backend's notice, what part of the data it trains and tests on, and the
// outcome of the user's last action.
func (w *worker) noticeText() string {
	var parts []string
	add := func(s string) {
		if s != "" {
			parts = append(parts, s)
		}
	}
	if w.b == nil {
		add("waiting for the backend")
	}
	if w.ds == nil {
		add("waiting for a dataset")
	}
	add(w.backendNotice)
	add(w.dataNotice)
	if w.test != nil {
		if n := w.test.Len(); w.s.cfg.EvalLimit > 0 && w.s.cfg.EvalLimit < n {
			add("test accuracy on " + viz.Thousands(w.s.cfg.EvalLimit) + " of the " + viz.Thousands(n) + " test images, spread over the split")
		}
	} else if w.ds != nil {
		add("no test split: no test accuracy")
	}
	if e := w.eval; e != nil {
		add("evaluating: " + viz.Thousands(e.pos) + " of " + plural(len(e.index), "test image", "test images"))
	}
	add(w.flash)
	return strings.Join(parts, " · ")
}
