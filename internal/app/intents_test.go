package app_test

import (
	"bytes"
	"context"
	"errors"
	"math"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"cifarlab/cifar"
	"cifarlab/cpu"
	"cifarlab/internal/app"
	"cifarlab/net"
	"cifarlab/viz"
)

func TestIntents(t *testing.T) {
	var yields atomic.Int64
	s := start(t, app.Config{Batch: 32, Yield: func() { yields.Add(1) }}, synthetic(256, 64, 3))
	if st := s.Status(); st.Running || st.Step != 0 || st.Epoch != 1 || !math.IsNaN(st.Loss) || !math.IsNaN(st.TestAccuracy) {
		t.Fatalf("a new session: %+v", st)
	}

	s.Handle(viz.Intent{Kind: viz.Start})
	waitFor(t, s, "3 steps and a rate", func(st app.Status) bool { return st.Step >= 3 && st.Running && st.ImagesPerSec > 0 })
	s.Handle(viz.Intent{Kind: viz.Pause})
	settle(t, s)
	paused := s.Status()
	if paused.Running || paused.ImagesPerSec <= 0 || math.IsNaN(paused.Loss) {
		t.Fatalf("after Pause: %+v", paused)
	}
	time.Sleep(100 * time.Millisecond)
	if st := s.Status(); st.Step != paused.Step {
		t.Fatalf("paused at step %d, but step %d followed", paused.Step, st.Step)
	}
	if yields.Load() == 0 {
		t.Errorf("Config.Yield was never called while training")
	}

	s.Handle(viz.Intent{Kind: viz.StepOnce})
	settle(t, s)
	if st := s.Status(); st.Step != paused.Step+1 || st.Running {
		t.Fatalf("after StepOnce from step %d: step %d, running %v", paused.Step, st.Step, st.Running)
	}

	s.Handle(viz.Intent{Kind: viz.SetLR, LR: 3e-3})
	settle(t, s)
	if snap := s.Snapshot(); snap.LR != 3e-3 || s.Status().LR != 3e-3 {
		t.Errorf("after SetLR 3e-3: snapshot %v, status %v", snap.LR, s.Status().LR)
	}

	// A new batch size goes on from the same place in the epoch.
	before := s.Snapshot().EpochProgress
	s.Handle(viz.Intent{Kind: viz.SetBatch, Batch: 16})
	settle(t, s)
	snap := s.Snapshot()
	if snap.Batch != 16 || snap.EpochProgress != before {
		t.Errorf("after SetBatch 16: batch %d, epoch progress %v (was %v)", snap.Batch, snap.EpochProgress, before)
	}
	s.Handle(viz.Intent{Kind: viz.StepOnce})
	settle(t, s)
	if got := s.Snapshot().EpochProgress; math.Abs(got-before-1.0/16) > 1e-9 && got != 0 {
		t.Errorf("a step of 16 of 256 images moved the epoch from %v to %v", before, got)
	}

	first := s.Snapshot().Panels[0].Maps[0].Data
	s.Handle(viz.Intent{Kind: viz.SelectImage, Image: 3})
	settle(t, s)
	snap = s.Snapshot()
	if snap.Selected != 3 || &snap.Input.Data[0] != &snap.Strip[3].Data[0] {
		t.Fatalf("after SelectImage 3: selected %d", snap.Selected)
	}
	if equal(first, snap.Panels[0].Maps[0].Data) {
		t.Errorf("the maps did not change with the image")
	}

	// Refused values leave the settings alone and say why.
	for _, c := range []struct {
		in   viz.Intent
		want string
	}{
		{viz.Intent{Kind: viz.SetLR, LR: -1}, "learning rate"},
		{viz.Intent{Kind: viz.SetLR, LR: math.NaN()}, "learning rate"},
		{viz.Intent{Kind: viz.SetBatch, Batch: 0}, "batch size"},
		{viz.Intent{Kind: viz.SetBatch, Batch: 1 << 20}, "batch size"},
		{viz.Intent{Kind: viz.SelectImage, Image: 16}, "select image"},
		{viz.Intent{Kind: viz.SetModel, Model: "vgg"}, "unknown model"},
		{viz.Intent{Kind: viz.IntentKind(99)}, "unknown intent"},
	} {
		s.Handle(c.in)
		settle(t, s)
		st := s.Status()
		if !strings.Contains(st.Error, c.want) {
			t.Errorf("%+v: error %q, want it to mention %q", c.in, st.Error, c.want)
		}
		if st.LR != 3e-3 || st.Batch != 16 || st.Model != "lenet5" || s.Snapshot().Selected != 3 {
			t.Errorf("%+v changed the settings: %+v", c.in, st)
		}
	}

	// Reset: the seed's weights again, and no progress.
	fresh := start(t, app.Config{Batch: 32}, synthetic(256, 64, 3))
	s.Handle(viz.Intent{Kind: viz.Reset})
	settle(t, s)
	st := s.Status()
	if st.Step != 0 || len(s.Snapshot().Loss) != 0 || st.Error != "" {
		t.Fatalf("after Reset: %+v", st)
	}
	if !bytes.Equal(saveWeights(t, s), saveWeights(t, fresh)) {
		t.Errorf("after Reset the weights differ from a new session's")
	}

	s.Handle(viz.Intent{Kind: viz.SetModel, Model: "resnet18"})
	settle(t, s)
	snap = s.Snapshot()
	if snap.Model != "resnet18" || len(snap.Blocks) != 4 || snap.Step != 0 || snap.Batch != 16 {
		t.Fatalf("after SetModel resnet18: model %q, %d blocks, step %d, batch %d", snap.Model, len(snap.Blocks), snap.Step, snap.Batch)
	}
	s.Handle(viz.Intent{Kind: viz.SetBatch, Batch: 1})
	settle(t, s)
	if st := s.Status(); st.Batch != 16 || !strings.Contains(st.Error, "BatchNorm") {
		t.Errorf("resnet18 with a batch of 1: %+v", st)
	}
	s.Handle(viz.Intent{Kind: viz.StepOnce})
	settle(t, s)
	if st := s.Status(); st.Step != 1 || st.Error != "" {
		t.Errorf("a step of resnet18: %+v", st)
	}
}

