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

func (s *Sequential) Release() {
	for _, l := range s.Layers {
		l.Release()
	}
}

// fuseBNReLU links each BatchNorm2d directly followed by a ReLU in layers
// (and in the Sequentials and blocks among them) to that ReLU, for a
// backend that fuses the pair (see BatchNorm2d.relu). A Sequential that
// ends with the batch norm counts too (ResNet18's stem: conv1, then relu),
// and so does a plain block's last batch norm with the block's ReLU after
// the sum, which is then its main path alone.
func fuseBNReLU(layers []Layer) {
	for i, l := range layers {
		var next *ReLU
		if i+1 < len(layers) {
			next, _ = layers[i+1].(*ReLU)
		}
		switch c := l.(type) {
		case *BatchNorm2d:
			c.relu = next
		case *Sequential:
			fuseBNReLU(c.Layers)
			if n := len(c.Layers); n > 0 && next != nil {
				if bn, ok := c.Layers[n-1].(*BatchNorm2d); ok {
					bn.relu = next
				}
			}
		case *ResBlk:
			fuseBNReLU(c.main.Layers)
			if c.Extra != nil {
				fuseBNReLU(c.Extra.Layers)
			}
			if c.BN2 != nil {
				// With a shortcut the ReLU (if any) follows the sum: the
				// batch norm fuses with the sum, where the backend has that
				// (see fusesSum).
				c.BN2.relu, c.BN2.endsSum = c.OutRelu, c.Opts.Shortcut
			}
		}
	}
}

// ---- ResBlk ----

// BlockOpts says which residual block a ResBlk is.
type BlockOpts struct {
	// Shortcut adds the block's input (or its projection) to the main
	// path; without it the block is a plain stack of two convolutions.
	Shortcut bool
	// BatchNorm follows every convolution with a BatchNorm2d; without it
	// each convolution gets a bias instead (ConvBias is then implied).
	BatchNorm bool
	// ConvBias gives the convolutions a bias even with BatchNorm, as the
	// tutorial's ResNet18 does; He et al.'s nets have none.
	ConvBias bool
	// ReLUOut applies a ReLU after the sum (He et al.); the tutorial's
	// block has none.
	ReLUOut bool
	// ShortcutName is the projection's state-dict name: "extra" in the
	// tutorial, "shortcut" in He et al.'s nets.
	ShortcutName string
}

// TutorialBlock is the tutorial ResNet18's block.
var TutorialBlock = BlockOpts{Shortcut: true, BatchNorm: true, ConvBias: true, ShortcutName: "extra"}

// HeBlock is the block of He et al.'s CIFAR-10 ResNets (option B).
var HeBlock = BlockOpts{Shortcut: true, BatchNorm: true, ReLUOut: true, ShortcutName: "shortcut"}

// ResBlk is a residual block (or, without a shortcut, a plain one):
//
//	main  = bn2(conv2(relu(bn1(conv1(x)))))   (no bn without BatchNorm)
//	short = bn(conv1×1(x)) when cin ≠ cout or stride ≠ 1, else x
//	sum   = short + main                      (main alone without Shortcut)
//	y     = relu(sum) with ReLUOut, else sum
type ResBlk struct {
	b         Backend
	name      string
	Opts      BlockOpts
	Cin, Cout int
	Stride    int
	Conv1     *Conv2d      // [Cout, Cin, 3, 3], stride, pad 1
	BN1       *BatchNorm2d // nil without BatchNorm
	Relu      *ReLU        //
	Conv2     *Conv2d      // [Cout, Cout, 3, 3], pad 1
	BN2       *BatchNorm2d // nil without BatchNorm; the last layer of the main path
	Extra     *Sequential  // 1×1 projection (+ BatchNorm2d); nil for the identity and without Shortcut
	OutRelu   *ReLU        // nil without ReLUOut
	main      *Sequential
	x         Tensor // input, which is the shortcut output for the identity
	sum       Tensor // shortcut + main of the last forward (main without Shortcut); nil after a fused one
	y, dx     scratch
	dsum      Tensor  // ∂L/∂sum of the last backward (∂L/∂relu(sum) after a fused forward)
	dsumMask  scratch // SumGrad's ∂L/∂sum after a fused forward
	masked    Tensor  // dsumMask once made in the last backward (nil until then)
}

