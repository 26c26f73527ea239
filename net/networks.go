package net

import (
	"fmt"
	"math/rand/v2"
	"strings"
)

// Models are the networks cifarlab builds, by the name the command line uses.
var Models = []string{"lenet5", "resnet18"}

// InputShape is the shape of one input image: 3 channels of 32×32.
var InputShape = Shape{3, 32, 32}

// Network is a model: its top-level layers in forward order, all on one
// backend.
type Network struct {
	Model   string // "lenet5" or "resnet18"
	Classes int    // outputs of the last linear layer
	B       Backend
	Layers  []Layer
	y       Tensor // logits of the last forward [N, Classes]
}

// New builds the named model with PyTorch's default initialisation drawn
// from seed, and checks its shapes.
func New(b Backend, model string, classes int, seed uint64) (*Network, error) {
	if classes < 2 {
		return nil, fmt.Errorf("a classifier needs at least 2 classes, got %d", classes)
	}
	rng := rand.New(rand.NewPCG(seed, 0x63696661726c6162)) // "cifarlab"
	var n *Network
	switch model {
	case "lenet5":
		n = newLeNet5(b, rng, classes)
	case "resnet18":
		n = newResNet18(b, rng, classes)
	default:
		return nil, fmt.Errorf("unknown model %q (valid: %s)", model, strings.Join(Models, ", "))
	}
	if err := n.checkShapes(); err != nil {
		n.Free()
		return nil, err
	}
	return n, nil
}

// newLeNet5 is the reference LeNet5: conv_unit (no activation after the
// convolutions, as the reference wrote it), flatten, fc_unit.
func newLeNet5(b Backend, rng *rand.Rand, classes int) *Network {
	conv := NewSequential("conv_unit",
		NewConv2d(b, rng, "conv_unit.0", 3, 6, 5, 1, 0),
		NewMaxPool2d(b, "conv_unit.1", 2, 2),
		NewConv2d(b, rng, "conv_unit.2", 6, 16, 5, 1, 0),
		NewMaxPool2d(b, "conv_unit.3", 2, 2))
	fc := NewSequential("fc_unit",
		NewLinear(b, rng, "fc_unit.0", 400, 120),
		NewReLU(b, "fc_unit.1"),
		NewLinear(b, rng, "fc_unit.2", 120, 84),
		NewReLU(b, "fc_unit.3"),
		NewLinear(b, rng, "fc_unit.4", 84, classes))
	return &Network{Model: "lenet5", Classes: classes, B: b,
		Layers: []Layer{conv, NewFlatten(b, "flatten"), fc}}
}

// newResNet18 is the reference ResNet18, except that blk4 (512→512,
// stride 2) gets a projection shortcut (see ResBlk).
func newResNet18(b Backend, rng *rand.Rand, classes int) *Network {
	stem := NewSequential("conv1",
		NewConv2d(b, rng, "conv1.0", 3, 64, 3, 3, 0),
		NewBatchNorm2d(b, "conv1.1", 64))
	return &Network{Model: "resnet18", Classes: classes, B: b, Layers: []Layer{
		stem,
		NewReLU(b, "relu"),
		NewResBlk(b, rng, "blk1", 64, 128, 2),
		NewResBlk(b, rng, "blk2", 128, 256, 2),
		NewResBlk(b, rng, "blk3", 256, 512, 2),
		NewResBlk(b, rng, "blk4", 512, 512, 2),
		NewGlobalMaxPool2d(b, "pool"),
		NewFlatten(b, "flatten"),
		NewLinear(b, rng, "outlayer", 512, classes),
	}}
}

// expectedShapes are the top-level output shapes for input [2,3,32,32].
func (n *Network) expectedShapes() map[string]Shape {
	k := n.Classes
	switch n.Model {
	case "lenet5":
		return map[string]Shape{"conv_unit": {2, 16, 5, 5}, "flatten": {2, 400}, "fc_unit": {2, k}}
	default:
		return map[string]Shape{"conv1": {2, 64, 10, 10}, "blk1": {2, 128, 5, 5}, "blk2": {2, 256, 3, 3},
			"blk3": {2, 512, 2, 2}, "blk4": {2, 512, 1, 1}, "pool": {2, 512, 1, 1}, "outlayer": {2, k}}
	}
}

