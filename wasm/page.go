//go:build js && wasm

package main

import (
	"errors"
	"fmt"
	"math"
	"strings"
	"sync"
	"syscall/js"
	"time"

	"cifarlab/cifar"
	"cifarlab/internal/app"
)

// The elements of site/index.html the program uses, by id. Each is
// optional: a page without one (such as wasmtest's) works without it.
const (
	idStatus        = "status"         // one line: backend, model, step, loss, accuracy, images/s
	idNotice        = "notice"         // the notices (CPU fallback, evaluation subset…); hidden when none
	idError         = "error"          // the last failure; hidden when none
	idErrorText     = "error-text"     // its text, when the element has one (beside a close button)
	idErrorClose    = "error-close"    // the button that hides the error until another comes
	idProgress      = "progress"       // dataset progress (server download, reading a file)
	idDataset       = "dataset"        // the dataset in use
	idDatasetFile   = "dataset-file"   // <input type=file> for a dataset
	idDatasetButton = "dataset-button" // its visible label
	idDatasetServer = "dataset-server" // button: use the server's dataset (shown when it is not in use)
	idWeightsFile   = "weights-file"   // <input type=file> for weights, opened by the Load intent
	idPictureFile   = "picture-file"   // <input type=file> for a picture to inspect
	idDropzone      = "dropzone"       // shown while a file is dragged over the page
	idLoading       = "loading"        // the splash, hidden once the program runs
	idViewer        = "viewer"         // the viewer's canvas (made by ebiten, named by the program)
	idExperiment    = "experiment"     // the shortcut experiment's account, for screen readers; hidden when none
	idLive          = "live"           // a live region: the status, read out now and then
	idFocus         = "focus"          // a live region: the viewer's focused control
)

// The page's own failures and notices, by what they are about, so that a
// later one about the same thing replaces the earlier.
type errKey int

const (
	errBackend errKey = iota
	errData           // the dataset kept or the server's
	errFile           // a dataset file of the user's
	errWeights
	errGame
	errParams
	numErrKeys
)

type noteKey int

const (
	noteData noteKey = iota
	noteStore
	noteRuns
	numNoteKeys
)

// ui is the page around the canvas: it shows progress, notices and errors,
// forwards its failures and notices to the session, and updates the status
// line. Its methods may be called from any goroutine.
type ui struct {
	doc js.Value

	mu       sync.Mutex
	sess     *app.Session
	errs     [numErrKeys]string
	notes    [numNoteKeys]string
	prog     string
	backend  string // until the session exists
	dismissd string // the error text the user closed
	liveKey  string // what the live region read out last, in short
	liveAt   time.Time
}

func newUI() *ui { return &ui{doc: js.Global().Get("document")} }

func (u *ui) el(id string) js.Value {
	if !u.doc.Truthy() {
		return js.Null()
	}
	return u.doc.Call("getElementById", id)
}

func (u *ui) setText(id, text string) {
	if e := u.el(id); e.Truthy() && e.Get("textContent").String() != text {
		e.Set("textContent", text)
	}
}

func (u *ui) show(id string, on bool) {
	if e := u.el(id); e.Truthy() && e.Get("hidden").Bool() == on {
		e.Set("hidden", !on)
	}
}

// nameCanvas gives the viewer's canvas, which ebiten appends to the body
// when its package starts, the id idViewer, for scripts and tests.
func (u *ui) nameCanvas() {
	if !u.doc.Truthy() {
		return
	}
	if c := u.doc.Call("querySelector", "body > canvas"); c.Truthy() && c.Get("id").String() == "" {
		c.Set("id", idViewer)
		// role=application: a screen reader hands the keys to the viewer,
		// which reads out its focused control through idFocus.
		c.Call("setAttribute", "role", "application")
		c.Call("setAttribute", "aria-label", "cifarlab viewer: Tab and Shift+Tab move between its controls, "+
			"Enter or Space presses the one focused, Escape twice leaves the viewer. Space starts or pauses training, "+
			"the arrow keys choose the test image.")
		c.Call("setAttribute", "aria-describedby", idLive)
	}
}

// liveEvery is how often, at most, the live region reads out the progress
// of training (an epoch's end, a start, a pause or a failure are read out
// at once).
const liveEvery = 30 * time.Second

