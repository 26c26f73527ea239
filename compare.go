package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"

	"cifarlab/cifar"
	"cifarlab/cpu"
	"cifarlab/internal/runplot"
	"cifarlab/net"
)

// compareFlags are compare's command line.
type compareFlags struct {
	models          []string // network names for net.New
	device          *choice
	data, test, out string
	epochs, batch   int
	limit, logGrads int
	lr              float64
	seed            uint64
	augment, bn     bool
	replot          bool
	evalBatch       int
	modelsArg       string
}

const compareUsage = "train networks with the same seed and batches; plot their loss, test accuracy and gradient per layer side by side"

func parseCompareFlags(args []string, stderr io.Writer) (*compareFlags, error) {
	fs := newFlagSet("compare", stderr)
	f := &compareFlags{device: newChoice("auto", devices...)}
	fs.StringVar(&f.modelsArg, "models", "resnet20,plain20", "comma-separated networks: "+strings.Join(net.Models, ", ")+" (a name may end in "+net.NoBNSuffix+")")
	fs.BoolVar(&f.bn, "bn", true, "keep the BatchNorm layers (false: remove them from every network that has them)")
	fs.Var(f.device, "device", "auto, cpu or gpu")
	fs.StringVar(&f.data, "data", "", "dataset: "+cifar.Formats+" (default: the official archive, downloaded once into the cache)")
	fs.StringVar(&f.test, "test", "", "held-out test split, when -data has none (e.g. a single .bin)")
	fs.StringVar(&f.out, "out", "compare", "folder for each network's JSONL log and compare.png / compare.svg")
	fs.IntVar(&f.epochs, "epochs", 1, "epochs each network trains")
	fs.IntVar(&f.batch, "batch", 128, "images per step")
	fs.Float64Var(&f.lr, "lr", 1e-3, "Adam learning rate")
	fs.Uint64Var(&f.seed, "seed", 1, "seed of the initial weights, the shuffles and the augmentation, the same for every network")
	fs.IntVar(&f.limit, "limit", 0, "train on N training images, as many of each class as possible (0: all)")
	fs.BoolVar(&f.augment, "augment", false, "random crop (padding 4) and horizontal flip")
	fs.IntVar(&f.logGrads, "log-grads", 10, "measure the gradient norms every N steps (at least 1)")
	fs.IntVar(&f.evalBatch, "eval-batch", 500, "images per forward when evaluating")
	fs.BoolVar(&f.replot, "replot", false, "train nothing: draw the picture again from the logs in -out")
	if err := parse(fs, args); err != nil {
		return nil, err
	}
	if err := checkTraining(fs, f.epochs, f.batch, f.evalBatch, f.limit, f.lr); err != nil {
		return nil, err
	}
	switch {
	case f.logGrads < 1:
		return nil, flagError(fs, "-log-grads %d: must be at least 1", f.logGrads)
	case f.out == "":
		return nil, flagError(fs, "-out must name a folder")
	}
	seen := map[string]bool{}
	for _, m := range strings.Split(f.modelsArg, ",") {
		m = strings.TrimSpace(m)
		if m == "" {
			continue
		}
		if _, bn, err := net.ParseModel(m); err != nil {
			return nil, flagError(fs, "-models: %v", err)
		} else if bn && !f.bn {
			m = net.ModelName(m, false)
		}
		if seen[m] {
			return nil, flagError(fs, "-models names %s twice", m)
		}
		seen[m] = true
		f.models = append(f.models, m)
	}
	if len(f.models) == 0 {
		return nil, flagError(fs, "-models names no network")
	}
	return f, nil
}

