package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"strings"

	"cifarlab/cifar"
	"cifarlab/internal/app"
	"cifarlab/internal/atomicfile"
)

// desktopFlags are the command line of `cifarlab desktop`: train's
// settings that a live session has, plus the window's own.
type desktopFlags struct {
	model            *modelFlag
	device           *choice
	data, test       string
	batch, limit     int
	seed             uint64
	lr               float64
	shuffle, augment bool
	init, weights    string
	runs             string // the file that keeps the session's runs
	evalLimit        int
	threads          int // CPU backend: goroutines for training; 0: one core fewer than the machine has

	// experiment is the residual network of the shortcut experiment
	// (-experiment); "" for none.
	experiment string

	autostart  bool
	frames     int    // exit after this many frames; 0: when the window closes
	screenshot string // PNG of the last frame, written at exit
	view       *choice
}

// desktopUsage is the one-line synopsis of the command.
const desktopUsage = "the trainer and its live feature maps in a native window (1280×800)"

// parseDesktopFlags parses desktop's command line; it is built into every
// cifarlab, so that the flags are tested without a display.
func parseDesktopFlags(args []string, stderr io.Writer) (*desktopFlags, error) {
	fs := newFlagSet("desktop", stderr)
	f := &desktopFlags{device: newChoice("auto", devices...)}
	f.model = registerModel(fs, app.DefaultModel, "")
	fs.Var(f.device, "device", "auto, cpu or gpu")
	fs.StringVar(&f.data, "data", "", "dataset: "+cifar.Formats+" (default: the official archive, downloaded once into the cache)")
	fs.StringVar(&f.test, "test", "", "held-out test split, when -data has none (e.g. a single .bin)")
	fs.IntVar(&f.batch, "batch", app.DefaultBatch, "images per step")
	fs.Float64Var(&f.lr, "lr", app.DefaultLR, "Adam learning rate")
	fs.Uint64Var(&f.seed, "seed", app.DefaultSeed, "seed of the initial weights, the shuffles and the augmentation")
	fs.BoolVar(&f.shuffle, "shuffle", true, "reshuffle the training images every epoch (false keeps file order)")
	fs.IntVar(&f.limit, "limit", 0, "train on N training images only, taken from the classes in turn in file order (0: all)")
	fs.BoolVar(&f.augment, "augment", false, "random crop (padding 4) and horizontal flip")
	fs.StringVar(&f.init, "init", "", "start from these weights (.safetensors) with a fresh optimizer")
	fs.StringVar(&f.weights, "weights", "", "the file the Save and Load buttons use (default MODEL.safetensors)")
	fs.StringVar(&f.runs, "runs", "", "the file that keeps the runs to compare with from one start to the next (default: beside -weights, MODEL.runs.json)")
	fs.IntVar(&f.evalLimit, "eval-limit", 0, "after each epoch, test on this many test images spread over the split (0: all)")
	fs.IntVar(&f.threads, "threads", 0, "CPU backend: goroutines that train (0: one fewer than the machine's cores, leaving one to the window)")
	fs.BoolVar(&f.autostart, "autostart", false, "start training at once")
	fs.IntVar(&f.frames, "frames", 0, "exit after this many frames (0: when the window closes)")
	fs.StringVar(&f.screenshot, "screenshot", "", "save the window's last frame to this PNG at exit")
	f.view = newChoice("maps", "maps", "grads", "eval")
	fs.Var(f.view, "view", "what the right side shows first: maps (the feature maps), grads (the gradient reaching each layer) or eval (the evaluation: confusion matrix, accuracy per class)")
	experiment := fs.Bool("experiment", false, "the shortcut experiment: train -model (a block network; default resnet20 without BatchNorm) and its twin with the shortcuts removed or added, in turns on the same batches, from the gradient view")
	if err := parse(fs, args); err != nil {
		return nil, err
	}
	if *experiment {
		if err := f.setExperiment(fs); err != nil {
			return nil, err
		}
	}
	switch {
	case fs.NArg() > 0:
		return nil, flagError(fs, "unexpected argument %q", fs.Arg(0))
	case f.batch < 1 || f.batch > app.MaxBatch:
		return nil, flagError(fs, "-batch %d: must be 1 to %d", f.batch, app.MaxBatch)
	case f.limit < 0:
		return nil, flagError(fs, "-limit %d: must be 0 (all) or more", f.limit)
	case f.evalLimit < 0:
		return nil, flagError(fs, "-eval-limit %d: must be 0 (all) or more", f.evalLimit)
	case f.threads < 0:
		return nil, flagError(fs, "-threads %d: must be 0 (automatic) or more", f.threads)
	case f.frames < 0:
		return nil, flagError(fs, "-frames %d: must be 0 (until the window closes) or more", f.frames)
	case !(f.lr > 0) || math.IsInf(f.lr, 0):
		return nil, flagError(fs, "-lr %v: must be a positive number", f.lr)
	case f.seed == 0:
		return nil, flagError(fs, "-seed 0: must be at least 1")
	}
	if err := f.model.check(fs); err != nil {
		return nil, err
	}
	if f.weights == "" {
		f.weights = f.model.name() + ".safetensors"
	}
	if f.runs == "" {
		f.runs = strings.TrimSuffix(f.weights, filepath.Ext(f.weights)) + ".runs.json"
	}
	if f.threads == 0 {
		f.threads = max(runtime.NumCPU()-1, 1)
	}
	return f, nil
}

