//go:build js && wasm

// Command wasm is cifarlab's page (site/index.html) on the browser's main
// thread: the viewer of package viz, which shows what the network computes
// as it learns, the page's controls, and window.cifarlab. Training runs in
// a Web Worker, the program of ./worker (started by site/cifarlab.js), so
// that the page keeps drawing and answering clicks and keys while the CPU
// backend works through a ResNet18 step that takes seconds. make site
// builds it into site/cifarlab.wasm.
//
// The page's parts:
//
//	main.go     the wiring: the worker's messages, window.cifarlab, the page's inputs
//	page.go     the elements around the canvas
//	canvas.go   the viewer on the canvas: its pixels, the pointer's and keys' events
//
// What the page and the worker say to each other is package pagewire's:
// the page sends intents, files and its own failures; the worker sends the
// page's state and the session's snapshots. Start and Pause show at once:
// until the worker has carried one out (after the step in progress), the
// status says what was asked, and that it is pending.
//
// window.cifarlab, for scripts and tests:
//
//	status()                 {backend, model, step, epoch, loss, testAccuracy, imagesPerSec,
//	                          error, running, ready, epochProgress, trainAccuracy, trainImages,
//	                          testImages, batch, lr, dataset, notice, experiment, twin,
//	                          twinStep, confusion, perClassAccuracy, testLoss, evalStep,
//	                          evalImages, pending} (unknown numbers: null; confusion is
//	                          [true class][predicted class] of the last evaluation; pending:
//	                          a Start or Pause not yet carried out, running being what it
//	                          asked for)
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
// prediction(), saliency() and runs() answer from the last snapshot the
// worker sent.
package main

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"syscall/js"

	"cifarlab/internal/jsutil"
	"cifarlab/internal/pagewire"
	"cifarlab/viz"
)

func main() {
	p := &page{ui: newUI()}
	p.ui.show(idLoading, false)
	grads, evalView := pagewire.View(js.Global().Get("location").Get("search").String())
	if c := p.ui.el(idViewer); c.Truthy() {
		p.view = newViewer(viz.New(viz.Options{Gradients: grads, Evaluation: evalView}), c, p.send,
			func(label string) { p.ui.setText(idFocus, label) })
		p.view.onLeave = func() {
			if b := p.ui.el(idDatasetButton); b.Truthy() {
				b.Call("focus")
			}
		}
	}
	box := js.Global().Get("cifarlabWorker")
	if !box.Truthy() {
		p.fatal(errors.New("the page's script (cifarlab.js) started no worker to train in"))
	}
	p.expose()
	p.hookPage()
	p.render()
	if box.Truthy() {
		p.link = pagewire.Open(box)
		p.link.Listen(p.receive)
	}
	select {} // the viewer, the page's controls and window.cifarlab go on
}

// page wires the page together.
type page struct {
	ui   *ui
	link *pagewire.Link
	view *viewer // nil on a page without the canvas

	mu      sync.Mutex
	state   pagewire.State
	got     bool          // a state has come
	snap    *viz.Snapshot // the last the worker sent
	seq     int           // intents sent
	want    *bool         // running, as the last Start or Pause asked, until the worker has carried it out
	wantSeq int
	fatalAt string // a failure before the worker could be reached
}

// receive takes a message of the worker (in its callback).
func (p *page) receive(msg js.Value) {
	switch pagewire.Op(msg) {
	case pagewire.OpState:
		var st pagewire.State
		if err := pagewire.Decode(pagewire.Data(msg), &st); err != nil {
			p.fatal(err)
			return
		}
		p.mu.Lock()
		p.state, p.got = st, true
		cleared := p.want != nil && st.Handled >= p.wantSeq
		if cleared {
			p.want = nil
		}
		p.mu.Unlock()
		p.render()
		if cleared {
			p.show()
		}
	case pagewire.OpSnapshot:
		data := pagewire.Data(msg)
		go p.takeSnapshot(data)
	case pagewire.OpDownload:
		p.download(msg.Get("name").String(), msg.Get("data"))
	case pagewire.OpExit:
		p.fatal(fmt.Errorf("the trainer stopped: %s (see the browser's console)", msg.Get("error").String()))
	default:
		js.Global().Get("console").Call("error", "cifarlab: a message from the worker the page does not know", msg)
	}
}

