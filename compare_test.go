package main

import (
	"bytes"
	"context"
	"errors"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"cifarlab/internal/app"
	"cifarlab/internal/testenv"
)

// TestCompareWritesPictureAndLogs: compare trains a residual network and
// its plain twin on real images and writes a log for each (the schema of
// train -log, gradient norms every -log-grads steps) and the picture.
func TestCompareWritesPictureAndLogs(t *testing.T) {
	exact := filepath.Join(testenv.Data(t), "exact")
	out := t.TempDir()
	code, stdout, errs := cli(t, "compare", "-models", "resnet20,plain20", "-data", filepath.Join(exact, "data_batch_1.bin"),
		"-test", filepath.Join(exact, "test_batch.bin"), "-limit", "300", "-batch", "50", "-epochs", "2", "-log-grads", "2", "-out", out)
	if code != 0 {
		t.Fatalf("compare: exit %d\n%s", code, errs)
	}
	for _, model := range []string{"resnet20", "plain20"} {
		steps, epochs := readLog(t, filepath.Join(out, model+".jsonl"))
		if len(steps) != 12 || len(epochs) != 2 {
			t.Fatalf("%s: log has %d steps and %d epochs, want 12 and 2", model, len(steps), len(epochs))
		}
		for i, s := range steps {
			norms, ok := s["grad_norms"].(map[string]any)
			if ok != ((i+1)%2 == 0) {
				t.Errorf("%s step %d: grad_norms %v, want them every 2 steps", model, i+1, ok)
			}
			if ok && (norms["conv1.weight"] == nil || norms["layer3.2.conv2.weight"] == nil || norms["fc.bias"] == nil) {
				t.Errorf("%s step %d: gradient norms lack names: %v", model, i+1, norms)
			}
		}
		if _, ok := epochs[1]["test_accuracy"].(float64); !ok {
			t.Errorf("%s: epoch line without a test accuracy: %v", model, epochs[1])
		}
		if !strings.Contains(stdout, model) {
			t.Errorf("the comparison table lacks %s:\n%s", model, stdout)
		}
	}
	f, err := os.Open(filepath.Join(out, "compare.png"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatalf("compare.png: %v", err)
	}
	if b := img.Bounds(); b.Dx() < 1000 || b.Dy() < 300 {
		t.Errorf("compare.png is %v", b)
	}
	// -replot draws the same from the logs alone, down to the table.
	if err := os.Remove(filepath.Join(out, "compare.png")); err != nil {
		t.Fatal(err)
	}
	code, again, errs := cli(t, "compare", "-replot", "-models", "resnet20,plain20", "-out", out)
	if code != 0 {
		t.Fatalf("compare -replot: exit %d\n%s", code, errs)
	}
	table := func(s string) string { return s[strings.Index(s, "network "):] }
	if table(again) != table(stdout) {
		t.Errorf("-replot's table differs from the training's:\n%s\nwant\n%s", table(again), table(stdout))
	}
	if _, err := os.Stat(filepath.Join(out, "compare.png")); err != nil {
		t.Errorf("-replot wrote no picture: %v", err)
	}
	svg, err := os.ReadFile(filepath.Join(out, "compare.svg"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"<svg", "training loss", "test accuracy", "gradient reaching each layer", "plain20"} {
		if !strings.Contains(string(svg), want) {
			t.Errorf("compare.svg lacks %q", want)
		}
	}
}

func TestCompareBadFlags(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"compare", "-models", "resnet20,vgg"}, `unknown model "vgg"`},
		{[]string{"compare", "-models", "resnet20,resnet20"}, "twice"},
		{[]string{"compare", "-models", ","}, "names no network"},
		{[]string{"compare", "-models", "lenet5-nobn"}, "lenet5 has no BatchNorm"},
		{[]string{"compare", "-log-grads", "0"}, "-log-grads 0"},
	} {
		code, _, errs := cli(t, tc.args...)
		if code != 2 || !strings.Contains(errs, tc.want) {
			t.Errorf("%v: exit %d, stderr %q; want exit 2 and %q", tc.args, code, errs, tc.want)
		}
	}
}

