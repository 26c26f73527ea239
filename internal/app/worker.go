package app

import (
	"errors"
	"fmt"
	"os"
	"runtime/debug"
	"strings"
	"time"

	"cifarlab/cifar"
	"cifarlab/net"
	"cifarlab/viz"
)

// norm is the reference normalisation.
var norm = net.Normalize{Mean: cifar.Mean[:], Std: cifar.Std[:]}

// publishEvery is how often a snapshot is published while training: a few
// times a second, since every snapshot costs the viewer a repaint (which in
// the browser shares the page's one thread with the CPU fallback's
// training).
const publishEvery = 250 * time.Millisecond

// worker is the state Run's goroutine owns: nothing else may touch it.
type worker struct {
	s   *Session
	set settings // model, learning rate, batch: changed by intents

	b             net.Backend
	backendNotice string

	ds          *cifar.Dataset
	train, test *cifar.Split // host records; test may be nil
	classes     []string
	dataNotice  string
	recs, tests net.Records // uploaded train and test records (tests may be nil)

	// The network being trained or acted on (its fields are the
	// worker's): front, or in the shortcut experiment the twin during its
	// turn.
	*lane
	front    *lane  // the network the viewer shows
	twin     *lane  // the experiment's other network; nil outside one
	turnLeft int    // steps left in the lane's turn, in an experiment
	twinTurn bool   // the turn is the twin's
	endTurn  func() // ends the training run in progress at its turn's end

	running  bool
	deferred []viz.Intent    // intents that wait for the network
	synced   []chan struct{} // Sync calls to release at the next publish
	err      string
	errAt    uint64
	flash    string // the notice of the user's last action ("saved …")

	runs        []keptRun // earlier runs, oldest first
	nextRun     int       // the last run's ID
	runsChanged bool      // since the last OnRuns
	runsSaved   time.Time // the last OnRuns
	rate        rateMeter
	abort       error // a failure met inside a step's callback

	// Inspection (of the front network).
	strip       []viz.Map
	stripIndex  []int32 // record index of each strip image in the inspected split
	stripLabels []int
	selected    int
	picture     *picture    // a picture of one's own, inspected instead of Strip[selected]
	testImage   int         // a test record inspected instead of Strip[selected]; -1 for none
	cell        *[2]int     // the evaluation's cell whose images are shown
	sal         *saliency   // of the inspected image, by the front network
	x1          tensorCache // the inspected image and its label
	insp        *inspection // read back in flight
	dirty       bool        // the view is out of date and training is paused
	lastInspect time.Time
	inspectStep int // the step of the last inspection while training
	lastPublish time.Time
}

// settings are what the user may change while the session runs.
type settings struct {
	Model string
	LR    float64
	Batch int
}

func (w *worker) init(s *Session) {
	w.s = s
	w.set = settings{Model: s.cfg.Model, LR: s.cfg.LR, Batch: s.cfg.Batch}
	w.testImage = -1
	w.setLanes(emptyLane(s.cfg.Model), nil)
	if len(s.cfg.Runs) > 0 {
		w.guard("earlier runs", func() error {
			runs, err := DecodeRuns(s.cfg.Runs)
			for _, r := range runs {
				w.keepRun(r)
			}
			return err
		})
	}
	if e := s.cfg.Experiment; e != "" {
		w.guard("shortcut experiment", func() error { return w.startExperiment(e) })
	}
}

func (w *worker) ready() bool { return w.b != nil && w.recs != nil && w.tr != nil }

// guard runs f, turning an error or a panic into the session's error (with
// what, when not empty, as its context). A panic also pauses training.
func (w *worker) guard(what string, f func() error) {
	var err error
	func() {
		defer func() {
			if r := recover(); r != nil {
				// The stack goes to the log (the browser's console); the
				// error stays one line.
				fmt.Fprintf(os.Stderr, "cifarlab: internal error: %v\n%s", r, debug.Stack())
				err = fmt.Errorf("internal error: %v", r)
				w.running = false
			}
		}()
		err = f()
	}()
	if err != nil {
		if what != "" {
			err = fmt.Errorf("%s: %w", what, err)
		}
		if w.goesOn(err) {
			rerr := w.goOnAfterLoss(err)
			if rerr == nil {
				return
			}
			err = rerr
			w.running = false
		}
		w.fail(err)
	}
}