// takeSnapshot decodes a snapshot, hands it to the viewer and asks for the
// next.
func (p *page) takeSnapshot(data []byte) {
	snap, err := pagewire.DecodeSnapshot(data)
	if err != nil {
		p.fatal(err)
	} else {
		p.mu.Lock()
		p.snap = snap
		p.mu.Unlock()
		p.show()
	}
	if err := p.link.Post(pagewire.OpAck, nil); err != nil {
		p.fatal(err)
	}
}

// viewed is the last snapshot as the viewer shows it: running as asked
// while a Start or Pause is pending.
func (p *page) viewed() *viz.Snapshot {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.snap == nil || p.want == nil || p.snap.Running == *p.want {
		return p.snap
	}
	s := *p.snap
	s.Running = *p.want
	return &s
}

// show hands the viewer the last snapshot.
func (p *page) show() {
	if snap := p.viewed(); snap != nil && p.view != nil {
		p.view.show(snap)
	}
}

// render shows the state around the canvas.
func (p *page) render() {
	p.mu.Lock()
	st, got, want, fatal := p.state, p.got, p.want, p.fatalAt
	p.mu.Unlock()
	line := st.Line
	switch {
	case !got:
		line = "starting the trainer…"
	case want != nil && *want:
		line += " · starting…"
	case want != nil:
		line += " · pausing after the step in progress…"
	}
	if fatal != "" && st.Error == "" {
		st.Error = fatal
	}
	p.ui.render(st, line)
}

// fatal shows a failure that the worker cannot be told of (a message that
// does not decode, no worker, the worker stopped).
func (p *page) fatal(err error) {
	p.mu.Lock()
	p.fatalAt = "cifarlab: " + err.Error()
	p.mu.Unlock()
	p.render()
}

// fail tells the worker of a failure of the page's ("" clears it), which
// the session shows.
func (p *page) fail(key string, err error) {
	text := ""
	if err != nil {
		text = err.Error()
	}
	if p.link == nil {
		if err != nil {
			p.fatal(err)
		}
		return
	}
	if perr := p.link.Post(pagewire.OpFail, map[string]any{"key": key, "text": text}); perr != nil {
		p.fatal(perr)
	}
}

// send sends an intent to the worker. A Load without data asks the user
// for a file (the click that made it still counts as the user's gesture
// the browser wants for a file dialog).
func (p *page) send(in viz.Intent) {
	if in.Kind == viz.Load && in.Data == nil && in.Path == "" {
		p.pickWeights()
		return
	}
	data, err := pagewire.Encode(in)
	if err != nil {
		p.fatal(err)
		return
	}
	p.mu.Lock()
	p.seq++
	seq := p.seq
	asked := in.Kind == viz.Start || in.Kind == viz.Pause
	if asked {
		run := in.Kind == viz.Start
		p.want, p.wantSeq = &run, seq
	}
	p.mu.Unlock()
	if p.link == nil {
		return
	}
	if err := p.link.PostData(pagewire.OpIntent, data, map[string]any{"seq": seq}); err != nil {
		p.fatal(err)
		return
	}
	if asked {
		p.show()
		p.render()
	}
}

// sendFile sends the worker a file: as says what it is (pagewire's As
// kinds).
func (p *page) sendFile(as string, file js.Value, name string) {
	if p.link == nil {
		return
	}
	if err := p.link.Post(pagewire.OpFile, map[string]any{"as": as, "file": file, "name": name}); err != nil {
		p.fail(pagewire.FailFile, err)
	}
}

// download offers the bytes of a file the worker sent (weights, runs) as a
// download (a Blob behind a link that is clicked), and records it in
// window.cifarlab.saved.
func (p *page) download(name string, data js.Value) {
	err := jsutil.Try(func() {
		g := js.Global()
		opts := g.Get("Object").New()
		opts.Set("type", "application/octet-stream")
		blob := g.Get("Blob").New([]any{data}, opts)
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
		saved.Set("size", data.Get("length"))
		g.Get("cifarlab").Set("saved", saved)
	})
	if err != nil {
		err = fmt.Errorf("offering %s as a download: %w", name, err)
	}
	p.fail(pagewire.FailDownload, err)
}

