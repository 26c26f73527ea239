package app_test

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"cifarlab/internal/app"
	"cifarlab/viz"
)

// downloads collects what a session hands to OnSave.
type downloads struct {
	mu    sync.Mutex
	files map[string][]byte
	last  string
}

func (d *downloads) save(name string, data []byte) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.files == nil {
		d.files = map[string][]byte{}
	}
	d.files[name], d.last = data, name
}

func (d *downloads) get() (string, []byte) {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.last, d.files[d.last]
}

// A run exports as the JSON Lines of `cifarlab train -log`: a start line,
// a line per step with its loss and the main path's gradient norms by
// state-dict name, and an epoch line with its accuracies.
func TestExportJSONL(t *testing.T) {
	var dl downloads
	s := start(t, app.Config{Model: "lenet5", Batch: 8, StripSize: 4, OnSave: dl.save}, synthetic(24, 8, 2))
	for range 4 { // an epoch is 3 steps
		s.Handle(viz.Intent{Kind: viz.StepOnce})
	}
	settle(t, s)
	snap := s.Snapshot()
	s.Handle(viz.Intent{Kind: viz.ExportRuns, Format: "jsonl", Runs: []int{0}})
	settle(t, s)
	name, data := dl.get()
	if name != "lenet5-step4.jsonl" {
		t.Fatalf("exported %q", name)
	}
	var lines []map[string]any
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("line %q: %v", sc.Text(), err)
		}
		lines = append(lines, m)
	}
	events := ""
	for _, l := range lines {
		events += l["event"].(string)[:2] + " "
	}
	if events != "st st st st ep st " {
		t.Fatalf("events %q, want start, 3 steps, the epoch, a step", events)
	}
	if l := lines[0]; l["model"] != "lenet5" || l["batch"] != 8.0 || l["lr"] != 0.001 || l["seed"] != 1.0 || l["device"] == "" || l["train_images"] != 24.0 {
		t.Errorf("start line %v", l)
	}
	for i, k := range []int{1, 2, 3, 5} {
		l := lines[k]
		if l["step"] != float64(i+1) || float32(l["loss"].(float64)) != snap.Loss[i] {
			t.Errorf("step line %v, want loss %v", l, snap.Loss[i])
		}
		norms, _ := l["grad_norms"].(map[string]any)
		if len(norms) != len(snap.Grads.Layers) || norms[snap.Grads.Layers[0]] == nil {
			t.Errorf("step %d: grad_norms %v, want one per layer %v", i+1, norms, snap.Grads.Layers)
		}
	}
	if l := lines[4]; l["epoch"] != 1.0 || l["step"] != 3.0 || l["train_accuracy"] == nil || l["test_accuracy"] == nil {
		t.Errorf("epoch line %v", l)
	}
	if got := float32(lines[5]["grad_norms"].(map[string]any)[snap.Grads.Layers[0]].(float64)); got != snap.Grads.Norms[0] {
		t.Errorf("last step's first norm %v, the viewer shows %v", got, snap.Grads.Norms[0])
	}
}

