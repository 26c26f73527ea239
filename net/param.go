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

func constant(n int, c float32) []float32 {
	v := make([]float32, n)
	for i := range v {
		v[i] = c
	}
	return v
}

// scratch is a tensor a layer reallocates only when the batch size changes.
type scratch struct {
	t Tensor
}

func (s *scratch) get(b Backend, shape Shape) Tensor {
	if s.t != nil && s.t.Shape().Equal(shape) {
		return s.t
	}
	s.free(b)
	s.t = b.NewTensor(shape)
	return s.t
}

func (s *scratch) free(b Backend) {
	if s.t != nil {
		b.Free(s.t)
		s.t = nil
	}
}

type intScratch struct {
	t IntTensor
}

func (s *intScratch) get(b Backend, shape Shape) IntTensor {
	if s.t != nil && s.t.Shape().Equal(shape) {
		return s.t
	}
	s.free(b)
	s.t = b.NewIntTensor(shape)
	return s.t
}

func (s *intScratch) free(b Backend) {
	if s.t != nil {
		b.Free(s.t)
		s.t = nil
	}
}