// checkShapes runs the shape inference for input [2,3,32,32] and compares
// every top-level output with the shapes the model is defined to have.
func (n *Network) checkShapes() error {
	want := n.expectedShapes()
	s := append(Shape{2}, InputShape...)
	for _, l := range n.Layers {
		var err error
		if s, err = l.OutShape(s); err != nil {
			return fmt.Errorf("%s: %w", n.Model, err)
		}
		if w, ok := want[l.Name()]; ok && !w.Equal(s) {
			return fmt.Errorf("%s: %s outputs %v, want %v", n.Model, l.Name(), s, w)
		}
	}
	if !s.Equal(Shape{2, n.Classes}) {
		return fmt.Errorf("%s: outputs %v, want [2,%d]", n.Model, s, n.Classes)
	}
	return nil
}

// Forward computes the logits [N, Classes] of a batch x [N, 3, 32, 32].
func (n *Network) Forward(x Tensor, train bool) Tensor {
	for _, l := range n.Layers {
		x = l.Forward(x, train)
	}
	n.y = x
	return x
}

// Backward propagates ∂L/∂logits of the last training forward, writing
// every parameter's gradient.
func (n *Network) Backward(dlogits Tensor) {
	dy := dlogits
	for i := len(n.Layers) - 1; i >= 0; i-- {
		dy = n.Layers[i].Backward(dy, i > 0)
	}
}

// State lists the whole state dict in the order PyTorch's state_dict()
// gives it.
func (n *Network) State() State {
	var st State
	for _, l := range n.Layers {
		st.add(l.State())
	}
	return st
}

// Params are the trainable parameters in state-dict order.
func (n *Network) Params() []*Param { return n.State().Params }

// NumParams counts the trainable parameters.
func (n *Network) NumParams() int {
	c := 0
	for _, p := range n.Params() {
		c += p.Shape.Len()
	}
	return c
}

// HasBatchNorm reports whether the network has BatchNorm layers.
func (n *Network) HasBatchNorm() bool { return len(n.State().Counters) > 0 }

// Free releases every tensor of the network.
func (n *Network) Free() {
	for _, l := range n.Layers {
		l.Free()
	}
}

// Find returns the layer with the given state-dict name, searching nested
// containers.
func (n *Network) Find(name string) Layer {
	var find func(ls []Layer) Layer
	find = func(ls []Layer) Layer {
		for _, l := range ls {
			if l.Name() == name {
				return l
			}
			if c, ok := l.(Container); ok {
				if f := find(c.Children()); f != nil {
					return f
				}
			}
		}
		return nil
	}
	return find(n.Layers)
}

// SummaryRow is one line of the layer table.
type SummaryRow struct {
	Depth  int    // nesting level, 0 for top-level layers
	Name   string // state-dict prefix
	Kind   string // as PyTorch prints the module
	Out    Shape  // output shape
	Params int    // trainable parameters of this layer and its children
}

// Summary lists every layer with its output shape for input in, nested
// layers after their container (a ResBlk's main path, then its shortcut).
func (n *Network) Summary(in Shape) ([]SummaryRow, error) {
	var rows []SummaryRow
	_, err := summarize(n.Layers, in, 0, &rows)
	return rows, err
}

func summarize(ls []Layer, in Shape, depth int, rows *[]SummaryRow) (Shape, error) {
	for _, l := range ls {
		out, err := l.OutShape(in)
		if err != nil {
			return nil, err
		}
		*rows = append(*rows, SummaryRow{Depth: depth, Name: l.Name(), Kind: l.Kind(), Out: out, Params: countParams(l)})
		switch c := l.(type) {
		case *ResBlk:
			if _, err := summarize(c.main.Layers, in, depth+1, rows); err != nil {
				return nil, err
			}
			if c.Extra != nil {
				if _, err := summarize([]Layer{c.Extra}, in, depth+1, rows); err != nil {
					return nil, err
				}
			}
		case Container:
			if _, err := summarize(c.Children(), in, depth+1, rows); err != nil {
				return nil, err
			}
		}
		in = out
	}
	return in, nil
}

func countParams(l Layer) int {
	c := 0
	for _, p := range l.State().Params {
		c += p.Shape.Len()
	}
	return c
}
