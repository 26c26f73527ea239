package cpu

import (
	"fmt"
	"os"
	"sort"
	"strconv"
	"testing"
	"time"

	"cifarlab/net"
)

// timed wraps a Backend and adds up the wall time of each op.
type timed struct {
	*Backend
	t map[string]time.Duration
}

func (b *timed) add(op string, s net.Shape, start time.Time) {
	b.t[fmt.Sprintf("%s %v", op, s)] += time.Since(start)
}
func (b *timed) Gather(x net.Tensor, l net.IntTensor, r net.Records, i []int32, c []net.Crop, p int, n net.Normalize) {
	defer b.add("Gather", x.Shape(), time.Now())
	b.Backend.Gather(x, l, r, i, c, p, n)
}
func (b *timed) Conv2D(y, x, w, bias net.Tensor, g net.ConvGeom) {
	defer b.add("Conv2D", w.Shape(), time.Now())
	b.Backend.Conv2D(y, x, w, bias, g)
}
func (b *timed) Conv2DBackwardData(dx, dy, w net.Tensor, g net.ConvGeom) {
	defer b.add("Conv2DBackwardData", w.Shape(), time.Now())
	b.Backend.Conv2DBackwardData(dx, dy, w, g)
}
func (b *timed) Conv2DBackwardParams(dw, db, dy, x net.Tensor, g net.ConvGeom) {
	defer b.add("Conv2DBackwardParams", dw.Shape(), time.Now())
	b.Backend.Conv2DBackwardParams(dw, db, dy, x, g)
}
func (b *timed) Linear(y, x, w, bias net.Tensor) {
	defer b.add("Linear", w.Shape(), time.Now())
	b.Backend.Linear(y, x, w, bias)
}
func (b *timed) LinearBackwardData(dx, dy, w net.Tensor) {
	defer b.add("LinearBackwardData", w.Shape(), time.Now())
	b.Backend.LinearBackwardData(dx, dy, w)
}
func (b *timed) LinearBackwardParams(dw, db, dy, x net.Tensor) {
	defer b.add("LinearBackwardParams", dw.Shape(), time.Now())
	b.Backend.LinearBackwardParams(dw, db, dy, x)
}
func (b *timed) MaxPool2D(y net.Tensor, a net.IntTensor, x net.Tensor, g net.PoolGeom) {
	defer b.add("MaxPool2D", x.Shape(), time.Now())
	b.Backend.MaxPool2D(y, a, x, g)
}
func (b *timed) MaxPool2DBackward(dx, dy net.Tensor, a net.IntTensor, g net.PoolGeom) {
	defer b.add("MaxPool2DBackward", dx.Shape(), time.Now())
	b.Backend.MaxPool2DBackward(dx, dy, a, g)
}
func (b *timed) BatchNorm2DTrain(y, mean, invstd, x, gamma, beta, rm, rv net.Tensor, mom, eps float32) {
	defer b.add("BatchNorm2DTrain", x.Shape(), time.Now())
	b.Backend.BatchNorm2DTrain(y, mean, invstd, x, gamma, beta, rm, rv, mom, eps)
}
func (b *timed) BatchNorm2DBackward(dx, dg, db, dy, x, mean, invstd, gamma net.Tensor) {
	defer b.add("BatchNorm2DBackward", x.Shape(), time.Now())
	b.Backend.BatchNorm2DBackward(dx, dg, db, dy, x, mean, invstd, gamma)
}
func (b *timed) BatchNorm2DTrainReLU(y, mean, invstd, x, gamma, beta, rm, rv net.Tensor, mom, eps float32) {
	defer b.add("BatchNorm2DTrainReLU", x.Shape(), time.Now())
	b.Backend.BatchNorm2DTrainReLU(y, mean, invstd, x, gamma, beta, rm, rv, mom, eps)
}
func (b *timed) BatchNorm2DTrainAdd(y, mean, invstd, x, gamma, beta, rm, rv, r net.Tensor, relu bool, mom, eps float32) {
	defer b.add("BatchNorm2DTrainAdd", x.Shape(), time.Now())
	b.Backend.BatchNorm2DTrainAdd(y, mean, invstd, x, gamma, beta, rm, rv, r, relu, mom, eps)
}
func (b *timed) AddReLUBackward(dx, a, dy, y net.Tensor) {
	defer b.add("AddReLUBackward", dx.Shape(), time.Now())
	b.Backend.AddReLUBackward(dx, a, dy, y)
}
func (b *timed) BatchNorm2DBackwardReLU(dx, dg, db, dy, y, x, mean, invstd, gamma net.Tensor) {
	defer b.add("BatchNorm2DBackwardReLU", x.Shape(), time.Now())
	b.Backend.BatchNorm2DBackwardReLU(dx, dg, db, dy, y, x, mean, invstd, gamma)
}
func (b *timed) ReLU(y, x net.Tensor) {
	defer b.add("ReLU", x.Shape(), time.Now())
	b.Backend.ReLU(y, x)
}
func (b *timed) ReLUBackward(dx, dy, y net.Tensor) {
	defer b.add("ReLUBackward", y.Shape(), time.Now())
	b.Backend.ReLUBackward(dx, dy, y)
}
func (b *timed) Add(y, a, c net.Tensor) {
	defer b.add("Add", y.Shape(), time.Now())
	b.Backend.Add(y, a, c)
}
func (b *timed) SoftmaxCrossEntropy(d, s net.Tensor, slot int, l net.Tensor, lab net.IntTensor) {
	defer b.add("SoftmaxCrossEntropy", l.Shape(), time.Now())
	b.Backend.SoftmaxCrossEntropy(d, s, slot, l, lab)
}
func (b *timed) Adam(p, g, m, v net.Tensor, ap net.AdamParams) {
	defer b.add("Adam", net.Shape{}, time.Now())
	b.Backend.Adam(p, g, m, v, ap)
}