// Runs export as one CSV table: a row per step of each run.
func TestExportCSV(t *testing.T) {
	var dl downloads
	s := start(t, app.Config{Model: "lenet5", Batch: 8, StripSize: 4, OnSave: dl.save}, synthetic(24, 8, 2))
	s.Handle(viz.Intent{Kind: viz.StepOnce})
	s.Handle(viz.Intent{Kind: viz.SetModel, Model: "resnet20-nobn"})
	s.Handle(viz.Intent{Kind: viz.StepOnce})
	s.Handle(viz.Intent{Kind: viz.StepOnce})
	settle(t, s)
	runs := s.Snapshot().Runs
	if len(runs) != 1 {
		t.Fatalf("runs %+v", runs)
	}
	s.Handle(viz.Intent{Kind: viz.ExportRuns, Format: "csv", Runs: []int{0, runs[0].ID}})
	settle(t, s)
	name, data := dl.get()
	rows, err := csv.NewReader(bytes.NewReader(data)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if name != "resnet20-nobn-step2-and-1-more.csv" || len(rows) != 4 {
		t.Fatalf("%s: %d rows: %v", name, len(rows), rows)
	}
	head := strings.Join(rows[0][:8], ",")
	if head != "run,model,step,epoch,loss,accuracy,train_accuracy,test_accuracy" || !slices.Contains(rows[0], "grad_norm:conv1.weight") ||
		!slices.Contains(rows[0], "grad_norm:conv_unit.0.weight") {
		t.Errorf("header %v", rows[0])
	}
	if rows[1][1] != "resnet20-nobn" || rows[2][2] != "2" || rows[3][0] != "2" || rows[3][1] != "lenet5" || rows[1][4] == "" {
		t.Errorf("rows %v", rows[1:])
	}
	s.Handle(viz.Intent{Kind: viz.ExportRuns, Format: "xml", Runs: []int{0}})
	settle(t, s)
	if st := s.Status(); !strings.Contains(st.Error, "want jsonl or csv") {
		t.Errorf("export as xml: %q", st.Error)
	}
}

// The desktop exports beside its weights file.
func TestExportBesidePath(t *testing.T) {
	s := start(t, app.Config{Model: "lenet5", Batch: 8, StripSize: 4}, synthetic(24, 8, 2))
	s.Handle(viz.Intent{Kind: viz.StepOnce})
	dir := t.TempDir()
	s.Handle(viz.Intent{Kind: viz.ExportRuns, Format: "jsonl", Runs: []int{0}, Path: filepath.Join(dir, "lenet5.safetensors")})
	settle(t, s)
	data, err := os.ReadFile(filepath.Join(dir, "lenet5-step1.jsonl"))
	if err != nil || bytes.Count(data, []byte("\n")) != 2 {
		t.Fatalf("%q, %v", data, err)
	}
	if st := s.Status(); !strings.Contains(st.Notice, "exported") {
		t.Errorf("notice %q", st.Notice)
	}
}

// The runs survive a restart: OnRuns gets them when they change, and a
// session given them shows them again as earlier runs.
func TestRunsKept(t *testing.T) {
	var mu sync.Mutex
	var kept []byte
	onRuns := func(data []byte) { mu.Lock(); kept = data; mu.Unlock() }
	s := start(t, app.Config{Model: "lenet5", Batch: 8, StripSize: 4, OnRuns: onRuns}, synthetic(24, 8, 2))
	for range 3 {
		s.Handle(viz.Intent{Kind: viz.StepOnce})
	}
	s.Handle(viz.Intent{Kind: viz.SetModel, Model: "plain20"})
	s.Handle(viz.Intent{Kind: viz.StepOnce})
	s.Handle(viz.Intent{Kind: viz.Reset}) // plain20's run ends: kept
	settle(t, s)
	before := s.Snapshot().Runs
	mu.Lock()
	data := kept
	mu.Unlock()
	runs, err := app.DecodeRuns(data)
	if err != nil || len(runs) != 2 || runs[0].Model != "lenet5" || len(runs[0].Steps) != 3 || len(runs[0].Epochs) != 1 ||
		runs[1].Model != "plain20" {
		t.Fatalf("kept %d runs, %v", len(runs), err)
	}

	again := start(t, app.Config{Model: "lenet5", Batch: 8, StripSize: 4, Runs: data}, synthetic(24, 8, 2))
	after := again.Snapshot().Runs
	if len(after) != 2 || after[0].Short != "LeNet5" || after[1].Short != "plain-20" {
		t.Fatalf("restored runs %+v", after)
	}
	for i := range after {
		if !slices.Equal(after[i].Loss, before[i].Loss) || !slices.Equal(after[i].TestAcc, before[i].TestAcc) ||
			!slices.Equal(after[i].Grads.Norms, before[i].Grads.Norms) || after[i].Name != before[i].Name {
			t.Errorf("run %d: restored %+v, was %+v", i, after[i], before[i])
		}
	}
	bad := start(t, app.Config{Model: "lenet5", Runs: []byte(`{"format":"cifarlab-runs-1","runs":[{"model":"vgg","norms_every":1}]}`)}, nil)
	if st := bad.Status(); !strings.Contains(st.Error, `earlier runs: run 1: unknown model "vgg"`) {
		t.Errorf("a bad file of runs: %q", st.Error)
	}
}

func TestDecodeRunsErrors(t *testing.T) {
	for _, c := range []struct{ data, want string }{
		{`garbage`, "not a file of runs"},
		{`{"format":"other","runs":[]}`, `format "other"`},
		{`{"format":"cifarlab-runs-1","runs":[null]}`, "run 1: empty"},
		{`{"format":"cifarlab-runs-1","runs":[{"model":"lenet5","norms_every":3}]}`, "norms_every 3"},
		{`{"format":"cifarlab-runs-1","runs":[{"model":"lenet5","norms_every":1,"layers":["a"],"steps":[{"step":1,"loss":2,"grad_norms":[1,2]}]}]}`, "2 gradient norms for 1 layers"},
		{`{"format":"cifarlab-runs-1","runs":[{"model":"lenet5","norms_every":1,"steps":[{"step":1,"loss":"x"}]}]}`, "not a file of runs"},
	} {
		if _, err := app.DecodeRuns([]byte(c.data)); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want %q", c.data, err, c.want)
		}
	}
	runs, err := app.DecodeRuns([]byte(`{"format":"cifarlab-runs-1","runs":[{"model":"lenet5","norms_every":1,"steps":[{"step":1,"loss":null}]}]}`))
	if err != nil || len(runs) != 1 || !(runs[0].Steps[0].Loss != runs[0].Steps[0].Loss) {
		t.Errorf("a null loss: %v, %v", runs, err)
	}
}