// goesOn reports whether the session goes on after err, on the backend
// Config.Reopen gives: err is a lost device, and there is a Reopen.
func (w *worker) goesOn(err error) bool {
	return errors.Is(err, net.ErrDeviceLost) && w.s.cfg.Reopen != nil
}

// hostCopyEvery is how often each network's state is copied to the host
// while it trains, besides at each epoch's end.
const hostCopyEvery = 30 * time.Second

// goOnAfterLoss moves the session to the backend Config.Reopen gives after
// the device was lost (lost says how): the data is uploaded again and
// every network goes on from its copy on the host, keeping its run and
// curves; the steps after the copy are trained again.
func (w *worker) goOnAfterLoss(lost error) error {
	copies := make([]*net.HostCopy, 0, 2)
	keepers := make([]*net.HostKeeper, 0, 2)
	for _, l := range w.lanes() {
		if l.tr == nil || l.tr.Keeper == nil {
			return lost
		}
		_ = l.tr.Keeper.Finish() // a copy in flight is lost with the device
		c := l.tr.Keeper.Copy()
		if c == nil {
			return fmt.Errorf("%w; no copy of the weights had reached the host yet", lost)
		}
		copies, keepers = append(copies, c), append(keepers, l.tr.Keeper)
	}
	old := w.b
	w.freeAll()
	w.b, w.backendNotice = w.s.cfg.Reopen(lost, old)
	if w.b == nil {
		return fmt.Errorf("%w; no backend to go on with", lost)
	}
	if err := w.uploadData(); err != nil {
		return err
	}
	for i, l := range w.lanes() {
		if err := w.restoreLane(l, copies[i], keepers[i]); err != nil {
			return fmt.Errorf("go on after the lost GPU: %w", err)
		}
	}
	w.dirty = true
	w.say("the GPU was lost (%v); going on from step %d on %s", lost, copies[0].Step, w.b.Name())
	return nil
}

// restoreLane gives l a network and trainer on the present backend with
// the state of c, keeping the lane's run and curves; k, which holds c,
// goes on keeping the copy.
func (w *worker) restoreLane(l *lane, c *net.HostCopy, k *net.HostKeeper) error {
	n, tr, err := w.newModel(l.model)
	if err != nil {
		return err
	}
	probes, err := probesFor(n, w.classes)
	if err == nil {
		err = tr.Restore(c)
	}
	if err != nil {
		tr.Free()
		n.Free()
		return err
	}
	tr.Keeper = k
	l.net, l.tr, l.probes = n, tr, probes
	// The curves and the run go on from the copy's step: the steps after
	// it are trained again, from the copy's weights.
	l.step = c.Step
	l.hist.cut(c.Step)
	l.epoch.cut(c.Step)
	for i := range l.grads.lines {
		l.grads.lines[i].cut(c.Step)
	}
	if l.rec != nil {
		l.rec.cut(c.Step)
	}
	return nil
}

// fail records err as the session's error.
func (w *worker) fail(err error) {
	w.err = err.Error()
	w.errAt = w.s.errClock.Add(1)
}

// ok forgets the last error after a successful action of the user.
func (w *worker) ok() { w.err = "" }

// ---- setting up ----

func (w *worker) setBackend(b net.Backend, notice string) {
	w.freeAll()
	w.b, w.backendNotice = b, notice
	if w.ds != nil {
		w.guard("", w.upload)
	}
}