func equal(a, b []float32) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// TestStartBeforeData: a Start sent before the dataset arrives (the page's
// autostart) trains as soon as it does.
func TestStartBeforeData(t *testing.T) {
	s := app.New(app.Config{Batch: 32})
	if st := s.Status(); st.Ready || !strings.Contains(st.Notice, "waiting for the backend") {
		t.Fatalf("a new session: %+v", st)
	}
	run(t, s)
	s.Handle(viz.Intent{Kind: viz.StepOnce}) // waits for the data
	s.Handle(viz.Intent{Kind: viz.SelectImage, Image: 2})
	s.Handle(viz.Intent{Kind: viz.Start})
	s.SetBackend(cpu.New(), "slow, as a test")
	settle(t, s)
	if st := s.Status(); st.Ready || !strings.Contains(st.Notice, "waiting for a dataset") || !strings.Contains(st.Notice, "slow, as a test") {
		t.Fatalf("without data: %+v", st)
	}
	s.SetNotice("downloading 50%")
	if st := s.Status(); !strings.Contains(st.Notice, "downloading 50%") {
		t.Fatalf("SetNotice: %q", st.Notice)
	}
	s.Fail(errors.New("the server's dataset is broken"))
	if st := s.Status(); st.Error != "the server's dataset is broken" {
		t.Fatalf("Fail: %q", st.Error)
	}
	s.SetNotice("")
	s.SetData(synthetic(64, 16, 4))
	st := waitFor(t, s, "training", func(st app.Status) bool { return st.Step >= 2 })
	if s.Snapshot().Selected != 2 {
		t.Errorf("a SelectImage sent before the data was lost")
	}
	if st.Error != "the server's dataset is broken" || strings.Contains(st.Notice, "downloading") {
		t.Errorf("the embedding program's error should stay and its notice go: %+v", st)
	}
	s.Fail(nil)
	if st := s.Status(); st.Error != "" {
		t.Errorf("Fail(nil) left error %q", st.Error)
	}
}

