package net_test

import (
	"fmt"
	"math"
	"testing"

	"cifarlab/cpu"
	"cifarlab/net"
)

// unfused hides a backend's fused batch norm and ReLU
// (net.BatchNormReLUBackend), so that networks run the two ops apart.
type unfused struct{ net.Backend }

// TestFusedBatchNormReLU trains a step of resnet20 (whose blocks end in
// ReLU(bn2 + shortcut), one fused op, net.BatchNormAddReLUBackend), plain20
// (whose blocks' last batch norm pairs with the ReLU after the block) and
// ResNet18 (whose stem's batch norm ends a Sequential) on the CPU backend
// with those ops fused and apart: the loss, every gradient, the block
// gradient norms and the running statistics must be the same bits.
func TestFusedBatchNormReLU(t *testing.T) {
	for _, model := range []string{"resnet20", "plain20", "resnet18"} {
		t.Run(model, func(t *testing.T) { testFused(t, model) })
	}
}

func testFused(t *testing.T, model string) {
	const batch = 8
	run := func(b net.Backend) (float64, map[string][]float32) {
		n, err := net.New(b, model, 10, 1)
		if err != nil {
			t.Fatal(err)
		}
		defer n.Free()
		recs, err := b.UploadRecords(goldenRecords(7, batch), net.InputShape)
		if err != nil {
			t.Fatal(err)
		}
		tr, err := net.NewTrainer(b, n, net.TrainConfig{Batch: batch, Norm: net.Normalize{Mean: normMean, Std: normStd}, GradNormsEvery: 1}, 1e-3)
		if err != nil {
			t.Fatal(err)
		}
		defer tr.Free()
		index := make([]int32, batch)
		for i := range index {
			index[i] = int32(i)
		}
		r, err := tr.Step(recs, index, nil)
		if err != nil {
			t.Fatal(err)
		}
		out := map[string][]float32{}
		if len(r.BlockGradNorms) == 0 {
			t.Fatalf("%s: no block gradient norms", model)
		}
		for i, v := range r.BlockGradNorms { // the float64's bits as two float32s
			bits := math.Float64bits(v)
			out[fmt.Sprintf("block gradient norm %d", i)] = []float32{math.Float32frombits(uint32(bits)), math.Float32frombits(uint32(bits >> 32))}
		}
		for _, p := range n.Params() {
			out["grad."+p.Name] = download(t, b, p.Grad)
		}
		es, err := n.StateDict()
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range es {
			if e.Float != nil {
				out[e.Name] = e.Float
			}
		}
		return r.Loss, out
	}
	b := cpu.New()
	defer b.Close()
	if _, ok := net.Backend(b).(net.BatchNormReLUBackend); !ok {
		t.Fatal("the CPU backend does not fuse BatchNorm2d and ReLU")
	}
	lossF, fused := run(b)
	lossA, apart := run(unfused{b})
	if lossF != lossA {
		t.Errorf("loss %v fused, %v apart", lossF, lossA)
	}
	if len(fused) != len(apart) || len(fused) == 0 {
		t.Fatalf("%d tensors fused, %d apart", len(fused), len(apart))
	}
	for name, f := range fused {
		a := apart[name]
		if len(a) != len(f) {
			t.Fatalf("%s: %d values fused, %d apart", name, len(f), len(a))
		}
		for i := range f {
			if math.Float32bits(f[i]) != math.Float32bits(a[i]) {
				t.Errorf("%s[%d] = %v fused, %v apart", name, i, f[i], a[i])
				break
			}
		}
	}
}
