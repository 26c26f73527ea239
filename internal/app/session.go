// Package app is cifarlab's live training session, shared by the browser
// page (wasm/) and the desktop command: it holds a backend, a dataset, a
// network and its trainer, carries out the viewer's intents, trains in
// steps on a goroutine of its own, and publishes what the viewer draws as
// viz.Snapshots.
//
// One goroutine runs Run and owns everything that touches the backend;
// every other method may be called from any goroutine, including a
// JavaScript callback in the browser: none of them blocks on the backend,
// except Sync and SaveWeights, which wait for Run's goroutine (call them
// from a goroutine of their own in the browser).
//
//	s := app.New(app.Config{Model: "lenet5"})
//	s.SetBackend(b, "")          // when the backend is open
//	s.SetData(ds)                // when the dataset is read
//	go s.Run(ctx)                // trains while Running; returns when ctx ends
//	s.Handle(viz.Intent{Kind: viz.Start})
//	snap := s.Snapshot()         // the latest, for the viewer; never nil
//	go s.Feed(ctx, snapshots)    // or: the latest snapshot into a viz/game channel
//	go s.Serve(ctx, intents)     // and the game's intents into Handle
//	st := s.Status()             // the headline numbers
//	…
//	cancel(); <-done; s.Close()  // after Run has returned
//
// A failure of the backend, the data or a weights file never panics: it is
// the snapshot's Error and the status's error (a failed step or read back
// also pauses training), and the session goes on answering intents.
package app

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"cifarlab/cifar"
	"cifarlab/net"
	"cifarlab/viz"
)

// Config is how a session starts. The zero value of every field means its
// default.
type Config struct {
	Model string // one of net.Models (default lenet5)
	// Experiment, when not "", starts the shortcut experiment of this
	// network (see ExperimentPair) instead of training Model.
	Experiment string
	LR         float64 // Adam's learning rate (default 1e-3)
	Batch      int     // images per step (default 256)
	Seed       uint64  // initial weights, shuffles and crops (default 1)
	// Limit trains on Limit training images (0: all), taken from the
	// classes in turn in file order (cifar.Split.Balanced), so that no
	// class is left out where the images are ordered by class.
	Limit int
	// FileOrder keeps the training images in file order instead of
	// reshuffling them every epoch.
	FileOrder bool
	// Augment adds the random crop (padding 4) and horizontal flip.
	Augment bool
	// EvalLimit evaluates, at the end of every epoch, this many test
	// images spread evenly over the test split (0: all of them). The
	// snapshot's notice says when it is fewer than all.
	EvalLimit int
	// StatsEvery is net.TrainConfig.StatsEvery: steps whose loss is read
	// back together (default 1; a GPU backend trains faster with a few).
	StatsEvery int
	// InspectEvery is how often, while training, the inspected image is
	// sent through the network and its maps read back (default 250 ms).
	InspectEvery time.Duration
	// InspectSteps is the fewest training steps between two inspections
	// (default 4): where steps are slow (an emulated GPU, the browser's
	// CPU fallback) an inspection's forward would otherwise cost a large
	// share of each step.
	InspectSteps int
	// StripSize is the number of test images offered for inspection
	// (default 16).
	StripSize int
	// Yield, when set, is called between training steps and other units
	// of work: the browser's CPU fallback uses it to let the page's event
	// loop run.
	Yield func()
	// OnSave receives the weights of a Save intent without a Path, and the
	// file of an ExportRuns intent without one (the browser downloads
	// them), on Run's goroutine. Without it such an intent is an error.
	OnSave func(name string, data []byte)
	// Runs are earlier runs to compare with, as EncodeRuns wrote them
	// (what OnRuns received last time).
	Runs []byte
	// OnRuns, when set, receives the session's runs as EncodeRuns writes
	// them (the earlier ones, then those in progress) whenever they
	// change: a run ends or is forgotten, an epoch ends, and every
	// RunsEvery while training. It is called on Run's goroutine: the page
	// keeps them in its Cache Storage, the desktop in a file beside its
	// weights, so that a reload or a restart shows them again.
	OnRuns func(data []byte)
	// Reopen, when set, is called (on Run's goroutine) when the backend's
	// device is lost, with the error that says so and the lost backend,
	// which the session no longer uses: it closes that one and returns the
	// backend to go on with (a new GPU device, or the CPU backend) and a
	// notice for it, as SetBackend takes. The session then goes on from
	// its copy of each network's state on the host, with its runs and
	// curves. Without Reopen a lost device is an error, and Save still
	// writes the weights from the host copy.
	Reopen func(lost error, old net.Backend) (net.Backend, string)
}