func (w *worker) setData(ds *cifar.Dataset) {
	w.guard("dataset", func() error {
		if ds == nil {
			return errors.New("no dataset")
		}
		train, test := ds.Train, ds.Test
		if train == nil {
			train = ds.Only
		}
		if train == nil || train.Len() == 0 {
			return fmt.Errorf("%s has no training images", ds.Source)
		}
		if len(ds.Classes) < 2 {
			return fmt.Errorf("%s has %d classes; a classifier needs at least 2", ds.Source, len(ds.Classes))
		}
		if test != nil && test.Len() == 0 {
			test = nil
		}
		w.freeAll()
		w.ds, w.classes = ds, ds.Classes
		w.train, w.test = train, test
		w.dataNotice = ""
		if lim := w.s.cfg.Limit; lim > 0 && lim < train.Len() {
			w.train = train.Balanced(lim, len(w.classes))
			w.dataNotice = fmt.Sprintf("training on %s of %s images, taken from the classes in turn", viz.Thousands(lim), viz.Thousands(train.Len()))
			if missing := missingClasses(w.train, w.classes); missing != "" {
				w.dataNotice += " (they hold no " + missing + ")"
			}
		}
		w.makeStrip()
		w.testImage, w.cell = -1, nil
		w.ok()
		if w.b == nil {
			return nil
		}
		return w.upload()
	})
}

// upload copies the data to the backend and builds the network.
func (w *worker) upload() error {
	if err := w.uploadData(); err != nil {
		return err
	}
	if w.twin != nil {
		return w.startExperiment(w.front.model)
	}
	return w.rebuild(w.set.Model)
}

// uploadData copies the training and test images to the backend.
func (w *worker) uploadData() error {
	recs, err := w.b.UploadRecords(w.train.Records, net.InputShape)
	if err != nil {
		return fmt.Errorf("upload %s: %w", w.train.Source, err)
	}
	w.recs = recs
	if w.test != nil {
		if w.tests, err = w.b.UploadRecords(w.test.Records, net.InputShape); err != nil {
			return fmt.Errorf("upload %s: %w", w.test.Source, err)
		}
	}
	return nil
}

// freeAll frees everything the session holds on the backend.
func (w *worker) freeAll() {
	w.freeModel()
	if w.b == nil {
		return
	}
	for _, r := range []net.Records{w.recs, w.tests} {
		if r != nil {
			w.b.Free(r)
		}
	}
	w.recs, w.tests = nil, nil
	if w.picture != nil && w.picture.recs != nil {
		w.b.Free(w.picture.recs)
		w.picture.recs = nil // uploaded again to the next backend
	}
	w.x1.free(w.b)
}

func checkBatch(model string, batch int) error {
	if batch < 1 || batch > MaxBatch {
		return fmt.Errorf("batch size %d: must be between 1 and %d", batch, MaxBatch)
	}
	if _, bn, err := net.ParseModel(model); err == nil && bn && batch < 2 {
		return fmt.Errorf("%s needs a batch of at least 2: BatchNorm cannot normalise a single value per channel", model)
	}
	return nil
}

func missingClasses(s *cifar.Split, classes []string) string {
	var missing []string
	for c, n := range s.LabelCounts(len(classes)) {
		if n == 0 {
			missing = append(missing, classes[c])
		}
	}
	return strings.Join(missing, ", ")
}

// ---- tensors ----

// tensorCache keeps one tensor of the last shape asked for.
type tensorCache struct {
	t net.Tensor
	i net.IntTensor
}

func (c *tensorCache) tensor(b net.Backend, s net.Shape) net.Tensor {
	if c.t == nil || !c.t.Shape().Equal(s) {
		if c.t != nil {
			b.Free(c.t)
		}
		c.t = b.NewTensor(s)
	}
	return c.t
}

func (c *tensorCache) ints(b net.Backend, s net.Shape) net.IntTensor {
	if c.i == nil || !c.i.Shape().Equal(s) {
		if c.i != nil {
			b.Free(c.i)
		}
		c.i = b.NewIntTensor(s)
	}
	return c.i
}

func (c *tensorCache) free(b net.Backend) {
	if c.t != nil {
		b.Free(c.t)
	}
	if c.i != nil {
		b.Free(c.i)
	}
	c.t, c.i = nil, nil
}
