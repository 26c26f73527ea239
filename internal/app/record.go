package app

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"strconv"

	"cifarlab/net"
	"cifarlab/viz"
)

// RunRecord is what the session keeps of one run: what trained, on what,
// and how it went. The viewer's charts overlay the records of earlier
// runs; EncodeRuns and DecodeRuns keep them across reloads and restarts;
// WriteJSONL and WriteCSV export them.
type RunRecord struct {
	Model       string  `json:"model"`
	Twin        string  `json:"twin,omitempty"` // the network trained alongside, in the shortcut experiment
	Backend     string  `json:"device"`
	Dataset     string  `json:"dataset"`
	TrainImages int     `json:"train_images"`
	LR          float64 `json:"lr"`
	Batch       int     `json:"batch"`
	Seed        uint64  `json:"seed"`
	Augment     bool    `json:"augment"`
	// Layers are the state-dict names of the main path's weights, whose
	// gradient norms the steps record.
	Layers []string      `json:"layers"`
	Steps  []StepRecord  `json:"steps"`
	Epochs []EpochRecord `json:"epochs"`
	// NormsEvery is the steps between two steps that record gradient
	// norms: 1 at first, doubled (and every other record dropped) each
	// time maxNormRecords is reached.
	NormsEvery int `json:"norms_every"`

	normCount int // steps that have norms
}

// StepRecord is one training step.
type StepRecord struct {
	Step      int   `json:"step"`
	Epoch     int   `json:"epoch"`
	Loss      Num   `json:"loss"`
	Accuracy  Num   `json:"accuracy"`
	GradNorms []Num `json:"grad_norms,omitempty"` // of Layers, on every NormsEvery-th step
}

// EpochRecord is one finished epoch.
type EpochRecord struct {
	Epoch         int `json:"epoch"`
	Step          int `json:"step"` // its last step
	TrainAccuracy Num `json:"train_accuracy"`
	TestAccuracy  Num `json:"test_accuracy"` // NaN (null) until evaluated, or without a test split
}

// Num is a float32 that JSON writes as null when it is not finite (a loss
// that diverged, a gradient norm that overflowed) and reads back as NaN.
type Num float32

func (n Num) MarshalJSON() ([]byte, error) {
	f := float64(n)
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return []byte("null"), nil
	}
	return strconv.AppendFloat(nil, f, 'g', -1, 32), nil
}

func (n *Num) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		*n = Num(math.NaN())
		return nil
	}
	f, err := strconv.ParseFloat(string(b), 32)
	if err != nil {
		return fmt.Errorf("not a number: %s", b)
	}
	*n = Num(f)
	return nil
}

// maxNormRecords bounds how many steps of a record keep gradient norms.
const maxNormRecords = 512

// newRecord starts the record of l's run.
func (w *worker) newRecord(l *lane) *RunRecord {
	r := &RunRecord{Model: l.model, LR: w.set.LR, Batch: w.set.Batch, Seed: w.s.cfg.Seed, Augment: w.s.cfg.Augment, NormsEvery: 1}
	if w.b != nil {
		r.Backend = w.b.Name()
	}
	if w.train != nil {
		r.Dataset, r.TrainImages = w.train.Source, w.train.Len()
	}
	if l.net != nil {
		for _, p := range l.net.PathWeights() {
			r.Layers = append(r.Layers, p.Name)
		}
	}
	return r
}

// addStep records a step; norms are the path weights' gradient norms
// (nil when the step did not measure them).
func (r *RunRecord) addStep(s net.StepResult, norms []float32) {
	rec := StepRecord{Step: s.Step, Epoch: s.Epoch, Loss: Num(s.Loss), Accuracy: Num(math.NaN())}
	if s.N > 0 {
		rec.Accuracy = Num(float64(s.Correct) / float64(s.N))
	}
	if norms != nil && s.Step%r.NormsEvery == 0 && r.normCount >= maxNormRecords {
		r.thinNorms()
	}
	if norms != nil && s.Step%r.NormsEvery == 0 {
		rec.GradNorms = make([]Num, len(norms))
		for i, v := range norms {
			rec.GradNorms[i] = Num(v)
		}
		r.normCount++
	}
	r.Steps = append(r.Steps, rec)
}

// cut drops the steps after step, for a run that goes on from an earlier
// one.
func (r *RunRecord) cut(step int) {
	n := len(r.Steps)
	for n > 0 && r.Steps[n-1].Step > step {
		n--
	}
	r.Steps = r.Steps[:n]
}

