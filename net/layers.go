package net

import (
	"fmt"
	"math/rand/v2"
)

// Layer is one module of a network. It owns its forward and backward: the
// forward keeps what the backward needs, and the backward writes the
// gradients of the layer's parameters and returns the gradient of its input.
// Tensors a layer returns belong to it and stay valid until its next call.
type Layer interface {
	// Name is the layer's state-dict prefix, e.g. "conv_unit.0".
	Name() string
	// Kind is the layer as PyTorch prints it, e.g. "Conv2d(3, 6, kernel_size=5)".
	Kind() string
	// OutShape is the shape of the output for an input of shape in.
	OutShape(in Shape) (Shape, error)
	// Forward computes the output; train selects batch statistics in
	// BatchNorm and keeps what Backward needs.
	Forward(x Tensor, train bool) Tensor
	// Backward takes ∂L/∂y of the last training forward, writes the
	// gradients of the layer's parameters and returns ∂L/∂x (nil when
	// needDx is false).
	Backward(dy Tensor, needDx bool) Tensor
	// Output is the result of the last Forward (nil before the first).
	Output() Tensor
	// State lists the layer's parameters, buffers and counters.
	State() State
	// Free releases the layer's tensors.
	Free()
	// Release frees what Forward and Backward made (outputs, input
	// gradients, pooling indices), which is sized by the batch, and keeps
	// the parameters and buffers; Output is nil until the next Forward.
	// After a change of batch size it gives the old batch's memory back.
	Release()
}

// Container is a layer made of other layers (shown nested by Summary).
type Container interface {
	Layer
	Children() []Layer
}

func join(prefix, name string) string {
	if prefix == "" {
		return name
	}
	return prefix + "." + name
}

// ---- Conv2d ----

// Conv2d is torch.nn.Conv2d with a square kernel, stride and padding, and
// a bias unless it was made by NewConv2dNoBias.
type Conv2d struct {
	b            Backend
	name         string
	Cin, Cout, K int
	Geom         ConvGeom
	Weight, Bias *Param // [Cout, Cin, K, K], [Cout] (Bias nil for bias=False)
	x            Tensor // forward input [N, Cin, H, W], kept for backward
	train        bool   // the last forward trained (else Backward computes dx only)
	y, dx        scratch
}

// NewConv2d makes a convolution with a bias, initialised as PyTorch does.
func NewConv2d(b Backend, rng *rand.Rand, name string, cin, cout, k, stride, pad int) *Conv2d {
	c := newConv2d(b, rng, name, cin, cout, k, stride, pad)
	c.Bias = newParam(b, join(name, "bias"), Shape{cout})
	b.Upload(c.Bias.Value, uniform(rng, cout, cin*k*k))
	return c
}

// NewConv2dNoBias is Conv2d(…, bias=False), initialised as PyTorch does.
func NewConv2dNoBias(b Backend, rng *rand.Rand, name string, cin, cout, k, stride, pad int) *Conv2d {
	return newConv2d(b, rng, name, cin, cout, k, stride, pad)
}

func newConv2d(b Backend, rng *rand.Rand, name string, cin, cout, k, stride, pad int) *Conv2d {
	c := &Conv2d{b: b, name: name, Cin: cin, Cout: cout, K: k, Geom: ConvGeom{Stride: stride, Pad: pad}}
	c.Weight = newParam(b, join(name, "weight"), Shape{cout, cin, k, k})
	b.Upload(c.Weight.Value, uniform(rng, c.Weight.Shape.Len(), cin*k*k))
	return c
}

func (c *Conv2d) Name() string { return c.name }

func (c *Conv2d) Kind() string {
	s := fmt.Sprintf("Conv2d(%d, %d, kernel_size=%d", c.Cin, c.Cout, c.K)
	if c.Geom.Stride != 1 {
		s += fmt.Sprintf(", stride=%d", c.Geom.Stride)
	}
	if c.Geom.Pad != 0 {
		s += fmt.Sprintf(", padding=%d", c.Geom.Pad)
	}
	if c.Bias == nil {
		s += ", bias=False"
	}
	return s + ")"
}