func runCompare(args []string, stdout, stderr io.Writer) error {
	f, err := parseCompareFlags(args, stderr)
	if err != nil {
		return err
	}
	if f.replot {
		return replot(f, stdout)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return compare(ctx, f, stdout, stderr)
}

// replot draws the picture of the networks of f again from their logs.
func replot(f *compareFlags, stdout io.Writer) error {
	var runs []runplot.Run
	for _, model := range f.models {
		r, err := runFromLog(filepath.Join(f.out, model+".jsonl"), model)
		if err != nil {
			return err
		}
		runs = append(runs, r)
	}
	return drawRuns(f.out, runs, stdout)
}

// logLine is what runFromLog reads of a line of compare's logs.
type logLine struct {
	Event         string              `json:"event"`
	Step          int                 `json:"step"`
	Loss          float64             `json:"loss"`
	TrainAccuracy float64             `json:"train_accuracy"`
	TestAccuracy  *float64            `json:"test_accuracy"`
	GradNorms     map[string]*float64 `json:"grad_norms"`
}

// drawRuns writes dir/compare.png and .svg of runs and prints their table.
func drawRuns(dir string, runs []runplot.Run, stdout io.Writer) error {
	if err := runplot.Write(dir, "compare", runs); err != nil {
		return fmt.Errorf("draw the comparison: %w", err)
	}
	fmt.Fprintf(stdout, "wrote %s and %s\n", filepath.Join(dir, "compare.png"), filepath.Join(dir, "compare.svg"))
	printComparison(stdout, runs)
	return nil
}

// runFromLog reads a run back from the log compare wrote for model.
func runFromLog(path, model string) (runplot.Run, error) {
	run := runplot.Run{Name: model}
	names, err := pathWeightNames(model)
	if err != nil {
		return run, err
	}
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return run, fmt.Errorf("-replot: no log of %s in %s (compare without -replot writes it)", model, filepath.Dir(path))
	}
	if err != nil {
		return run, err
	}
	var means runplot.GeoMeans
	for i, l := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		var e logLine
		if err := json.Unmarshal([]byte(l), &e); err != nil {
			return run, fmt.Errorf("%s:%d: %w", path, i+1, err)
		}
		switch e.Event {
		case "step":
			run.Loss = append(run.Loss, e.Loss)
			if e.GradNorms == nil {
				continue
			}
			norms := make([]float64, len(names))
			for k, name := range names {
				norms[k] = math.Inf(1) // null: a norm that overflowed
				if p := e.GradNorms[name]; p != nil {
					norms[k] = *p
				}
			}
			means.Add(norms)
		case "epoch":
			run.TrainAcc = append(run.TrainAcc, e.TrainAccuracy)
			if e.TestAccuracy != nil {
				run.TestAcc = append(run.TestAcc, *e.TestAccuracy)
			}
		case "diverged":
			run.Stopped = fmt.Sprintf("diverged at step %d", e.Step)
		}
	}
	run.Layers, run.LayerNorms = names, means.Means()
	return run, nil
}

// pathWeightNames are the state-dict names of model's main-path weights.
func pathWeightNames(model string) ([]string, error) {
	b := cpu.New()
	defer b.Close()
	n, err := net.New(b, model, 10, 1)
	if err != nil {
		return nil, err
	}
	defer n.Free()
	var names []string
	for _, p := range n.PathWeights() {
		names = append(names, p.Name)
	}
	return names, nil
}

// compare trains every network of f in turn on the same data, seed and
// batch order, writing a log for each, then the picture of all.
func compare(ctx context.Context, f *compareFlags, stdout, stderr io.Writer) error {
	ds, trainSplit, testSplit, err := openSplits(ctx, f.data, f.test, stderr)
	if err != nil {
		return err
	}
	if f.limit > 0 {
		trainSplit = trainSplit.Balanced(f.limit, len(ds.Classes))
	}
	if err := os.MkdirAll(f.out, 0o755); err != nil {
		return fmt.Errorf("-out: %w", err)
	}
	b, err := openBackend(f.device.value, stderr)
	if err != nil {
		return err
	}
	defer b.Close()
	recs, err := upload(b, trainSplit)
	if err != nil {
		return err
	}
	defer b.Free(recs)
	var testRecs net.Records
	if testSplit != nil {
		if testRecs, err = upload(b, testSplit); err != nil {
			return err
		}
		defer b.Free(testRecs)
	}
	fmt.Fprintf(stdout, "comparing %s on %d training images of %s, testing on %d, %d epochs each\n",
		strings.Join(f.models, ", "), trainSplit.Len(), ds.Source, splitLen(testSplit), f.epochs)
	var runs []runplot.Run
	for _, model := range f.models {
		r, err := compareOne(ctx, b, model, recs, testRecs, len(ds.Classes), f, stdout, stderr)
		if errors.Is(err, context.Canceled) {
			return interrupted(f, runs, model, stdout, stderr)
		}
		if err != nil {
			return fmt.Errorf("%s: %w", model, err)
		}
		runs = append(runs, r)
	}
	return drawRuns(f.out, runs, stdout)
}

// interrupted ends a comparison stopped by Ctrl-C while model trained:
// the networks done so far are drawn, and every log keeps its lines.
func interrupted(f *compareFlags, runs []runplot.Run, model string, stdout, stderr io.Writer) error {
	fmt.Fprintf(stderr, "interrupted while %s trained; its log so far and the other logs are in %s\n", model, f.out)
	if len(runs) > 0 {
		if err := drawRuns(f.out, runs, stdout); err != nil {
			return err
		}
	}
	return errInterrupted
}

