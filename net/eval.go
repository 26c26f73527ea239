package net

import (
	"fmt"
	"math"
)

// EvalResult is a network's loss and accuracy on a split.
type EvalResult struct {
	N         int
	Loss      float64 // mean cross-entropy
	Correct   int
	Confusion [][]int // [true class][predicted class]
}

// Accuracy is the fraction of correct predictions.
func (r EvalResult) Accuracy() float64 {
	if r.N == 0 {
		return 0
	}
	return float64(r.Correct) / float64(r.N)
}

// PerClass is each class's accuracy (NaN for a class with no images).
func (r EvalResult) PerClass() []float64 {
	acc := make([]float64, len(r.Confusion))
	for c, row := range r.Confusion {
		total := 0
		for _, v := range row {
			total += v
		}
		acc[c] = math.NaN()
		if total > 0 {
			acc[c] = float64(row[c]) / float64(total)
		}
	}
	return acc
}

// Prediction is one image's result.
type Prediction struct {
	Index int       // record index
	Label int       // true label
	Probs []float64 // softmax probabilities in class order
}

// Pred is the most probable class (the first on ties).
func (p Prediction) Pred() int {
	best := 0
	for i, v := range p.Probs {
		if v > p.Probs[best] {
			best = i
		}
	}
	return best
}

// Evaluate runs the network in eval mode (BatchNorm with running
// statistics) over the first count records of recs, batch images at a
// time, and calls each (when not nil) for every image in order.
func Evaluate(b Backend, n *Network, recs Records, count, batch int, norm Normalize, each func(Prediction)) (EvalResult, error) {
	if count > recs.Len() || count < 0 {
		count = recs.Len()
	}
	if count == 0 {
		return EvalResult{}, fmt.Errorf("no images to evaluate")
	}
	if batch < 1 {
		return EvalResult{}, fmt.Errorf("batch size must be at least 1, got %d", batch)
	}
	e := NewEvaluator(b, n, recs, norm, each)
	defer e.Free()
	for lo := 0; lo < count; lo += batch {
		index := make([]int32, min(lo+batch, count)-lo)
		for i := range index {
			index[i] = int32(lo + i)
		}
		if err := e.Batch(index); err != nil {
			return e.Result(), err
		}
	}
	return e.Result(), nil
}

// Evaluator is Evaluate a batch at a time, for a caller that has other
// things to do between batches (the page, which must stay responsive):
// Batch evaluates some records and adds them to the result.
type Evaluator struct {
	b    Backend
	n    *Network
	recs Records
	norm Normalize
	each func(Prediction)
	res  EvalResult
	x    scratch
	lt   intScratch
}

// NewEvaluator starts an evaluation of n on recs; each (when not nil) is
// called for every image. Free it when done.
func NewEvaluator(b Backend, n *Network, recs Records, norm Normalize, each func(Prediction)) *Evaluator {
	e := &Evaluator{b: b, n: n, recs: recs, norm: norm, each: each, res: EvalResult{Confusion: make([][]int, n.Classes)}}
	for i := range e.res.Confusion {
		e.res.Confusion[i] = make([]int, n.Classes)
	}
	return e
}

// Batch evaluates the records index (one batch) and adds them up.
func (e *Evaluator) Batch(index []int32) error {
	if len(index) == 0 {
		return nil
	}
	b, n := e.b, e.n
	xt := e.x.get(b, append(Shape{len(index)}, InputShape...))
	labels := e.lt.get(b, Shape{len(index)})
	b.Gather(xt, labels, e.recs, index, nil, 0, e.norm)
	logits := n.Forward(xt, false)
	host := make([]float32, logits.Shape().Len())
	hostLabels := make([]int32, len(index))
	if err := b.Download(host, logits); err != nil {
		return fmt.Errorf("read back logits: %w", err)
	}
	if err := b.DownloadInt(hostLabels, labels); err != nil {
		return fmt.Errorf("read back labels: %w", err)
	}
	res := &e.res
	for i, r := range index {
		p := Prediction{Index: int(r), Label: int(hostLabels[i]), Probs: Softmax(host[i*n.Classes : (i+1)*n.Classes])}
		if p.Label < 0 || p.Label >= n.Classes {
			return fmt.Errorf("image %d has label %d, but the model has %d classes", p.Index, p.Label, n.Classes)
		}
		res.N++
		res.Loss += CrossEntropy(host[i*n.Classes:(i+1)*n.Classes], p.Label)
		pred := p.Pred()
		res.Confusion[p.Label][pred]++
		if pred == p.Label {
			res.Correct++
		}
		if e.each != nil {
			e.each(p)
		}
	}
	return nil
}

// Result is what the batches so far add up to, the loss their mean.
func (e *Evaluator) Result() EvalResult {
	r := e.res
	if r.N > 0 {
		r.Loss /= float64(r.N)
	}
	return r
}

// Free frees the evaluator's tensors.
func (e *Evaluator) Free() {
	e.x.free(e.b)
	e.lt.free(e.b)
}

// Softmax of logits, computed in float64 with the maximum subtracted.
func Softmax(logits []float32) []float64 {
	m := math.Inf(-1)
	for _, v := range logits {
		m = max(m, float64(v))
	}
	p := make([]float64, len(logits))
	var s float64
	for i, v := range logits {
		p[i] = math.Exp(float64(v) - m)
		s += p[i]
	}
	for i := range p {
		p[i] /= s
	}
	return p
}

// CrossEntropy is −log softmax(logits)[label], computed in float64.
func CrossEntropy(logits []float32, label int) float64 {
	m := math.Inf(-1)
	for _, v := range logits {
		m = max(m, float64(v))
	}
	var s float64
	for _, v := range logits {
		s += math.Exp(float64(v) - m)
	}
	return m + math.Log(s) - float64(logits[label])
}
