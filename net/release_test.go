package net_test

import (
	"testing"

	"cifarlab/cpu"
	"cifarlab/net"
)

// TestReleaseKeepsTraining trains two copies of each network the same way,
// one of them releasing its batch-sized tensors before every step (as a
// change of batch size does): the losses are the same, bit for bit.
func TestReleaseKeepsTraining(t *testing.T) {
	for _, model := range []string{"lenet5", "resnet20"} {
		t.Run(model, func(t *testing.T) {
			b := cpu.New()
			defer b.Close()
			recs, err := b.UploadRecords(goldenRecords(5, 16), net.InputShape)
			if err != nil {
				t.Fatal(err)
			}
			losses := func(release bool) []float64 {
				n, err := net.New(b, model, 10, 1)
				if err != nil {
					t.Fatal(err)
				}
				defer n.Free()
				tr, err := net.NewTrainer(b, n, net.TrainConfig{Batch: 4, Norm: net.Normalize{Mean: normMean, Std: normStd}}, 1e-3)
				if err != nil {
					t.Fatal(err)
				}
				defer tr.Free()
				var out []float64
				for s := range 4 {
					if release {
						tr.Release()
					}
					r, err := tr.Step(recs, []int32{int32(4 * s), int32(4*s + 1), int32(4*s + 2), int32(4*s + 3)}, nil)
					if err != nil {
						t.Fatal(err)
					}
					out = append(out, r.Loss)
				}
				return out
			}
			kept, released := losses(false), losses(true)
			for i := range kept {
				if kept[i] != released[i] {
					t.Errorf("step %d: loss %v with the tensors kept, %v released before each step", i+1, kept[i], released[i])
				}
			}
		})
	}
}
