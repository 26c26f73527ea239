//go:build js && wasm

package main

import (
	"sync"
	"syscall/js"

	"cifarlab/internal/pagewire"
)

// The elements of site/index.html the program uses, by id. Each is
// optional: a page without one works without it.
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

// ui is the page around the canvas: it shows the state the worker sends.
// Its methods may be called from any goroutine.
type ui struct {
	doc js.Value

	mu        sync.Mutex
	dismissed string // the error text the user closed
	shown     string // the error text shown
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

// render shows st; line is its status line as the page tells it.
func (u *ui) render(st pagewire.State, line string) {
	u.setText(idStatus, line)
	u.setText(idNotice, st.Notice)
	u.show(idNotice, st.Notice != "")
	u.setText(idLive, st.Live)
	u.setText(idExperiment, st.Experiment)
	u.show(idExperiment, st.Experiment != "")
	u.setText(idProgress, st.Progress)
	u.show(idProgress, st.Progress != "")
	u.setText(idDataset, st.Dataset)
	if b := u.el(idDatasetServer); b.Truthy() {
		if st.OfferServer != "" {
			b.Set("title", st.OfferServer)
		}
		u.show(idDatasetServer, st.OfferServer != "")
	}
	if b := u.el(idDatasetButton); b.Truthy() {
		b.Get("classList").Call("toggle", "attention", st.WantFile)
	}
	id := idErrorText
	if !u.el(id).Truthy() {
		id = idError
	}
	u.setText(id, st.Error)
	u.mu.Lock()
	u.shown = st.Error
	if st.Error != u.dismissed {
		u.dismissed = ""
	}
	dismissed := u.dismissed != ""
	u.mu.Unlock()
	u.show(idError, st.Error != "" && !dismissed)
}

// dismissError hides the error shown until another replaces it.
func (u *ui) dismissError() {
	u.mu.Lock()
	u.dismissed = u.shown
	u.mu.Unlock()
	u.show(idError, false)
}