// setExperiment checks -experiment against the other flags and picks its
// networks.
func (f *desktopFlags) setExperiment(fs *flag.FlagSet) error {
	set := map[string]bool{}
	fs.Visit(func(fl *flag.Flag) { set[fl.Name] = true })
	model := ""
	if set["model"] {
		model = f.model.name()
	} else if set["bn"] {
		return flagError(fs, "-experiment -bn=%v needs -model (resnet18, resnet20 or resnet56, or their plain twins)", f.model.bn)
	}
	if set["init"] {
		return flagError(fs, "-experiment trains both networks from the seed: it takes no -init")
	}
	res, _, err := app.ExperimentPair(model)
	if err != nil {
		return flagError(fs, "-experiment: %v", err)
	}
	f.experiment = res
	if !set["view"] {
		f.view.value = "grads"
	}
	return nil
}

// sessionConfig is the live session's configuration for these flags.
func (f *desktopFlags) sessionConfig(statsEvery int) app.Config {
	return app.Config{
		Model: f.model.name(), Experiment: f.experiment, LR: f.lr, Batch: f.batch, Seed: f.seed, Limit: f.limit,
		FileOrder: !f.shuffle, Augment: f.augment, EvalLimit: f.evalLimit, StatsEvery: statsEvery,
	}
}

// keepRuns reads the runs kept in -runs into cfg, and has the session
// keep its runs there (atomically: a crash leaves the old file or the new).
func (f *desktopFlags) keepRuns(cfg *app.Config, stderr io.Writer) {
	data, err := os.ReadFile(f.runs)
	switch {
	case err == nil:
		if _, derr := app.DecodeRuns(data); derr != nil {
			// Kept aside, not overwritten by the next runs: nothing lost.
			aside := f.runs + ".unreadable"
			if rerr := os.Rename(f.runs, aside); rerr == nil {
				fmt.Fprintf(stderr, "note: %s is not a file of runs (%v): moved to %s, the runs start afresh\n", f.runs, derr, aside)
				break
			}
		}
		cfg.Runs = data
	case !errors.Is(err, os.ErrNotExist):
		fmt.Fprintf(stderr, "note: the earlier runs in %s are not shown: %v\n", f.runs, err)
	}
	cfg.OnRuns = func(data []byte) {
		if err := atomicfile.WriteFile(f.runs, func(w io.Writer) error { _, err := w.Write(data); return err }); err != nil {
			fmt.Fprintf(stderr, "keep the runs: %v\n", err)
		}
	}
}

// desktopDataset reads -data (and -test) into the dataset the session
// trains on: the training split, and the held-out test split or none.
func desktopDataset(ds *cifar.Dataset, testPath string, stderr io.Writer) (*cifar.Dataset, error) {
	train, test, err := trainingSplits(ds, testPath, stderr)
	if err != nil {
		return nil, err
	}
	if train.Len() == 0 {
		return nil, fmt.Errorf("%s has no training images", ds.Source)
	}
	return &cifar.Dataset{Classes: ds.Classes, Train: train, Test: test, Source: ds.Source}, nil
}