// NewResBlk makes the tutorial ResNet18's block under the prefix name.
func NewResBlk(b Backend, rng *rand.Rand, name string, cin, cout, stride int) *ResBlk {
	return NewBlock(b, rng, name, cin, cout, stride, TutorialBlock)
}

// NewBlock makes the block o describes under the prefix name. A block
// without a shortcut draws from rng what the projection would have drawn,
// so that with the same seed every tensor it shares with the block with a
// shortcut starts with the same values.
func NewBlock(b Backend, rng *rand.Rand, name string, cin, cout, stride int, o BlockOpts) *ResBlk {
	r := &ResBlk{b: b, name: name, Opts: o, Cin: cin, Cout: cout, Stride: stride}
	bias := o.ConvBias || !o.BatchNorm
	conv := func(name string, cin, k, stride, pad int) *Conv2d {
		if bias {
			return NewConv2d(b, rng, name, cin, cout, k, stride, pad)
		}
		return NewConv2dNoBias(b, rng, name, cin, cout, k, stride, pad)
	}
	r.Conv1 = conv(join(name, "conv1"), cin, 3, stride, 1)
	main := []Layer{r.Conv1}
	if o.BatchNorm {
		r.BN1 = NewBatchNorm2d(b, join(name, "bn1"), cout)
		main = append(main, r.BN1)
	}
	r.Relu = NewReLU(b, join(name, "relu"))
	r.Conv2 = conv(join(name, "conv2"), cout, 3, 1, 1)
	main = append(main, r.Relu, r.Conv2)
	if o.BatchNorm {
		r.BN2 = NewBatchNorm2d(b, join(name, "bn2"), cout)
		main = append(main, r.BN2)
	}
	r.main = NewSequential(name, main...)
	if cin != cout || stride != 1 {
		if !o.Shortcut {
			skipDraws(rng, cout*cin+cout*btoi(bias), cin)
		} else {
			extra := join(name, o.ShortcutName)
			proj := []Layer{conv(join(extra, "0"), cin, 1, stride, 0)}
			if o.BatchNorm {
				proj = append(proj, NewBatchNorm2d(b, join(extra, "1"), cout))
			}
			r.Extra = NewSequential(extra, proj...)
		}
	}
	if o.ReLUOut {
		r.OutRelu = NewReLU(b, join(name, "relu_out"))
	}
	return r
}

func btoi(v bool) int {
	if v {
		return 1
	}
	return 0
}

func (r *ResBlk) Name() string { return r.name }
func (r *ResBlk) Kind() string {
	kind := "ResBlk"
	if !r.Opts.Shortcut {
		kind = "PlainBlk"
	}
	return fmt.Sprintf("%s(%d, %d, stride=%d)", kind, r.Cin, r.Cout, r.Stride)
}

func (r *ResBlk) Children() []Layer {
	ls := append([]Layer{}, r.main.Layers...)
	if r.Extra != nil {
		ls = append(ls, r.Extra)
	}
	return ls
}

