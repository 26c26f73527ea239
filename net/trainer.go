package net

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"time"
)

// TrainConfig is how batches are drawn.
type TrainConfig struct {
	Batch   int       // images per step (the last batch of an epoch may be smaller)
	Shuffle bool      // reshuffle every epoch; false keeps file order
	Augment bool      // random 32×32 crop of the image padded by 4, and horizontal flip
	Seed    uint64    // seeds the shuffles and crops (with the epoch number)
	Norm    Normalize // per-channel normalisation after ÷255
	// StatsEvery is how many steps record their loss and accuracy on the
	// backend before one download reads them all (1 reads every step).
	StatsEvery int
	// GradNormsEvery makes every GradNormsEvery-th step (by its global
	// step number) also measure the L2 norm of every parameter's gradient
	// on the backend, read back with the loss; 0 measures none.
	GradNormsEvery int
}

// ErrDiverged is wrapped by the error of a training step whose loss is
// not a finite number.
var ErrDiverged = errors.New("training diverged (try a smaller -lr)")

// AugmentPad is the zero padding of the random crop (RandomCrop(32, padding=4)).
const AugmentPad = 4

// StepResult is one training step: the loss of its batch before the update.
type StepResult struct {
	Step    int     // global step, from 1
	Epoch   int     // from 1
	Batch   int     // index of the batch in its epoch, from 0
	Batches int     // batches in the epoch
	N       int     // images in the batch
	Loss    float64 // mean cross-entropy of the batch
	Correct int     // correct predictions in the batch (train mode, before the update)
	// GradNorms are the L2 norms of the parameters' gradients, in the
	// order of Network.Params, on the steps TrainConfig.GradNormsEvery
	// selects; nil on the others.
	GradNorms []float64
	// BlockGradNorms are, on the same steps, two norms per block of
	// Network.Blocks: of the gradient arriving at the block's sum
	// (ResBlk.SumGrad), and of what its main path passes back to its
	// input (ResBlk.MainInputGrad); nil for a network without blocks.
	BlockGradNorms []float64
}

// EpochResult sums the steps of one epoch (of the part run by this call,
// when an epoch was resumed in the middle).
type EpochResult struct {
	Epoch    int
	Images   int
	Loss     float64 // mean over images
	Accuracy float64
	Duration time.Duration
}

// Trainer trains a network with Adam and cross-entropy.
type Trainer struct {
	B   Backend
	Net *Network
	Opt *Adam
	Cfg TrainConfig
	// Epoch counts completed epochs and Batch the batches already done of
	// the next one; both are saved in checkpoints so a run resumes where it
	// stopped.
	Epoch, Batch int

	x       scratch
	labels  intScratch
	dlogits scratch
	// stats holds, for each of StatsEvery steps, a row of width values:
	// the loss and the correct count, then with GradNormsEvery the Σ grad²
	// of every parameter and two per block (width is even, so that stats
	// is [StatsEvery·width/2, 2] for SoftmaxCrossEntropy's slots), read
	// back in one copy.
	stats    Tensor
	width    int
	params   []*Param     // the network's parameters, in the order of their Σ grad²
	blocks   []*ResBlk    // the network's blocks, likewise
	pending  []StepResult // steps whose statistics are still only on the backend
	inflight []statsRead  // statistics being read back, oldest first

	// Keeper, when set, keeps a copy of the trainer's state on the host
	// while it trains (see HostKeeper).
	Keeper *HostKeeper
}

// NewTrainer prepares training of n with a fresh Adam at learning rate lr.
func NewTrainer(b Backend, n *Network, cfg TrainConfig, lr float32) (*Trainer, error) {
	if cfg.Batch < 1 {
		return nil, fmt.Errorf("batch size must be at least 1, got %d", cfg.Batch)
	}
	if cfg.StatsEvery < 1 {
		cfg.StatsEvery = 1
	}
	if len(cfg.Norm.Mean) != InputShape[0] || len(cfg.Norm.Std) != InputShape[0] {
		return nil, fmt.Errorf("normalisation needs %d means and stds", InputShape[0])
	}
	if cfg.GradNormsEvery < 0 {
		return nil, fmt.Errorf("gradient norms every %d steps: must be 0 (never) or more", cfg.GradNormsEvery)
	}
	t := &Trainer{B: b, Net: n, Opt: NewAdam(b, n.Params(), lr), Cfg: cfg, params: n.Params(), blocks: n.Blocks(), width: 2}
	if cfg.GradNormsEvery > 0 {
		t.width += (len(t.params) + 2*len(t.blocks) + 1) / 2 * 2
	}
	t.stats = b.NewTensor(Shape{cfg.StatsEvery * t.width / 2, 2})
	return t, nil
}

