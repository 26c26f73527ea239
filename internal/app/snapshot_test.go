package app_test

import (
	"fmt"
	"math"
	"strings"
	"testing"

	"cifarlab/cifar"
	"cifarlab/cpu"
	"cifarlab/internal/app"
	"cifarlab/net"
	"cifarlab/viz"
)

// checkMaps checks that a panel holds c maps of h×w single values.
func checkMaps(t *testing.T, p viz.Panel, c, h, w int) {
	t.Helper()
	if len(p.Maps) != c {
		t.Fatalf("%s: %d maps, want %d", p.Title, len(p.Maps), c)
	}
	for i, m := range p.Maps {
		if m.C != 1 || m.H != h || m.W != w || len(m.Data) != h*w {
			t.Fatalf("%s: map %d is %d×%d×%d with %d values, want 1×%d×%d", p.Title, i, m.C, m.H, m.W, len(m.Data), h, w)
		}
	}
	if p.Title == "" || p.Note == "" {
		t.Errorf("panel %+v has no title or note", p.Title)
	}
}

func checkTiles(t *testing.T, p viz.Panel, n, k int) {
	t.Helper()
	if len(p.Maps) != n {
		t.Fatalf("%s: %d filters, want %d", p.Title, len(p.Maps), n)
	}
	for i, m := range p.Maps {
		if m.C != 3 || m.H != k || m.W != k || len(m.Data) != 3*k*k {
			t.Fatalf("filter %d is %d×%d×%d, want 3×%d×%d", i, m.C, m.H, m.W, k, k)
		}
		lo, hi := float32(math.Inf(1)), float32(math.Inf(-1))
		for _, v := range m.Data {
			lo, hi = min(lo, v), max(hi, v)
		}
		if lo != 0 || hi != 1 {
			t.Fatalf("filter %d spans [%v, %v], want each filter scaled to [0, 1]", i, lo, hi)
		}
	}
}

func checkProbs(t *testing.T, snap *viz.Snapshot) {
	t.Helper()
	if len(snap.Probs) != 10 {
		t.Fatalf("%d probabilities, want 10", len(snap.Probs))
	}
	var sum float64
	for _, p := range snap.Probs {
		sum += float64(p)
	}
	if math.Abs(sum-1) > 1e-5 {
		t.Errorf("probabilities sum to %v", sum)
	}
}

func checkStrip(t *testing.T, snap *viz.Snapshot, n int) {
	t.Helper()
	if len(snap.Strip) != n {
		t.Fatalf("strip of %d images, want %d", len(snap.Strip), n)
	}
	for i, m := range snap.Strip {
		if m.C != 3 || m.H != 32 || m.W != 32 || len(m.Data) != 3*32*32 {
			t.Fatalf("strip image %d is %d×%d×%d", i, m.C, m.H, m.W)
		}
	}
	in := snap.Strip[snap.Selected]
	if &snap.Input.Data[0] != &in.Data[0] {
		t.Errorf("the input is not strip image %d", snap.Selected)
	}
	if snap.Label < 0 || snap.Classes[snap.Label] != in.Title {
		t.Errorf("label %d, strip image titled %q", snap.Label, in.Title)
	}
}

