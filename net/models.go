package net

import (
	"fmt"
	"math/rand/v2"
	"strings"
)

// Spec is one network of the table: everything the rest of cifarlab (the
// command line, the viewer, checkpoints) needs to know about it.
type Spec struct {
	Name  string // as the command line and checkpoints name it
	Title string // as people call it
	// Twin is the same network with the shortcuts removed (for a residual
	// network) or added (for a plain one); "" for LeNet5.
	Twin string
	// Shortcuts says whether the blocks add their input to their output.
	Shortcuts bool
	// BatchNorm says whether the network has BatchNorm layers, which
	// can then be removed (NoBNSuffix).
	BatchNorm bool
	// Depth counts the layers with weights on the longest path
	// (convolutions and linears, shortcuts not counted).
	Depth int
	// Blocks are the state-dict names of the residual (or plain) blocks in
	// forward order, whose main path, shortcut and sum the viewer shows.
	Blocks []string
	// Convs are the convolutions whose feature maps the viewer shows, in
	// forward order.
	Convs []string
	// Batch is the batch size the viewer starts with.
	Batch int
	// Head is the state-dict name of the last linear layer, whose outputs
	// are the classes.
	Head string

	build  func(b Backend, rng *rand.Rand, classes int, bn bool) []Layer
	shapes func(classes int) map[string]Shape // top-level outputs for input [2,3,32,32]
}

// NoBNSuffix names a block network without BatchNorm: "plain56-nobn" is
// plain56 with every BatchNorm removed and its convolution given a bias.
const NoBNSuffix = "-nobn"

// Specs is every network cifarlab builds, in the order menus list them.
var Specs = []Spec{
	{Name: "lenet5", Title: "LeNet5", Depth: 5, Batch: 64, Head: "fc_unit.4",
		Convs: []string{"conv_unit.0", "conv_unit.2"},
		build: newLeNet5,
		shapes: func(k int) map[string]Shape {
			return map[string]Shape{"conv_unit": {2, 16, 5, 5}, "flatten": {2, 400}, "fc_unit": {2, k}}
		}},
	tutorialResNet("resnet18", "ResNet18", "resnet18-plain", true),
	tutorialResNet("resnet18-plain", "ResNet18, plain", "resnet18", false),
	heResNet(3, true), heResNet(3, false),
	heResNet(9, true), heResNet(9, false),
}

// Models are the names of Specs.
var Models = func() []string {
	var names []string
	for _, s := range Specs {
		names = append(names, s.Name)
	}
	return names
}()

// ParseModel finds the spec of a model name and whether the network has
// BatchNorm (false for a name with NoBNSuffix).
func ParseModel(name string) (Spec, bool, error) {
	base, nobn := strings.CutSuffix(name, NoBNSuffix)
	for _, s := range Specs {
		if s.Name != base {
			continue
		}
		if nobn && !s.BatchNorm {
			return Spec{}, false, fmt.Errorf("model %q: %s has no BatchNorm to remove", name, base)
		}
		return s, s.BatchNorm && !nobn, nil
	}
	return Spec{}, false, fmt.Errorf("unknown model %q (valid: %s; a block network without BatchNorm adds %q)",
		name, strings.Join(Models, ", "), NoBNSuffix)
}

// ModelName is the name of base with BatchNorm (bn) or without it.
func ModelName(base string, bn bool) string {
	if bn {
		return base
	}
	return base + NoBNSuffix
}

// ValidModel reports whether New builds the named model.
func ValidModel(name string) bool {
	_, _, err := ParseModel(name)
	return err == nil
}

// newLeNet5 is the reference LeNet5: conv_unit (no activation after the
// convolutions, as the reference wrote it), flatten, fc_unit.
func newLeNet5(b Backend, rng *rand.Rand, classes int, _ bool) []Layer {
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
	return []Layer{conv, NewFlatten(b, "flatten"), fc}
}