// Defaults of Config.
const (
	DefaultModel        = "lenet5"
	DefaultLR           = 1e-3
	DefaultBatch        = 256
	DefaultSeed         = 1
	DefaultInspectEvery = 250 * time.Millisecond
	DefaultInspectSteps = 4
	DefaultStripSize    = 16
	// MaxBatch bounds the batch size a SetBatch intent may ask for.
	MaxBatch = 4096
)

func (c Config) withDefaults() Config {
	if c.Model == "" {
		c.Model = DefaultModel
	}
	if c.LR == 0 {
		c.LR = DefaultLR
	}
	if c.Batch == 0 {
		c.Batch = DefaultBatch
	}
	if c.Seed == 0 {
		c.Seed = DefaultSeed
	}
	if c.StatsEvery < 1 {
		c.StatsEvery = 1
	}
	if c.InspectEvery <= 0 {
		c.InspectEvery = DefaultInspectEvery
	}
	if c.InspectSteps <= 0 {
		c.InspectSteps = DefaultInspectSteps
	}
	if c.StripSize <= 0 {
		c.StripSize = DefaultStripSize
	}
	return c
}

// Status is the headline of a session, for scripts and tests (the wasm
// page's window.cifarlab.status()).
type Status struct {
	Backend       string  `json:"backend"`      // the backend's name; "" before one is set
	Model         string  `json:"model"`        //
	Step          int     `json:"step"`         // steps done, 0 before the first
	Epoch         int     `json:"epoch"`        // the epoch in progress, from 1
	Loss          float64 `json:"loss"`         // the last step's loss; NaN before the first
	TestAccuracy  float64 `json:"testAccuracy"` // after the last finished epoch; NaN before
	ImagesPerSec  float64 `json:"imagesPerSec"` //
	Error         string  `json:"error"`        // the last failure, "" when none
	Running       bool    `json:"running"`      // training, as opposed to paused
	Ready         bool    `json:"ready"`        // backend, data and network are in place
	EpochProgress float64 `json:"epochProgress"`
	TrainAccuracy float64 `json:"trainAccuracy"` // of the last finished epoch; NaN before
	TrainImages   int     `json:"trainImages"`
	TestImages    int     `json:"testImages"`
	Batch         int     `json:"batch"`
	LR            float64 `json:"lr"`
	Dataset       string  `json:"dataset"` // where the data came from
	Notice        string  `json:"notice"`
	// The shortcut experiment in progress ("" and 0 when none): its
	// account (title, what to look for, what the run has shown), and the
	// network training alongside Model, with its steps.
	Experiment string `json:"experiment"`
	// The last evaluation on the test images (nil and 0 before one): the
	// confusion matrix [true class][predicted class], each class's
	// accuracy (-1 for a class without images), the mean test loss, the
	// step evaluated and the images.
	Confusion        [][]int   `json:"confusion"`
	PerClassAccuracy []float64 `json:"perClassAccuracy"`
	TestLoss         float64   `json:"testLoss"`
	EvalStep         int       `json:"evalStep"`
	EvalImages       int       `json:"evalImages"`
	Twin             string    `json:"twin"`
	TwinStep         int       `json:"twinStep"`
	// DeviceMemory is the bytes of device memory the backend holds, in
	// use or pooled (0 for the CPU backend, whose memory is Go's).
	DeviceMemory int64 `json:"deviceMemory"`
}

// Session is a live training session. See the package comment.
type Session struct {
	cfg Config // as given, with defaults

	// Shared between goroutines.
	mu       sync.Mutex
	inbox    []func() // commands for Run's goroutine, in order
	wake     chan struct{}
	stopStep context.CancelFunc // stops the training in progress; nil when none
	outside  struct {           // what the embedding program reported
		notice string
		err    string
		errAt  uint64 // errClock when err was set
	}
	errClock atomic.Uint64             // orders the failures of both sides
	pending  atomic.Int32              // commands not yet taken by Run
	pub      atomic.Pointer[published] // the latest snapshot and status
	changed  chan struct{}             // a new snapshot was published (for Feed)
	// inspectNanos is the time spent inspecting and publishing inside
	// training runs, for measuring what snapshots cost training.
	inspectNanos atomic.Int64

	w worker // owned by Run's goroutine
}

