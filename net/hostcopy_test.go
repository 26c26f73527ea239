package net_test

import (
	"bytes"
	"testing"

	"cifarlab/cpu"
	"cifarlab/net"
)

// TestHostCopyRestores keeps a host copy while a network trains, restores
// it on another backend into a network of other weights, and trains both
// on: the losses agree bit for bit, and the copy's weights file is the
// network's.
func TestHostCopyRestores(t *testing.T) {
	for _, model := range []string{"lenet5", "resnet20"} {
		t.Run(model, func(t *testing.T) {
			data := goldenRecords(11, 24)
			norm := net.Normalize{Mean: normMean, Std: normStd}
			trainer := func(seed uint64) (net.Backend, net.Records, *net.Trainer) {
				b := cpu.New()
				t.Cleanup(func() { b.Close() })
				recs, err := b.UploadRecords(data, net.InputShape)
				if err != nil {
					t.Fatal(err)
				}
				n, err := net.New(b, model, 10, seed)
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(n.Free)
				tr, err := net.NewTrainer(b, n, net.TrainConfig{Batch: 4, Norm: norm}, 1e-3)
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(tr.Free)
				return b, recs, tr
			}
			step := func(tr *net.Trainer, recs net.Records, s int) float64 {
				r, err := tr.Step(recs, []int32{int32(4 * s), int32(4*s + 1), int32(4*s + 2), int32(4*s + 3)}, nil)
				if err != nil {
					t.Fatal(err)
				}
				tr.Batch++
				return r.Loss
			}
			_, recs, a := trainer(1)
			a.Keeper = net.NewHostKeeper(0)
			for s := range 3 {
				step(a, recs, s)
			}
			if err := a.Keeper.Finish(); err != nil {
				t.Fatal(err)
			}
			c := a.Keeper.Copy()
			if c == nil || c.Step != 3 || c.Batch != 3 {
				t.Fatalf("copy after 3 steps: %+v", c)
			}
			var fromDevice, fromCopy bytes.Buffer
			if err := a.Net.EncodeWeights(&fromDevice, net.CheckpointInfo{Classes: []string{"x"}, Batch: 3, Step: 3}); err != nil {
				t.Fatal(err)
			}
			if err := c.EncodeWeights(&fromCopy, []string{"x"}); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(fromDevice.Bytes(), fromCopy.Bytes()) {
				t.Errorf("the copy's weights file differs from the network's")
			}
			_, recsB, b := trainer(2)
			if err := b.Restore(c); err != nil {
				t.Fatal(err)
			}
			if b.Opt.Step != 3 || b.Batch != 3 {
				t.Fatalf("restored trainer at step %d, batch %d", b.Opt.Step, b.Batch)
			}
			for s := 3; s < 6; s++ {
				if la, lb := step(a, recs, s), step(b, recsB, s); la != lb {
					t.Errorf("step %d: loss %v trained on, %v restored from the copy", s+1, la, lb)
				}
			}
		})
	}
}
