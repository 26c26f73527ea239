package net_test

import (
	"math"
	"strings"
	"testing"

	"cifarlab/cpu"
	"cifarlab/net"
)

// RunEpoch reads the gradient norms back with the losses, several steps
// at a time: the steps GradNormsEvery selects get the same norms as when
// stepped one by one (and read back at once), the others none.
func TestGradNormsTravelWithTheLoss(t *testing.T) {
	b := cpu.New()
	defer b.Close()
	const batch, steps = 8, 7
	recs, err := b.UploadRecords(goldenRecords(9, batch*steps), net.InputShape)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Free(recs)
	run := func(statsEvery int, byStep bool) []net.StepResult {
		n, err := net.New(b, "resnet20", 10, 3)
		if err != nil {
			t.Fatal(err)
		}
		defer n.Free()
		tr, err := net.NewTrainer(b, n, net.TrainConfig{Batch: batch, Norm: net.Normalize{Mean: normMean, Std: normStd},
			StatsEvery: statsEvery, GradNormsEvery: 3}, 1e-3)
		if err != nil {
			t.Fatal(err)
		}
		defer tr.Free()
		var out []net.StepResult
		if !byStep {
			if _, err := tr.RunEpoch(t.Context(), recs, func(r net.StepResult) { out = append(out, r) }); err != nil {
				t.Fatal(err)
			}
			return out
		}
		order, _ := tr.Plan(1, recs.Len())
		for s := 0; s < steps; s++ {
			r, err := tr.Step(recs, order[s*batch:(s+1)*batch], nil)
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, r)
		}
		return out
	}
	want, got := run(1, true), run(4, false)
	if len(got) != steps {
		t.Fatalf("%d steps reported, want %d", len(got), steps)
	}
	np := len(want[2].GradNorms)
	// resnet20: 19 convolutions (weights only), 19 BatchNorms (weight and
	// bias), 2 projection shortcuts (a weight and a BatchNorm's 2), fc (2).
	if np != 65 {
		t.Errorf("%d gradient norms, want one per parameter tensor (65)", np)
	}
	for s := range want {
		if (got[s].GradNorms != nil) != (got[s].Step%3 == 0) {
			t.Fatalf("step %d: gradient norms %v, want them every 3 steps", got[s].Step, got[s].GradNorms != nil)
		}
		for i, w := range want[s].GradNorms {
			if g := got[s].GradNorms[i]; math.Abs(g-w) > 1e-6*w || !(w > 0) {
				t.Errorf("step %d parameter %d: norm %g read back with the epoch's losses, %g stepped alone", got[s].Step, i, g, w)
			}
		}
	}
}

// A residual network and its plain twin have the same main-path weights,
// one per layer of depth.
func TestPathWeightsOnePerLayer(t *testing.T) {
	b := cpu.New()
	defer b.Close()
	for _, c := range []struct {
		model       string
		depth       int
		first, last string
	}{
		{"resnet20", 20, "conv1.weight", "fc.weight"},
		{"plain20", 20, "conv1.weight", "fc.weight"},
		{"resnet56-nobn", 56, "conv1.weight", "fc.weight"},
		{"resnet18", 10, "conv1.0.weight", "outlayer.weight"},
		{"resnet18-plain", 10, "conv1.0.weight", "outlayer.weight"},
		{"lenet5", 5, "conv_unit.0.weight", "fc_unit.4.weight"},
	} {
		n, err := net.New(b, c.model, 10, 1)
		if err != nil {
			t.Fatal(err)
		}
		w := n.PathWeights()
		spec, _, _ := net.ParseModel(c.model)
		if len(w) != c.depth || spec.Depth != c.depth || w[0].Name != c.first || w[len(w)-1].Name != c.last {
			t.Errorf("%s: %d path weights from %s to %s (spec depth %d), want %d from %s to %s",
				c.model, len(w), w[0].Name, w[len(w)-1].Name, spec.Depth, c.depth, c.first, c.last)
		}
		for _, p := range w {
			if strings.Contains(p.Name, "shortcut") || strings.Contains(p.Name, "extra") {
				t.Errorf("%s: path weight %s is a shortcut's", c.model, p.Name)
			}
		}
		n.Free()
	}
}
