package app

import "time"

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
