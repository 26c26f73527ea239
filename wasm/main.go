//go:build js && wasm

// Command wasm is cifarlab's page (site/index.html): LeNet5 or ResNet18
// training on CIFAR-10 in the browser, on the page's WebGPU or, without
// it, on the CPU backend, with the viewer of package viz showing what the
// network computes as it learns. make site builds it into
// site/cifarlab.wasm.
//
// The page's parts:
//
//	main.go     the wiring: backend, session, dataset, viewer, window.cifarlab
//	params.go   the URL parameters
//	backend.go  WebGPU or the CPU fallback (which yields to the event loop)
//	dataset.go  the dataset: kept from the last visit, the server's, or a file
//	picture.go  a file given to the page: a picture to inspect, or a dataset
//	store.go    the browser's Cache Storage of the dataset
//	runs.go     the browser's Cache Storage of the session's runs
//	fetch.go    fetch with progress
//	page.go     the elements around the canvas and the status object
//	game.go     the ebiten game of viz/game
//
// window.cifarlab, for scripts and tests:
//
//	status()                 {backend, model, step, epoch, loss, testAccuracy, imagesPerSec,
//	                          error, running, ready, epochProgress, trainAccuracy, trainImages,
//	                          testImages, batch, lr, dataset, notice, experiment, twin,
//	                          twinStep, confusion, perClassAccuracy, testLoss, evalStep,
//	                          evalImages} (unknown numbers: null; confusion is
//	                          [true class][predicted class] of the last evaluation)
//	evaluate()               evaluate the network on the test images now
//	start(), pause(), step(), reset(), save()
//	select(i), setModel(name), setLR(x), setBatch(n)
//	experiment([model])      the shortcut experiment of model (a block network or its
//	                         twin; default resnet20-nobn) against its twin
//	showTwin()               show the experiment's other network
//	runs()                   [{id, name, model, live, steps}]: the earlier runs, kept
//	                         across reloads, and the experiment's other network
//	exportRuns(format)       download the run shown and every earlier one, "jsonl" (the
//	                         schema of cifarlab train -log) or "csv"
//	loadWeights(bytes[, name])   a Uint8Array or ArrayBuffer of a .safetensors file
//	loadDataset(file[, name])    a File or Blob: the official tar.gz, a .bin or an image archive
//	inspectPicture(bytes[, name])  a Uint8Array or ArrayBuffer of a PNG, JPEG, GIF or WebP
//	                         file: inspected in place of a test image
//	prediction()             {probs, label, picture} of the inspected image, or null
//	saliency()               {map, top, step}: |∂(top class score)/∂input|, max over
//	                         colours, 32×32 row-major, of the inspected image, or null
//	reportError(message)     show a failure of the page's own scripts (the camera's)
//	saved                        {name, size} of the last file downloaded (weights, runs)
//
// site/cifarlab.js defines the same functions before the program runs: status()
// answers from the page, and the other calls are queued and made once it runs.
//
// Everything that waits on JavaScript (WebGPU, fetch, Cache Storage) runs
// on goroutines; the callbacks of the page only queue work.
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
	"cifarlab/viz"
)

func main() {
	h := &host{ui: newUI()}
	h.ui.show(idLoading, false)
	h.ui.nameCanvas()
	var err error
	if h.params, err = parseParams(js.Global().Get("location").Get("search").String()); err != nil {
		h.ui.setError(errParams, err)
	}
	h.expose()
	h.hookPage()
	go h.ui.refreshLoop()
	runGame := newGame(h)
	go h.start()
	if err := runGame(); err != nil {
		h.ui.setError(errGame, fmt.Errorf("the viewer stopped: %w", err))
	}
	select {} // the session, the page's controls and window.cifarlab go on
}

// host wires the page together.
type host struct {
	ui     *ui
	params params
	loader *loader

	mu      sync.Mutex
	sess    *app.Session
	pending *cifar.Dataset // a dataset that came before the session
	early   []viz.Intent   // intents that came before the session
	intents chan viz.Intent
	snaps   chan *viz.Snapshot
	// onSnapshot, when set (before the session starts), is called after
	// each snapshot handed to the viewer: it asks for a frame.
	onSnapshot func()
}

// feed hands the session's snapshots to the viewer.
func (h *host) feed(s *app.Session) {
	ch := h.snapshots()
	if h.onSnapshot == nil {
		s.Feed(context.Background(), ch)
		return
	}
	relay := make(chan *viz.Snapshot, 1)
	go s.Feed(context.Background(), relay)
	for snap := range relay {
		select {
		case ch <- snap:
		default:
			select {
			case <-ch:
			default:
			}
			ch <- snap
		}
		h.onSnapshot()
	}
}

