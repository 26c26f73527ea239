package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"cifarlab/cifar"
	"cifarlab/net"
)

// trainFlags are train's command line.
type trainFlags struct {
	model                   *modelFlag
	device                  *choice
	data, test              string
	epochs, batch, limit    int
	lr                      float64
	seed                    uint64
	shuffle, augment        bool
	init, resume, save, log string
	evalBatch               int
	logGrads                int // gradient norms in the log every N steps
	startStep               int // the optimizer's step count when this run began training
}

func parseTrainFlags(args []string, stderr io.Writer) (*trainFlags, error) {
	fs := newFlagSet("train", stderr)
	f := &trainFlags{device: newChoice("auto", devices...)}
	f.model = registerModel(fs, "lenet5", "")
	fs.Var(f.device, "device", "auto, cpu or gpu")
	fs.StringVar(&f.data, "data", "", "dataset: "+cifar.Formats+" (default: the official archive, downloaded once into the cache)")
	fs.StringVar(&f.test, "test", "", "held-out test split, when -data has none (e.g. a single .bin)")
	fs.IntVar(&f.epochs, "epochs", 10, "train until this many epochs are done")
	fs.IntVar(&f.batch, "batch", 256, "images per step")
	fs.Float64Var(&f.lr, "lr", 1e-3, "Adam learning rate")
	fs.Uint64Var(&f.seed, "seed", 1, "seed of the initial weights, the shuffles and the augmentation")
	fs.BoolVar(&f.shuffle, "shuffle", true, "reshuffle the training images every epoch (false keeps file order)")
	fs.IntVar(&f.limit, "limit", 0, "train on N training images only, taken from the classes in turn in file order (0: all)")
	fs.BoolVar(&f.augment, "augment", false, "random crop (padding 4) and horizontal flip")
	fs.StringVar(&f.init, "init", "", "start from these weights (.safetensors) with a fresh optimizer")
	fs.StringVar(&f.resume, "resume", "", "continue a checkpoint: weights, optimizer state and epoch")
	fs.StringVar(&f.save, "save", "", "checkpoint written after every epoch and on Ctrl-C (default MODEL.safetensors)")
	fs.StringVar(&f.log, "log", "", "write one JSON object per step and per epoch to this file")
	fs.IntVar(&f.logGrads, "log-grads", 1, "with -log: the L2 norm of every parameter's gradient on every N-th step's line (0: none)")
	fs.IntVar(&f.evalBatch, "eval-batch", 500, "images per forward when evaluating")
	if err := parse(fs, args); err != nil {
		return nil, err
	}
	if err := checkTraining(fs, f.epochs, f.batch, f.evalBatch, f.limit, f.lr); err != nil {
		return nil, err
	}
	switch {
	case f.logGrads < 0:
		return nil, flagError(fs, "-log-grads %d: must be 0 (none) or more", f.logGrads)
	case f.init != "" && f.resume != "":
		return nil, flagError(fs, "-init and -resume exclude each other (-resume already restores the weights)")
	}
	if err := f.model.check(fs); err != nil {
		return nil, err
	}
	if f.save == "" {
		f.save = f.model.name() + ".safetensors"
	}
	return f, nil
}

// checkTraining checks the flags train and compare share: no argument
// left over, at least one epoch, positive batch sizes, a limit of 0 or
// more and a positive learning rate.
func checkTraining(fs *flag.FlagSet, epochs, batch, evalBatch, limit int, lr float64) error {
	switch {
	case fs.NArg() > 0:
		return flagError(fs, "unexpected argument %q", fs.Arg(0))
	case epochs < 1:
		return flagError(fs, "-epochs %d: must be at least 1", epochs)
	case batch < 1:
		return flagError(fs, "-batch %d: must be at least 1", batch)
	case evalBatch < 1:
		return flagError(fs, "-eval-batch %d: must be at least 1", evalBatch)
	case limit < 0:
		return flagError(fs, "-limit %d: must be 0 (all) or more", limit)
	case !(lr > 0) || math.IsInf(lr, 0):
		return flagError(fs, "-lr %v: must be a positive number", lr)
	}
	return nil
}

func runTrain(args []string, stdout, stderr io.Writer) error {
	f, err := parseTrainFlags(args, stderr)
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return train(ctx, f, stdout, stderr)
}

