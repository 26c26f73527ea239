package app

import (
	"slices"

	"cifarlab/net"
	"cifarlab/viz"
)

// lane is one network in training and what it has done so far. The session
// trains one lane; the shortcut experiment trains two, a residual network
// and its plain twin, in turns.
type lane struct {
	model  string // the network's name, e.g. "plain20-nobn"
	net    *net.Network
	tr     *net.Trainer
	probes []probe
	rec    *RunRecord // nil for a lane that has no network yet

	// Progress since the network was built.
	step       int     // the last step whose loss is known
	lastLoss   float64 // its loss
	hist       lossHistory
	grads      gradHistory
	trainAcc   []float32
	testAcc    []float32
	epoch      epochSums
	eval       *evalRun    // in progress
	evaluation *evaluation // the last finished
	view       *view       // the inspected image as this network saw it last

	plan struct { // the current epoch's order, cached for StepOnce
		epoch, n int
		seed     uint64
		order    []int32
		crops    []net.Crop
	}
}

func emptyLane(model string) *lane { return &lane{model: model, lastLoss: nan()} }

// free frees the lane's network and trainer.
func (l *lane) free() {
	if l.tr != nil {
		l.tr.Free()
		l.tr = nil // its Keeper, with the copy on the host, goes with it
	}
	if l.net != nil {
		l.net.Free()
		l.net = nil
	}
	l.stopEval()
	l.probes, l.view = nil, nil
}

// newLane builds a lane of the given model with the seed's weights and a
// fresh trainer, without touching the session's lanes.
func (w *worker) newLane(model string) (*lane, error) {
	if err := checkBatch(model, w.set.Batch); err != nil {
		return nil, err
	}
	n, tr, err := w.newModel(model)
	if err != nil {
		return nil, err
	}
	probes, err := probesFor(n, w.classes)
	if err != nil {
		tr.Free()
		n.Free()
		return nil, err
	}
	l := emptyLane(model)
	l.net, l.tr, l.probes = n, tr, probes
	if net.MayLoseDevice(w.b) {
		tr.Keeper = net.NewHostKeeper(hostCopyEvery)
	}
	l.rec = w.newRecord(l)
	return l, nil
}

// newModel builds a network and its trainer.
func (w *worker) newModel(model string) (*net.Network, *net.Trainer, error) {
	if w.b == nil || w.classes == nil {
		return nil, nil, errNotReady
	}
	n, err := net.New(w.b, model, len(w.classes), w.s.cfg.Seed)
	if err != nil {
		return nil, nil, err
	}
	tr, err := net.NewTrainer(w.b, n, net.TrainConfig{
		Batch: w.set.Batch, Shuffle: !w.s.cfg.FileOrder, Augment: w.s.cfg.Augment, Seed: w.s.cfg.Seed,
		Norm: norm, StatsEvery: w.s.cfg.StatsEvery, GradNormsEvery: 1,
	}, float32(w.set.LR))
	if err != nil {
		n.Free()
		return nil, nil, err
	}
	return n, tr, nil
}

// rebuild makes a new network of the given model with the seed's weights
// and a fresh trainer, ending the runs in progress (an experiment too).
func (w *worker) rebuild(model string) error {
	l, err := w.newLane(model)
	if err != nil {
		return err
	}
	w.endLanes()
	w.setLanes(l, nil)
	return nil
}

// lanes are the session's lanes, the one shown first.
func (w *worker) lanes() []*lane {
	if w.twin == nil {
		return []*lane{w.front}
	}
	return []*lane{w.front, w.twin}
}

// endLanes keeps the runs that are ending among the earlier runs and
// frees their networks.
func (w *worker) endLanes() {
	_ = w.finishInspection() // its values no longer matter
	for _, l := range w.lanes() {
		w.archiveRun(l)
		l.free()
	}
	w.setLanes(emptyLane(w.set.Model), nil)
	w.trimMemory()
}

// trimMemory gives the backend's pooled memory back to the device, so that
// after a switch from a large network to a small one, or to a smaller
// batch, the session holds what the new one needs and not the old peak.
func (w *worker) trimMemory() {
	if w.b != nil {
		net.TrimMemory(w.b)
	}
}

// setLanes makes front the network shown and trained, and twin (when not
// nil) the one trained alongside it.
func (w *worker) setLanes(front, twin *lane) {
	w.front, w.twin, w.lane = front, twin, front
	w.set.Model = front.model
	w.turnLeft = experimentTurn
	w.rate = rateMeter{}
	w.inspectStep = 0
	w.dirty = true
	w.sal = nil
}

// freeModel frees every lane's network and trainer.
func (w *worker) freeModel() {
	_ = w.finishInspection() // its values no longer matter
	for _, l := range w.lanes() {
		l.free()
	}
}

// use makes l the lane that the training, evaluation and inspection
// functions act on until the returned function restores the one before.
func (w *worker) use(l *lane) (restore func()) {
	prev := w.lane
	w.lane = l
	return func() { w.lane = prev }
}

// maxRuns is how many earlier runs the session keeps for comparison.
const maxRuns = 6

// keptRun is an earlier run: its record, and its view for the charts.
type keptRun struct {
	rec  *RunRecord
	view viz.Run
}

// archiveRun keeps l's run, if it trained, among the earlier runs (the
// oldest goes past maxRuns): called before the model, its weights or its
// settings give way to the next run's.
func (w *worker) archiveRun(l *lane) {
	if l.step == 0 || l.rec == nil {
		return
	}
	w.keepRun(l.rec)
	w.runsChanged = true
}

// keepRun adds a record to the earlier runs.
func (w *worker) keepRun(r *RunRecord) {
	w.nextRun++
	w.runs = append(w.runs, keptRun{r, r.view(w.nextRun)})
	if len(w.runs) > maxRuns {
		w.runs = slices.Delete(w.runs, 0, len(w.runs)-maxRuns)
	}
}

// record is the record of the run id: 0 for the run shown, the live
// run's ID for the experiment's other network, else an earlier run's.
func (w *worker) record(id int) *RunRecord {
	switch {
	case id == 0:
		return w.front.rec
	case w.twin != nil && id == w.nextRun+1:
		return w.twin.rec
	}
	for _, k := range w.runs {
		if k.view.ID == id {
			return k.rec
		}
	}
	return nil
}