func (c *Conv2d) OutShape(in Shape) (Shape, error) {
	if len(in) != 4 || in[1] != c.Cin {
		return nil, fmt.Errorf("%s: %s expects [N,%d,H,W], got %v", c.name, c.Kind(), c.Cin, in)
	}
	ho, wo := c.Geom.Out(in[2], c.K), c.Geom.Out(in[3], c.K)
	if ho < 1 || wo < 1 {
		return nil, fmt.Errorf("%s: input %v is smaller than the %d×%d kernel", c.name, in, c.K, c.K)
	}
	return Shape{in[0], c.Cout, ho, wo}, nil
}

func (c *Conv2d) Forward(x Tensor, train bool) Tensor {
	c.x, c.train = x, train
	y := c.y.get(c.b, mustOut(c, x.Shape()))
	var bias Tensor
	if c.Bias != nil {
		bias = c.Bias.Value
	}
	c.b.Conv2D(y, x, c.Weight.Value, bias, c.Geom)
	return y
}

func (c *Conv2d) Backward(dy Tensor, needDx bool) Tensor {
	var db Tensor
	if c.Bias != nil {
		db = c.Bias.Grad
	}
	if c.train {
		c.b.Conv2DBackwardParams(c.Weight.Grad, db, dy, c.x, c.Geom)
	}
	if !needDx {
		return nil
	}
	dx := c.dx.get(c.b, c.x.Shape())
	c.b.Conv2DBackwardData(dx, dy, c.Weight.Value, c.Geom)
	return dx
}

func (c *Conv2d) Output() Tensor { return c.y.t }
func (c *Conv2d) State() State {
	if c.Bias == nil {
		return State{Params: []*Param{c.Weight}}
	}
	return State{Params: []*Param{c.Weight, c.Bias}}
}

func (c *Conv2d) Release() {
	c.y.free(c.b)
	c.dx.free(c.b)
}

func (c *Conv2d) Free() {
	c.Release()
	freeParams(c.b, c.Weight, c.Bias)
}

// mustOut is OutShape for shapes the network already checked when built.
func mustOut(l Layer, in Shape) Shape {
	s, err := l.OutShape(in)
	if err != nil {
		panic(err)
	}
	return s
}

func freeParams(b Backend, ps ...*Param) {
	for _, p := range ps {
		if p == nil {
			continue
		}
		for _, t := range []Tensor{p.Value, p.Grad, p.M, p.V} {
			if t != nil {
				b.Free(t)
			}
		}
	}
}

// ---- Linear ----

// Linear is torch.nn.Linear with a bias.
type Linear struct {
	b            Backend
	name         string
	In, Out      int
	Weight, Bias *Param // [Out, In], [Out]
	x            Tensor // [N, In]
	train        bool   // the last forward trained (else Backward computes dx only)
	y, dx        scratch
}

// NewLinear makes a linear layer initialised as PyTorch does.
func NewLinear(b Backend, rng *rand.Rand, name string, in, out int) *Linear {
	l := &Linear{b: b, name: name, In: in, Out: out}
	l.Weight = newParam(b, join(name, "weight"), Shape{out, in})
	l.Bias = newParam(b, join(name, "bias"), Shape{out})
	b.Upload(l.Weight.Value, uniform(rng, out*in, in))
	b.Upload(l.Bias.Value, uniform(rng, out, in))
	return l
}

func (l *Linear) Name() string { return l.name }
func (l *Linear) Kind() string {
	return fmt.Sprintf("Linear(in_features=%d, out_features=%d)", l.In, l.Out)
}

func (l *Linear) OutShape(in Shape) (Shape, error) {
	if len(in) != 2 || in[1] != l.In {
		return nil, fmt.Errorf("%s: %s expects [N,%d], got %v", l.name, l.Kind(), l.In, in)
	}
	return Shape{in[0], l.Out}, nil
}

