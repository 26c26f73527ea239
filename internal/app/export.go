package app

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"path/filepath"
	"strconv"
	"time"

	"cifarlab/internal/atomicfile"
	"cifarlab/viz"
)

// WriteJSONL writes runs in the schema of `cifarlab train -log`, one run
// after another: a "start" line with what trained, a "step" line per step
// (with "grad_norms" by state-dict name on the steps that recorded them:
// the main path's weights), and an "epoch" line after each finished
// epoch. Every line has "run", the run's number from 1, so that the runs
// of one file can be told apart.
func WriteJSONL(w io.Writer, runs []*RunRecord) error {
	enc := json.NewEncoder(w)
	for k, r := range runs {
		run := k + 1
		start := map[string]any{"event": "start", "run": run, "model": r.Model, "device": r.Backend,
			"dataset": r.Dataset, "train_images": r.TrainImages, "batch": r.Batch, "lr": r.LR, "seed": r.Seed,
			"augment": r.Augment, "start_epoch": 0, "start_step": 0}
		if r.Twin != "" {
			start["trained_beside"] = r.Twin
		}
		if err := enc.Encode(start); err != nil {
			return err
		}
		e := 0
		for _, s := range r.Steps {
			line := map[string]any{"event": "step", "run": run, "step": s.Step, "epoch": s.Epoch, "loss": s.Loss, "accuracy": s.Accuracy}
			if s.GradNorms != nil {
				norms := make(map[string]Num, len(r.Layers))
				for i, name := range r.Layers {
					norms[name] = s.GradNorms[i]
				}
				line["grad_norms"] = norms
			}
			if err := enc.Encode(line); err != nil {
				return err
			}
			for ; e < len(r.Epochs) && r.Epochs[e].Step <= s.Step; e++ {
				if err := enc.Encode(epochJSON(run, r.Epochs[e])); err != nil {
					return err
				}
			}
		}
		for ; e < len(r.Epochs); e++ {
			if err := enc.Encode(epochJSON(run, r.Epochs[e])); err != nil {
				return err
			}
		}
	}
	return nil
}

func epochJSON(run int, e EpochRecord) map[string]any {
	line := map[string]any{"event": "epoch", "run": run, "epoch": e.Epoch, "step": e.Step, "train_accuracy": e.TrainAccuracy}
	if !math.IsNaN(float64(e.TestAccuracy)) {
		line["test_accuracy"] = e.TestAccuracy
	}
	return line
}

// WriteCSV writes runs as one table: a row per step of each run, with the
// run's number and network, the step's loss and accuracy, the epoch's
// accuracies on the step that ended it, and a column per main-path weight
// of the gradient norms (empty on steps that did not record them, and for
// a network without that layer).
func WriteCSV(w io.Writer, runs []*RunRecord) error {
	var layers []string
	seen := map[string]bool{}
	for _, r := range runs {
		for _, l := range r.Layers {
			if !seen[l] {
				seen[l] = true
				layers = append(layers, l)
			}
		}
	}
	cw := csv.NewWriter(w)
	head := []string{"run", "model", "step", "epoch", "loss", "accuracy", "train_accuracy", "test_accuracy"}
	for _, l := range layers {
		head = append(head, "grad_norm:"+l)
	}
	if err := cw.Write(head); err != nil {
		return err
	}
	for k, r := range runs {
		col := map[string]int{}
		for i, l := range r.Layers {
			col[l] = i
		}
		ends := map[int]EpochRecord{}
		for _, e := range r.Epochs {
			ends[e.Step] = e
		}
		for _, s := range r.Steps {
			row := []string{strconv.Itoa(k + 1), r.Model, strconv.Itoa(s.Step), strconv.Itoa(s.Epoch), csvNum(s.Loss), csvNum(s.Accuracy), "", ""}
			if e, ok := ends[s.Step]; ok {
				row[6], row[7] = csvNum(e.TrainAccuracy), csvNum(e.TestAccuracy)
			}
			for _, l := range layers {
				v := ""
				if i, ok := col[l]; ok && s.GradNorms != nil {
					v = csvNum(s.GradNorms[i])
				}
				row = append(row, v)
			}
			if err := cw.Write(row); err != nil {
				return err
			}
		}
	}
	cw.Flush()
	return cw.Error()
}

// csvNum writes a number, "" for NaN and inf or -inf for an infinity.
func csvNum(v Num) string {
	f := float64(v)
	switch {
	case math.IsNaN(f):
		return ""
	case math.IsInf(f, 1):
		return "inf"
	case math.IsInf(f, -1):
		return "-inf"
	}
	return strconv.FormatFloat(f, 'g', -1, 32)
}

// exportRuns writes the runs of ids (0: the run shown; an earlier run's
// or the experiment's other network's ID) in format, "jsonl" or "csv",
// and names the file after the run shown.
func (w *worker) exportRuns(format string, ids []int) ([]byte, string, error) {
	var runs []*RunRecord
	for _, id := range ids {
		r := w.record(id)
		if r == nil {
			return nil, "", fmt.Errorf("no run %d", id)
		}
		if len(r.Steps) > 0 {
			runs = append(runs, r)
		}
	}
	if len(runs) == 0 {
		return nil, "", fmt.Errorf("no run has trained yet")
	}
	var buf bytes.Buffer
	var err error
	switch format {
	case "jsonl":
		err = WriteJSONL(&buf, runs)
	case "csv":
		err = WriteCSV(&buf, runs)
	default:
		err = fmt.Errorf("format %q: want jsonl or csv", format)
	}
	if err != nil {
		return nil, "", err
	}
	name := fmt.Sprintf("%s-step%d", runs[0].Model, runs[0].Steps[len(runs[0].Steps)-1].Step)
	if len(runs) > 1 {
		name = fmt.Sprintf("%s-and-%d-more", name, len(runs)-1)
	}
	return buf.Bytes(), name + "." + format, nil
}

// export writes the runs of in.Runs in in.Format: to the file beside
// in.Path (the desktop's weights file) named after the runs, else to
// OnSave (the browser downloads it).
func (w *worker) export(in viz.Intent) error {
	data, name, err := w.exportRuns(in.Format, in.Runs)
	if err != nil {
		return err
	}
	if in.Path != "" {
		path := filepath.Join(filepath.Dir(in.Path), name)
		if err := atomicfile.WriteFile(path, func(w io.Writer) error { _, err := w.Write(data); return err }); err != nil {
			return err
		}
		w.say("exported %s", path)
		return nil
	}
	if w.s.cfg.OnSave == nil {
		return errors.New("no file to export to")
	}
	w.s.cfg.OnSave(name, data)
	w.say("exported %s", name)
	return nil
}

// RunsEvery is how often OnRuns gets the runs while training, at most.
const RunsEvery = 30 * time.Second

// saveRuns hands the runs to OnRuns when they changed, or when training
// went on for RunsEvery since the last time.
func (w *worker) saveRuns() {
	if w.s.cfg.OnRuns == nil {
		return
	}
	if !w.runsChanged && (!w.running || time.Since(w.runsSaved) < RunsEvery) {
		return
	}
	var runs []*RunRecord
	for _, k := range w.runs {
		runs = append(runs, k.rec)
	}
	for _, l := range w.lanes() {
		if l.rec != nil && len(l.rec.Steps) > 0 {
			runs = append(runs, l.rec)
		}
	}
	data, err := EncodeRuns(runs)
	if err != nil {
		w.fail(fmt.Errorf("keep the runs: %w", err))
		return
	}
	w.s.cfg.OnRuns(data)
	w.runsChanged, w.runsSaved = false, time.Now()
}
