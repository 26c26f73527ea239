package app

import (
	"fmt"
	"slices"

	"cifarlab/net"
	"cifarlab/viz"
)

// handle carries out one intent of the viewer.
func (w *worker) handle(in viz.Intent) {
	if !w.ready() {
		switch in.Kind {
		case viz.StepOnce, viz.Reset, viz.Save, viz.Load, viz.SelectImage, viz.InspectPicture, viz.Evaluate, viz.InspectTestImage:
			// They need the network: carry them out once it is there,
			// and the intents after them too, in order.
			w.deferred = append(w.deferred, in)
			return
		}
		if len(w.deferred) > 0 {
			w.deferred = append(w.deferred, in)
			return
		}
	}
	w.flash = "" // the last action's notice gives way to this one's
	switch in.Kind {
	case viz.Start:
		w.running = true
		w.rate = rateMeter{}
		w.ok()
	case viz.Pause:
		w.running = false
		// While training, the maps and the saliency are taken every so
		// often; paused, they show the weights of the last step.
		w.dirty = w.dirty || w.inspectStep != w.step || w.sal == nil || w.sal.step != w.step
	case viz.StepOnce:
		w.running = false
		w.guard("step", w.stepOnce)
	case viz.Reset:
		w.guard("reset", func() error {
			if w.b == nil || w.classes == nil {
				return nil
			}
			if w.twin != nil {
				return w.startExperiment(w.front.model)
			}
			if err := w.rebuild(w.set.Model); err != nil {
				return err
			}
			w.ok()
			w.say("new weights from seed %d", w.s.cfg.Seed)
			return nil
		})
	case viz.Save:
		w.guard("save weights", func() error { return w.save(in.Path) })
	case viz.Load:
		w.guard("load weights", func() error { return w.load(in) })
	case viz.SelectImage:
		w.guard("select image", func() error {
			if in.Image < 0 || in.Image >= len(w.strip) {
				return fmt.Errorf("image %d: the strip holds %d", in.Image, len(w.strip))
			}
			w.selected, w.testImage = in.Image, -1
			w.dropPicture()
			w.inspectAgain()
			return nil
		})
	case viz.SetModel:
		w.guard("model", func() error { return w.setModel(in.Model) })
	case viz.SetLR:
		w.guard("learning rate", func() error { return w.setLR(in.LR) })
	case viz.SetBatch:
		w.guard("batch size", func() error { return w.setBatch(in.Batch) })
	case viz.StartExperiment:
		w.guard("shortcut experiment", func() error { return w.startExperiment(in.Model) })
	case viz.ShowTwin:
		w.guard("shortcut experiment", w.showTwin)
	case viz.Evaluate:
		if w.tests == nil {
			w.fail(fmt.Errorf("evaluate: %s has no test split", w.ds.Source))
			break
		}
		w.startEval(false)
	case viz.ShowCell:
		w.guard("show the evaluation's images", func() error { return w.showCell(in.Cell) })
	case viz.InspectTestImage:
		w.guard("inspect a test image", func() error { return w.inspectTest(in.Image) })
	case viz.InspectPicture:
		w.guard("picture", func() error { return w.setPicture(in.Path, in.Data) })
	case viz.ForgetRun:
		w.runs = slices.DeleteFunc(w.runs, func(k keptRun) bool { return k.view.ID == in.Run })
		w.runsChanged = true
		w.dirty = true
	case viz.ExportRuns:
		w.guard("export runs", func() error { return w.export(in) })
	default:
		w.fail(fmt.Errorf("unknown intent %d", in.Kind))
	}
}

// say sets the notice of the user's last action.
func (w *worker) say(format string, args ...any) { w.flash = fmt.Sprintf(format, args...) }

func (w *worker) setModel(model string) error {
	if _, _, err := net.ParseModel(model); err != nil {
		return err
	}
	if model == w.set.Model && w.net != nil && w.twin == nil {
		return nil
	}
	if err := checkBatch(model, w.set.Batch); err != nil {
		return err
	}
	if w.b == nil || w.classes == nil {
		w.setLanes(emptyLane(model), nil)
		return nil
	}
	if err := w.rebuild(model); err != nil {
		return err
	}
	w.ok()
	w.say("%s with new weights", model)
	return nil
}

func (w *worker) setLR(lr float64) error {
	if !(lr > 0) || lr > 1 {
		return fmt.Errorf("%v: must be a number above 0 and at most 1", lr)
	}
	w.set.LR = lr
	for _, l := range w.lanes() {
		if l.tr != nil {
			l.tr.Opt.LR = float32(lr)
		}
		if l.rec != nil && l.step == 0 {
			l.rec.LR = lr
		}
	}
	return nil
}

// setBatch changes the batch size; the epoch in progress goes on from the
// first image not yet trained on, rounded down to a whole new batch.
func (w *worker) setBatch(batch int) error {
	for _, l := range w.lanes() {
		if err := checkBatch(l.model, batch); err != nil {
			return err
		}
	}
	changed := false
	for _, l := range w.lanes() {
		if tr := l.tr; tr != nil && w.recs != nil {
			done := min(tr.Batch*tr.Cfg.Batch, tr.EpochImages(w.recs.Len()))
			changed = changed || tr.Cfg.Batch != batch
			tr.Cfg.Batch = batch
			tr.Batch = done / batch
		}
		if l.rec != nil && l.step == 0 {
			l.rec.Batch = batch
		}
	}
	w.set.Batch = batch
	if changed {
		// The old batch's activations and gradients go back to the device;
		// the next step makes them at the new size.
		_ = w.finishInspection() // it reads the layers' outputs
		for _, l := range w.lanes() {
			if l.tr != nil {
				l.tr.Release()
			}
		}
		w.trimMemory()
	}
	return nil
}
