//go:build js && wasm

package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strings"
	"sync"
	"time"

	"cifarlab/cifar"
	"cifarlab/internal/app"
	"cifarlab/internal/pagewire"
)

// The failures and notices of the worker and the page, by what they are
// about, so that a later one about the same thing replaces the earlier.
type errKey int

const (
	errBackend  errKey = iota
	errData            // the dataset kept or the server's
	errFile            // a file of the user's (a dataset, a picture), or the camera
	errWeights         // a weights file of the user's
	errViewer          // the page's viewer stopped
	errDownload        // the page could not offer a download
	errParams
	errSession // the session stopped
	numErrKeys
)

type noteKey int

const (
	noteData noteKey = iota
	noteStore
	noteRuns
	numNoteKeys
)

// board is what the page shows around its canvas, kept in the worker: the
// failures and notices (which it forwards to the session, whose snapshot
// shows them), the dataset's progress, and the page's state made of them
// and the session's status (pagewire.State). Its methods may be called
// from any goroutine; changed, when set, is called after each change.
type board struct {
	changed func()

	mu       sync.Mutex
	sess     *app.Session
	errs     [numErrKeys]string
	notes    [numNoteKeys]string
	prog     string
	backend  string // until the session exists
	dataset  string
	offer    string
	wantFile bool
	handled  int
	liveKey  string // what the live region read out last, in short
	liveAt   time.Time
	live     string
}

func newBoard() *board { return &board{} }

func (b *board) notify() {
	if b.changed != nil {
		b.changed()
	}
}

// attach connects the session: the failures and notices go to it from now
// on.
func (b *board) attach(s *app.Session) {
	b.mu.Lock()
	b.sess = s
	b.mu.Unlock()
	b.push()
}

// push hands the failures and notices to the session.
func (b *board) push() {
	b.mu.Lock()
	s := b.sess
	errText := joinNonEmpty(b.errs[:], "; ")
	noteText := joinNonEmpty(append(append([]string(nil), b.notes[:]...), b.prog), " · ")
	b.mu.Unlock()
	if s != nil {
		if errText == "" {
			s.Fail(nil)
		} else {
			s.Fail(errors.New(errText))
		}
		s.SetNotice(noteText)
	}
	b.notify()
}

// setError records (or, with a nil err, clears) the failure about key.
func (b *board) setError(key errKey, err error) {
	b.mu.Lock()
	if err == nil {
		b.errs[key] = ""
	} else {
		b.errs[key] = err.Error()
	}
	b.mu.Unlock()
	b.push()
}

// note sets the notice about key ("" removes it).
func (b *board) note(key noteKey, text string) {
	b.mu.Lock()
	b.notes[key] = text
	b.mu.Unlock()
	b.push()
}

// progress sets the progress text of the dataset ("" when done).
func (b *board) progress(text string) {
	b.mu.Lock()
	same := b.prog == text
	b.prog = text
	b.mu.Unlock()
	if !same {
		b.push()
	}
}

// setBackend records the backend's name for the status before the session
// exists.
func (b *board) setBackend(name string) {
	b.mu.Lock()
	b.backend = name
	b.mu.Unlock()
	b.notify()
}

// useDataset says which dataset is in use, and how it came.
func (b *board) useDataset(ds *cifar.Dataset, how string) {
	n := 0
	if ds.Train != nil {
		n = ds.Train.Len()
	}
	text := fmt.Sprintf("%s: %d training images", ds.Source, n)
	if ds.Test != nil {
		text += fmt.Sprintf(", %d test images", ds.Test.Len())
	}
	b.mu.Lock()
	b.dataset = text + " (" + how + ")"
	b.offer, b.wantFile = "", false
	b.mu.Unlock()
	b.note(noteData, "")
}

// askForFile draws attention to the dataset picker.
func (b *board) askForFile() {
	b.mu.Lock()
	b.wantFile = true
	b.mu.Unlock()
	b.notify()
}

// offerServer shows the button that switches to the server's dataset,
// titled title; "" hides it.
func (b *board) offerServer(title string) {
	b.mu.Lock()
	b.offer = title
	b.mu.Unlock()
	b.notify()
}

// setHandled records that the session has carried out the intents up to
// seq.
func (b *board) setHandled(seq int) {
	b.mu.Lock()
	b.handled = max(b.handled, seq)
	b.mu.Unlock()
	b.notify()
}

// status is the session's status, or before it exists what the worker
// knows.
func (b *board) status() app.Status {
	b.mu.Lock()
	s := b.sess
	st := app.Status{Backend: b.backend, Loss: math.NaN(), TestAccuracy: math.NaN(), TrainAccuracy: math.NaN(),
		Error: joinNonEmpty(b.errs[:], "; "), Notice: joinNonEmpty(append(append([]string(nil), b.notes[:]...), b.prog), " · ")}
	b.mu.Unlock()
	if s != nil {
		return s.Status()
	}
	return st
}

// liveEvery is how often, at most, the live region reads out the progress
// of training (an epoch's end, a start, a pause or a failure are read out
// at once).
const liveEvery = 30 * time.Second

// state is the page's state now.
func (b *board) state() pagewire.State {
	st := b.status()
	key := fmt.Sprintf("%v %v %d %q", st.Running, st.Ready, st.Epoch, st.Error)
	b.mu.Lock()
	defer b.mu.Unlock()
	if key != b.liveKey || (st.Running && time.Since(b.liveAt) >= liveEvery) {
		b.liveKey, b.liveAt, b.live = key, time.Now(), liveText(st)
	}
	return pagewire.State{
		Status: statusJSON(st), Line: statusLine(st), Live: b.live,
		Notice: st.Notice, Error: st.Error, Experiment: st.Experiment, Running: st.Running,
		Handled: b.handled, Progress: b.prog, Dataset: b.dataset, OfferServer: b.offer, WantFile: b.wantFile,
	}
}

// liveText is the status in a sentence or two, for the live region.
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

// num is a number for JSON: null when unknown (NaN, ±Inf).
func num(v float64) any {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return nil
	}
	return v
}

// statusJSON is st as window.cifarlab.status() returns it; unknown
// numbers are null.
func statusJSON(st app.Status) string {
	var perClass []any
	if st.PerClassAccuracy != nil {
		perClass = make([]any, len(st.PerClassAccuracy))
		for i, v := range st.PerClassAccuracy {
			perClass[i] = num(v)
		}
	}
	o := map[string]any{
		"backend": st.Backend, "model": st.Model, "step": st.Step, "epoch": st.Epoch,
		"loss": num(st.Loss), "testAccuracy": num(st.TestAccuracy), "imagesPerSec": num(st.ImagesPerSec),
		"error": st.Error, "running": st.Running, "ready": st.Ready, "epochProgress": num(st.EpochProgress),
		"trainAccuracy": num(st.TrainAccuracy), "trainImages": st.TrainImages, "testImages": st.TestImages,
		"batch": st.Batch, "lr": num(st.LR), "dataset": st.Dataset, "notice": st.Notice,
		"experiment": st.Experiment, "confusion": st.Confusion, "perClassAccuracy": perClass,
		"testLoss": num(st.TestLoss), "evalStep": st.EvalStep, "evalImages": st.EvalImages,
		"twin": st.Twin, "twinStep": st.TwinStep,
	}
	b, err := json.Marshal(o)
	if err != nil { // nothing above fails to encode; say so if it ever does
		b, _ = json.Marshal(map[string]any{"error": "the status does not encode: " + err.Error()})
	}
	return string(b)
}
