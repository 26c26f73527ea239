package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"math"
	"os"

	"cifarlab/net"
)

// jsonLog writes JSON Lines; the first write error is kept in err and
// ends the run. A nil *jsonLog (no -log) discards everything.
type jsonLog struct {
	path string
	f    *os.File
	w    *bufio.Writer
	err  error
}

// openLog creates path, or appends to it when continuing a run.
func openLog(path string, appendTo bool) (*jsonLog, error) {
	if path == "" {
		return nil, nil
	}
	mode := os.O_WRONLY | os.O_CREATE | os.O_TRUNC
	if appendTo {
		mode = os.O_WRONLY | os.O_CREATE | os.O_APPEND
	}
	f, err := os.OpenFile(path, mode, 0o644)
	if err != nil {
		return nil, fmt.Errorf("-log: %w", err)
	}
	return &jsonLog{path: path, f: f, w: bufio.NewWriter(f)}, nil
}

// stepLine is the log's line of a training step: its loss and accuracy,
// and its gradient norms by parameter name when it measured them.
func stepLine(r net.StepResult, params []*net.Param) map[string]any {
	line := map[string]any{"event": "step", "step": r.Step, "epoch": r.Epoch, "batch": r.Batch,
		"images": r.N, "loss": r.Loss, "accuracy": float64(r.Correct) / float64(r.N)}
	if r.GradNorms != nil {
		norms := make(map[string]any, len(params))
		for i, p := range params {
			norms[p.Name] = jsonNumber(r.GradNorms[i])
		}
		line["grad_norms"] = norms
	}
	return line
}

// epochLine is the log's line of a finished epoch; test is nil without a
// test split.
func epochLine(epoch, step int, res net.EpochResult, test *net.EvalResult) map[string]any {
	line := map[string]any{"event": "epoch", "epoch": epoch, "step": step, "train_loss": res.Loss, "train_accuracy": res.Accuracy,
		"train_images": res.Images, "seconds": res.Duration.Seconds(), "images_per_s": float64(res.Images) / res.Duration.Seconds()}
	if test != nil {
		line["test_loss"], line["test_accuracy"], line["test_images"] = test.Loss, test.Accuracy(), test.N
	}
	return line
}

// jsonNumber is v, or nil (JSON null) for an infinity or a NaN, which
// JSON cannot hold: a gradient norm that overflowed float32.
func jsonNumber(v float64) any {
	if math.IsInf(v, 0) || math.IsNaN(v) {
		return nil
	}
	return v
}

func (l *jsonLog) write(v map[string]any) {
	if l == nil || l.err != nil {
		return
	}
	b, err := json.Marshal(v)
	if err == nil {
		b = append(b, '\n')
		_, err = l.w.Write(b)
	}
	if err == nil {
		err = l.w.Flush() // a line at a time, for tail -f and for whoever reads the log during a run
	}
	if err != nil {
		l.err = fmt.Errorf("write log %s: %w", l.path, err)
	}
}

// Err is the first error met writing or closing the log.
func (l *jsonLog) Err() error {
	if l == nil {
		return nil
	}
	return l.err
}

// close flushes and closes the log; closing twice is harmless.
func (l *jsonLog) close() {
	if l == nil || l.f == nil {
		return
	}
	defer func() { l.f = nil }()
	if err := l.w.Flush(); err != nil && l.err == nil {
		l.err = fmt.Errorf("write log %s: %w", l.path, err)
	}
	if err := l.f.Close(); err != nil && l.err == nil {
		l.err = fmt.Errorf("close log %s: %w", l.path, err)
	}
}
