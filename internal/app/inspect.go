package app

import (
	"fmt"
	"strings"
	"time"

	"cifarlab/net"
	"cifarlab/viz"
)

// An inspection sends the selected image through the network in eval mode
// (a batch of one, whose layer buffers the layers keep beside the training
// batch's) and reads back, without waiting for the device, the tensors the
// viewer shows. While training, its values are collected once the result
// of a step sent after it arrives (the device is past it then, so nothing
// waits), and the next starts InspectEvery and InspectSteps later; while
// paused, at once.

// probeKind says where a probe's values go in the snapshot.
type probeKind int

const (
	probePanel    probeKind = iota // a Panel of feature maps
	probeMain                      // a Block's main path
	probeShortcut                  // a Block's shortcut output
	probeSum                       // a Block's sum
	probeBars                      // fully connected activations
	probeLogits                    // the logits: bars and the probabilities
	probeFilters                   // conv1's weights as RGB tiles
)

// probe is one tensor of the network that an inspection reads back.
type probe struct {
	kind        probeKind
	title, note string
	block       string // the block's title, for block parts
	projection  bool   // the block's shortcut is a projection
	labels      []string
	tensor      func() net.Tensor // valid right after the inspection's forward
}

// probesFor lists what the viewer shows of n: for LeNet5 the four maps of
// conv_unit, the fully connected activations after their ReLUs and the
// logits; for ResNet18 the stem after its ReLU, every block's main path,
// shortcut output and sum, and the logits; for both conv1's filters.
func probesFor(n *net.Network, classes []string) ([]probe, error) {
	var ps []probe
	var err error
	find := func(name string) net.Layer {
		l := n.Find(name)
		if l == nil && err == nil {
			err = fmt.Errorf("%s has no layer %s", n.Model, name)
		}
		return l
	}
	output := func(l net.Layer) func() net.Tensor {
		if l == nil {
			return nil
		}
		return l.Output
	}
	filters := func(name string) probe {
		p := probe{kind: probeFilters, title: "conv1 filters"}
		if c, ok := find(name).(*net.Conv2d); ok {
			p.note = fmt.Sprintf("%s.weight, %d×%d×%d×%d: each filter scaled to its own range", name, c.Cout, c.Cin, c.K, c.K)
			p.tensor = func() net.Tensor { return c.Weight.Value }
		} else if err == nil {
			err = fmt.Errorf("%s: %s is not a convolution", n.Model, name)
		}
		return p
	}
	switch n.Model {
	case "lenet5":
		for _, m := range []struct{ name, title, note string }{
			{"conv_unit.0", "conv1 (conv_unit.0)", "no activation follows, as in the reference"},
			{"conv_unit.1", "pool1 (conv_unit.1)", ""},
			{"conv_unit.2", "conv2 (conv_unit.2)", "no activation follows"},
			{"conv_unit.3", "pool2 (conv_unit.3)", "flattened to 400 inputs of fc_unit"},
		} {
			l := find(m.name)
			ps = append(ps, probe{kind: probePanel, title: m.title, note: joinNote(kindOf(l), m.note), tensor: output(l)})
		}
		for _, m := range []struct{ relu, linear, title string }{
			{"fc_unit.1", "fc_unit.0", "fc1 after ReLU (fc_unit.1)"},
			{"fc_unit.3", "fc_unit.2", "fc2 after ReLU (fc_unit.3)"},
		} {
			l := find(m.relu)
			ps = append(ps, probe{kind: probeBars, title: m.title, note: "ReLU(" + kindOf(find(m.linear)) + ")", tensor: output(l)})
		}
		l := find("fc_unit.4")
		ps = append(ps, probe{kind: probeLogits, title: "logits (fc_unit.4)", note: kindOf(l), labels: classes, tensor: output(l)})
		ps = append(ps, filters("conv_unit.0"))
	default:
		spec, bn, perr := net.ParseModel(n.Model)
		if perr != nil || len(spec.Blocks) == 0 {
			return nil, fmt.Errorf("no view of model %q", n.Model)
		}
		stem := kindOf(find(spec.Convs[0]))
		if bn {
			stem += ", BatchNorm2d"
		}
		ps = append(ps, probe{kind: probePanel, title: "stem (conv1 + ReLU)", note: stem + ", ReLU", tensor: output(find("relu"))})
		for _, name := range spec.Blocks {
			r, ok := find(name).(*net.ResBlk)
			if !ok {
				if err == nil {
					err = fmt.Errorf("%s: %s is not a block", n.Model, name)
				}
				continue
			}
			ps = append(ps, blockProbes(r)...)
		}
		l := find(spec.Head)
		ps = append(ps, probe{kind: probeLogits, title: "logits (" + spec.Head + ")", note: kindOf(l), labels: classes, tensor: output(l)})
		ps = append(ps, filters(spec.Convs[0]))
		return ps, err
	}
	return ps, err
}