func (r *ResBlk) OutShape(in Shape) (Shape, error) {
	m, err := r.main.OutShape(in)
	if err != nil {
		return nil, err
	}
	if !r.Opts.Shortcut {
		return m, nil
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

// fusesSum reports whether a forward writes bn2 + shortcut (through the
// ReLU after it, if any) in one op (a BatchNormAddBackend, training): the
// shortcut then runs first.
func (r *ResBlk) fusesSum(train bool) bool {
	_, ok := r.b.(BatchNormAddBackend)
	return ok && train && r.BN2 != nil && r.BN2.endsSum
}

func (r *ResBlk) Forward(x Tensor, train bool) Tensor {
	r.x = x
	if r.fusesSum(train) {
		s := x
		if r.Extra != nil {
			s = r.Extra.Forward(x, train)
		}
		r.BN2.residual = s
		y := r.main.Forward(x, train) // bn2 writes the sum, or relu(sum) as the ReLU's output
		r.BN2.residual, r.sum = nil, y
		if r.OutRelu != nil {
			r.sum = nil
			return r.OutRelu.Forward(y, train) // passes it on
		}
		return y
	}
	m := r.main.Forward(x, train)
	r.sum = m
	if r.Opts.Shortcut {
		s := x
		if r.Extra != nil {
			s = r.Extra.Forward(x, train)
		}
		r.sum = r.y.get(r.b, m.Shape())
		r.b.Add(r.sum, s, m)
	}
	if r.OutRelu != nil {
		y := r.OutRelu.Forward(r.sum, train)
		if r.OutRelu.passed {
			// A plain block's bn2 wrote relu(sum) (fused, see fuseBNReLU):
			// the sum itself was not made.
			r.sum = nil
		}
		return y
	}
	return r.sum
}

func (r *ResBlk) Backward(dy Tensor, needDx bool) Tensor {
	if r.OutRelu != nil {
		dy = r.OutRelu.Backward(dy, true)
	}
	r.dsum, r.masked = dy, nil
	dm := r.main.Backward(dy, true)
	if !r.Opts.Shortcut {
		if !needDx {
			return nil
		}
		return dm
	}
	if r.OutRelu != nil && r.OutRelu.passed {
		// Fused (fusesSum): dy is ∂L/∂relu(sum), which bn2 masked; the
		// shortcut gets it masked too.
		f := r.b.(BatchNormAddBackend)
		if r.Extra == nil {
			if !needDx {
				return nil
			}
			dx := r.dx.get(r.b, r.x.Shape())
			f.AddReLUBackward(dx, dm, dy, r.OutRelu.Output())
			return dx
		}
		dy = r.SumGrad()
	}
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

// Output is the block's output: the sum of the shortcut and the main path
// (after the ReLU with ReLUOut).
func (r *ResBlk) Output() Tensor {
	if r.OutRelu != nil {
		return r.OutRelu.Output()
	}
	return r.sum
}

// Sum is shortcut + main of the last forward, before any ReLU (the main
// path alone without a shortcut); nil after a training forward whose last
// batch norm wrote relu(sum) straight away (fused: see fuseBNReLU and
// fusesSum).
func (r *ResBlk) Sum() Tensor { return r.sum }

// Main is the main path's output of the last forward (bn2's output, or
// conv2's without BatchNorm).
func (r *ResBlk) Main() Tensor { return r.main.Layers[len(r.main.Layers)-1].Output() }

// Shortcut is the shortcut's output of the last forward: the projection's
// output, or the block's input for the identity; nil without a shortcut.
func (r *ResBlk) Shortcut() Tensor {
	switch {
	case !r.Opts.Shortcut:
		return nil
	case r.Extra == nil:
		return r.x
	}
	return r.Extra.Output()
}

// MainInputGrad is ∂L/∂x through the main path alone in the last
// backward: what reaches the block's input without the shortcut.
func (r *ResBlk) MainInputGrad() Tensor { return r.Conv1.dx.t }

// SumGrad is ∂L/∂sum of the last backward: the gradient arriving at the
// block's output, which the shortcut carries to its input unchanged. After
// a fused forward (whose bn2 applied the ReLU after the sum) the backward
// passed ∂L/∂relu(sum) on for bn2 to mask; SumGrad then masks it into a
// tensor of its own, on the backend, once a backward, when first asked.
func (r *ResBlk) SumGrad() Tensor {
	if r.OutRelu == nil || !r.OutRelu.passed || r.dsum == nil {
		return r.dsum
	}
	if r.masked == nil {
		r.masked = r.dsumMask.get(r.b, r.dsum.Shape())
		r.b.ReLUBackward(r.masked, r.dsum, r.OutRelu.Output())
	}
	return r.masked
}

func (r *ResBlk) State() State {
	st := r.main.State()
	if r.Extra != nil {
		st.add(r.Extra.State())
	}
	return st
}

func (r *ResBlk) Release() {
	r.main.Release()
	if r.Extra != nil {
		r.Extra.Release()
	}
	if r.OutRelu != nil {
		r.OutRelu.Release()
	}
	r.y.free(r.b)
	r.dx.free(r.b)
	r.dsumMask.free(r.b)
	r.x, r.sum, r.dsum, r.masked = nil, nil, nil, nil // views of tensors freed above
}

func (r *ResBlk) Free() {
	r.main.Free()
	if r.Extra != nil {
		r.Extra.Free()
	}
	if r.OutRelu != nil {
		r.OutRelu.Free()
	}
	r.y.free(r.b)
	r.dx.free(r.b)
}