// published is one snapshot and the status of the same moment, with the
// session's own notice and error before they were merged with the
// embedding program's (so that amend can merge them again).
type published struct {
	snap           *viz.Snapshot
	status         Status
	notice, errMsg string
	errAt          uint64
}

// New makes a session with no backend and no data yet; its snapshot says
// so until SetBackend and SetData have been called.
func New(cfg Config) *Session {
	s := &Session{cfg: cfg.withDefaults(), wake: make(chan struct{}, 1), changed: make(chan struct{}, 1)}
	s.w.init(s)
	s.w.publish()
	return s
}

// Run carries out intents and trains until ctx ends, then returns ctx's
// error. It must run on one goroutine at a time; in the browser that
// goroutine may block on the GPU's promises, which is why intents and
// snapshots go through Handle and Snapshot.
func (s *Session) Run(ctx context.Context) error {
	w := &s.w
	for {
		s.runCommands()
		if err := ctx.Err(); err != nil {
			w.guard("inspect", w.finishInspection)
			w.runsChanged = w.runsChanged || w.step > 0 // keep the runs in progress too
			w.publish()
			return err
		}
		if !w.work(ctx) {
			w.guard("inspect", w.finishInspection)
			w.publish()
			select {
			case <-s.wake:
			case <-ctx.Done():
			}
			continue
		}
		w.maybePublish()
		if s.cfg.Yield != nil {
			s.cfg.Yield()
		}
	}
}

// Close frees the network, the trainer and the uploaded data. Call it after
// Run has returned; the backend stays open (it is the caller's).
func (s *Session) Close() {
	s.w.freeAll()
}

// Snapshot returns the latest snapshot. It is shared and must not be
// modified; a new one replaces it several times a second while training.
func (s *Session) Snapshot() *viz.Snapshot { return s.pub.Load().snap }

// Status returns the headline numbers of the latest snapshot.
func (s *Session) Status() Status { return s.pub.Load().status }

// Handle queues an intent of the viewer for Run's goroutine; training in
// progress stops after its current step to let it through. Intents that
// need the network (StepOnce, Reset, Save, Load, SelectImage) wait until
// the backend and the data are there; Start trains from then on.
func (s *Session) Handle(in viz.Intent) {
	s.enqueue(func() { s.w.handle(in) })
}

// SetBackend gives the session its backend (replacing an earlier one, whose
// network and data are freed; closing it is the caller's business), with a
// notice to show for as long as it is used (such as "no WebGPU: training
// on the CPU is slower"), or "".
func (s *Session) SetBackend(b net.Backend, notice string) {
	s.enqueue(func() { s.w.setBackend(b, notice) })
}

// SetData gives the session its dataset: the training images (Train, else
// Only) and the held-out test images (Test, which may be nil: then the
// strip and the inspected image come from the training images, and there is
// no test accuracy). The network is rebuilt with new weights when the
// number of classes changes, and the epoch count starts again.
func (s *Session) SetData(ds *cifar.Dataset) {
	s.enqueue(func() { s.w.setData(ds) })
}

// SetNotice sets a notice of the embedding program (such as the progress
// of a download), shown beside the session's own; "" removes it. It takes
// effect at once, even while a step is running.
func (s *Session) SetNotice(text string) {
	s.mu.Lock()
	s.outside.notice = text
	s.mu.Unlock()
	s.amend()
}

// Fail reports a failure of the embedding program (a dataset that does not
// load, no WebGPU): it is the snapshot's error and the status's until the
// session meets a failure of its own, which shows instead until a
// successful action clears it, or until Fail is called again; Fail(nil)
// clears it. It takes effect at once, even while a step is running.
func (s *Session) Fail(err error) {
	s.mu.Lock()
	if err == nil {
		s.outside.err = ""
	} else {
		s.outside.err = err.Error()
		s.outside.errAt = s.errClock.Add(1)
	}
	s.mu.Unlock()
	s.amend()
}

