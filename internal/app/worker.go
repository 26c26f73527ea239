package app

import (
	"context"
	"errors"
	"fmt"
	"os"
	"runtime/debug"
	"slices"
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

	net    *net.Network
	tr     *net.Trainer
	probes []probe

	running  bool
	deferred []viz.Intent    // intents that wait for the network
	synced   []chan struct{} // Sync calls to release at the next publish
	err      string
	errAt    uint64
	flash    string // the notice of the user's last action ("saved …")

	// Progress since the network was built.
	step     int     // the last step whose loss is known
	lastLoss float64 // its loss
	hist     lossHistory
	runs     []viz.Run // earlier runs, oldest first
	nextRun  int       // the last run's ID
	grads    gradHistory
	trainAcc []float32
	testAcc  []float32
	epoch    epochSums
	rate     rateMeter
	eval     *evalRun
	x        tensorCache // the evaluation batch and its labels
	abort    error       // a failure met inside a step's callback

	// Inspection.
	strip       []viz.Map
	stripIndex  []int32 // record index of each strip image in the inspected split
	stripLabels []int
	selected    int
	x1          tensorCache // the inspected image and its label
	insp        *inspection // read back in flight
	view        *view       // the last one read back
	dirty       bool        // the view is out of date and training is paused
	lastInspect time.Time
	inspectStep int // the step of the last inspection while training
	lastPublish time.Time

	plan struct { // the current epoch's order, cached for StepOnce
		epoch, n int
		seed     uint64
		order    []int32
		crops    []net.Crop
	}
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
	w.lastLoss = nan()
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
		w.fail(err)
	}
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
			w.train = train.Head(lim)
			w.dataNotice = fmt.Sprintf("training on the first %s of %s images", thousands(lim), thousands(train.Len()))
			if missing := missingClasses(w.train, w.classes); missing != "" {
				w.dataNotice += " (they hold no " + missing + ")"
			}
		}
		w.makeStrip()
		w.ok()
		if w.b == nil {
			return nil
		}
		return w.upload()
	})
}

// upload copies the data to the backend and builds the network.
func (w *worker) upload() error {
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
	return w.rebuild(w.set.Model)
}

// rebuild makes a new network of the given model with the seed's weights
// and a fresh trainer, and forgets the progress.
func (w *worker) rebuild(model string) error {
	if err := checkBatch(model, w.set.Batch); err != nil {
		return err
	}
	n, tr, err := w.newModel(model)
	if err != nil {
		return err
	}
	probes, err := probesFor(n, w.classes)
	if err != nil {
		tr.Free()
		n.Free()
		return err
	}
	w.archiveRun()
	w.freeModel()
	w.net, w.tr, w.set.Model, w.probes = n, tr, model, probes
	w.resetProgress()
	return nil
}

// newModel builds a network and its trainer without touching the current
// ones.
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

// maxRuns is how many earlier runs the session keeps for comparison.
const maxRuns = 6

// archiveRun keeps the run that is ending, if it trained, among the
// earlier runs (the oldest goes past maxRuns): called before the model,
// its weights or its settings give way to the next run's.
func (w *worker) archiveRun() {
	if w.step == 0 {
		return
	}
	short := viz.ModelTitle(modelChoices, w.set.Model)
	loss, steps := w.hist.points()
	w.nextRun++
	w.runs = append(w.runs, viz.Run{ID: w.nextRun, Short: short,
		Name: fmt.Sprintf("%s · lr %g · batch %d · seed %d · %d steps", short, w.set.LR, w.set.Batch, w.s.cfg.Seed, w.step),
		Loss: loss, LossStep: steps, TestAcc: slices.Clone(w.testAcc)})
	if len(w.runs) > maxRuns {
		w.runs = slices.Delete(w.runs, 0, len(w.runs)-maxRuns)
	}
}

func (w *worker) resetProgress() {
	w.step, w.lastLoss, w.inspectStep = 0, nan(), 0
	w.hist = lossHistory{}
	w.grads = gradHistory{}
	w.trainAcc, w.testAcc = nil, nil
	w.epoch = epochSums{}
	w.rate = rateMeter{}
	w.eval = nil
	w.view = nil
	w.dirty = true
	w.plan.order = nil
}