func TestEpochsAndEvaluation(t *testing.T) {
	s := start(t, app.Config{Batch: 50, EvalLimit: 30}, synthetic(100, 64, 5))
	s.Handle(viz.Intent{Kind: viz.Start})
	waitFor(t, s, "3 epochs", func(st app.Status) bool { return st.Epoch >= 4 })
	s.Handle(viz.Intent{Kind: viz.Pause})
	settle(t, s)
	snap := s.Snapshot()
	// Each epoch of 100 images is 2 steps; its evaluation may still run.
	if len(snap.TrainAcc) < 3 || len(snap.TestAcc) < 2 || len(snap.TestAcc) > len(snap.TrainAcc) {
		t.Fatalf("%d train and %d test accuracies after epoch %d", len(snap.TrainAcc), len(snap.TestAcc), snap.Epoch)
	}
	for _, a := range append(snap.TrainAcc, snap.TestAcc...) {
		if !(a >= 0 && a <= 1) {
			t.Fatalf("accuracy %v", a)
		}
	}
	if !strings.Contains(snap.Notice, "test accuracy on 30 of the 64 test images") {
		t.Errorf("notice %q does not say the evaluation is on a part of the test split", snap.Notice)
	}
	st := s.Status()
	if st.Step != 2*(st.Epoch-1)+int(st.EpochProgress*2) || math.IsNaN(st.TestAccuracy) || math.IsNaN(st.TrainAccuracy) {
		t.Errorf("status %+v", st)
	}
}

// TestOnlySplit: a single .bin has no test split: the strip comes from the
// training images, and there is no test accuracy.
func TestOnlySplit(t *testing.T) {
	ds := synthetic(64, 0, 6)
	ds.Only, ds.Train, ds.Test = ds.Train, nil, nil
	s := start(t, app.Config{Batch: 32, Limit: 40}, ds)
	s.Handle(viz.Intent{Kind: viz.Start})
	waitFor(t, s, "2 epochs", func(st app.Status) bool { return st.Epoch >= 3 })
	s.Handle(viz.Intent{Kind: viz.Pause})
	settle(t, s)
	snap, st := s.Snapshot(), s.Status()
	if len(snap.TestAcc) != 0 || len(snap.Strip) != 16 || st.TrainImages != 40 || st.TestImages != 0 {
		t.Errorf("%d test accuracies, strip of %d; status %+v", len(snap.TestAcc), len(snap.Strip), st)
	}
	for _, want := range []string{"no test split", "training on 40 of 64 images, taken from the classes in turn"} {
		if !strings.Contains(snap.Notice, want) {
			t.Errorf("notice %q lacks %q", snap.Notice, want)
		}
	}
}

