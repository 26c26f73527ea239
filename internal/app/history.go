package app

import (
	"time"

	"cifarlab/net"
	"cifarlab/viz"
)

// maxLossPoints bounds the loss curve of a snapshot: past it, neighbouring
// points are merged into their mean.
const maxLossPoints = 2048

// lossHistory is the loss of every step, as means of buckets of
// consecutive steps whose size doubles whenever the curve gets too long.
type lossHistory struct {
	values []float32 // mean of each full bucket
	steps  []int     // the last step of each full bucket
	bucket int       // steps per bucket (1 at first)
	sum    float64   // the bucket being filled
	count  int
	last   int // its last step
}

func (h *lossHistory) add(step int, loss float64) {
	if h.bucket == 0 {
		h.bucket = 1
	}
	h.sum += loss
	h.count++
	h.last = step
	if h.count < h.bucket {
		return
	}
	h.values = append(h.values, float32(h.sum/float64(h.count)))
	h.steps = append(h.steps, step)
	h.sum, h.count = 0, 0
	if len(h.values) >= maxLossPoints {
		h.halve()
	}
}

// halve merges pairs of buckets (there is an even number of them: halve
// runs when there are maxLossPoints).
func (h *lossHistory) halve() {
	n := len(h.values) / 2
	for i := 0; i < n; i++ {
		h.values[i] = (h.values[2*i] + h.values[2*i+1]) / 2
		h.steps[i] = h.steps[2*i+1]
	}
	h.values, h.steps = h.values[:n], h.steps[:n]
	h.bucket *= 2
}

// cut drops the points after step (and the bucket being filled), for a
// run that goes on from an earlier step.
func (h *lossHistory) cut(step int) {
	n := len(h.steps)
	for n > 0 && h.steps[n-1] > step {
		n--
	}
	h.values, h.steps = h.values[:n], h.steps[:n]
	h.sum, h.count = 0, 0
	h.last = step
}

// points returns copies of the curve, the bucket being filled included.
func (h *lossHistory) points() ([]float32, []int) {
	n := len(h.values)
	if h.count > 0 {
		n++
	}
	values := make([]float32, 0, n)
	steps := make([]int, 0, n)
	values = append(values, h.values...)
	steps = append(steps, h.steps...)
	if h.count > 0 {
		values = append(values, float32(h.sum/float64(h.count)))
		steps = append(steps, h.last)
	}
	return values, steps
}

// rateMeter measures images per second over the last few seconds.
type rateMeter struct {
	samples []rateSample
	images  int // images since the meter started
	last    float64
}

type rateSample struct {
	t      time.Time
	images int
}

// rateWindow is how far back images per second are measured; rateMinSpan
// is the shortest span a rate is measured over. Step results can arrive in
// bursts (a GPU backend reads several steps' statistics back at once), so
// two of them microseconds apart say nothing about the rate.
const (
	rateWindow  = 3 * time.Second
	rateMinSpan = 250 * time.Millisecond
)

func (m *rateMeter) add(t time.Time, images int) {
	m.images += images
	m.samples = append(m.samples, rateSample{t, m.images})
	// Keep one sample older than the window, as the window's start.
	drop := 0
	for drop+1 < len(m.samples) && t.Sub(m.samples[drop+1].t) >= rateWindow {
		drop++
	}
	if drop > 0 {
		m.samples = append(m.samples[:0], m.samples[drop:]...)
	}
	first := m.samples[0]
	if dt := t.Sub(first.t); dt >= rateMinSpan {
		m.last = float64(m.images-first.images) / dt.Seconds()
	}
}

// value is the last measured rate (0 until steps have spanned rateMinSpan).
func (m *rateMeter) value() float64 { return m.last }

// gradHistory is what the viewer's gradient view shows: the norms of the
// main path's weight gradients at the last step that measured them, and
// those of the first, middle and last layer over the steps.
type gradHistory struct {
	layers []string // state-dict names of the path weights, input to output
	index  []int    // each one's index in the network's parameters
	norms  []float32
	step   int
	lines  [3]lossHistory // first, middle, last
	blocks []string       // the blocks' names
	plain  bool           // they have no shortcut
	bsum   []float32      // per block: the gradient arriving at its sum
	bmain  []float32      // and what its main path passes back
}

// add takes the gradient norms of step (in the order of n's parameters)
// and its blocks' (two per block, as net.StepResult has them).
func (g *gradHistory) add(n *net.Network, step int, norms, blocks []float64) {
	if g.layers == nil {
		for _, b := range n.Blocks() {
			g.blocks = append(g.blocks, b.Name())
			g.plain = !b.Opts.Shortcut
		}
		at := map[*net.Param]int{}
		for i, p := range n.Params() {
			at[p] = i
		}
		for _, p := range n.PathWeights() {
			g.layers = append(g.layers, p.Name)
			g.index = append(g.index, at[p])
		}
	}
	if len(g.layers) == 0 {
		return
	}
	g.norms = make([]float32, len(g.index))
	for k, i := range g.index {
		g.norms[k] = float32(norms[i])
	}
	g.step = step
	for k, i := range []int{0, len(g.index) / 2, len(g.index) - 1} {
		g.lines[k].add(step, float64(g.norms[i]))
	}
	if len(blocks) == 2*len(g.blocks) {
		g.bsum, g.bmain = make([]float32, len(g.blocks)), make([]float32, len(g.blocks))
		for k := range g.blocks {
			g.bsum[k], g.bmain[k] = float32(blocks[2*k]), float32(blocks[2*k+1])
		}
	}
}

// flow is the snapshot's copy.
func (g *gradHistory) flow() viz.GradFlow {
	f := viz.GradFlow{Layers: g.layers, Norms: g.norms, Step: g.step, Blocks: g.blocks, BlockSum: g.bsum, BlockMain: g.bmain, Plain: g.plain}
	f.First, f.Steps = g.lines[0].points()
	f.Middle, _ = g.lines[1].points()
	f.Last, _ = g.lines[2].points()
	return f
}