// tutorialResNet is the tutorial's ResNet18, except that blk4 (512→512,
// stride 2) gets a projection shortcut (see ResBlk); without shortcuts each
// block's output is its main path.
func tutorialResNet(name, title, twin string, shortcuts bool) Spec {
	blocks := []string{"blk1", "blk2", "blk3", "blk4"}
	convs := []string{"conv1.0"}
	for _, b := range blocks {
		convs = append(convs, b+".conv1", b+".conv2")
	}
	return Spec{Name: name, Title: title, Twin: twin, Shortcuts: shortcuts, BatchNorm: true, Depth: 10,
		Blocks: blocks, Convs: convs, Batch: 32, Head: "outlayer",
		build: func(b Backend, rng *rand.Rand, classes int, bn bool) []Layer {
			stem := []Layer{NewConv2d(b, rng, "conv1.0", 3, 64, 3, 3, 0)}
			if bn {
				stem = append(stem, NewBatchNorm2d(b, "conv1.1", 64))
			}
			o := TutorialBlock
			o.Shortcut, o.BatchNorm = shortcuts, bn
			return []Layer{
				NewSequential("conv1", stem...),
				NewReLU(b, "relu"),
				NewBlock(b, rng, "blk1", 64, 128, 2, o),
				NewBlock(b, rng, "blk2", 128, 256, 2, o),
				NewBlock(b, rng, "blk3", 256, 512, 2, o),
				NewBlock(b, rng, "blk4", 512, 512, 2, o),
				NewGlobalMaxPool2d(b, "pool"),
				NewFlatten(b, "flatten"),
				NewLinear(b, rng, "outlayer", 512, classes),
			}
		},
		shapes: func(k int) map[string]Shape {
			return map[string]Shape{"conv1": {2, 64, 10, 10}, "blk1": {2, 128, 5, 5}, "blk2": {2, 256, 3, 3},
				"blk3": {2, 512, 2, 2}, "blk4": {2, 512, 1, 1}, "pool": {2, 512, 1, 1}, "outlayer": {2, k}}
		},
	}
}

// heResNet is the CIFAR-10 network of He et al., "Deep Residual Learning
// for Image Recognition" (2015), §4.2, with 6n+2 layers: a 3×3 convolution
// to 16 channels, three stages of n blocks of 16, 32 and 64 channels (the
// first block of the second and third halving the resolution, with a 1×1
// projection shortcut, option B), global average pooling and a linear
// layer. The plain twin has the same layers without shortcuts.
func heResNet(n int, shortcuts bool) Spec {
	depth := 6*n + 2
	name, title, twin := fmt.Sprintf("resnet%d", depth), fmt.Sprintf("ResNet-%d", depth), fmt.Sprintf("plain%d", depth)
	if !shortcuts {
		name, title, twin = twin, fmt.Sprintf("plain-%d", depth), name
	}
	var blocks []string
	convs := []string{"conv1"}
	for s := 1; s <= 3; s++ {
		for i := 0; i < n; i++ {
			blk := fmt.Sprintf("layer%d.%d", s, i)
			blocks = append(blocks, blk)
			convs = append(convs, blk+".conv1", blk+".conv2")
		}
	}
	return Spec{Name: name, Title: title, Twin: twin, Shortcuts: shortcuts, BatchNorm: true, Depth: depth,
		Blocks: blocks, Convs: convs, Batch: 64, Head: "fc",
		build: func(b Backend, rng *rand.Rand, classes int, bn bool) []Layer {
			var ls []Layer
			if bn {
				ls = append(ls, NewConv2dNoBias(b, rng, "conv1", 3, 16, 3, 1, 1), NewBatchNorm2d(b, "bn1", 16))
			} else {
				ls = append(ls, NewConv2d(b, rng, "conv1", 3, 16, 3, 1, 1))
			}
			ls = append(ls, NewReLU(b, "relu"))
			o := HeBlock
			o.Shortcut, o.BatchNorm = shortcuts, bn
			cin := 16
			for s, cout := range []int{16, 32, 64} {
				stage := fmt.Sprintf("layer%d", s+1)
				var blks []Layer
				for i := 0; i < n; i++ {
					stride := 1
					if i == 0 && s > 0 {
						stride = 2
					}
					blks = append(blks, NewBlock(b, rng, fmt.Sprintf("%s.%d", stage, i), cin, cout, stride, o))
					cin = cout
				}
				ls = append(ls, NewSequential(stage, blks...))
			}
			return append(ls,
				NewGlobalAvgPool2d(b, "avgpool"),
				NewFlatten(b, "flatten"),
				NewLinear(b, rng, "fc", 64, classes))
		},
		shapes: func(k int) map[string]Shape {
			return map[string]Shape{"relu": {2, 16, 32, 32}, "layer1": {2, 16, 32, 32}, "layer2": {2, 32, 16, 16},
				"layer3": {2, 64, 8, 8}, "avgpool": {2, 64, 1, 1}, "fc": {2, k}}
		},
	}
}