func TestSaveLoad(t *testing.T) {
	saved := make(chan []byte, 1)
	var name string
	s := start(t, app.Config{Batch: 32, OnSave: func(n string, data []byte) { name = n; saved <- data }}, synthetic(128, 32, 7))
	for i := 0; i < 3; i++ {
		s.Handle(viz.Intent{Kind: viz.StepOnce})
	}
	s.Handle(viz.Intent{Kind: viz.Save})
	var data []byte
	select {
	case data = <-saved:
	case <-time.After(time.Minute):
		t.Fatal("Save handed nothing to OnSave")
	}
	if name != "lenet5-step3.safetensors" {
		t.Errorf("saved as %q", name)
	}
	if !bytes.Equal(data, saveWeights(t, s)) {
		t.Errorf("Save and SaveWeights differ")
	}
	path := filepath.Join(t.TempDir(), "w.safetensors")
	s.Handle(viz.Intent{Kind: viz.Save, Path: path})
	settle(t, s)
	if onDisk, err := os.ReadFile(path); err != nil || !bytes.Equal(onDisk, data) {
		t.Fatalf("Save to a path: %v (%d bytes, want %d)", err, len(onDisk), len(data))
	}
	if !strings.Contains(s.Status().Notice, "saved "+path) {
		t.Errorf("notice %q", s.Status().Notice)
	}

	// Another session, loading the bytes (browser) and the file (desktop).
	for _, in := range []viz.Intent{{Kind: viz.Load, Data: data, Path: "picked.safetensors"}, {Kind: viz.Load, Path: path}} {
		o := start(t, app.Config{Batch: 32, Seed: 5}, synthetic(128, 32, 7))
		o.Handle(viz.Intent{Kind: viz.SetModel, Model: "resnet18"})
		o.Handle(in)
		settle(t, o)
		st := o.Status()
		if st.Error != "" || st.Model != "lenet5" || st.Step != 0 {
			t.Fatalf("after loading lenet5 weights into a resnet18 session: %+v", st)
		}
		if !strings.Contains(st.Notice, "trained for 3 steps") {
			t.Errorf("notice %q", st.Notice)
		}
		sameTensors(t, data, saveWeights(t, o))
		if !equal(o.Snapshot().Probs, s.Snapshot().Probs) {
			t.Errorf("the loaded network predicts %v, the saved one %v", o.Snapshot().Probs, s.Snapshot().Probs)
		}
	}
}