// compareOne trains one network, logging to f.out/<model>.jsonl.
func compareOne(ctx context.Context, b net.Backend, model string, recs, testRecs net.Records, classes int,
	f *compareFlags, stdout, stderr io.Writer) (runplot.Run, error) {
	run := runplot.Run{Name: model}
	n, err := net.New(b, model, classes, f.seed)
	if err != nil {
		return run, err
	}
	defer n.Free()
	tr, err := net.NewTrainer(b, n, net.TrainConfig{Batch: f.batch, Shuffle: true, Augment: f.augment, Seed: f.seed,
		Norm: norm, StatsEvery: statsEvery(b), GradNormsEvery: f.logGrads}, float32(f.lr))
	if err != nil {
		return run, err
	}
	defer tr.Free()
	log, err := openLog(filepath.Join(f.out, model+".jsonl"), false)
	if err != nil {
		return run, err
	}
	defer log.close()
	log.write(map[string]any{"event": "start", "model": model, "device": b.Name(), "train_images": recs.Len(),
		"test_images": recsLen(testRecs), "batch": f.batch, "lr": f.lr, "seed": f.seed, "shuffle": true,
		"augment": f.augment, "epochs": f.epochs, "start_epoch": 0, "start_step": 0})
	params := n.Params()
	layers := pathIndices(params, n.PathWeights())
	var means runplot.GeoMeans
	for tr.Epoch < f.epochs {
		epoch := tr.Epoch + 1
		bar := newProgress(stderr, fmt.Sprintf("%s epoch %d/%d", model, epoch, f.epochs), tr.EpochImages(recs.Len()))
		var last int
		res, err := tr.RunEpoch(ctx, recs, func(r net.StepResult) {
			last = r.Step
			bar.add(r.N, r.Loss)
			log.write(stepLine(r, params))
			run.Loss = append(run.Loss, r.Loss)
			if r.GradNorms != nil {
				norms := make([]float64, len(layers))
				for k, i := range layers {
					norms[k] = r.GradNorms[i]
				}
				means.Add(norms)
			}
		})
		bar.finish()
		if errors.Is(err, net.ErrDiverged) {
			// The comparison goes on: a network that diverges at this
			// learning rate is a result too.
			run.Stopped = fmt.Sprintf("diverged at step %d", last+1)
			fmt.Fprintf(stdout, "%-16s epoch %d/%d  %v\n", model, epoch, f.epochs, err)
			log.write(map[string]any{"event": "diverged", "epoch": epoch, "step": last + 1, "error": err.Error()})
			break
		}
		if err != nil {
			return run, err
		}
		run.TrainAcc = append(run.TrainAcc, res.Accuracy)
		line := fmt.Sprintf("%-16s epoch %d/%d  train loss %.4f  accuracy %.2f%%", model, epoch, f.epochs, res.Loss, 100*res.Accuracy)
		var test *net.EvalResult
		if testRecs != nil {
			ev, err := net.Evaluate(b, n, testRecs, -1, f.evalBatch, norm, nil)
			if err != nil {
				return run, fmt.Errorf("evaluate: %w", err)
			}
			run.TestAcc = append(run.TestAcc, ev.Accuracy())
			line += fmt.Sprintf("  |  test accuracy %.2f%%", 100*ev.Accuracy())
			test = &ev
		}
		entry := epochLine(epoch, tr.Opt.Step, res, test)
		log.write(entry)
		fmt.Fprintf(stdout, "%s  |  %.0f img/s\n", line, entry["images_per_s"])
	}
	for _, i := range layers {
		run.Layers = append(run.Layers, params[i].Name)
	}
	run.LayerNorms = means.Means()
	log.close()
	return run, log.Err()
}

// pathIndices are the indices in params of the main path's weights.
func pathIndices(params, path []*net.Param) []int {
	at := map[*net.Param]int{}
	for i, p := range params {
		at[p] = i
	}
	out := make([]int, len(path))
	for k, p := range path {
		out[k] = at[p]
	}
	return out
}

func recsLen(r net.Records) int {
	if r == nil {
		return 0
	}
	return r.Len()
}

// printComparison is the table of the runs' last epoch and of how much of
// the gradient at the last layer reaches the first.
func printComparison(w io.Writer, runs []runplot.Run) {
	fmt.Fprintf(w, "\n%-18s %12s %14s %13s %22s\n", "network", "train loss", "train accuracy", "test accuracy", "gradient first/last")
	for _, r := range runs {
		loss := math.NaN()
		if k := len(r.Loss); k > 0 {
			tail := r.Loss[k-max(1, k/10):]
			loss = 0
			for _, v := range tail {
				loss += v / float64(len(tail))
			}
		}
		test, ratio := "–", "–"
		if k := len(r.TestAcc); k > 0 {
			test = fmt.Sprintf("%.2f%%", 100*r.TestAcc[k-1])
		}
		if k := len(r.LayerNorms); k > 1 && r.LayerNorms[k-1] > 0 {
			ratio = fmt.Sprintf("%.3g", r.LayerNorms[0]/r.LayerNorms[k-1])
		}
		train := "–"
		if k := len(r.TrainAcc); k > 0 {
			train = fmt.Sprintf("%.2f%%", 100*r.TrainAcc[k-1])
		}
		fmt.Fprintf(w, "%-18s %12.4f %14s %13s %22s", r.Name, loss, train, test, ratio)
		if r.Stopped != "" {
			fmt.Fprintf(w, "  %s", r.Stopped)
		}
		fmt.Fprintln(w)
	}
}
