//go:build js && wasm

// Command worker is the trainer of cifarlab's page: it runs in a Web
// Worker (site/cifarlab-worker.js), so that training never holds up the
// page's one thread, where the viewer draws and the page answers clicks
// and keys (../, the page's program). make site builds it into
// site/cifarlab-worker.wasm.
//
// It opens the backend (the page's WebGPU, or the CPU backend), finds the
// dataset, runs the session (package app) and talks to the page through
// package pagewire: it carries out the intents, files and failures the
// page sends, and sends the page's state a few times a second and the
// session's snapshots, one as soon as the page has taken the last.
//
//	main.go     the wiring: backend, session, dataset, the page's messages
//	board.go    the failures, notices and dataset facts; the page's state
//	params.go   the URL parameters
//	backend.go  WebGPU or the CPU fallback (which yields to the event loop)
//	dataset.go  the dataset: kept from the last visit, the server's, or a file
//	picture.go  a file given to the page: a picture to inspect, or a dataset
//	store.go    the browser's Cache Storage of the dataset
//	runs.go     the browser's Cache Storage of the session's runs
//	fetch.go    fetch with progress
//
// Everything that waits on JavaScript (WebGPU, fetch, Cache Storage) runs
// on goroutines; the callbacks of the page's messages only queue work.
package main

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"syscall/js"
	"time"

	"cifarlab/cifar"
	"cifarlab/internal/app"
	"cifarlab/internal/jsutil"
	"cifarlab/internal/pagewire"
	"cifarlab/net"
	"cifarlab/viz"
)

func main() {
	box := js.Global().Get("cifarlabPage")
	if !box.Truthy() {
		js.Global().Get("console").Call("error", "cifarlab-worker.wasm runs in the Web Worker of cifarlab-worker.js, which the page starts")
		return
	}
	h := &host{board: newBoard(), dirty: make(chan struct{}, 1), acked: make(chan struct{}, 1), hasLoader: make(chan struct{})}
	h.board.changed = h.markDirty
	h.acked <- struct{}{} // the first snapshot goes at once
	var err error
	if h.params, err = parseParams(box.Get("search").String()); err != nil {
		h.board.setError(errParams, err)
	}
	h.link = pagewire.Open(box)
	h.link.Listen(h.receive)
	go h.sendStates()
	h.start()
	select {}
}

// host wires the worker together.
type host struct {
	board  *board
	params params
	link   *pagewire.Link
	dirty  chan struct{} // the state changed
	acked  chan struct{} // the page took the last snapshot
	// hasLoader is closed once loader is set (it waits for Cache Storage).
	hasLoader chan struct{}

	mu       sync.Mutex
	loader   *loader
	sess     *app.Session
	pending  *cifar.Dataset // a dataset that came before the session
	early    []viz.Intent   // intents that came before the session
	earlySeq int            // the seq of the last of them
}

func (h *host) markDirty() {
	select {
	case h.dirty <- struct{}{}:
	default:
	}
}

// receive takes a message of the page (in its callback: nothing here
// waits).
func (h *host) receive(msg js.Value) {
	switch op := pagewire.Op(msg); op {
	case pagewire.OpIntent:
		var in viz.Intent
		if err := pagewire.Decode(pagewire.Data(msg), &in); err != nil {
			h.board.setError(errViewer, err)
			return
		}
		h.handle(in, msg.Get("seq").Int())
	case pagewire.OpFile:
		file, name := msg.Get("file"), msg.Get("name")
		if !file.InstanceOf(js.Global().Get("Blob")) {
			h.board.setError(errFile, fmt.Errorf("the page sent a file that is no File or Blob (%s)", file.Type()))
			return
		}
		if name.Type() == js.TypeString && name.String() != "" && !file.Get("name").Truthy() {
			file = js.Global().Get("File").New([]any{file}, name.String())
		}
		switch msg.Get("as").String() {
		case pagewire.AsPicture:
			go h.takePicture(file, file.Get("name").String())
		case pagewire.AsDataset:
			go h.loadDatasetFile(file)
		case pagewire.AsWeights:
			go h.loadWeightsFile(file)
		default:
			go h.takeFile(file)
		}
	case pagewire.OpServer:
		h.board.offerServer("")
		if l := h.getLoader(); l != nil {
			go l.fromServer(l.begin())
		}
	case pagewire.OpFail:
		var err error
		if text := msg.Get("text").String(); text != "" {
			err = errors.New(text)
		}
		switch msg.Get("key").String() {
		case pagewire.FailViewer:
			h.board.setError(errViewer, err)
		case pagewire.FailDownload:
			h.board.setError(errDownload, err)
		default:
			h.board.setError(errFile, err)
		}
	case pagewire.OpAck:
		select {
		case h.acked <- struct{}{}:
		default:
		}
	default:
		js.Global().Get("console").Call("error", "cifarlab's worker: a message it does not know", msg)
	}
}

// statesEvery is how often the state goes to the page while nothing marks
// it changed (the session's images/s and progress move on their own).
const statesEvery = 250 * time.Millisecond

// sendStates sends the page's state whenever it changes.
func (h *host) sendStates() {
	tick := time.NewTicker(statesEvery)
	var last pagewire.State
	for {
		select {
		case <-h.dirty:
		case <-tick.C:
		}
		st := h.board.state()
		if st == last {
			continue
		}
		last = st
		data, err := pagewire.Encode(st)
		if err == nil {
			err = h.link.PostData(pagewire.OpState, data, nil)
		}
		if err != nil {
			js.Global().Get("console").Call("error", "cifarlab's worker: sending the state: "+err.Error())
		}
	}
}