// live updates the live region: what a screen reader reads out of the
// status, without reading every step.
func (u *ui) live(st app.Status) {
	key := fmt.Sprintf("%v %v %d %q", st.Running, st.Ready, st.Epoch, st.Error)
	u.mu.Lock()
	due := key != u.liveKey || (st.Running && time.Since(u.liveAt) >= liveEvery)
	if due {
		u.liveKey, u.liveAt = key, time.Now()
	}
	u.mu.Unlock()
	if due {
		u.setText(idLive, liveText(st))
	}
}

// liveText is the status in a sentence or two.
func liveText(st app.Status) string {
	if st.Error != "" {
		return "Error: " + st.Error
	}
	if !st.Ready {
		return "cifarlab is getting ready: " + statusLine(st)
	}
	parts := []string{st.Model}
	if st.Running {
		parts = append(parts, "training")
	} else {
		parts = append(parts, "paused")
	}
	parts = append(parts, fmt.Sprintf("epoch %d, step %d", st.Epoch, st.Step))
	if !math.IsNaN(st.Loss) {
		parts = append(parts, fmt.Sprintf("loss %.2f", st.Loss))
	}
	if !math.IsNaN(st.TestAccuracy) {
		parts = append(parts, fmt.Sprintf("test accuracy %.0f percent", 100*st.TestAccuracy))
	}
	return strings.Join(parts, ", ") + "."
}

// attach connects the session: the page's failures and notices go to it
// from now on.
func (u *ui) attach(s *app.Session) {
	u.mu.Lock()
	u.sess = s
	u.mu.Unlock()
	u.push()
}

// push hands the page's failures and notices to the session.
func (u *ui) push() {
	u.mu.Lock()
	s := u.sess
	errText := joinNonEmpty(u.errs[:], "; ")
	notes := append(append([]string(nil), u.notes[:]...), u.prog)
	noteText := joinNonEmpty(notes, " · ")
	u.mu.Unlock()
	if s == nil {
		u.refresh()
		return
	}
	if errText == "" {
		s.Fail(nil)
	} else {
		s.Fail(errors.New(errText))
	}
	s.SetNotice(noteText)
	u.refresh()
}

// setError records (or, with a nil err, clears) the page's failure about
// key.
func (u *ui) setError(key errKey, err error) {
	u.mu.Lock()
	if err == nil {
		u.errs[key] = ""
	} else {
		u.errs[key] = err.Error()
	}
	u.mu.Unlock()
	u.push()
}

// note sets the page's notice about key ("" removes it).
func (u *ui) note(key noteKey, text string) {
	u.mu.Lock()
	u.notes[key] = text
	u.mu.Unlock()
	u.push()
}

// progress sets the progress text of the dataset ("" when done).
func (u *ui) progress(text string) {
	u.mu.Lock()
	same := u.prog == text
	u.prog = text
	u.mu.Unlock()
	if !same {
		u.setText(idProgress, text)
		u.show(idProgress, text != "")
		u.push()
	}
}

// setBackend records the backend's name for the status before the session
// exists.
func (u *ui) setBackend(name string) {
	u.mu.Lock()
	u.backend = name
	u.mu.Unlock()
}

func (u *ui) dataset(ds *cifar.Dataset, how string) {
	n := 0
	if ds.Train != nil {
		n = ds.Train.Len()
	}
	text := fmt.Sprintf("%s: %d training images", ds.Source, n)
	if ds.Test != nil {
		text += fmt.Sprintf(", %d test images", ds.Test.Len())
	}
	u.setText(idDataset, text+" ("+how+")")
	u.note(noteData, "")
	u.show(idDatasetServer, false)
	if b := u.el(idDatasetButton); b.Truthy() {
		b.Get("classList").Call("remove", "attention")
	}
}

// wantFile draws attention to the dataset picker.
func (u *ui) wantFile() {
	if b := u.el(idDatasetButton); b.Truthy() {
		b.Get("classList").Call("add", "attention")
	}
}

// offerServer shows the button that switches to the server's dataset.
func (u *ui) offerServer(title string) {
	if b := u.el(idDatasetServer); b.Truthy() {
		b.Set("title", title)
		b.Set("hidden", false)
	}
}

// status is the page's status: the session's, or before it exists what
// the page knows.
func (u *ui) status() app.Status {
	u.mu.Lock()
	s := u.sess
	st := app.Status{Backend: u.backend, Loss: math.NaN(), TestAccuracy: math.NaN(), TrainAccuracy: math.NaN(),
		Error: joinNonEmpty(u.errs[:], "; "), Notice: joinNonEmpty(append(append([]string(nil), u.notes[:]...), u.prog), " · ")}
	u.mu.Unlock()
	if s != nil {
		return s.Status()
	}
	return st
}