// reference runs an independent eval-mode forward of the snapshot's input
// through a network with the session's weights, on a backend of its own,
// and returns the network.
func reference(t *testing.T, s *app.Session, model string) *net.Network {
	t.Helper()
	data := saveWeights(t, s)
	b := cpu.New()
	n, err := net.New(b, model, 10, 99)
	if err != nil {
		t.Fatal(err)
	}
	w, err := net.DecodeWeights(bytesReader(data), int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	if err := n.Load(w); err != nil {
		t.Fatal(err)
	}
	in := s.Snapshot().Input
	x := make([]float32, len(in.Data))
	for c := 0; c < 3; c++ {
		for p := 0; p < cifar.PlaneSize; p++ {
			i := c*cifar.PlaneSize + p
			x[i] = (in.Data[i] - cifar.Mean[c]) / cifar.Std[c]
		}
	}
	xt := b.NewTensor(net.Shape{1, 3, 32, 32})
	b.Upload(xt, x)
	n.Forward(xt, false)
	return n
}

// sameValues compares a panel's maps with a [1,C,H,W] tensor.
func sameValues(t *testing.T, what string, maps []viz.Map, n *net.Network, tensor net.Tensor) {
	t.Helper()
	want := make([]float32, tensor.Shape().Len())
	if err := n.B.Download(want, tensor); err != nil {
		t.Fatal(err)
	}
	var got []float32
	for _, m := range maps {
		got = append(got, m.Data...)
	}
	if len(got) != len(want) {
		t.Fatalf("%s: %d values, want %d", what, len(got), len(want))
	}
	for i := range got {
		if d := math.Abs(float64(got[i] - want[i])); d > 1e-4+1e-4*math.Abs(float64(want[i])) {
			t.Fatalf("%s: value %d is %v, an independent forward gives %v", what, i, got[i], want[i])
		}
	}
}

func TestLeNet5Snapshot(t *testing.T) {
	s := start(t, app.Config{Batch: 32}, synthetic(128, 40, 1))
	s.Handle(viz.Intent{Kind: viz.StepOnce})
	s.Handle(viz.Intent{Kind: viz.StepOnce})
	s.Handle(viz.Intent{Kind: viz.SelectImage, Image: 5})
	settle(t, s)
	snap := s.Snapshot()
	if snap.Model != "lenet5" || snap.Step != 2 || len(snap.Loss) != 2 || len(snap.LossStep) != 2 || snap.Backend == "" {
		t.Fatalf("snapshot: model %q, step %d, %d losses, backend %q", snap.Model, snap.Step, len(snap.Loss), snap.Backend)
	}
	if len(snap.Panels) != 4 || len(snap.Blocks) != 0 || len(snap.FC) != 3 {
		t.Fatalf("%d panels, %d blocks, %d bars; want 4, 0, 3", len(snap.Panels), len(snap.Blocks), len(snap.FC))
	}
	checkMaps(t, snap.Panels[0], 6, 28, 28)
	checkMaps(t, snap.Panels[1], 6, 14, 14)
	checkMaps(t, snap.Panels[2], 16, 10, 10)
	checkMaps(t, snap.Panels[3], 16, 5, 5)
	for i, want := range []int{120, 84, 10} {
		if got := len(snap.FC[i].Values); got != want {
			t.Errorf("bars %q: %d values, want %d", snap.FC[i].Title, got, want)
		}
	}
	if len(snap.FC[2].Labels) != 10 || snap.FC[2].Labels[3] != "cat" {
		t.Errorf("logits labelled %v", snap.FC[2].Labels)
	}
	for _, v := range snap.FC[0].Values {
		if v < 0 {
			t.Fatalf("fc1 after ReLU holds %v", v)
		}
	}
	checkTiles(t, snap.Filters, 6, 5)
	checkProbs(t, snap)
	checkStrip(t, snap, 16)
	if snap.Selected != 5 {
		t.Errorf("selected %d, want 5", snap.Selected)
	}

	n := reference(t, s, "lenet5")
	for i, name := range []string{"conv_unit.0", "conv_unit.1", "conv_unit.2", "conv_unit.3"} {
		sameValues(t, name, snap.Panels[i].Maps, n, n.Find(name).Output())
	}
	for i, name := range []string{"fc_unit.1", "fc_unit.3", "fc_unit.4"} {
		sameValues(t, name, []viz.Map{{Data: snap.FC[i].Values}}, n, n.Find(name).Output())
	}
}

func TestResNet18Snapshot(t *testing.T) {
	s := start(t, app.Config{Model: "resnet18", Batch: 8, StripSize: 4}, synthetic(16, 8, 2))
	s.Handle(viz.Intent{Kind: viz.StepOnce})
	s.Handle(viz.Intent{Kind: viz.SelectImage, Image: 2})
	settle(t, s)
	snap := s.Snapshot()
	if snap.Model != "resnet18" || snap.Step != 1 {
		t.Fatalf("model %q step %d", snap.Model, snap.Step)
	}
	if len(snap.Panels) != 1 || len(snap.Blocks) != 4 || len(snap.FC) != 1 {
		t.Fatalf("%d panels, %d blocks, %d bars; want 1, 4, 1", len(snap.Panels), len(snap.Blocks), len(snap.FC))
	}
	checkMaps(t, snap.Panels[0], 64, 10, 10)
	n := reference(t, s, "resnet18")
	sameValues(t, "stem", snap.Panels[0].Maps, n, n.Find("relu").Output())
	for i, want := range []struct {
		title   string
		c, h, w int
	}{{"blk1 (64→128, stride 2)", 128, 5, 5}, {"blk2 (128→256, stride 2)", 256, 3, 3},
		{"blk3 (256→512, stride 2)", 512, 2, 2}, {"blk4 (512→512, stride 2)", 512, 1, 1}} {
		b := snap.Blocks[i]
		if b.Title != want.title || !b.Projection {
			t.Errorf("block %d: %q projection %v, want %q with a projection", i, b.Title, b.Projection, want.title)
		}
		for _, p := range []viz.Panel{b.Main, b.Shortcut, b.Sum} {
			checkMaps(t, p, want.c, want.h, want.w)
		}
		// The sum is the main path plus the shortcut, value by value.
		for c := range b.Sum.Maps {
			for j, v := range b.Sum.Maps[c].Data {
				if d := v - b.Main.Maps[c].Data[j] - b.Shortcut.Maps[c].Data[j]; math.Abs(float64(d)) > 1e-5 {
					t.Fatalf("%s channel %d: sum %v ≠ main + shortcut", b.Title, c, v)
				}
			}
		}
		r := n.Find(fmt.Sprintf("blk%d", i+1)).(*net.ResBlk)
		sameValues(t, b.Title+" main", b.Main.Maps, n, r.Main())
		sameValues(t, b.Title+" shortcut", b.Shortcut.Maps, n, r.Shortcut())
		sameValues(t, b.Title+" sum", b.Sum.Maps, n, r.Output())
	}
	checkTiles(t, snap.Filters, 64, 3)
	checkProbs(t, snap)
	checkStrip(t, snap, 4)
	sameValues(t, "logits", []viz.Map{{Data: snap.FC[0].Values}}, n, n.Find("outlayer").Output())
}

// The gradient view of a He et al. network: one norm per layer of the
// main path after each step, the first, middle and last layer's over the
// steps; and the plain twin's blocks show no shortcut.
func TestGradientFlowSnapshot(t *testing.T) {
	for _, model := range []string{"resnet20", "plain20-nobn"} {
		t.Run(model, func(t *testing.T) {
			s := start(t, app.Config{Model: model, Batch: 8, StripSize: 4}, synthetic(16, 8, 2))
			for range 3 {
				s.Handle(viz.Intent{Kind: viz.StepOnce})
			}
			settle(t, s)
			snap := s.Snapshot()
			g := snap.Grads
			if snap.Step != 3 || g.Step != 3 || len(g.Layers) != 20 || len(g.Norms) != 20 {
				t.Fatalf("step %d: gradient view of step %d with %d layers, %d norms; want step 3, 20 layers",
					snap.Step, g.Step, len(g.Layers), len(g.Norms))
			}
			if g.Layers[0] != "conv1.weight" || g.Layers[10] != "layer2.1.conv2.weight" || g.Layers[19] != "fc.weight" {
				t.Errorf("layers %v", g.Layers)
			}
			for i, v := range g.Norms {
				if !(v > 0) {
					t.Errorf("%s: gradient norm %v", g.Layers[i], v)
				}
			}
			if len(g.Steps) != 3 || g.Steps[2] != 3 || g.Last[2] != g.Norms[19] || g.First[2] != g.Norms[0] || g.Middle[2] != g.Norms[10] {
				t.Errorf("history: steps %v first %v middle %v last %v; last norms %v", g.Steps, g.First, g.Middle, g.Last, g.Norms)
			}
			if len(g.Blocks) != 9 || len(g.BlockSum) != 9 || len(g.BlockMain) != 9 || g.Blocks[3] != "layer2.0" {
				t.Fatalf("block gradients: %v %v %v", g.Blocks, g.BlockSum, g.BlockMain)
			}
			for k := range g.Blocks {
				if !(g.BlockSum[k] > 0) || !(g.BlockMain[k] > 0) {
					t.Errorf("%s: gradient arriving %v, through the main path %v", g.Blocks[k], g.BlockSum[k], g.BlockMain[k])
				}
			}
			if len(snap.Blocks) != 9 {
				t.Fatalf("%d blocks, want 9", len(snap.Blocks))
			}
			plain := model == "plain20-nobn"
			if g.Plain != plain {
				t.Errorf("gradient view says plain: %v", g.Plain)
			}
			for _, b := range snap.Blocks {
				if (b.Shortcut.Maps == nil) != plain {
					t.Errorf("%s: shortcut maps %d", b.Title, len(b.Shortcut.Maps))
				}
			}
		})
	}
}

// A run that trained is kept when the model changes, for the charts to
// compare with, until it is forgotten.
func TestEarlierRuns(t *testing.T) {
	s := start(t, app.Config{Model: "lenet5", Batch: 8, StripSize: 4}, synthetic(16, 8, 2))
	s.Handle(viz.Intent{Kind: viz.SetModel, Model: "resnet20"}) // nothing trained yet: no run kept
	for range 2 {
		s.Handle(viz.Intent{Kind: viz.StepOnce})
	}
	s.Handle(viz.Intent{Kind: viz.SetModel, Model: "plain20"})
	s.Handle(viz.Intent{Kind: viz.StepOnce})
	s.Handle(viz.Intent{Kind: viz.Reset})
	settle(t, s)
	runs := s.Snapshot().Runs
	if len(runs) != 2 || runs[0].Short != "ResNet-20" || runs[1].Short != "plain-20" ||
		len(runs[0].Loss) != 2 || runs[0].LossStep[1] != 2 || len(runs[1].Loss) != 1 || runs[0].ID == runs[1].ID {
		t.Fatalf("earlier runs %+v, want resnet20's 2 steps then plain20's 1", runs)
	}
	if !strings.Contains(runs[0].Name, "lr 0.001") || !strings.Contains(runs[0].Name, "batch 8") {
		t.Errorf("run name %q", runs[0].Name)
	}
	s.Handle(viz.Intent{Kind: viz.ForgetRun, Run: runs[0].ID})
	settle(t, s)
	if got := s.Snapshot().Runs; len(got) != 1 || got[0].ID != runs[1].ID {
		t.Errorf("after forgetting the first: %+v", got)
	}
}