// start opens the backend and the dataset, both at once, and starts the
// session.
func (h *host) start() {
	go func() {
		st, err := openStore(context.Background())
		if err != nil {
			h.ui.note(noteStore, err.Error())
		}
		l := &loader{ui: h.ui, use: h.useData, store: st}
		h.mu.Lock()
		h.loader = l
		h.mu.Unlock()
		l.start()
	}()

	o := openBackend(h.params.device)
	h.ui.setBackend(o.b.Name())
	h.ui.setError(errBackend, o.failure)
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
	runs, keeper, err := openRuns(ctx, h.ui)
	cancel()
	if err != nil {
		h.ui.note(noteRuns, err.Error())
	} else {
		cfg.Runs, cfg.OnRuns = runs, keeper.keep
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
	h.early = nil
	h.mu.Unlock()
	h.ui.attach(s)
	go h.feed(s)
	go h.serveIntents(s)
	if err := s.Run(context.Background()); err != nil {
		h.ui.setError(errGame, fmt.Errorf("training stopped: %w", err))
	}
}

func or(v, def int) int {
	if v == 0 {
		return def
	}
	return v
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

func (h *host) session() *app.Session {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.sess
}

// handle carries out an intent of the page or of window.cifarlab; before
// the session exists, it waits for it.
func (h *host) handle(in viz.Intent) {
	h.mu.Lock()
	s := h.sess
	if s == nil {
		h.early = append(h.early, in)
	}
	h.mu.Unlock()
	if s != nil {
		s.Handle(in)
	}
}

// predictionObject is window.cifarlab.prediction(): the inspected image's
// {probs, label, picture} (label -1 for a picture; picture its name, or
// "" for a test image), or null before the first inspection.
func (h *host) predictionObject() any {
	s := h.session()
	if s == nil {
		return nil
	}
	snap := s.Snapshot()
	if len(snap.Probs) == 0 {
		return nil
	}
	o := js.Global().Get("Object").New()
	probs := js.Global().Get("Array").New()
	for _, p := range snap.Probs {
		probs.Call("push", float64(p))
	}
	o.Set("probs", probs)
	o.Set("label", snap.Label)
	name := ""
	if snap.Picture != nil {
		name = snap.Picture.Name
	}
	o.Set("picture", name)
	return o
}

// saliencyObject is window.cifarlab.saliency(): the inspected image's
// {map (row-major, 32×32), top, step}, or null before one is computed.
func (h *host) saliencyObject() any {
	s := h.session()
	if s == nil {
		return nil
	}
	sal := s.Snapshot().Saliency
	if sal == nil {
		return nil
	}
	o := js.Global().Get("Object").New()
	m := js.Global().Get("Array").New()
	for _, v := range sal.Map.Data {
		m.Call("push", float64(v))
	}
	o.Set("map", m)
	o.Set("top", sal.Class)
	o.Set("step", sal.Step)
	return o
}

// runsObject is window.cifarlab.runs(): the session's earlier runs (and
// the experiment's live one) as [{id, name, model, live, steps}], model
// being the network's title and steps its last step.
func (h *host) runsObject() js.Value {
	arr := js.Global().Get("Array").New()
	s := h.session()
	if s == nil {
		return arr
	}
	for _, r := range s.Snapshot().Runs {
		o := js.Global().Get("Object").New()
		o.Set("id", r.ID)
		o.Set("name", r.Name)
		o.Set("model", r.Short)
		o.Set("live", r.Live)
		steps := 0
		if n := len(r.LossStep); n > 0 {
			steps = r.LossStep[n-1]
		}
		o.Set("steps", steps)
		arr.Call("push", o)
	}
	return arr
}

// snapshots and intentCh are the game's channels, made once.
func (h *host) snapshots() chan *viz.Snapshot {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.snaps == nil {
		h.snaps = make(chan *viz.Snapshot, 1)
	}
	return h.snaps
}

func (h *host) intentCh() chan viz.Intent {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.intents == nil {
		h.intents = make(chan viz.Intent, 16)
	}
	return h.intents
}

// serveIntents carries out the viewer's intents. A Load without data asks
// the user for a file (the click that made it still counts as the user's
// gesture the browser wants for a file dialog).
func (h *host) serveIntents(s *app.Session) {
	for in := range h.intentCh() {
		if in.Kind == viz.Load && in.Data == nil && in.Path == "" {
			h.pickWeights()
			continue
		}
		s.Handle(in)
	}
}

// download offers the bytes of a saved weights file as a download (a Blob
// behind a link that is clicked), and records it in window.cifarlab.saved.
func (h *host) download(name string, data []byte) {
	err := jsutil.Try(func() {
		g := js.Global()
		opts := g.Get("Object").New()
		opts.Set("type", "application/octet-stream")
		blob := g.Get("Blob").New([]any{toJS(data)}, opts)
		url := g.Get("URL").Call("createObjectURL", blob)
		doc := g.Get("document")
		a := doc.Call("createElement", "a")
		a.Set("href", url)
		a.Set("download", name)
		a.Get("style").Set("display", "none")
		doc.Get("body").Call("appendChild", a)
		a.Call("click")
		a.Call("remove")
		var revoke js.Func
		revoke = js.FuncOf(func(js.Value, []js.Value) any {
			g.Get("URL").Call("revokeObjectURL", url)
			revoke.Release()
			return nil
		})
		g.Call("setTimeout", revoke, 60_000)
		saved := g.Get("Object").New()
		saved.Set("name", name)
		saved.Set("size", len(data))
		g.Get("cifarlab").Set("saved", saved)
	})
	h.ui.setError(errWeights, err)
}

// pickWeights opens the file dialog of the weights input.
func (h *host) pickWeights() {
	if in := h.ui.el(idWeightsFile); in.Truthy() {
		in.Set("value", "")
		in.Call("click")
	}
}

// loadWeightsFile reads a picked weights file and loads it.
func (h *host) loadWeightsFile(file js.Value) {
	name := file.Get("name").String()
	buf, err := jsutil.Await(context.Background(), file.Call("arrayBuffer"))
	if err != nil {
		h.ui.setError(errWeights, fmt.Errorf("read %s: %w", name, err))
		return
	}
	h.ui.setError(errWeights, nil)
	h.handle(viz.Intent{Kind: viz.Load, Data: fromJS(buf), Path: name})
}

// loadDatasetFile reads a dataset file the user gave.
func (h *host) loadDatasetFile(file js.Value, name string) {
	h.mu.Lock()
	l := h.loader
	h.mu.Unlock()
	if l == nil {
		return
	}
	if name != "" && !file.Get("name").Truthy() {
		file = js.Global().Get("File").New([]any{file}, name)
	}
	l.fromFile(file)
}

// expose sets window.cifarlab's functions.
func (h *host) expose() {
	g := js.Global()
	api := g.Get("cifarlab")
	if !api.Truthy() {
		api = g.Get("Object").New()
		g.Set("cifarlab", api)
	}
	fn := func(name string, f func(args []js.Value) any) {
		api.Set(name, js.FuncOf(func(_ js.Value, args []js.Value) any { return f(args) }))
	}
	intent := func(name string, kind viz.IntentKind) {
		fn(name, func([]js.Value) any { h.handle(viz.Intent{Kind: kind}); return nil })
	}
	fn("status", func([]js.Value) any { return statusObject(h.ui.status()) })
	intent("start", viz.Start)
	intent("pause", viz.Pause)
	intent("step", viz.StepOnce)
	intent("reset", viz.Reset)
	intent("save", viz.Save)
	fn("select", func(a []js.Value) any {
		h.handle(viz.Intent{Kind: viz.SelectImage, Image: argInt(a, 0)})
		return nil
	})
	fn("setModel", func(a []js.Value) any {
		h.handle(viz.Intent{Kind: viz.SetModel, Model: argString(a, 0)})
		return nil
	})
	fn("experiment", func(a []js.Value) any {
		h.handle(viz.Intent{Kind: viz.StartExperiment, Model: argString(a, 0)})
		return nil
	})
	intent("showTwin", viz.ShowTwin)
	intent("evaluate", viz.Evaluate)
	fn("runs", func([]js.Value) any { return h.runsObject() })
	fn("exportRuns", func(a []js.Value) any {
		ids := []int{0}
		if s := h.session(); s != nil {
			for _, r := range s.Snapshot().Runs {
				ids = append(ids, r.ID)
			}
		}
		h.handle(viz.Intent{Kind: viz.ExportRuns, Format: argString(a, 0), Runs: ids})
		return nil
	})
	fn("setLR", func(a []js.Value) any {
		h.handle(viz.Intent{Kind: viz.SetLR, LR: argFloat(a, 0)})
		return nil
	})
	fn("setBatch", func(a []js.Value) any {
		h.handle(viz.Intent{Kind: viz.SetBatch, Batch: argInt(a, 0)})
		return nil
	})
	fn("inspectPicture", func(a []js.Value) any {
		if len(a) == 0 || !a[0].Truthy() {
			return nil
		}
		h.handle(viz.Intent{Kind: viz.InspectPicture, Data: fromJS(a[0]), Path: argString(a, 1)})
		return nil
	})
	fn("prediction", func([]js.Value) any { return h.predictionObject() })
	fn("saliency", func([]js.Value) any { return h.saliencyObject() })
	fn("reportError", func(a []js.Value) any {
		h.ui.setError(errFile, errors.New(argString(a, 0)))
		return nil
	})
	fn("loadWeights", func(a []js.Value) any {
		if len(a) == 0 || !a[0].Truthy() {
			return nil
		}
		h.handle(viz.Intent{Kind: viz.Load, Data: fromJS(a[0]), Path: argString(a, 1)})
		return nil
	})
	fn("loadDataset", func(a []js.Value) any {
		if len(a) > 0 && a[0].Truthy() {
			go h.loadDatasetFile(a[0], argString(a, 1))
		}
		return nil
	})
	// Calls the page's script queued before the program ran.
	if q := api.Get("_queue"); q.Truthy() {
		for i := 0; i < q.Length(); i++ {
			call := q.Index(i)
			name, args := call.Index(0).String(), call.Index(1)
			argv := make([]any, args.Length())
			for j := range argv {
				argv[j] = args.Index(j)
			}
			if f := api.Get(name); f.Type() == js.TypeFunction {
				f.Invoke(argv...)
			}
		}
		api.Delete("_queue")
	}
}

func argInt(a []js.Value, i int) int {
	if i < len(a) && a[i].Type() == js.TypeNumber {
		return a[i].Int()
	}
	return -1
}

func argFloat(a []js.Value, i int) float64 {
	if i < len(a) && a[i].Type() == js.TypeNumber {
		return a[i].Float()
	}
	return 0
}

func argString(a []js.Value, i int) string {
	if i < len(a) && a[i].Type() == js.TypeString {
		return a[i].String()
	}
	return ""
}

// hookPage connects the page's inputs: the dataset picker and drop zone,
// the weights picker, the server-dataset button and the error's close
// button.
func (h *host) hookPage() {
	u := h.ui
	on := func(target js.Value, event string, f func(e js.Value)) {
		if target.Truthy() {
			target.Call("addEventListener", event, js.FuncOf(func(_ js.Value, args []js.Value) any {
				f(jsutil.Arg0(args))
				return nil
			}))
		}
	}
	firstFile := func(list js.Value) js.Value {
		if list.Truthy() && list.Get("length").Int() > 0 {
			return list.Index(0)
		}
		return js.Null()
	}
	on(u.el(idDatasetFile), "change", func(e js.Value) {
		if f := firstFile(e.Get("target").Get("files")); f.Truthy() {
			go h.loadDatasetFile(f, "")
		}
	})
	on(u.el(idPictureFile), "change", func(e js.Value) {
		if f := firstFile(e.Get("target").Get("files")); f.Truthy() {
			go h.takePicture(f, f.Get("name").String())
		}
		e.Get("target").Set("value", "") // the same file again is a change
	})
	// A pasted image is a picture to inspect.
	on(js.Global().Get("window"), "paste", func(e js.Value) {
		cd := e.Get("clipboardData")
		if !cd.Truthy() {
			return
		}
		if f := firstFile(cd.Get("files")); f.Truthy() {
			e.Call("preventDefault")
			go h.takeFile(f)
		}
	})
	on(u.el(idWeightsFile), "change", func(e js.Value) {
		if f := firstFile(e.Get("target").Get("files")); f.Truthy() {
			go h.loadWeightsFile(f)
		}
	})
	on(u.el(idDatasetServer), "click", func(js.Value) {
		h.mu.Lock()
		l := h.loader
		h.mu.Unlock()
		if l != nil {
			u.show(idDatasetServer, false)
			go l.fromServer(l.begin())
		}
	})
	on(u.el(idErrorClose), "click", func(js.Value) { u.dismissError() })
	// A file dropped anywhere on the page is a picture to inspect or a
	// dataset to train on.
	win := js.Global().Get("window")
	hasFiles := func(e js.Value) bool {
		dt := e.Get("dataTransfer")
		if !dt.Truthy() {
			return false
		}
		types := dt.Get("types")
		for i := 0; i < types.Length(); i++ {
			if types.Index(i).String() == "Files" {
				return true
			}
		}
		return false
	}
	on(win, "dragover", func(e js.Value) {
		if hasFiles(e) {
			e.Call("preventDefault")
			u.show(idDropzone, true)
		}
	})
	on(win, "dragleave", func(e js.Value) {
		if !e.Get("relatedTarget").Truthy() {
			u.show(idDropzone, false)
		}
	})
	on(win, "drop", func(e js.Value) {
		u.show(idDropzone, false)
		if !hasFiles(e) {
			return
		}
		e.Call("preventDefault")
		if f := firstFile(e.Get("dataTransfer").Get("files")); f.Truthy() {
			go h.takeFile(f)
		}
	})
}
