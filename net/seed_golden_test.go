package net_test

import (
	"encoding/json"
	"flag"
	"os"
	"testing"

	"cifarlab/cpu"
	"cifarlab/net"
)

var update = flag.Bool("update", false, "rewrite testdata/seed_losses.json")

// TestSeedReproducesStoredLosses: LeNet5 and ResNet18 initialised from seed
// 1 and trained a few steps on generated images reproduce the losses stored
// in testdata, so a given -seed keeps meaning the same run. The stored
// losses were written by this CPU backend itself (go test -update): they
// pin the initialisation and batch order against regressions and say
// nothing about correctness, which the golden tests check against PyTorch.
func TestSeedReproducesStoredLosses(t *testing.T) {
	const path = "testdata/seed_losses.json"
	got := map[string][]float64{}
	b := cpu.New()
	defer b.Close()
	for _, model := range []string{"lenet5", "resnet18"} {
		n, err := net.New(b, model, 10, 1)
		if err != nil {
			t.Fatal(err)
		}
		tr, err := net.NewTrainer(b, n, net.TrainConfig{Batch: 16, Shuffle: true, Augment: true, Seed: 1,
			Norm: net.Normalize{Mean: normMean, Std: normStd}}, 1e-3)
		if err != nil {
			t.Fatal(err)
		}
		recs, err := b.UploadRecords(goldenRecords(42, 48), net.InputShape)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := tr.RunEpoch(t.Context(), recs, func(r net.StepResult) { got[model] = append(got[model], r.Loss) }); err != nil {
			t.Fatal(err)
		}
		tr.Free()
		n.Free()
		b.Free(recs)
	}
	if *update {
		data, _ := json.MarshalIndent(got, "", "  ")
		if err := os.WriteFile(path, append(data, '\n'), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var want map[string][]float64
	if err := json.Unmarshal(data, &want); err != nil {
		t.Fatal(err)
	}
	for model := range got {
		g, w := got[model], want[model]
		if len(g) != len(w) || len(g) == 0 {
			t.Fatalf("%s: %d losses, stored %d", model, len(g), len(w))
		}
		for i := range w {
			if d := g[i] - w[i]; d > 1e-3*w[i] || d < -1e-3*w[i] {
				t.Errorf("%s step %d: loss %.6f, stored %.6f", model, i+1, g[i], w[i])
			}
		}
	}
}