// Plan is the order of the records in an epoch (1-based) and, with
// augmentation, each position's crop. It depends only on the seed, the
// epoch and n, so a resumed run sees the same batches.
func (t *Trainer) Plan(epoch, n int) ([]int32, []Crop) {
	order := make([]int32, n)
	for i := range order {
		order[i] = int32(i)
	}
	if t.Cfg.Shuffle {
		rng := rand.New(rand.NewPCG(t.Cfg.Seed, uint64(epoch)))
		rng.Shuffle(n, func(i, j int) { order[i], order[j] = order[j], order[i] })
	}
	if !t.Cfg.Augment {
		return order, nil
	}
	rng := rand.New(rand.NewPCG(t.Cfg.Seed^0x6175676d656e74, uint64(epoch))) // "augment"
	crops := make([]Crop, n)
	for i := range crops {
		crops[i] = Crop{DX: int32(rng.IntN(2*AugmentPad + 1)), DY: int32(rng.IntN(2*AugmentPad + 1)), Flip: rng.IntN(2) == 1}
	}
	return order, crops
}

// EpochImages is how many of n images an epoch trains on: all of them,
// except that a network with BatchNorm leaves out the one image a last
// batch of one would hold, since BatchNorm cannot normalise a single value
// per channel (PyTorch stops with an error there). Which image is left
// out changes from epoch to epoch when shuffling.
func (t *Trainer) EpochImages(n int) int {
	if t.Net.HasBatchNorm() && n%t.Cfg.Batch == 1 {
		return n - 1
	}
	return n
}

// Batches is the number of steps in an epoch over n images.
func (t *Trainer) Batches(n int) int { return (n + t.Cfg.Batch - 1) / t.Cfg.Batch }

// RunEpoch trains on recs from batch t.Batch to the end of epoch t.Epoch+1,
// calling onStep (which may be nil) for every step in order. When ctx is
// cancelled it stops after the step in flight, with t.Batch saying where
// to resume, and returns ctx's error.
func (t *Trainer) RunEpoch(ctx context.Context, recs Records, onStep func(StepResult)) (EpochResult, error) {
	n := recs.Len()
	if n == 0 {
		return EpochResult{}, fmt.Errorf("no training images")
	}
	epoch := t.Epoch + 1
	order, crops := t.Plan(epoch, n)
	n = t.EpochImages(n)
	if n == 0 {
		return EpochResult{}, fmt.Errorf("one training image cannot train %s: BatchNorm needs more than one value per channel", t.Net.Model)
	}
	nb := t.Batches(n)
	res := EpochResult{Epoch: epoch}
	start := time.Now()
	var lossSum float64
	var correct int
	collect := func(r StepResult) {
		res.Images += r.N
		lossSum += r.Loss * float64(r.N)
		correct += r.Correct
		if onStep != nil {
			onStep(r)
		}
	}
	for ; t.Batch < nb; t.Batch++ {
		if err := ctx.Err(); err != nil {
			if ferr := t.flush(0, collect); ferr != nil {
				return res, ferr
			}
			return res, err
		}
		lo, hi := t.Batch*t.Cfg.Batch, min((t.Batch+1)*t.Cfg.Batch, n)
		var c []Crop
		if crops != nil {
			c = crops[lo:hi]
		}
		if err := t.step(recs, order[lo:hi], c); err != nil {
			return res, fmt.Errorf("epoch %d, step %d: %w", epoch, t.Opt.Step, err)
		}
		t.pending = append(t.pending, StepResult{Step: t.Opt.Step, Epoch: epoch, Batch: t.Batch, Batches: nb, N: hi - lo})
		if err := t.keep(t.Batch+1, false); err != nil {
			return res, err
		}
		if len(t.pending) == t.Cfg.StatsEvery {
			// Keep one read in flight, so the host never waits for the
			// device to finish the steps it has just been given.
			if err := t.flush(1, collect); err != nil {
				return res, err
			}
		}
	}
	if err := t.flush(0, collect); err != nil {
		return res, err
	}
	t.Epoch, t.Batch = epoch, 0
	if err := t.keep(0, true); err != nil {
		return res, err
	}
	res.Duration = time.Since(start)
	if res.Images > 0 {
		res.Loss = lossSum / float64(res.Images)
		res.Accuracy = float64(correct) / float64(res.Images)
	}
	return res, nil
}

