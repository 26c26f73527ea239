package net

import (
	"fmt"
	"math/rand/v2"
)

// ---- Sequential ----

// Sequential is torch.nn.Sequential: layers applied in order.
type Sequential struct {
	name   string
	Layers []Layer
	y      Tensor
}

// NewSequential chains layers under the state-dict prefix name.
func NewSequential(name string, layers ...Layer) *Sequential {
	return &Sequential{name: name, Layers: layers}
}

func (s *Sequential) Name() string      { return s.name }
func (s *Sequential) Kind() string      { return "Sequential" }
func (s *Sequential) Children() []Layer { return s.Layers }
func (s *Sequential) Output() Tensor    { return s.y }

func (s *Sequential) OutShape(in Shape) (Shape, error) {
	var err error
	for _, l := range s.Layers {
		if in, err = l.OutShape(in); err != nil {
			return nil, err
		}
	}
	return in, nil
}

func (s *Sequential) Forward(x Tensor, train bool) Tensor {
	for _, l := range s.Layers {
		x = l.Forward(x, train)
	}
	s.y = x
	return x
}

func (s *Sequential) Backward(dy Tensor, needDx bool) Tensor {
	for i := len(s.Layers) - 1; i >= 0; i-- {
		dy = s.Layers[i].Backward(dy, needDx || i > 0)
	}
	return dy
}

func (s *Sequential) State() State {
	var st State
	for _, l := range s.Layers {
		st.add(l.State())
	}
	return st
}

func (s *Sequential) Free() {
	for _, l := range s.Layers {
		l.Free()
	}
}

// ---- ResBlk ----

// ResBlk is the reference's residual block:
//
//	main  = bn2(conv2(relu(bn1(conv1(x)))))
//	extra = bn(conv1×1(x)) when cin ≠ cout or stride ≠ 1, else x
//	y     = extra + main (no ReLU after the add)
type ResBlk struct {
	b         Backend
	name      string
	Cin, Cout int
	Stride    int
	Conv1     *Conv2d      // [Cout, Cin, 3, 3], stride, pad 1
	BN1       *BatchNorm2d //
	Relu      *ReLU        //
	Conv2     *Conv2d      // [Cout, Cout, 3, 3], pad 1
	BN2       *BatchNorm2d // its output is the main path
	Extra     *Sequential  // 1×1 projection + BatchNorm2d; nil for the identity
	main      *Sequential
	x         Tensor // input, which is the shortcut output for the identity
	y, dx     scratch
}

// NewResBlk makes the block blk under the prefix name.
func NewResBlk(b Backend, rng *rand.Rand, name string, cin, cout, stride int) *ResBlk {
	r := &ResBlk{b: b, name: name, Cin: cin, Cout: cout, Stride: stride}
	r.Conv1 = NewConv2d(b, rng, join(name, "conv1"), cin, cout, 3, stride, 1)
	r.BN1 = NewBatchNorm2d(b, join(name, "bn1"), cout)
	r.Relu = NewReLU(b, join(name, "relu"))
	r.Conv2 = NewConv2d(b, rng, join(name, "conv2"), cout, cout, 3, 1, 1)
	r.BN2 = NewBatchNorm2d(b, join(name, "bn2"), cout)
	r.main = NewSequential(name, r.Conv1, r.BN1, r.Relu, r.Conv2, r.BN2)
	if cin != cout || stride != 1 {
		extra := join(name, "extra")
		r.Extra = NewSequential(extra,
			NewConv2d(b, rng, join(extra, "0"), cin, cout, 1, stride, 0),
			NewBatchNorm2d(b, join(extra, "1"), cout))
	}
	return r
}

func (r *ResBlk) Name() string { return r.name }
func (r *ResBlk) Kind() string {
	return fmt.Sprintf("ResBlk(%d, %d, stride=%d)", r.Cin, r.Cout, r.Stride)
}

func (r *ResBlk) Children() []Layer {
	if r.Extra == nil {
		return r.main.Layers
	}
	return append(append([]Layer{}, r.main.Layers...), r.Extra)
}

func (r *ResBlk) OutShape(in Shape) (Shape, error) {
	m, err := r.main.OutShape(in)
	if err != nil {
		return nil, err
	}
	s := in
	if r.Extra != nil {
		if s, err = r.Extra.OutShape(in); err != nil {
			return nil, err
		}
	}
	if !s.Equal(m) {
		return nil, fmt.Errorf("%s: shortcut output %v does not match main path %v", r.name, s, m)
	}
	return m, nil
}

func (r *ResBlk) Forward(x Tensor, train bool) Tensor {
	r.x = x
	m := r.main.Forward(x, train)
	s := x
	if r.Extra != nil {
		s = r.Extra.Forward(x, train)
	}
	y := r.y.get(r.b, m.Shape())
	r.b.Add(y, s, m)
	return y
}

func (r *ResBlk) Backward(dy Tensor, needDx bool) Tensor {
	dm := r.main.Backward(dy, true)
	ds := dy
	if r.Extra != nil {
		ds = r.Extra.Backward(dy, true)
	}
	if !needDx {
		return nil
	}
	dx := r.dx.get(r.b, r.x.Shape())
	r.b.Add(dx, dm, ds)
	return dx
}

// Output is the block's output, the sum of the shortcut and the main path.
func (r *ResBlk) Output() Tensor { return r.y.t }

// Main is the main path's output of the last forward (bn2's output).
func (r *ResBlk) Main() Tensor { return r.BN2.Output() }

// Shortcut is the shortcut's output of the last forward: the projection's
// output, or the block's input for the identity.
func (r *ResBlk) Shortcut() Tensor {
	if r.Extra == nil {
		return r.x
	}
	return r.Extra.Output()
}

func (r *ResBlk) State() State {
	st := r.main.State()
	if r.Extra != nil {
		st.add(r.Extra.State())
	}
	return st
}

func (r *ResBlk) Free() {
	r.main.Free()
	if r.Extra != nil {
		r.Extra.Free()
	}
	r.y.free(r.b)
	r.dx.free(r.b)
}
