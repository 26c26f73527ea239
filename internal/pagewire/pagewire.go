// Package pagewire is what cifarlab's page (wasm/, on the browser's main
// thread: the viewer, the page's controls, window.cifarlab) and its
// training worker (wasm/worker/, in a Web Worker: the backend, the
// session, the dataset) say to each other through postMessage, so that
// training never holds up the page's one thread.
//
// A message is an object {op, …}. The page sends the user's intents,
// files and failures; the worker sends the page's state a few times a
// second and the session's snapshots, one at a time: the next goes when
// the page has taken the last (OpAck), so that a page busy drawing never
// falls behind. Intents, states and snapshots travel gob-encoded, in an
// ArrayBuffer that is transferred, not copied.
package pagewire

import (
	"bytes"
	"encoding/gob"
	"fmt"
	"net/url"
	"strings"

	"cifarlab/viz"
)

// The ops, with the fields each message has beside op.
const (
	// The page to the worker.
	OpIntent = "intent" // seq: a number counting the intents; data: a viz.Intent
	OpFile   = "file"   // as: one of the As kinds; file: a File or Blob; name: for a Blob
	OpServer = "server" // use the server's dataset (its button was pressed)
	OpFail   = "fail"   // key: one of the Fail keys; text: a failure of the page's own ("" clears it)
	OpAck    = "ack"    // the page has taken the last snapshot: send the next

	// The worker to the page.
	OpState    = "state"    // data: a State
	OpSnapshot = "snap"     // data: a viz.Snapshot
	OpDownload = "download" // name; data: a file to offer as a download (weights, runs)
	OpExit     = "exit"     // error: the worker's program stopped, or its script failed (sent by the scripts)
)

// What a file sent with OpFile is.
const (
	AsAny     = "any"     // dropped or pasted: a picture or a dataset, told by its first bytes
	AsPicture = "picture" // a picture to inspect
	AsDataset = "dataset" // a dataset to train on
	AsWeights = "weights" // a .safetensors file of weights
)

// What a failure sent with OpFail is about.
const (
	FailViewer   = "viewer"   // the viewer stopped
	FailDownload = "download" // a download could not be offered
	FailFile     = "file"     // the page's own scripts (the camera) failed
)

// State is what the page shows around its canvas, as the worker computes
// it from the session and its loader.
type State struct {
	// Status is window.cifarlab.status() as JSON (unknown numbers null).
	Status string
	// Line is the one-line status; Live what the live region reads out,
	// changed only when a screen reader should read it again.
	Line, Live                string
	Notice, Error, Experiment string
	Running                   bool
	// Handled is the seq of the last intent the session has carried out
	// and published a snapshot of.
	Handled int
	// The dataset: the progress of loading one ("" when none), the one in
	// use, the server's offer of another (the title of the button that
	// takes it; "" hides it), and whether to draw attention to the file
	// picker (there is nothing to train on).
	Progress, Dataset, OfferServer string
	WantFile                       bool
}

// Encode gob-encodes v (a viz.Intent, a State or a *viz.Snapshot).
func Encode(v any) ([]byte, error) {
	var buf bytes.Buffer
	if err := gob.NewEncoder(&buf).Encode(v); err != nil {
		return nil, fmt.Errorf("pagewire: encode %T: %w", v, err)
	}
	return buf.Bytes(), nil
}

// Decode reads what Encode wrote into v, a pointer.
func Decode(data []byte, v any) error {
	if err := gob.NewDecoder(bytes.NewReader(data)).Decode(v); err != nil {
		return fmt.Errorf("pagewire: decode %T: %w", v, err)
	}
	return nil
}

// DecodeSnapshot reads a snapshot.
func DecodeSnapshot(data []byte) (*viz.Snapshot, error) {
	snap := new(viz.Snapshot)
	if err := Decode(data, snap); err != nil {
		return nil, err
	}
	return snap, nil
}

// View is the view the page starts in, from its URL's query: the gradient
// view (view=grads, or an experiment without view=), the evaluation
// (view=eval) or the maps. Both the page (which draws it) and the worker
// (which checks the parameters) read it here.
func View(query string) (grads, eval bool) {
	q, _ := url.ParseQuery(strings.TrimPrefix(query, "?"))
	switch q.Get("view") {
	case "grads":
		return true, false
	case "eval":
		return false, true
	case "":
		return q.Get("experiment") != "", false
	}
	return false, false
}
