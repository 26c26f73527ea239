package net

import (
	"fmt"
	"math/rand/v2"
)

// InputShape is the shape of one input image: 3 channels of 32×32.
var InputShape = Shape{3, 32, 32}

// Network is a model: its top-level layers in forward order, all on one
// backend.
type Network struct {
	Model   string // a name of Models, or one with NoBNSuffix
	Classes int    // outputs of the last linear layer
	B       Backend
	Layers  []Layer
	y       Tensor // logits of the last forward [N, Classes]
}

// New builds the named model (a name of Models, or one with the suffix
// NoBNSuffix: the same network without BatchNorm) with PyTorch's default
// initialisation drawn from seed, and checks its shapes.
func New(b Backend, model string, classes int, seed uint64) (*Network, error) {
	if classes < 2 {
		return nil, fmt.Errorf("a classifier needs at least 2 classes, got %d", classes)
	}
	spec, bn, err := ParseModel(model)
	if err != nil {
		return nil, err
	}
	rng := rand.New(rand.NewPCG(seed, 0x63696661726c6162)) // "cifarlab"
	n := &Network{Model: model, Classes: classes, B: b, Layers: spec.build(b, rng, classes, bn)}
	if err := n.checkShapes(spec.shapes(classes)); err != nil {
		n.Free()
		return nil, err
	}
	if _, ok := b.(BatchNormReLUBackend); ok {
		fuseBNReLU(n.Layers)
	}
	return n, nil
}

// checkShapes runs the shape inference for input [2,3,32,32] and compares
// every top-level output with the shapes the model is defined to have.
func (n *Network) checkShapes(want map[string]Shape) error {
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

// InputGrad propagates dlogits back through the last forward to its input
// and returns ∂/∂x. After an eval forward (the saliency of an image) it
// writes no parameter gradient, and BatchNorm is the affine map of its
// running statistics, as in PyTorch's eval mode.
func (n *Network) InputGrad(dlogits Tensor) Tensor {
	dy := dlogits
	for i := len(n.Layers) - 1; i >= 0; i-- {
		dy = n.Layers[i].Backward(dy, true)
	}
	return dy
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

// Release frees the tensors sized by the batch (outputs and gradients of
// every layer), keeping the weights, buffers and Adam's state: after a
// change of batch size the old batch's memory goes back to the backend.
func (n *Network) Release() {
	for _, l := range n.Layers {
		l.Release()
	}
}

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

// Blocks are the network's residual (or plain) blocks in forward order.
func (n *Network) Blocks() []*ResBlk {
	var out []*ResBlk
	var walk func(ls []Layer)
	walk = func(ls []Layer) {
		for _, l := range ls {
			switch c := l.(type) {
			case *ResBlk:
				out = append(out, c)
			case Container:
				walk(c.Children())
			}
		}
	}
	walk(n.Layers)
	return out
}

// PathWeights are the weights of the convolutions and linear layers on
// the main path, in forward order, leaving out the shortcuts'
// projections: one per layer of depth, the same list for a residual
// network and its plain twin.
func (n *Network) PathWeights() []*Param {
	var out []*Param
	var walk func(ls []Layer)
	walk = func(ls []Layer) {
		for _, l := range ls {
			switch c := l.(type) {
			case *Conv2d:
				out = append(out, c.Weight)
			case *Linear:
				out = append(out, c.Weight)
			case *ResBlk:
				walk(c.main.Layers)
			case Container:
				walk(c.Children())
			}
		}
	}
	walk(n.Layers)
	return out
}