func (l *Linear) Forward(x Tensor, train bool) Tensor {
	l.x, l.train = x, train
	y := l.y.get(l.b, mustOut(l, x.Shape()))
	l.b.Linear(y, x, l.Weight.Value, l.Bias.Value)
	return y
}

func (l *Linear) Backward(dy Tensor, needDx bool) Tensor {
	if l.train {
		l.b.LinearBackwardParams(l.Weight.Grad, l.Bias.Grad, dy, l.x)
	}
	if !needDx {
		return nil
	}
	dx := l.dx.get(l.b, l.x.Shape())
	l.b.LinearBackwardData(dx, dy, l.Weight.Value)
	return dx
}

func (l *Linear) Output() Tensor { return l.y.t }
func (l *Linear) State() State   { return State{Params: []*Param{l.Weight, l.Bias}} }
func (l *Linear) Release() {
	l.y.free(l.b)
	l.dx.free(l.b)
}

func (l *Linear) Free() {
	l.Release()
	freeParams(l.b, l.Weight, l.Bias)
}

// ---- BatchNorm2d ----

// BatchNorm2d is torch.nn.BatchNorm2d with affine parameters and running
// statistics: eps 1e-5, momentum 0.1.
type BatchNorm2d struct {
	b                       Backend
	name                    string
	C                       int
	Momentum, Eps           float32
	Weight, Bias            *Param  // gamma, beta [C]
	RunningMean, RunningVar *Buffer // [C]
	Tracked                 int64   // num_batches_tracked
	x                       Tensor  // [N, C, H, W] of the last training forward
	mean, invstd            Tensor  // [C] batch statistics of that forward
	train                   bool    // the last forward trained
	zero                    Tensor  // [C] zeros, for the backward of an eval forward
	y, dx                   scratch
	// relu, when set, is the ReLU that follows this batch norm in its
	// Sequential, and the backend fuses the pair (BatchNormReLUBackend):
	// a training forward then writes max(normalised, 0) straight into the
	// ReLU's output (this layer's own output is not made), the ReLU passes
	// it on, and its backward passes dy back for this layer to mask.
	relu  *ReLU
	fused bool // the last forward was fused
	// endsSum: the batch norm ends the main path of a block with a
	// shortcut (relu, when set, is the ReLU after the block's sum). A
	// training forward on a BatchNormAddBackend with residual set (by the
	// block, for that forward: the shortcut's output) then writes
	// normalised + residual, through the ReLU when there is one, into the
	// ReLU's output or its own (added: Output is then nil, and the block's
	// sum holds it); without residual, it is not fused.
	endsSum  bool
	residual Tensor
	added    bool // the last forward added residual
}

// NewBatchNorm2d makes a batch norm initialised as PyTorch does.
func NewBatchNorm2d(b Backend, name string, c int) *BatchNorm2d {
	n := &BatchNorm2d{b: b, name: name, C: c, Momentum: 0.1, Eps: 1e-5}
	n.Weight = newParam(b, join(name, "weight"), Shape{c})
	n.Bias = newParam(b, join(name, "bias"), Shape{c})
	n.RunningMean = &Buffer{Name: join(name, "running_mean"), Shape: Shape{c}, Value: b.NewTensor(Shape{c})}
	n.RunningVar = &Buffer{Name: join(name, "running_var"), Shape: Shape{c}, Value: b.NewTensor(Shape{c})}
	b.Upload(n.Weight.Value, constant(c, 1))
	b.Upload(n.RunningVar.Value, constant(c, 1))
	n.mean = b.NewTensor(Shape{c})
	n.invstd = b.NewTensor(Shape{c})
	return n
}

func (n *BatchNorm2d) Name() string { return n.name }
func (n *BatchNorm2d) Kind() string {
	return fmt.Sprintf("BatchNorm2d(%d, eps=1e-05, momentum=0.1)", n.C)
}

func (n *BatchNorm2d) OutShape(in Shape) (Shape, error) {
	if len(in) != 4 || in[1] != n.C {
		return nil, fmt.Errorf("%s: %s expects [N,%d,H,W], got %v", n.name, n.Kind(), n.C, in)
	}
	return in, nil
}