// train runs the whole command once the flags are known; ctx is cancelled
// by Ctrl-C.
func train(ctx context.Context, f *trainFlags, stdout, stderr io.Writer) error {
	ds, trainSplit, testSplit, err := openSplits(ctx, f.data, f.test, stderr)
	if err != nil {
		return err
	}
	if f.limit > 0 && f.limit < trainSplit.Len() {
		trainSplit = trainSplit.Balanced(f.limit, len(ds.Classes))
		warnMissingClasses(stderr, trainSplit, ds.Classes)
	}
	b, err := openBackend(f.device.value, stderr)
	if err != nil {
		return err
	}
	r := &trainRun{f: f, classes: ds.Classes, trainSplit: trainSplit, testSplit: testSplit}
	defer r.close()
	if err := r.build(b, nil); err != nil {
		return err
	}
	if err := startFrom(r.tr, f, ds.Classes, stderr); err != nil {
		return err
	}
	n, tr := r.tr.Net, r.tr
	log, err := openLog(f.log, f.resume != "")
	if err != nil {
		return err
	}
	defer log.close()
	log.write(map[string]any{"event": "start", "model": n.Model, "device": b.Name(), "train_images": trainSplit.Len(),
		"test_images": splitLen(testSplit), "classes": ds.Classes, "batch": f.batch, "lr": f.lr, "seed": f.seed,
		"shuffle": f.shuffle, "augment": f.augment, "epochs": f.epochs, "start_epoch": tr.Epoch, "start_step": tr.Opt.Step})
	if k := tr.EpochImages(r.recs.Len()); k < r.recs.Len() {
		fmt.Fprintf(stderr, "note: each epoch leaves out one image, which would be a last batch of one that BatchNorm cannot normalise\n")
	}
	fmt.Fprintf(stdout, "training %s (%d parameters) on %d images of %s, testing on %d\n",
		n.Model, n.NumParams(), trainSplit.Len(), ds.Source, splitLen(testSplit))
	f.startStep = tr.Opt.Step
	if net.MayLoseDevice(r.b) {
		r.tr.Keeper = net.NewHostKeeper(hostCopyEvery)
	}
	for r.tr.Epoch < f.epochs {
		err := trainEpoch(ctx, r.tr, r.recs, r.testRecs, f, ds.Classes, log, stdout, stderr)
		if errors.Is(err, net.ErrDeviceLost) {
			err = r.recover(err, log, stderr)
		}
		if err != nil {
			return err
		}
	}
	log.close()
	return log.Err()
}

// hostCopyEvery is how often training refreshes its copy of the weights
// and Adam's state on the host, besides at every epoch's end.
const hostCopyEvery = 30 * time.Second

// trainRun is what train builds on a backend: the network, its trainer and
// the uploaded data; after a lost device, again on the next backend.
type trainRun struct {
	f                     *trainFlags
	classes               []string
	trainSplit, testSplit *cifar.Split

	b              net.Backend
	tr             *net.Trainer
	recs, testRecs net.Records
}

// build makes the network, the trainer and the records on b, from the seed's
// weights or, when c is not nil, from c.
func (r *trainRun) build(b net.Backend, c *net.HostCopy) error {
	r.b = b
	f := r.f
	n, err := net.New(b, f.model.name(), len(r.classes), f.seed)
	if err != nil {
		return err
	}
	cfg := net.TrainConfig{Batch: f.batch, Shuffle: f.shuffle, Augment: f.augment, Seed: f.seed, Norm: norm, StatsEvery: statsEvery(b)}
	if f.log != "" {
		cfg.GradNormsEvery = f.logGrads
	}
	if r.tr, err = net.NewTrainer(b, n, cfg, float32(f.lr)); err != nil {
		n.Free()
		return err
	}
	if c != nil {
		if err := r.tr.Restore(c); err != nil {
			return err
		}
	}
	if r.recs, err = upload(b, r.trainSplit); err != nil {
		return err
	}
	if r.testSplit != nil {
		if r.testRecs, err = upload(b, r.testSplit); err != nil {
			return err
		}
	}
	return nil
}

// close frees what build made and closes the backend.
func (r *trainRun) close() {
	if r.b == nil {
		return
	}
	for _, recs := range []net.Records{r.recs, r.testRecs} {
		if recs != nil {
			r.b.Free(recs)
		}
	}
	if r.tr != nil {
		r.tr.Free()
		r.tr.Net.Free()
	}
	r.b.Close()
	r.b, r.tr, r.recs, r.testRecs = nil, nil, nil, nil
}

// recover goes on after the device was lost (lost says how): from the last
// copy on the host, on a new GPU device when one opens, else on the CPU.
// The steps after that copy are trained again; the log says so.
func (r *trainRun) recover(lost error, log *jsonLog, stderr io.Writer) error {
	keeper := r.tr.Keeper
	if keeper == nil {
		return lost
	}
	_ = keeper.Finish() // a copy still in flight is lost with the device
	c := keeper.Copy()
	if c == nil {
		return fmt.Errorf("%w; no copy of the weights had reached the host yet", lost)
	}
	fmt.Fprintf(stderr, "\nthe GPU was lost (%v)\n", lost)
	r.close()
	b := openAfterLoss(stderr)
	if err := r.build(b, c); err != nil {
		return fmt.Errorf("go on after the lost GPU: %w", err)
	}
	r.tr.Keeper = keeper
	fmt.Fprintf(stderr, "going on from step %d (epoch %d, %d batches done) on %s\n", c.Step, c.Epoch+1, c.Batch, b.Name())
	log.write(map[string]any{"event": "device_lost", "error": lost.Error(), "resume_step": c.Step, "device": b.Name()})
	return nil
}