// Step trains on one batch, the records index of recs (with crops when
// not nil), and reads its loss back at once. RunEpoch is the faster way to
// train; Step is for stepping by hand.
func (t *Trainer) Step(recs Records, index []int32, crops []Crop) (StepResult, error) {
	if err := t.flush(0, func(StepResult) {}); err != nil {
		return StepResult{}, err
	}
	if err := t.step(recs, index, crops); err != nil {
		return StepResult{}, err
	}
	r := StepResult{Step: t.Opt.Step, Epoch: t.Epoch + 1, Batch: t.Batch, N: len(index)}
	t.pending = append(t.pending, r)
	if err := t.keep(t.Batch+1, false); err != nil {
		return r, err
	}
	err := t.flush(0, func(got StepResult) { r = got })
	return r, err
}

// keep tells the Keeper, if any, of a step just submitted: batch is the
// batches of epoch t.Epoch+1 that the steps so far have done.
func (t *Trainer) keep(batch int, epochEnd bool) error {
	if t.Keeper == nil {
		return nil
	}
	if err := t.Keeper.tick(t, t.Epoch, batch, epochEnd); err != nil {
		return fmt.Errorf("keep a copy of the weights on the host: %w", err)
	}
	return nil
}

// step is one whole training step: batch assembly, forward, loss,
// backward and the Adam update, submitted to the backend at once.
func (t *Trainer) step(recs Records, index []int32, crops []Crop) error {
	n := len(index)
	x := t.x.get(t.B, append(Shape{n}, InputShape...))
	labels := t.labels.get(t.B, Shape{n})
	t.B.Gather(x, labels, recs, index, crops, AugmentPad, t.Cfg.Norm)
	logits := t.Net.Forward(x, true)
	dl := t.dlogits.get(t.B, logits.Shape())
	row := len(t.pending) * t.width
	t.B.SoftmaxCrossEntropy(dl, t.stats, row/2, logits, labels)
	t.Net.Backward(dl)
	if t.measuresNorms(t.Opt.Step + 1) {
		for i, p := range t.params {
			t.B.SumSquares(t.stats, row+2+i, p.Grad)
		}
		at := row + 2 + len(t.params)
		for k, r := range t.blocks {
			t.B.SumSquares(t.stats, at+2*k, r.SumGrad())
			t.B.SumSquares(t.stats, at+2*k+1, r.MainInputGrad())
		}
	}
	t.Opt.Update()
	return t.B.Submit()
}

// measuresNorms reports whether global step s measures gradient norms.
func (t *Trainer) measuresNorms(s int) bool {
	return t.Cfg.GradNormsEvery > 0 && s%t.Cfg.GradNormsEvery == 0
}

// statsRead is a read-back of the statistics of some steps.
type statsRead struct {
	steps []StepResult
	read  func() ([]float32, error)
}

// flush starts reading back the statistics of the pending steps, then
// waits for the oldest reads until at most keep are in flight, reporting
// their steps in order.
func (t *Trainer) flush(keep int, report func(StepResult)) error {
	if len(t.pending) > 0 {
		t.inflight = append(t.inflight, statsRead{steps: t.pending, read: t.B.ReadLater(t.stats)})
		t.pending = nil
	}
	for len(t.inflight) > keep {
		r := t.inflight[0]
		t.inflight = t.inflight[1:]
		stats, err := r.read()
		if err != nil {
			return fmt.Errorf("read back training loss: %w", err)
		}
		for i, s := range r.steps {
			row := stats[i*t.width : (i+1)*t.width]
			s.Loss, s.Correct = float64(row[0]), int(row[1])
			if t.measuresNorms(s.Step) {
				s.GradNorms = sqrts(row[2 : 2+len(t.params)])
				if len(t.blocks) > 0 {
					at := 2 + len(t.params)
					s.BlockGradNorms = sqrts(row[at : at+2*len(t.blocks)])
				}
			}
			if math.IsNaN(s.Loss) || math.IsInf(s.Loss, 0) {
				return fmt.Errorf("epoch %d, step %d: the loss is %v: %w", s.Epoch, s.Step, s.Loss, ErrDiverged)
			}
			report(s)
		}
	}
	return nil
}

// sqrts is the square root of each sum of squares.
func sqrts(v []float32) []float64 {
	out := make([]float64, len(v))
	for i, x := range v {
		out[i] = math.Sqrt(float64(x))
	}
	return out
}

// Release frees the tensors sized by the batch, the network's and the
// trainer's own (its input batch, labels and logits' gradient); the next
// step makes them again at its batch size.
func (t *Trainer) Release() {
	t.x.free(t.B)
	t.labels.free(t.B)
	t.dlogits.free(t.B)
	t.Net.Release()
}

// Free releases the trainer's tensors (not the network's), after waiting
// for a copy to the host in flight, which holds read-back buffers.
func (t *Trainer) Free() {
	if t.Keeper != nil {
		_ = t.Keeper.Finish()
	}
	t.x.free(t.B)
	t.labels.free(t.B)
	t.dlogits.free(t.B)
	t.B.Free(t.stats)
}