// thinNorms doubles NormsEvery, dropping the norms of the steps that are
// no longer multiples of it.
func (r *RunRecord) thinNorms() {
	r.NormsEvery *= 2
	r.normCount = 0
	for i := range r.Steps {
		if r.Steps[i].Step%r.NormsEvery != 0 {
			r.Steps[i].GradNorms = nil
		} else if r.Steps[i].GradNorms != nil {
			r.normCount++
		}
	}
}

// endEpoch records a finished epoch's training accuracy.
func (r *RunRecord) endEpoch(epoch, step int, trainAcc float64) {
	r.Epochs = append(r.Epochs, EpochRecord{Epoch: epoch, Step: step, TrainAccuracy: Num(trainAcc), TestAccuracy: Num(math.NaN())})
}

// setTestAccuracy records the last finished epoch's test accuracy.
func (r *RunRecord) setTestAccuracy(acc float64) {
	if n := len(r.Epochs); n > 0 {
		r.Epochs[n-1].TestAccuracy = Num(acc)
	}
}

// runsFormat is the version of EncodeRuns' format.
const runsFormat = "cifarlab-runs-1"

type runsFile struct {
	Format string       `json:"format"`
	Runs   []*RunRecord `json:"runs"`
}

// EncodeRuns writes runs as one JSON document, for DecodeRuns.
func EncodeRuns(runs []*RunRecord) ([]byte, error) {
	return json.Marshal(runsFile{Format: runsFormat, Runs: runs})
}

// DecodeRuns reads what EncodeRuns wrote, checking that it holds runs of
// cifarlab's networks.
func DecodeRuns(data []byte) ([]*RunRecord, error) {
	var f runsFile
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&f); err != nil {
		return nil, fmt.Errorf("not a file of runs: %w", err)
	}
	if f.Format != runsFormat {
		return nil, fmt.Errorf("runs of format %q; this cifarlab reads %q", f.Format, runsFormat)
	}
	for i, r := range f.Runs {
		if r == nil {
			return nil, fmt.Errorf("run %d: empty", i+1)
		}
		if !net.ValidModel(r.Model) {
			return nil, fmt.Errorf("run %d: unknown model %q", i+1, r.Model)
		}
		if r.NormsEvery < 1 || r.NormsEvery&(r.NormsEvery-1) != 0 {
			return nil, fmt.Errorf("run %d: norms_every %d", i+1, r.NormsEvery)
		}
		for _, s := range r.Steps {
			if s.GradNorms != nil && len(s.GradNorms) != len(r.Layers) {
				return nil, fmt.Errorf("run %d, step %d: %d gradient norms for %d layers", i+1, s.Step, len(s.GradNorms), len(r.Layers))
			}
			if s.GradNorms != nil {
				r.normCount++
			}
		}
	}
	return f.Runs, nil
}

// view is the record as the viewer's charts show an earlier run.
func (r *RunRecord) view(id int) viz.Run {
	short := title(r.Model)
	last := 0
	if n := len(r.Steps); n > 0 {
		last = r.Steps[n-1].Step
	}
	v := viz.Run{ID: id, Short: short,
		Name: fmt.Sprintf("%s · lr %g · batch %d · seed %d · %d steps", short, r.LR, r.Batch, r.Seed, last)}
	var loss lossHistory
	var lines [3]lossHistory
	for _, s := range r.Steps {
		loss.add(s.Step, float64(s.Loss))
		if s.GradNorms == nil || len(r.Layers) == 0 {
			continue
		}
		n := len(s.GradNorms)
		for k, i := range []int{0, n / 2, n - 1} {
			lines[k].add(s.Step, float64(s.GradNorms[i]))
		}
		v.Grads.Step = s.Step
		v.Grads.Norms = v.Grads.Norms[:0]
		for _, x := range s.GradNorms {
			v.Grads.Norms = append(v.Grads.Norms, float32(x))
		}
	}
	v.Loss, v.LossStep = loss.points()
	if v.Grads.Step > 0 {
		v.Grads.Layers = r.Layers
		v.Grads.First, v.Grads.Steps = lines[0].points()
		v.Grads.Middle, _ = lines[1].points()
		v.Grads.Last, _ = lines[2].points()
	}
	for _, e := range r.Epochs {
		v.TrainAcc = append(v.TrainAcc, float32(e.TrainAccuracy))
		if !math.IsNaN(float64(e.TestAccuracy)) {
			v.TestAcc = append(v.TestAcc, float32(e.TestAccuracy))
		}
	}
	return v
}