// sendSnapshots sends the session's latest snapshot each time the page has
// taken the one before.
func (h *host) sendSnapshots(s *app.Session) {
	ch := make(chan *viz.Snapshot, 1)
	go s.Feed(context.Background(), ch)
	for {
		<-h.acked
		snap := <-ch
		data, err := pagewire.Encode(snap)
		if err == nil {
			err = h.link.PostData(pagewire.OpSnapshot, data, nil)
		}
		if err != nil {
			h.board.setError(errViewer, fmt.Errorf("sending the viewer its snapshot: %w", err))
			h.acked <- struct{}{} // the next one, then
			continue
		}
		h.markDirty() // the status of the same moment
	}
}

// start opens the backend and the dataset, both at once, and runs the
// session.
func (h *host) start() {
	go func() {
		st, err := openStore(context.Background())
		if err != nil {
			h.board.note(noteStore, err.Error())
		}
		l := &loader{board: h.board, use: h.useData, store: st}
		h.mu.Lock()
		h.loader = l
		h.mu.Unlock()
		close(h.hasLoader)
		l.start()
	}()

	o := openBackend(h.params.device)
	h.board.setBackend(o.b.Name())
	h.board.setError(errBackend, o.failure)
	cfg := app.Config{Model: h.params.model, Experiment: h.params.experiment, LR: h.params.lr, Batch: h.params.batch,
		Limit: h.params.limit, EvalLimit: h.params.eval, OnSave: h.download}
	switch ms := h.params.inspect; {
	case ms == 0:
		cfg.InspectEvery = 1e6 * time.Hour // never while training
	case ms > 0:
		cfg.InspectEvery = time.Duration(ms) * time.Millisecond
	}
	switch {
	case !o.gpu:
		cfg.Batch = or(cfg.Batch, 32)
		cfg.EvalLimit = or(cfg.EvalLimit, 1000)
		y := o.b.(*yielding)
		cfg.Yield = y.maybeYield
	case o.slow:
		cfg.Batch = or(cfg.Batch, 32)
		cfg.EvalLimit = or(cfg.EvalLimit, 1000)
		cfg.StatsEvery = 2
	default:
		cfg.StatsEvery = 4
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	runs, keeper, err := openRuns(ctx, h.board)
	cancel()
	if err != nil {
		h.board.note(noteRuns, err.Error())
	} else {
		cfg.Runs, cfg.OnRuns = runs, keeper.keep
	}
	cfg.Reopen = func(lost error, old net.Backend) (net.Backend, string) {
		// The device is gone (a GPU process crash, a driver reset, a tab
		// put away on a phone): a new one where the browser gives one, or
		// the CPU fallback. The session goes on from its copy on the host.
		old.Close()
		n := openBackend(h.params.device)
		h.board.setBackend(n.b.Name())
		h.board.setError(errBackend, n.failure)
		return n.b, n.notice
	}
	s := app.New(cfg)
	s.SetBackend(o.b, o.notice)
	if h.params.autostart {
		s.Handle(viz.Intent{Kind: viz.Start})
	}
	h.mu.Lock()
	h.sess = s
	if h.pending != nil {
		s.SetData(h.pending)
		h.pending = nil
	}
	for _, in := range h.early {
		s.Handle(in)
	}
	if h.earlySeq > 0 {
		go h.confirm(s, h.earlySeq)
	}
	h.early, h.earlySeq = nil, 0
	h.mu.Unlock()
	h.board.attach(s)
	go h.sendSnapshots(s)
	if err := s.Run(context.Background()); err != nil {
		h.board.setError(errSession, fmt.Errorf("training stopped: %w", err))
	}
}

func or(v, def int) int {
	if v == 0 {
		return def
	}
	return v
}

func (h *host) getLoader() *loader {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.loader
}

// useData hands a dataset to the session, or keeps it until there is one.
func (h *host) useData(_ string, ds *cifar.Dataset) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.sess == nil {
		h.pending = ds
		return
	}
	h.sess.SetData(ds)
}

// handle carries out an intent of the page (seq counts the page's
// intents; 0 for one of the worker's own); before the session exists, it
// waits for it. Once the session has carried it out, the page's state
// says so (Handled), which ends the page's own account of Start and Pause.
func (h *host) handle(in viz.Intent, seq int) {
	h.mu.Lock()
	s := h.sess
	if s == nil {
		h.early = append(h.early, in)
		h.earlySeq = max(h.earlySeq, seq)
	}
	h.mu.Unlock()
	if s == nil {
		return
	}
	s.Handle(in)
	if seq > 0 {
		go h.confirm(s, seq)
	}
}

// confirm waits until the session has carried out what it was given
// before, then says so.
func (h *host) confirm(s *app.Session, seq int) {
	if err := s.Sync(context.Background()); err == nil {
		h.board.setHandled(seq)
	}
}

// download sends the page a file to offer as a download: saved weights, or
// exported runs.
func (h *host) download(name string, data []byte) {
	if err := h.link.PostData(pagewire.OpDownload, data, map[string]any{"name": name}); err != nil {
		h.board.setError(errDownload, fmt.Errorf("sending %s to the page: %w", name, err))
	}
}

// loadWeightsFile reads a picked weights file and loads it.
func (h *host) loadWeightsFile(file js.Value) {
	name := file.Get("name").String()
	buf, err := jsutil.Await(context.Background(), file.Call("arrayBuffer"))
	if err != nil {
		h.board.setError(errWeights, fmt.Errorf("read %s: %w", name, err))
		return
	}
	h.board.setError(errWeights, nil)
	h.handle(viz.Intent{Kind: viz.Load, Data: jsutil.BytesFromJS(buf), Path: name}, 0)
}

// loadDatasetFile reads a dataset file the user gave, once the loader is
// there (a moment after the program's start).
func (h *host) loadDatasetFile(file js.Value) {
	<-h.hasLoader
	h.getLoader().fromFile(file)
}