// sameTensors checks that two weights files hold the same tensors.
func sameTensors(t *testing.T, a, b []byte) {
	t.Helper()
	wa, err := net.DecodeWeights(bytes.NewReader(a), int64(len(a)))
	if err != nil {
		t.Fatal(err)
	}
	wb, err := net.DecodeWeights(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	if len(wa.Entries) != len(wb.Entries) {
		t.Fatalf("%d tensors, %d", len(wa.Entries), len(wb.Entries))
	}
	for name, e := range wa.Entries {
		f := wb.Entries[name]
		if !equal(e.Float, f.Float) || len(e.Int) != len(f.Int) {
			t.Fatalf("%s differs", name)
		}
	}
}

func TestBadWeights(t *testing.T) {
	s := start(t, app.Config{Batch: 32}, synthetic(128, 32, 8))
	good := saveWeights(t, s)

	// Weights of a 5-class LeNet5.
	b := cpu.New()
	n5, err := net.New(b, "lenet5", 5, 1)
	if err != nil {
		t.Fatal(err)
	}
	var five bytes.Buffer
	if err := n5.EncodeWeights(&five, net.CheckpointInfo{}); err != nil {
		t.Fatal(err)
	}

	for _, c := range []struct {
		name string
		in   viz.Intent
		want string
	}{
		{"garbage", viz.Intent{Kind: viz.Load, Data: []byte("not a safetensors file"), Path: "junk.safetensors"}, "junk.safetensors"},
		{"truncated", viz.Intent{Kind: viz.Load, Data: good[:len(good)/2], Path: "half.safetensors"}, "half.safetensors"},
		{"five classes", viz.Intent{Kind: viz.Load, Data: five.Bytes(), Path: "five.safetensors"}, "5 outputs, but the dataset has 10 classes"},
		{"no file", viz.Intent{Kind: viz.Load}, "no weights file"},
		{"missing file", viz.Intent{Kind: viz.Load, Path: filepath.Join(t.TempDir(), "none.safetensors")}, "none.safetensors"},
	} {
		s.Handle(c.in)
		settle(t, s)
		st := s.Status()
		if !strings.Contains(st.Error, "load weights") || !strings.Contains(st.Error, c.want) {
			t.Errorf("%s: error %q, want it to mention loading and %q", c.name, st.Error, c.want)
		}
		if !bytes.Equal(saveWeights(t, s), good) {
			t.Fatalf("%s: a refused file changed the weights", c.name)
		}
	}
	// The session goes on; a successful action clears the error.
	s.Handle(viz.Intent{Kind: viz.StepOnce})
	settle(t, s)
	if st := s.Status(); st.Step != 1 || st.Error != "" {
		t.Errorf("after the failures, a step: %+v", st)
	}
}

// TestLossFallsOnRealData trains LeNet5 on 500 real CIFAR-10 images.
func TestLossFallsOnRealData(t *testing.T) {
	ds, err := cifar.Open(filepath.Join(testenvData(t), "exact"))
	if err != nil {
		t.Fatal(err)
	}
	s := start(t, app.Config{Batch: 50, Limit: 500, EvalLimit: 500, LR: 2e-3}, ds)
	s.Handle(viz.Intent{Kind: viz.Start})
	waitFor(t, s, "5 epochs", func(st app.Status) bool { return st.Epoch > 5 })
	s.Handle(viz.Intent{Kind: viz.Pause})
	settle(t, s)
	snap := s.Snapshot()
	loss := snap.Loss
	if len(loss) < 50 {
		t.Fatalf("%d losses after 5 epochs of 10 steps", len(loss))
	}
	mean := func(v []float32) float64 {
		var s float64
		for _, x := range v {
			s += float64(x)
		}
		return s / float64(len(v))
	}
	first, last := mean(loss[:5]), mean(loss[len(loss)-10:])
	t.Logf("loss %.3f → %.3f over %d steps; train accuracy %v, test accuracy %v (%d images)", first, last, len(loss), snap.TrainAcc, snap.TestAcc, 500)
	if !(last < first-0.15) {
		t.Errorf("the loss did not fall: %.3f over the first 5 steps, %.3f over the last 10", first, last)
	}
	if len(snap.TestAcc) == 0 || snap.TestAcc[len(snap.TestAcc)-1] < 0.15 {
		t.Errorf("test accuracy %v after 5 epochs", snap.TestAcc)
	}
}

// TestFeed: a viewer that takes a snapshot now and then gets the latest,
// and its intents get through Serve.
func TestFeed(t *testing.T) {
	s := start(t, app.Config{Batch: 32}, synthetic(128, 32, 12))
	ch := make(chan *viz.Snapshot, 1)
	intents := make(chan viz.Intent)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go s.Feed(ctx, ch)
	go s.Serve(ctx, intents)
	intents <- viz.Intent{Kind: viz.Start}
	last := -1
	for i := 0; i < 5; i++ {
		time.Sleep(50 * time.Millisecond)
		select {
		case snap := <-ch:
			if snap.Step < last {
				t.Fatalf("snapshot of step %d after step %d", snap.Step, last)
			}
			last = snap.Step
		case <-time.After(10 * time.Second):
			t.Fatal("no snapshot")
		}
	}
	if last < 1 {
		t.Errorf("the snapshots fed show no training (step %d)", last)
	}
}

// Limit takes the images from the classes in turn, so that a dataset
// ordered by class (an image folder) keeps every class.
func TestLimitKeepsEveryClass(t *testing.T) {
	ds := synthetic(200, 20, 9)
	recs := ds.Train.Records
	var sorted []byte
	for c := byte(0); c < 10; c++ {
		for i := 0; i < len(recs)/cifar.RecordSize; i++ {
			if r := recs[i*cifar.RecordSize : (i+1)*cifar.RecordSize]; r[0] == c {
				sorted = append(sorted, r...)
			}
		}
	}
	ds.Train.Records = sorted
	s := start(t, app.Config{Batch: 10, Limit: 20}, ds)
	if n := s.Snapshot().Notice; !strings.Contains(n, "training on 20 of 200 images") || strings.Contains(n, "hold no") {
		t.Errorf("notice %q", n)
	}
}