// refresh updates the status line, the notice and the error.
func (u *ui) refresh() {
	st := u.status()
	u.setText(idStatus, statusLine(st))
	u.setText(idNotice, st.Notice)
	u.show(idNotice, st.Notice != "")
	u.live(st)
	u.setText(idExperiment, st.Experiment)
	u.show(idExperiment, st.Experiment != "")
	id := idErrorText
	if !u.el(id).Truthy() {
		id = idError
	}
	u.setText(id, st.Error)
	u.mu.Lock()
	if st.Error != u.dismissd {
		u.dismissd = ""
	}
	dismissed := u.dismissd != ""
	u.mu.Unlock()
	u.show(idError, st.Error != "" && !dismissed)
}

// dismissError hides the error shown until another replaces it.
func (u *ui) dismissError() {
	st := u.status()
	u.mu.Lock()
	u.dismissd = st.Error
	u.mu.Unlock()
	u.show(idError, false)
}

// refreshLoop refreshes the page's text a few times a second.
func (u *ui) refreshLoop() {
	for {
		u.refresh()
		time.Sleep(250 * time.Millisecond)
	}
}

// statusLine is the one-line status of the page.
func statusLine(st app.Status) string {
	if st.Backend == "" {
		return "opening the backend…"
	}
	parts := []string{st.Backend}
	if st.Model != "" {
		parts = append(parts, st.Model)
	}
	if st.Ready {
		parts = append(parts, fmt.Sprintf("epoch %d (%.0f%%)", st.Epoch, 100*st.EpochProgress), fmt.Sprintf("step %d", st.Step))
		if !math.IsNaN(st.Loss) {
			parts = append(parts, fmt.Sprintf("loss %.3f", st.Loss))
		}
		if !math.IsNaN(st.TestAccuracy) {
			parts = append(parts, fmt.Sprintf("test accuracy %.1f%%", 100*st.TestAccuracy))
		}
		if st.Running {
			parts = append(parts, fmt.Sprintf("%.0f images/s", st.ImagesPerSec))
		} else {
			parts = append(parts, "paused")
		}
	}
	return strings.Join(parts, " · ")
}

func joinNonEmpty(parts []string, sep string) string {
	var out []string
	for _, p := range parts {
		if p != "" {
			out = append(out, p)
		}
	}
	return strings.Join(out, sep)
}

// jsInts2 is a matrix as an array of arrays (null for none).
func jsInts2(m [][]int) any {
	if m == nil {
		return nil
	}
	out := make([]any, len(m))
	for i, row := range m {
		r := make([]any, len(row))
		for j, v := range row {
			r[j] = v
		}
		out[i] = r
	}
	return out
}

// jsFloats is a slice as an array (null for none).
func jsFloats(v []float64) any {
	if v == nil {
		return nil
	}
	out := make([]any, len(v))
	for i, x := range v {
		out[i] = x
	}
	return out
}

// statusObject is st as the JavaScript object window.cifarlab.status()
// returns; unknown numbers (NaN) are null.
func statusObject(st app.Status) js.Value {
	o := js.Global().Get("Object").New()
	num := func(v float64) any {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return nil
		}
		return v
	}
	o.Set("backend", st.Backend)
	o.Set("model", st.Model)
	o.Set("step", st.Step)
	o.Set("epoch", st.Epoch)
	o.Set("loss", num(st.Loss))
	o.Set("testAccuracy", num(st.TestAccuracy))
	o.Set("imagesPerSec", num(st.ImagesPerSec))
	o.Set("error", st.Error)
	o.Set("running", st.Running)
	o.Set("ready", st.Ready)
	o.Set("epochProgress", num(st.EpochProgress))
	o.Set("trainAccuracy", num(st.TrainAccuracy))
	o.Set("trainImages", st.TrainImages)
	o.Set("testImages", st.TestImages)
	o.Set("batch", st.Batch)
	o.Set("lr", num(st.LR))
	o.Set("dataset", st.Dataset)
	o.Set("notice", st.Notice)
	o.Set("experiment", st.Experiment)
	o.Set("confusion", jsInts2(st.Confusion))
	o.Set("perClassAccuracy", jsFloats(st.PerClassAccuracy))
	o.Set("testLoss", num(st.TestLoss))
	o.Set("evalStep", st.EvalStep)
	o.Set("evalImages", st.EvalImages)
	o.Set("twin", st.Twin)
	o.Set("twinStep", st.TwinStep)
	return o
}