// TestOpTimes prints where a training step spends its time, op by op, when
// CIFARLAB_OPTIME names a model ("lenet5", "resnet20", …), at the batch
// CIFARLAB_OPTIME_BATCH (256 by default).
func TestOpTimes(t *testing.T) {
	model := os.Getenv("CIFARLAB_OPTIME")
	if model == "" {
		t.Skip("set CIFARLAB_OPTIME=lenet5 or resnet18")
	}
	benchN := benchN
	if s := os.Getenv("CIFARLAB_OPTIME_BATCH"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			t.Fatalf("CIFARLAB_OPTIME_BATCH=%q: want a batch size", s)
		}
		benchN = n
	}
	b := &timed{Backend: New(), t: map[string]time.Duration{}}
	nw, err := net.New(b, model, 10, 1)
	if err != nil {
		t.Fatal(err)
	}
	tr, err := net.NewTrainer(b, nw, net.TrainConfig{Batch: benchN, Augment: true, Norm: benchNorm}, 1e-3)
	if err != nil {
		t.Fatal(err)
	}
	recs := benchRecords(t, b.Backend, benchN)
	index, crops := tr.Plan(1, benchN)
	const steps = 10
	tr.Step(recs, index, crops)
	b.t = map[string]time.Duration{}
	start := time.Now()
	for i := 0; i < steps; i++ {
		if _, err := tr.Step(recs, index, crops); err != nil {
			t.Fatal(err)
		}
	}
	total := time.Since(start)
	var keys []string
	var sum time.Duration
	for k, d := range b.t {
		keys = append(keys, k)
		sum += d
	}
	sort.Slice(keys, func(i, j int) bool { return b.t[keys[i]] > b.t[keys[j]] })
	for _, k := range keys {
		t.Logf("%8.2f ms  %s", float64(b.t[k].Microseconds())/1e3/steps, k)
	}
	t.Logf("%8.2f ms  ops, %.2f ms per step: %.0f images/s", float64(sum.Microseconds())/1e3/steps,
		float64(total.Microseconds())/1e3/steps, float64(steps*benchN)/total.Seconds())
}
