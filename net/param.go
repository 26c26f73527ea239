package net

import (
	"math"
	"math/rand/v2"
)

// Param is a trainable tensor under its PyTorch state-dict name, with its
// gradient and the Adam moments (allocated by the optimizer).
type Param struct {
	Name  string // state-dict name, e.g. "conv_unit.0.weight"
	Shape Shape
	Value Tensor
	Grad  Tensor
	M, V  Tensor // Adam exp_avg and exp_avg_sq; nil until the optimizer allocates them
}

// Buffer is a non-trainable float tensor of the state dict: a BatchNorm
// running statistic.
type Buffer struct {
	Name  string // e.g. "blk1.bn1.running_mean"
	Shape Shape
	Value Tensor
}

// Counter is an integer scalar of the state dict: a BatchNorm's
// num_batches_tracked.
type Counter struct {
	Name  string
	Value *int64
}

// State lists everything a layer contributes to the state dict.
type State struct {
	Params   []*Param
	Buffers  []*Buffer
	Counters []*Counter
}

func (s *State) add(o State) {
	s.Params = append(s.Params, o.Params...)
	s.Buffers = append(s.Buffers, o.Buffers...)
	s.Counters = append(s.Counters, o.Counters...)
}

func newParam(b Backend, name string, s Shape) *Param {
	return &Param{Name: name, Shape: s, Value: b.NewTensor(s), Grad: b.NewTensor(s)}
}

// uniform fills a host slice with U(−bound, +bound), PyTorch's default
// initialisation of Conv2d and Linear weights and biases with
// bound = 1/√fan_in (kaiming_uniform_ with a = √5 gives the same bound).
func uniform(rng *rand.Rand, n int, fanIn int) []float32 {
	bound := 1 / math.Sqrt(float64(fanIn))
	v := make([]float32, n)
	for i := range v {
		v[i] = float32((2*rng.Float64() - 1) * bound)
	}
	return v
}

// skipDraws advances rng past what uniform(rng, n, fanIn) would draw.
func skipDraws(rng *rand.Rand, n, fanIn int) {
	uniform(rng, n, fanIn)
}

func constant(n int, c float32) []float32 {
	v := make([]float32, n)
	for i := range v {
		v[i] = c
	}
	return v
}

// scratch holds a layer's output or gradient for the batch sizes in use:
// the last two shapes asked for, so that alternating between two (a
// training batch and the single image a viewer inspects, or the last,
// smaller batch of an epoch) allocates nothing.
type scratch struct {
	t, prev Tensor
}

func (s *scratch) get(b Backend, shape Shape) Tensor {
	switch {
	case s.t != nil && s.t.Shape().Equal(shape):
	case s.prev != nil && s.prev.Shape().Equal(shape):
		s.t, s.prev = s.prev, s.t
	default:
		if s.prev != nil {
			b.Free(s.prev)
		}
		s.t, s.prev = b.NewTensor(shape), s.t
	}
	return s.t
}

func (s *scratch) free(b Backend) {
	for _, t := range []Tensor{s.t, s.prev} {
		if t != nil {
			b.Free(t)
		}
	}
	s.t, s.prev = nil, nil
}

// intScratch is scratch for int tensors.
type intScratch struct {
	t, prev IntTensor
}

func (s *intScratch) get(b Backend, shape Shape) IntTensor {
	switch {
	case s.t != nil && s.t.Shape().Equal(shape):
	case s.prev != nil && s.prev.Shape().Equal(shape):
		s.t, s.prev = s.prev, s.t
	default:
		if s.prev != nil {
			b.Free(s.prev)
		}
		s.t, s.prev = b.NewIntTensor(shape), s.t
	}
	return s.t
}

func (s *intScratch) free(b Backend) {
	for _, t := range []IntTensor{s.t, s.prev} {
		if t != nil {
			b.Free(t)
		}
	}
	s.t, s.prev = nil, nil
}