// blockProbes are a block's main path, shortcut output (none in a plain
// block) and sum.
func blockProbes(r *net.ResBlk) []probe {
	title := fmt.Sprintf("%s (%d→%d, stride %d)", r.Name(), r.Cin, r.Cout, r.Stride)
	main := "bn2(conv2(relu(bn1(conv1(x)))))"
	if r.BN2 == nil {
		main = "conv2(relu(conv1(x)))"
	}
	proj := r.Extra != nil
	ps := []probe{{kind: probeMain, block: title, projection: proj, title: "main path", note: main, tensor: r.Main}}
	if !r.Opts.Shortcut {
		after := "no shortcut: the main path is the block's output"
		if r.OutRelu != nil {
			after = "no shortcut: ReLU(main path) is the block's output"
		}
		return append(ps, probe{kind: probeSum, block: title, title: "output", note: after, tensor: r.Output})
	}
	short := "identity: the block's input"
	if proj {
		bn := ""
		if r.BN2 != nil {
			bn = " + BatchNorm2d"
		}
		short = fmt.Sprintf("%s: 1×1 Conv2d(%d, %d, stride=%d)%s", r.Opts.ShortcutName, r.Cin, r.Cout, r.Stride, bn)
	}
	sum := "main + shortcut: the block's output (no ReLU after it)"
	if r.OutRelu != nil {
		sum = "main + shortcut, before the ReLU that gives the block's output"
	}
	return append(ps,
		probe{kind: probeShortcut, block: title, projection: proj, title: "shortcut", note: short, tensor: r.Shortcut},
		probe{kind: probeSum, block: title, projection: proj, title: "sum", note: sum, tensor: r.Sum})
}

func kindOf(l net.Layer) string {
	if l == nil {
		return ""
	}
	return l.Kind()
}

func joinNote(parts ...string) string {
	var out []string
	for _, p := range parts {
		if p != "" {
			out = append(out, p)
		}
	}
	return strings.Join(out, "; ")
}

// inspection is one inspection whose values are being read back.
type inspection struct {
	image  string // inspectedKey of the image
	after  int    // training steps sent before it
	probes []probe
	shapes []net.Shape
	reads  []func() ([]float32, error)
}

// view is what the last inspection found, ready for snapshots (which share
// it: it is never modified).
type view struct {
	image   string // inspectedKey of the image
	probs   []float32
	panels  []viz.Panel
	blocks  []viz.Block
	fc      []viz.Bars
	filters viz.Panel
}

// inspect collects the inspection in flight and starts the next.
func (w *worker) inspect() error {
	err := w.finishInspection()
	w.lastInspect, w.inspectStep = time.Now(), w.step
	if err != nil {
		return err
	}
	return w.startInspection()
}

// startInspection sends the selected image through the network in eval
// mode and starts reading back every probe's tensor.
func (w *worker) startInspection() error {
	if !w.ready() || len(w.strip) == 0 || len(w.probes) == 0 {
		return nil
	}
	x, err := w.inspectedInput()
	if err != nil {
		return err
	}
	w.net.Forward(x, false)
	in := &inspection{image: w.inspectedKey(), probes: w.probes, after: w.tr.Opt.Step}
	for _, p := range w.probes {
		t := p.tensor()
		if t == nil {
			return fmt.Errorf("%s: no tensor after the forward", p.title)
		}
		in.shapes = append(in.shapes, append(net.Shape(nil), t.Shape()...))
		in.reads = append(in.reads, w.b.ReadLater(t))
	}
	w.insp = in
	return w.b.Submit()
}

// inspectedKey names the inspected image, so that a view is shown only
// for the image it is of.
func (w *worker) inspectedKey() string {
	switch {
	case w.picture != nil:
		return fmt.Sprintf("picture %p", w.picture)
	case w.testImage >= 0:
		return fmt.Sprintf("test %d", w.testImage)
	}
	return fmt.Sprintf("strip %d", w.selected)
}

// inspectedInput gathers the inspected image (a test image of the strip,
// one chosen from the evaluation, or a picture) into a batch of one,
// normalised.
func (w *worker) inspectedInput() (net.Tensor, error) {
	recs, index := w.tests, w.stripIndex[w.selected:w.selected+1]
	if recs == nil {
		recs = w.recs
	}
	switch {
	case w.picture != nil:
		var err error
		if recs, err = w.pictureRecords(); err != nil {
			return nil, err
		}
		index = []int32{0}
	case w.testImage >= 0 && w.tests != nil:
		recs, index = w.tests, []int32{int32(w.testImage)}
	}
	x := w.x1.tensor(w.b, append(net.Shape{1}, net.InputShape...))
	l := w.x1.ints(w.b, net.Shape{1})
	w.b.Gather(x, l, recs, index, nil, 0, norm)
	return x, nil
}

// finishInspection waits for the inspection in flight, if any, and makes
// its view.
func (w *worker) finishInspection() error {
	in := w.insp
	if in == nil {
		return nil
	}
	w.insp = nil
	vals := make([][]float32, len(in.reads))
	var first error
	for i, read := range in.reads { // every one, to release what it holds
		v, err := read()
		if err != nil && first == nil {
			first = fmt.Errorf("read back %s: %w", in.probes[i].title, err)
		}
		vals[i] = v
	}
	if first != nil {
		return first
	}
	v, err := buildView(in, vals)
	if err != nil {
		return err
	}
	w.view = v
	return nil
}