func (n *BatchNorm2d) Forward(x Tensor, train bool) Tensor {
	n.train, n.added = train, false
	if f, ok := n.b.(BatchNormAddBackend); ok && n.endsSum && n.residual != nil && train {
		n.x, n.added = x, true
		var y Tensor
		if n.relu != nil {
			y = n.relu.y.get(n.b, mustOut(n, x.Shape()))
			n.fused, n.relu.passed = true, true
		} else {
			y = n.y.get(n.b, mustOut(n, x.Shape()))
		}
		f.BatchNorm2DTrainAdd(y, n.mean, n.invstd, x, n.Weight.Value, n.Bias.Value,
			n.RunningMean.Value, n.RunningVar.Value, n.residual, n.relu != nil, n.Momentum, n.Eps)
		n.Tracked++
		return y
	}
	if f, ok := n.b.(BatchNormReLUBackend); ok && n.relu != nil && !n.endsSum && train {
		y := n.relu.y.get(n.b, mustOut(n, x.Shape()))
		n.x, n.fused, n.relu.passed = x, true, true
		f.BatchNorm2DTrainReLU(y, n.mean, n.invstd, x, n.Weight.Value, n.Bias.Value,
			n.RunningMean.Value, n.RunningVar.Value, n.Momentum, n.Eps)
		n.Tracked++
		return y
	}
	n.fused = false
	if n.relu != nil {
		n.relu.passed = false
	}
	y := n.y.get(n.b, mustOut(n, x.Shape()))
	if !train {
		n.b.BatchNorm2DEval(y, x, n.Weight.Value, n.Bias.Value, n.RunningMean.Value, n.RunningVar.Value, n.Eps)
		return y
	}
	n.x = x
	n.b.BatchNorm2DTrain(y, n.mean, n.invstd, x, n.Weight.Value, n.Bias.Value,
		n.RunningMean.Value, n.RunningVar.Value, n.Momentum, n.Eps)
	n.Tracked++
	return y
}

func (n *BatchNorm2d) Backward(dy Tensor, needDx bool) Tensor {
	if !n.train {
		// Eval mode is the affine map x·γ/√(running_var+ε) + …, whose
		// input gradient is dy scaled alike: the same op with β and the
		// mean zero.
		if !needDx {
			return nil
		}
		if n.zero == nil {
			n.zero = n.b.NewTensor(Shape{n.C})
			n.b.Upload(n.zero, make([]float32, n.C))
		}
		dx := n.dx.get(n.b, dy.Shape())
		n.b.BatchNorm2DEval(dx, dy, n.Weight.Value, n.zero, n.zero, n.RunningVar.Value, n.Eps)
		return dx
	}
	dx := n.dx.get(n.b, n.x.Shape())
	if n.fused {
		n.b.(BatchNormReLUBackend).BatchNorm2DBackwardReLU(dx, n.Weight.Grad, n.Bias.Grad, dy, n.relu.y.t, n.x, n.mean, n.invstd, n.Weight.Value)
	} else {
		n.b.BatchNorm2DBackward(dx, n.Weight.Grad, n.Bias.Grad, dy, n.x, n.mean, n.invstd, n.Weight.Value)
	}
	if !needDx {
		return nil
	}
	return dx
}

// Output is the last forward's output; after a fused one (see relu and
// endsSum), nil: the ReLU's output, or the block's sum, holds what follows
// it.
func (n *BatchNorm2d) Output() Tensor {
	if n.fused || n.added {
		return nil
	}
	return n.y.t
}

func (n *BatchNorm2d) State() State {
	return State{
		Params:   []*Param{n.Weight, n.Bias},
		Buffers:  []*Buffer{n.RunningMean, n.RunningVar},
		Counters: []*Counter{{Name: join(n.name, "num_batches_tracked"), Value: &n.Tracked}},
	}
}