// A network that diverges is a result of the comparison, not its end: the
// others go on, and the table and the log say at which step it diverged.
func TestCompareGoesOnPastDivergence(t *testing.T) {
	exact := filepath.Join(testenv.Data(t), "exact")
	out := t.TempDir()
	code, stdout, errs := cli(t, "compare", "-models", "resnet20-nobn,lenet5", "-lr", "1000", "-data", filepath.Join(exact, "data_batch_1.bin"),
		"-limit", "200", "-batch", "50", "-epochs", "1", "-out", out)
	if code != 0 {
		t.Fatalf("compare: exit %d\n%s", code, errs)
	}
	if !strings.Contains(stdout, "diverged at step") || !strings.Contains(stdout, "lenet5") {
		t.Errorf("the table does not say that resnet20-nobn diverged, or lacks lenet5:\n%s", stdout)
	}
	log, err := os.ReadFile(filepath.Join(out, "resnet20-nobn.jsonl"))
	if err != nil || !strings.Contains(string(log), `"event":"diverged"`) {
		t.Errorf("resnet20-nobn's log has no diverged line (%v)", err)
	}
	if _, err := os.Stat(filepath.Join(out, "compare.png")); err != nil {
		t.Error(err)
	}
}

// Ctrl-C stops compare with exit status 130, keeping the log of the
// network in training; -replot without the logs names what is missing.
func TestCompareInterruptedAndReplotWithoutLogs(t *testing.T) {
	exact := filepath.Join(testenv.Data(t), "exact")
	out := t.TempDir()
	var o, e strings.Builder
	f, err := parseCompareFlags([]string{"-models", "lenet5,resnet20", "-data", filepath.Join(exact, "data_batch_1.bin"),
		"-limit", "100", "-batch", "50", "-out", out}, &e)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	cancel() // as Ctrl-C before the first step
	if err := compare(ctx, f, &o, &e); !errors.Is(err, errInterrupted) {
		t.Fatalf("compare after Ctrl-C returned %v, want errInterrupted", err)
	}
	if !strings.Contains(e.String(), "interrupted while lenet5 trained") {
		t.Errorf("stderr does not say what was interrupted: %q", e.String())
	}
	if log, err := os.ReadFile(filepath.Join(out, "lenet5.jsonl")); err != nil || !strings.Contains(string(log), `"event":"start"`) {
		t.Errorf("lenet5's log: %q, %v", log, err)
	}
	code, _, errs := cli(t, "compare", "-replot", "-models", "resnet56", "-out", out)
	if code != 1 || !strings.Contains(errs, "no log of resnet56 in "+out) {
		t.Errorf("-replot without a log: exit %d, %q", code, errs)
	}
}

// A run the viewer exports is in train -log's schema: compare -replot
// reads it as it reads its own logs.
func TestExportedRunReplots(t *testing.T) {
	layers, err := pathWeightNames("lenet5")
	if err != nil {
		t.Fatal(err)
	}
	rec := &app.RunRecord{Model: "lenet5", Layers: layers, NormsEvery: 1, Batch: 8, LR: 1e-3, Seed: 1}
	for s := 1; s <= 4; s++ {
		step := app.StepRecord{Step: s, Epoch: 1 + (s-1)/3, Loss: app.Num(2.5 - 0.1*float32(s)), Accuracy: 0.25}
		if s%2 == 0 {
			for range layers {
				step.GradNorms = append(step.GradNorms, app.Num(float32(s)))
			}
		}
		rec.Steps = append(rec.Steps, step)
	}
	rec.Epochs = []app.EpochRecord{{Epoch: 1, Step: 3, TrainAccuracy: 0.25, TestAccuracy: 0.125}}
	path := filepath.Join(t.TempDir(), "lenet5.jsonl")
	var buf bytes.Buffer
	if err := app.WriteJSONL(&buf, []*app.RunRecord{rec}); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	run, err := runFromLog(path, "lenet5")
	if err != nil {
		t.Fatal(err)
	}
	if len(run.Loss) != 4 || float32(run.Loss[3]) != float32(2.1) || len(run.TrainAcc) != 1 || run.TrainAcc[0] != 0.25 ||
		len(run.TestAcc) != 1 || run.TestAcc[0] != 0.125 {
		t.Errorf("replotted %+v", run)
	}
	// The geometric mean of 2 and 4.
	if len(run.LayerNorms) != len(layers) || math.Abs(run.LayerNorms[0]-math.Sqrt(8)) > 1e-6 {
		t.Errorf("layer norms %v, want √8 each", run.LayerNorms)
	}
}