// SaveWeights returns the weights as a safetensors file (the format of
// cifarlab's checkpoints), waiting for Run's goroutine to write them; ctx
// bounds the wait. Run must be running.
func (s *Session) SaveWeights(ctx context.Context) ([]byte, error) {
	type result struct {
		data []byte
		err  error
	}
	done := make(chan result, 1)
	s.enqueue(func() {
		data, _, err := s.w.encodeWeights()
		done <- result{data, err}
	})
	select {
	case r := <-done:
		return r.data, r.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// Sync waits until the intents and settings sent before it have been
// carried out and a snapshot showing them is published (with training
// paused, that includes the inspection of the image with the new weights);
// ctx bounds the wait. Run must be running.
func (s *Session) Sync(ctx context.Context) error {
	done := make(chan struct{})
	s.enqueue(func() { s.w.synced = append(s.w.synced, done) })
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Feed sends the session's snapshots to ch as they are published, until
// ctx ends: the latest one only, replacing one that ch still holds, so that
// a viewer that takes one a frame (viz/game) never falls behind and Feed
// never waits for it. ch should have a capacity of 1. One Feed at a time.
func (s *Session) Feed(ctx context.Context, ch chan *viz.Snapshot) {
	var last *viz.Snapshot
	for {
		if snap := s.Snapshot(); snap != last {
			last = snap
			for sent := false; !sent; {
				select {
				case ch <- snap:
					sent = true
				default:
					select { // full: drop the snapshot not yet taken
					case <-ch:
					default:
					}
				}
			}
		}
		select {
		case <-s.changed:
		case <-ctx.Done():
			return
		}
	}
}

// Serve hands the intents that arrive on ch to Handle until ch is closed
// or ctx ends: the other half of what a viz/game Game needs.
func (s *Session) Serve(ctx context.Context, ch <-chan viz.Intent) {
	for {
		select {
		case in, ok := <-ch:
			if !ok {
				return
			}
			s.Handle(in)
		case <-ctx.Done():
			return
		}
	}
}

// notify wakes Feed.
func (s *Session) notify() {
	select {
	case s.changed <- struct{}{}:
	default:
	}
}

// enqueue adds a command for Run's goroutine and stops the training in
// progress after its step, so that the command runs soon.
func (s *Session) enqueue(f func()) {
	s.mu.Lock()
	s.inbox = append(s.inbox, f)
	stop := s.stopStep
	s.mu.Unlock()
	if stop != nil {
		stop()
	}
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// runCommands runs the queued commands, each guarded against panics.
func (s *Session) runCommands() {
	s.mu.Lock()
	cmds := s.inbox
	s.inbox = nil
	s.mu.Unlock()
	if len(cmds) == 0 {
		return
	}
	w := &s.w
	w.guard("inspect", w.finishInspection)
	for _, f := range cmds {
		w.guard("", func() error { f(); return nil })
	}
	if w.ready() && len(w.deferred) > 0 {
		deferred := w.deferred
		w.deferred = nil
		for _, in := range deferred {
			w.guard("", func() error { w.handle(in); return nil })
		}
	}
	if w.dirty && !w.running && w.eval == nil {
		w.inspectNow()
	}
	w.publish()
	for _, c := range w.synced {
		close(c)
	}
	w.synced = nil
}

// amend republishes the latest snapshot with the notice and error of the
// moment, without waiting for Run's goroutine.
func (s *Session) amend() {
	for {
		old := s.pub.Load()
		snap := *old.snap
		st := old.status
		snap.Notice, snap.Error = s.merge(old.notice, old.errMsg, old.errAt)
		st.Notice, st.Error = snap.Notice, snap.Error
		next := *old
		next.snap, next.status = &snap, st
		if s.pub.CompareAndSwap(old, &next) {
			s.notify()
			return
		}
	}
}

// merge joins the session's notice and error with the embedding program's;
// the error shown is the later of the two.
func (s *Session) merge(notice, err string, errAt uint64) (string, string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var parts []string
	for _, p := range []string{notice, s.outside.notice} {
		if p != "" {
			parts = append(parts, p)
		}
	}
	e := err
	if s.outside.err != "" && (e == "" || s.outside.errAt > errAt) {
		e = s.outside.err
	}
	return strings.Join(parts, " · "), e
}

// setStop records the function that stops the training in progress, or
// clears it. It reports false when a command is already waiting (so the
// training should not start).
func (s *Session) setStop(stop context.CancelFunc) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.stopStep = stop
	return stop == nil || len(s.inbox) == 0
}

// stop stops the training in progress after its step.
func (s *Session) stop() {
	s.mu.Lock()
	stop := s.stopStep
	s.mu.Unlock()
	if stop != nil {
		stop()
	}
}

// errNotReady is the failure of an intent that needs the backend and data.
var errNotReady = errors.New("the backend or the dataset is not ready yet")

func nan() float64 { return math.NaN() }

func plural(n int, one, many string) string {
	if n == 1 {
		return fmt.Sprintf("%d %s", n, one)
	}
	return fmt.Sprintf("%s %s", viz.Thousands(n), many)
}