func (n *BatchNorm2d) Release() {
	n.y.free(n.b)
	n.dx.free(n.b)
}

func (n *BatchNorm2d) Free() {
	n.Release()
	freeParams(n.b, n.Weight, n.Bias)
	for _, t := range []Tensor{n.RunningMean.Value, n.RunningVar.Value, n.mean, n.invstd} {
		n.b.Free(t)
	}
	if n.zero != nil {
		n.b.Free(n.zero)
	}
}

// ---- ReLU ----

// ReLU is max(x, 0).
type ReLU struct {
	b     Backend
	name  string
	y, dx scratch
	// passed: the batch norm before it wrote its output (fused), so that
	// its forward and backward pass their input on.
	passed bool
}

func NewReLU(b Backend, name string) *ReLU       { return &ReLU{b: b, name: name} }
func (r *ReLU) Name() string                     { return r.name }
func (r *ReLU) Kind() string                     { return "ReLU()" }
func (r *ReLU) OutShape(in Shape) (Shape, error) { return in, nil }
func (r *ReLU) Output() Tensor                   { return r.y.t }
func (r *ReLU) State() State                     { return State{} }
func (r *ReLU) Release()                         { r.y.free(r.b); r.dx.free(r.b) }
func (r *ReLU) Free()                            { r.Release() }
func (r *ReLU) Forward(x Tensor, train bool) Tensor {
	if r.passed {
		return x
	}
	y := r.y.get(r.b, x.Shape())
	r.b.ReLU(y, x)
	return y
}

func (r *ReLU) Backward(dy Tensor, needDx bool) Tensor {
	if !needDx {
		return nil
	}
	if r.passed { // the batch norm before masks dy
		return dy
	}
	dx := r.dx.get(r.b, dy.Shape())
	r.b.ReLUBackward(dx, dy, r.y.t)
	return dx
}

// ---- MaxPool2d ----

// MaxPool2d is torch.nn.MaxPool2d without padding; with Adaptive set it is
// adaptive_max_pool2d to 1×1 (the window is the whole input plane).
type MaxPool2d struct {
	b        Backend
	name     string
	K, S     int
	Adaptive bool
	x        Shape
	argmax   intScratch
	y, dx    scratch
}

// NewMaxPool2d is MaxPool2d(kernel_size=k, stride=s).
func NewMaxPool2d(b Backend, name string, k, s int) *MaxPool2d {
	return &MaxPool2d{b: b, name: name, K: k, S: s}
}

// NewGlobalMaxPool2d is adaptive_max_pool2d(x, [1, 1]).
func NewGlobalMaxPool2d(b Backend, name string) *MaxPool2d {
	return &MaxPool2d{b: b, name: name, Adaptive: true}
}

func (p *MaxPool2d) Name() string { return p.name }
func (p *MaxPool2d) Kind() string {
	if p.Adaptive {
		return "AdaptiveMaxPool2d(output_size=[1, 1])"
	}
	return fmt.Sprintf("MaxPool2d(kernel_size=%d, stride=%d)", p.K, p.S)
}

func (p *MaxPool2d) geom(in Shape) PoolGeom {
	if p.Adaptive {
		return PoolGeom{KH: in[2], KW: in[3], SH: in[2], SW: in[3]}
	}
	return PoolGeom{KH: p.K, KW: p.K, SH: p.S, SW: p.S}
}

func (p *MaxPool2d) OutShape(in Shape) (Shape, error) {
	if len(in) != 4 {
		return nil, fmt.Errorf("%s: %s expects [N,C,H,W], got %v", p.name, p.Kind(), in)
	}
	ho, wo := p.geom(in).Out(in[2], in[3])
	if ho < 1 || wo < 1 {
		return nil, fmt.Errorf("%s: input %v is smaller than the pooling window", p.name, in)
	}
	return Shape{in[0], in[1], ho, wo}, nil
}