// freeModel frees the network and the trainer.
func (w *worker) freeModel() {
	_ = w.finishInspection() // its values no longer matter
	if w.tr != nil {
		w.tr.Free()
		w.tr = nil
	}
	if w.net != nil {
		w.net.Free()
		w.net = nil
	}
	w.probes = nil
	w.eval = nil
	w.view = nil
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
	w.x.free(w.b)
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

// ---- intents ----

func (w *worker) handle(in viz.Intent) {
	if !w.ready() {
		switch in.Kind {
		case viz.StepOnce, viz.Reset, viz.Save, viz.Load, viz.SelectImage:
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
	case viz.StepOnce:
		w.running = false
		w.guard("step", w.stepOnce)
	case viz.Reset:
		w.guard("reset", func() error {
			if w.b == nil || w.classes == nil {
				return nil
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
			w.selected = in.Image
			w.dirty = true
			w.lastInspect, w.inspectStep = time.Time{}, w.step-w.s.cfg.InspectSteps
			return nil
		})
	case viz.SetModel:
		w.guard("model", func() error { return w.setModel(in.Model) })
	case viz.SetLR:
		w.guard("learning rate", func() error { return w.setLR(in.LR) })
	case viz.SetBatch:
		w.guard("batch size", func() error { return w.setBatch(in.Batch) })
	case viz.ForgetRun:
		w.runs = slices.DeleteFunc(w.runs, func(r viz.Run) bool { return r.ID == in.Run })
		w.dirty = true
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
	if model == w.set.Model && w.net != nil {
		return nil
	}
	if err := checkBatch(model, w.set.Batch); err != nil {
		return err
	}
	if w.b == nil || w.classes == nil {
		w.set.Model = model
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
	if w.tr != nil {
		w.tr.Opt.LR = float32(lr)
	}
	return nil
}

// setBatch changes the batch size; the epoch in progress goes on from the
// first image not yet trained on, rounded down to a whole new batch.
func (w *worker) setBatch(batch int) error {
	if err := checkBatch(w.set.Model, batch); err != nil {
		return err
	}
	if w.tr != nil && w.recs != nil {
		done := min(w.tr.Batch*w.tr.Cfg.Batch, w.tr.EpochImages(w.recs.Len()))
		w.tr.Cfg.Batch = batch
		w.tr.Batch = done / batch
	}
	w.set.Batch = batch
	return nil
}

// ---- training ----

// work does one unit of work: a batch of the evaluation, a run of training
// steps, or an inspection of a paused network. It reports false when there
// is nothing to do until the next command.
func (w *worker) work(ctx context.Context) bool {
	switch {
	case !w.ready():
		return false
	case w.eval != nil:
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
		return w.finishInspection()
	})
}

// trainRun trains until the epoch ends, a command arrives or ctx ends.
func (w *worker) trainRun(ctx context.Context) error {
	tctx, cancel := context.WithCancel(ctx)
	defer cancel()
	if !w.s.setStop(cancel) {
		w.s.setStop(nil)
		return nil
	}
	w.abort = nil
	_, err := w.tr.RunEpoch(tctx, w.recs, w.onStep)
	w.s.setStop(nil)
	if w.abort != nil {
		w.running = false
		return w.abort
	}
	if errors.Is(err, context.Canceled) {
		return nil
	}
	if err != nil {
		w.running = false
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
	if r.GradNorms != nil && w.net != nil {
		w.grads.add(w.net, r.Step, r.GradNorms, r.BlockGradNorms)
	}
	w.epoch.add(r)
	now := time.Now()
	w.rate.add(now, r.N)
	var err error
	if w.insp != nil && r.Step > w.insp.after {
		// A step sent after the inspection is done, so its values are
		// there: collect them without waiting.
		err = w.finishInspection() // published with the next snapshot
	}
	due := now.Sub(w.lastInspect) >= w.s.cfg.InspectEvery && (r.Step-w.inspectStep >= w.s.cfg.InspectSteps || w.view == nil)
	if err == nil && w.abort == nil && w.running && w.insp == nil && due {
		err = w.inspect()
	}
	if err != nil && w.abort == nil {
		w.abort = fmt.Errorf("inspect: %w", err)
		w.s.stop()
	}
	w.maybePublish()
	w.s.inspectNanos.Add(int64(time.Since(now)))
	if w.s.cfg.Yield != nil {
		w.s.cfg.Yield()
	}
}

// stepOnce trains on the next batch of the epoch and reads its loss back.
func (w *worker) stepOnce() error {
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
	w.epoch = epochSums{}
	w.dirty = true
	if w.tests != nil {
		w.eval = newEvalRun(w.tests.Len(), w.s.cfg.EvalLimit)
	}
	w.publish()
}

// epochSums adds up the steps of the epoch in progress.
type epochSums struct {
	images, correct int
}

func (e *epochSums) add(r net.StepResult) {
	e.images += r.N
	e.correct += r.Correct
}

func (e epochSums) accuracy() float64 {
	if e.images == 0 {
		return nan()
	}
	return float64(e.correct) / float64(e.images)
}

// ---- evaluation ----

// evalRun is an evaluation on the test split in progress, one batch per
// unit of work so that intents and the page's event loop get through.
type evalRun struct {
	index   []int32 // the test images, spread evenly over the split
	pos     int
	correct int
}

func newEvalRun(n, limit int) *evalRun {
	if limit <= 0 || limit > n {
		limit = n
	}
	e := &evalRun{index: make([]int32, limit)}
	for i := range e.index {
		e.index[i] = int32(i * n / limit)
	}
	return e
}

func (w *worker) evalBatch() error {
	e := w.eval
	idx := e.index[e.pos:min(e.pos+w.set.Batch, len(e.index))]
	x := w.x.tensor(w.b, append(net.Shape{len(idx)}, net.InputShape...))
	l := w.x.ints(w.b, net.Shape{len(idx)})
	w.b.Gather(x, l, w.tests, idx, nil, 0, norm)
	logits := w.net.Forward(x, false)
	k := w.net.Classes
	host := make([]float32, len(idx)*k)
	if err := w.b.Download(host, logits); err != nil {
		w.eval = nil
		return fmt.Errorf("read back logits: %w", err)
	}
	for i, r := range idx {
		if argmax(host[i*k:(i+1)*k]) == w.test.Label(int(r)) {
			e.correct++
		}
	}
	if e.pos += len(idx); e.pos == len(e.index) {
		w.testAcc = append(w.testAcc, float32(e.correct)/float32(len(e.index)))
		w.eval = nil
		w.publish()
	}
	return nil
}

func argmax(v []float32) int {
	best := 0
	for i, x := range v {
		if x > v[best] {
			best = i
		}
	}
	return best
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