// buildView turns the values of an inspection into panels, blocks and bars.
func buildView(in *inspection, vals [][]float32) (*view, error) {
	v := &view{image: in.image}
	block := func(title string, proj bool) *viz.Block {
		if n := len(v.blocks); n > 0 && v.blocks[n-1].Title == title {
			return &v.blocks[n-1]
		}
		v.blocks = append(v.blocks, viz.Block{Title: title, Projection: proj})
		return &v.blocks[len(v.blocks)-1]
	}
	for i, p := range in.probes {
		s, data := in.shapes[i], vals[i]
		if len(data) != s.Len() {
			return nil, fmt.Errorf("%s: %d values for shape %v", p.title, len(data), s)
		}
		switch p.kind {
		case probePanel, probeMain, probeShortcut, probeSum:
			maps, err := featureMaps(data, s)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", p.title, err)
			}
			panel := viz.Panel{Title: p.title, Note: p.note, Maps: maps}
			switch p.kind {
			case probePanel:
				v.panels = append(v.panels, panel)
			case probeMain:
				block(p.block, p.projection).Main = panel
			case probeShortcut:
				block(p.block, p.projection).Shortcut = panel
			case probeSum:
				block(p.block, p.projection).Sum = panel
			}
		case probeBars, probeLogits:
			v.fc = append(v.fc, viz.Bars{Title: p.title, Labels: p.labels, Values: data})
			if p.kind == probeLogits {
				for _, q := range net.Softmax(data) {
					v.probs = append(v.probs, float32(q))
				}
			}
		case probeFilters:
			tiles, err := filterTiles(data, s)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", p.title, err)
			}
			v.filters = viz.Panel{Title: p.title, Note: p.note, Maps: tiles}
		}
	}
	return v, nil
}

// featureMaps splits a [1, C, H, W] tensor into C maps (sharing data).
func featureMaps(data []float32, s net.Shape) ([]viz.Map, error) {
	if len(s) != 4 || s[0] != 1 {
		return nil, fmt.Errorf("shape %v, want [1,C,H,W]", s)
	}
	c, h, wd := s[1], s[2], s[3]
	maps := make([]viz.Map, c)
	for i := range maps {
		lo, hi := i*h*wd, (i+1)*h*wd
		maps[i] = viz.Map{Title: fmt.Sprint(i), C: 1, H: h, W: wd, Data: data[lo:hi:hi]}
	}
	return maps, nil
}

// filterTiles turns convolution weights [Co, 3, K, K] into Co RGB tiles,
// each scaled from its own minimum (0) to its maximum (1).
func filterTiles(data []float32, s net.Shape) ([]viz.Map, error) {
	if len(s) != 4 || s[1] != 3 {
		return nil, fmt.Errorf("shape %v, want [Co,3,K,K]", s)
	}
	per := s[1] * s[2] * s[3]
	tiles := make([]viz.Map, s[0])
	for o := range tiles {
		w := data[o*per : (o+1)*per]
		lo, hi := w[0], w[0]
		for _, x := range w {
			lo, hi = min(lo, x), max(hi, x)
		}
		px := make([]float32, per)
		for i, x := range w {
			if hi > lo {
				px[i] = (x - lo) / (hi - lo)
			} else {
				px[i] = 0.5
			}
		}
		tiles[o] = viz.Map{Title: fmt.Sprint(o), C: 3, H: s[2], W: s[3], Data: px}
	}
	return tiles, nil
}

// dims writes a shape as 6×28×28.
func dims(s net.Shape) string {
	parts := make([]string, len(s))
	for i, d := range s {
		parts[i] = fmt.Sprint(d)
	}
	return strings.Join(parts, "×")
}

// makeStrip picks the images offered for inspection: StripSize images
// spread evenly over the test split (the training split without one), so
// that image folders, which are ordered by class, show several classes.
func (w *worker) makeStrip() {
	src := w.test
	if src == nil {
		src = w.train
	}
	n := src.Len()
	k := min(w.s.cfg.StripSize, n)
	w.strip = make([]viz.Map, k)
	w.stripIndex = make([]int32, k)
	w.stripLabels = make([]int, k)
	for i := range w.strip {
		r := i * n / k
		pix := src.Pixels(r)
		data := make([]float32, len(pix))
		for j, b := range pix {
			data[j] = float32(b) / 255
		}
		label := src.Label(r)
		title := fmt.Sprint(label)
		if label < len(w.classes) {
			title = w.classes[label]
		}
		w.strip[i] = viz.Map{Title: title, C: 3, H: net.InputShape[1], W: net.InputShape[2], Data: data}
		w.stripIndex[i] = int32(r)
		w.stripLabels[i] = label
	}
	w.selected = 0
}