func (p *MaxPool2d) Forward(x Tensor, train bool) Tensor {
	p.x = x.Shape()
	out := mustOut(p, p.x)
	y := p.y.get(p.b, out)
	p.b.MaxPool2D(y, p.argmax.get(p.b, out), x, p.geom(p.x))
	return y
}

func (p *MaxPool2d) Backward(dy Tensor, needDx bool) Tensor {
	if !needDx {
		return nil
	}
	dx := p.dx.get(p.b, p.x)
	p.b.MaxPool2DBackward(dx, dy, p.argmax.t, p.geom(p.x))
	return dx
}

func (p *MaxPool2d) Output() Tensor { return p.y.t }
func (p *MaxPool2d) State() State   { return State{} }
func (p *MaxPool2d) Release() {
	p.y.free(p.b)
	p.dx.free(p.b)
	p.argmax.free(p.b)
}

func (p *MaxPool2d) Free() { p.Release() }

// ---- Flatten ----

// Flatten is x.view(x.size(0), -1).
type Flatten struct {
	b    Backend
	name string
	x    Shape
	y    Tensor
}

func NewFlatten(b Backend, name string) *Flatten { return &Flatten{b: b, name: name} }
func (f *Flatten) Name() string                  { return f.name }
func (f *Flatten) Kind() string                  { return "Flatten()" }
func (f *Flatten) OutShape(in Shape) (Shape, error) {
	if len(in) < 2 {
		return nil, fmt.Errorf("%s: cannot flatten %v", f.name, in)
	}
	return Shape{in[0], in[1:].Len()}, nil
}
func (f *Flatten) Forward(x Tensor, train bool) Tensor {
	f.x = x.Shape()
	f.y = f.b.Reshape(x, mustOut(f, f.x))
	return f.y
}
func (f *Flatten) Backward(dy Tensor, needDx bool) Tensor {
	if !needDx {
		return nil
	}
	return f.b.Reshape(dy, f.x)
}
func (f *Flatten) Output() Tensor { return f.y }
func (f *Flatten) State() State   { return State{} }
func (f *Flatten) Free()          { f.Release() }
func (f *Flatten) Release()       { f.y = nil } // a view of the input, which its layer frees

// ---- GlobalAvgPool2d ----

// GlobalAvgPool2d is AdaptiveAvgPool2d((1, 1)): the mean of each plane.
type GlobalAvgPool2d struct {
	b     Backend
	name  string
	x     Shape
	y, dx scratch
}

// NewGlobalAvgPool2d is nn.AdaptiveAvgPool2d((1, 1)).
func NewGlobalAvgPool2d(b Backend, name string) *GlobalAvgPool2d {
	return &GlobalAvgPool2d{b: b, name: name}
}

func (p *GlobalAvgPool2d) Name() string { return p.name }
func (p *GlobalAvgPool2d) Kind() string { return "AdaptiveAvgPool2d(output_size=(1, 1))" }

func (p *GlobalAvgPool2d) OutShape(in Shape) (Shape, error) {
	if len(in) != 4 || in[2] < 1 || in[3] < 1 {
		return nil, fmt.Errorf("%s: %s expects [N,C,H,W], got %v", p.name, p.Kind(), in)
	}
	return Shape{in[0], in[1], 1, 1}, nil
}

func (p *GlobalAvgPool2d) Forward(x Tensor, train bool) Tensor {
	p.x = x.Shape()
	y := p.y.get(p.b, mustOut(p, p.x))
	p.b.GlobalAvgPool2D(y, x)
	return y
}

func (p *GlobalAvgPool2d) Backward(dy Tensor, needDx bool) Tensor {
	if !needDx {
		return nil
	}
	dx := p.dx.get(p.b, p.x)
	p.b.GlobalAvgPool2DBackward(dx, dy)
	return dx
}

func (p *GlobalAvgPool2d) Output() Tensor { return p.y.t }
func (p *GlobalAvgPool2d) State() State   { return State{} }
func (p *GlobalAvgPool2d) Release() {
	p.y.free(p.b)
	p.dx.free(p.b)
}

func (p *GlobalAvgPool2d) Free() { p.Release() }