// pickWeights opens the file dialog of the weights input.
func (p *page) pickWeights() {
	if in := p.ui.el(idWeightsFile); in.Truthy() {
		in.Set("value", "")
		in.Call("click")
	}
}

// last is the last snapshot the worker sent, or nil.
func (p *page) last() *viz.Snapshot {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.snap
}

// statusObject is window.cifarlab.status().
func (p *page) statusObject() js.Value {
	p.mu.Lock()
	st, got, want, fatal := p.state, p.got, p.want, p.fatalAt
	p.mu.Unlock()
	var o js.Value
	if got {
		o = js.Global().Get("JSON").Call("parse", st.Status)
	} else {
		o = js.Global().Get("Object").New()
		for k, v := range map[string]any{"backend": "", "model": "", "step": 0, "epoch": 0, "loss": nil,
			"testAccuracy": nil, "imagesPerSec": nil, "error": "", "running": false, "ready": false} {
			o.Set(k, v)
		}
	}
	if fatal != "" && o.Get("error").String() == "" {
		o.Set("error", fatal)
	}
	o.Set("pending", want != nil)
	if want != nil {
		o.Set("running", *want)
	}
	return o
}

// predictionObject is window.cifarlab.prediction(): the inspected image's
// {probs, label, picture} (label -1 for a picture; picture its name, or
// "" for a test image), or null before the first inspection.
func (p *page) predictionObject() any {
	snap := p.last()
	if snap == nil || len(snap.Probs) == 0 {
		return nil
	}
	o := js.Global().Get("Object").New()
	probs := js.Global().Get("Array").New()
	for _, v := range snap.Probs {
		probs.Call("push", float64(v))
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
func (p *page) saliencyObject() any {
	snap := p.last()
	if snap == nil || snap.Saliency == nil {
		return nil
	}
	sal := snap.Saliency
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
func (p *page) runsObject() js.Value {
	arr := js.Global().Get("Array").New()
	snap := p.last()
	if snap == nil {
		return arr
	}
	for _, r := range snap.Runs {
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

// expose sets window.cifarlab's functions.
func (p *page) expose() {
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
		fn(name, func([]js.Value) any { p.send(viz.Intent{Kind: kind}); return nil })
	}
	fn("status", func([]js.Value) any { return p.statusObject() })
	intent("start", viz.Start)
	intent("pause", viz.Pause)
	intent("step", viz.StepOnce)
	intent("reset", viz.Reset)
	intent("save", viz.Save)
	fn("select", func(a []js.Value) any {
		p.send(viz.Intent{Kind: viz.SelectImage, Image: argInt(a, 0)})
		return nil
	})
	fn("setModel", func(a []js.Value) any {
		p.send(viz.Intent{Kind: viz.SetModel, Model: argString(a, 0)})
		return nil
	})
	fn("experiment", func(a []js.Value) any {
		p.send(viz.Intent{Kind: viz.StartExperiment, Model: argString(a, 0)})
		return nil
	})
	intent("showTwin", viz.ShowTwin)
	intent("evaluate", viz.Evaluate)
	fn("runs", func([]js.Value) any { return p.runsObject() })
	fn("exportRuns", func(a []js.Value) any {
		ids := []int{0}
		if snap := p.last(); snap != nil {
			for _, r := range snap.Runs {
				ids = append(ids, r.ID)
			}
		}
		p.send(viz.Intent{Kind: viz.ExportRuns, Format: argString(a, 0), Runs: ids})
		return nil
	})
	fn("setLR", func(a []js.Value) any {
		p.send(viz.Intent{Kind: viz.SetLR, LR: argFloat(a, 0)})
		return nil
	})
	fn("setBatch", func(a []js.Value) any {
		p.send(viz.Intent{Kind: viz.SetBatch, Batch: argInt(a, 0)})
		return nil
	})
	fn("inspectPicture", func(a []js.Value) any {
		if data, ok := p.argBytes("inspectPicture", a); ok {
			p.send(viz.Intent{Kind: viz.InspectPicture, Data: data, Path: argString(a, 1)})
		}
		return nil
	})
	fn("prediction", func([]js.Value) any { return p.predictionObject() })
	fn("saliency", func([]js.Value) any { return p.saliencyObject() })
	fn("reportError", func(a []js.Value) any {
		p.fail(pagewire.FailFile, errors.New(argString(a, 0)))
		return nil
	})
	fn("loadWeights", func(a []js.Value) any {
		if data, ok := p.argBytes("loadWeights", a); ok {
			p.send(viz.Intent{Kind: viz.Load, Data: data, Path: argString(a, 1)})
		}
		return nil
	})
	fn("loadDataset", func(a []js.Value) any {
		if len(a) == 0 || !a[0].InstanceOf(js.Global().Get("Blob")) {
			p.fail(pagewire.FailFile, fmt.Errorf("loadDataset takes a File or Blob, not %s", describe(a)))
			return nil
		}
		p.sendFile(pagewire.AsDataset, a[0], argString(a, 1))
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

// argBytes is the first argument of a call of window.cifarlab's name as
// bytes: a Uint8Array (or another view) or an ArrayBuffer; anything else
// is the page's error, naming the call.
func (p *page) argBytes(name string, a []js.Value) ([]byte, bool) {
	if len(a) > 0 && a[0].Type() == js.TypeObject &&
		(a[0].InstanceOf(js.Global().Get("ArrayBuffer")) || js.Global().Get("ArrayBuffer").Call("isView", a[0]).Bool()) {
		v := a[0]
		if !v.InstanceOf(js.Global().Get("ArrayBuffer")) && !v.InstanceOf(js.Global().Get("Uint8Array")) {
			v = js.Global().Get("Uint8Array").New(v.Get("buffer"), v.Get("byteOffset"), v.Get("byteLength"))
		}
		return jsutil.BytesFromJS(v), true
	}
	p.fail(pagewire.FailFile, fmt.Errorf("%s takes the file's bytes (a Uint8Array or an ArrayBuffer), not %s", name, describe(a)))
	return nil, false
}

// describe names the type of a call's first argument, for errors.
func describe(a []js.Value) string {
	if len(a) == 0 {
		return "nothing"
	}
	name := a[0].Type().String()
	if a[0].Type() == js.TypeObject {
		if c := a[0].Get("constructor"); c.Truthy() && c.Get("name").Type() == js.TypeString {
			name = c.Get("name").String()
		}
	}
	if strings.ContainsRune("aeiouAEIOU", rune(name[0])) {
		return "an " + name
	}
	return "a " + name
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

// hookPage connects the page's inputs: the dataset, picture and weights
// pickers, the drop zone and pasting, the server-dataset button and the
// error's close button. Their files go to the worker as they are.
func (p *page) hookPage() {
	u := p.ui
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
	picked := func(id, as string) {
		on(u.el(id), "change", func(e js.Value) {
			if f := firstFile(e.Get("target").Get("files")); f.Truthy() {
				p.sendFile(as, f, "")
			}
			e.Get("target").Set("value", "") // the same file again is a change
		})
	}
	picked(idDatasetFile, pagewire.AsDataset)
	picked(idPictureFile, pagewire.AsPicture)
	picked(idWeightsFile, pagewire.AsWeights)
	// A pasted image is a picture to inspect.
	on(js.Global().Get("window"), "paste", func(e js.Value) {
		cd := e.Get("clipboardData")
		if !cd.Truthy() {
			return
		}
		if f := firstFile(cd.Get("files")); f.Truthy() {
			e.Call("preventDefault")
			p.sendFile(pagewire.AsAny, f, "")
		}
	})
	on(u.el(idDatasetServer), "click", func(js.Value) {
		u.show(idDatasetServer, false)
		if p.link != nil {
			if err := p.link.Post(pagewire.OpServer, nil); err != nil {
				p.fatal(err)
			}
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
			p.sendFile(pagewire.AsAny, f, "")
		}
	})
}