// startFrom applies -init or -resume.
func startFrom(tr *net.Trainer, f *trainFlags, classes []string, stderr io.Writer) error {
	switch {
	case f.init != "":
		w, err := net.ReadWeights(f.init)
		if err != nil {
			return err
		}
		if k := w.NumClasses(); k != len(classes) {
			return fmt.Errorf("-init %s has %d outputs, but the data has %d classes", f.init, k, len(classes))
		}
		if err := tr.Net.Load(w); err != nil {
			return err
		}
		fmt.Fprintf(stderr, "starting from the weights in %s\n", f.init)
	case f.resume != "":
		info, err := tr.Resume(f.resume)
		if err != nil {
			return err
		}
		fmt.Fprintf(stderr, "resuming %s: %d epochs and %d batches done, %d steps\n", f.resume, info.Epoch, info.Batch, info.Step)
		if info.Epoch >= f.epochs {
			fmt.Fprintf(stderr, "note: %s has already trained %d epochs; raise -epochs to train more\n", f.resume, info.Epoch)
		}
	}
	return nil
}

func splitLen(s *cifar.Split) int {
	if s == nil {
		return 0
	}
	return s.Len()
}

// trainEpoch trains one epoch (or its rest), evaluates on the test split
// and saves the checkpoint; on Ctrl-C it saves where it stopped.
func trainEpoch(ctx context.Context, tr *net.Trainer, recs, testRecs net.Records, f *trainFlags, classes []string, log *jsonLog, stdout, stderr io.Writer) error {
	epoch := tr.Epoch + 1
	total := tr.EpochImages(recs.Len())
	bar := newProgress(stderr, fmt.Sprintf("epoch %d/%d", epoch, f.epochs), total)
	bar.done = min(tr.Batch*f.batch, total)
	params := tr.Net.Params()
	res, err := tr.RunEpoch(ctx, recs, func(r net.StepResult) {
		bar.add(r.N, r.Loss)
		log.write(stepLine(r, params))
	})
	bar.finish()
	if err == nil && tr.Keeper != nil {
		err = tr.Keeper.Finish() // the epoch's end, on the host
	}
	if errors.Is(err, context.Canceled) {
		if tr.Opt.Step == f.startStep {
			fmt.Fprintf(stderr, "interrupted before the first step; nothing saved\n")
			return errInterrupted
		}
		if err := tr.SaveCheckpoint(f.save, classes); err != nil {
			return fmt.Errorf("interrupted, and saving the checkpoint failed: %w", err)
		}
		fmt.Fprintf(stderr, "interrupted in epoch %d after %d batches; saved %s (continue with -resume %s)\n", epoch, tr.Batch, f.save, f.save)
		return errInterrupted
	}
	if err != nil {
		return err
	}
	line := fmt.Sprintf("epoch %d/%d  train loss %.4f  accuracy %.2f%%", epoch, f.epochs, res.Loss, 100*res.Accuracy)
	var test *net.EvalResult
	if testRecs != nil {
		ev, err := net.Evaluate(tr.B, tr.Net, testRecs, -1, f.evalBatch, norm, nil)
		if err != nil {
			return fmt.Errorf("evaluate: %w", err)
		}
		line += fmt.Sprintf("  |  test loss %.4f  accuracy %.2f%% (%d images)", ev.Loss, 100*ev.Accuracy(), ev.N)
		test = &ev
	}
	entry := epochLine(epoch, tr.Opt.Step, res, test)
	if err := tr.SaveCheckpoint(f.save, classes); err != nil {
		return fmt.Errorf("save checkpoint: %w", err)
	}
	fmt.Fprintf(stdout, "%s  |  %.0f img/s  |  saved %s\n", line, entry["images_per_s"], f.save)
	log.write(entry)
	return log.Err()
}

// warnMissingClasses says when the training images hold no image of some
// classes.
func warnMissingClasses(w io.Writer, s *cifar.Split, classes []string) {
	var missing []string
	for c, n := range s.LabelCounts(len(classes)) {
		if n == 0 {
			missing = append(missing, classes[c])
		}
	}
	if len(missing) > 0 {
		fmt.Fprintf(w, "note: the %d training images hold no %s; the test accuracy will suffer\n",
			s.Len(), strings.Join(missing, ", "))
	}
}
