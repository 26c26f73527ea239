package app

import (
	"errors"
	"fmt"
	"math"
	"strings"
	"time"

	"cifarlab/net"
	"cifarlab/viz"
)

// The shortcut experiment trains a residual network and its plain twin
// side by side: the same seed (so the weights they share start equal), the
// same batches in the same order, experimentTurn steps each in turn. The
// viewer shows one of them; the other is a live run on its charts.

// experimentTurn is how many steps one network of the experiment trains
// before the other's turn: few, so that both curves grow side by side.
const experimentTurn = 5

// DefaultExperiment is the residual network of the experiment when none is
// named: 20 layers without BatchNorm, where the plain twin's gradient fades
// to almost nothing on its way back from the first step on, while the
// residual network's reaches its first layer.
const DefaultExperiment = "resnet20-nobn"

// ExperimentPair returns the residual network and the plain one of the
// experiment that model (either of the two, "" for DefaultExperiment)
// belongs to.
func ExperimentPair(model string) (residual, plain string, err error) {
	if model == "" {
		model = DefaultExperiment
	}
	spec, bn, err := net.ParseModel(model)
	if err != nil {
		return "", "", err
	}
	if spec.Twin == "" {
		var pairs []string
		for _, s := range net.Specs {
			if s.Twin != "" && s.Shortcuts {
				pairs = append(pairs, s.Name)
			}
		}
		return "", "", fmt.Errorf("%s has no twin without shortcuts: the shortcut experiment trains a residual network (%s) against its plain twin", model, strings.Join(pairs, ", "))
	}
	twin := net.ModelName(spec.Twin, bn)
	if spec.Shortcuts {
		return model, twin, nil
	}
	return twin, model, nil
}

// startExperiment builds both networks of model's experiment with the
// seed's weights, ending the runs in progress, and starts training.
func (w *worker) startExperiment(model string) error {
	res, plain, err := ExperimentPair(model)
	if err != nil {
		return err
	}
	w.running = true
	if w.b == nil || w.classes == nil {
		w.setLanes(emptyLane(res), emptyLane(plain))
		return nil
	}
	a, err := w.newLane(res)
	if err != nil {
		return err
	}
	b, err := w.newLane(plain)
	if err != nil {
		a.free()
		return err
	}
	a.rec.Twin, b.rec.Twin = plain, res
	w.endLanes()
	w.setLanes(a, b)
	w.twinTurn = false
	w.ok()
	w.say("shortcut experiment: %s against %s from seed %d, on the same batches", title(res), title(plain), w.s.cfg.Seed)
	return nil
}

// showTwin makes the viewer show the experiment's other network.
func (w *worker) showTwin() error {
	if w.twin == nil {
		return errors.New("no shortcut experiment in progress")
	}
	w.front, w.twin, w.lane = w.twin, w.front, w.twin
	w.twinTurn = !w.twinTurn // the turn stays with the network that has it
	w.set.Model = w.front.model
	w.dirty = true
	w.sal = nil
	w.lastInspect, w.inspectStep = time.Time{}, w.step-w.s.cfg.InspectSteps
	return nil
}

// title is a network's title as the viewer shows it ("plain-20, no BN");
// specTitle leaves out whether it has BatchNorm.
func title(model string) string { return viz.ModelTitle(modelChoices, model) }

func specTitle(model string) string {
	if s, _, err := net.ParseModel(model); err == nil {
		return s.Title
	}
	return model
}

// twinRun is the experiment's other network as a live run of the charts.
func (w *worker) twinRun() viz.Run {
	r := w.twin.rec.view(w.nextRun + 1)
	r.Live = true
	r.Name = r.Short + " · training alongside, on the same batches"
	return r
}

// experiment is the snapshot's account of the experiment in progress.
func (w *worker) experiment() *viz.Experiment {
	if w.twin == nil {
		return nil
	}
	res, plain := w.front, w.twin
	if spec, _, err := net.ParseModel(res.model); err == nil && !spec.Shortcuts {
		res, plain = plain, res
	}
	_, bn, _ := net.ParseModel(res.model)
	e := &viz.Experiment{
		Title: fmt.Sprintf("Shortcut experiment: %s against %s", specTitle(res.model), specTitle(plain.model)),
		Twin:  title(w.twin.model),
		Look: fmt.Sprintf("Both start from the same weights (where they have the same layers) and train on the same batches, %d steps each in turn; "+
			"compare how much of the gradient reaches the first layers of each (per layer) and their loss curves.", experimentTurn),
	}
	if !bn {
		e.Title += ", without BatchNorm"
	}
	e.Shown = finding(summarize(res), summarize(plain))
	return e
}

// laneSummary is what the experiment's finding compares of one network.
type laneSummary struct {
	title       string
	step        int
	first, last float64 // the first and the last layer's gradient norms at its last step
	loss        float64 // the mean loss of its last lossWindow points
	testAcc     float64 // after its last finished epoch; NaN before
}

// lossWindow is how many points of the loss curve the finding averages.
const lossWindow = 10

func summarize(l *lane) laneSummary {
	s := laneSummary{title: specTitle(l.model), step: l.step, first: nan(), last: nan(), loss: nan(), testAcc: nan()}
	if n := len(l.grads.norms); n > 0 {
		s.first, s.last = float64(l.grads.norms[0]), float64(l.grads.norms[n-1])
	}
	if loss, _ := l.hist.points(); len(loss) > 0 {
		tail := loss[max(0, len(loss)-lossWindow):]
		sum := 0.0
		for _, v := range tail {
			sum += float64(v)
		}
		s.loss = sum / float64(len(tail))
	}
	if n := len(l.testAcc); n > 0 {
		s.testAcc = float64(l.testAcc[n-1])
	}
	return s
}

// finding says in one sentence what the run has shown so far: how much of
// its last layer's gradient each network's first layer gets, and how
// their recent losses compare, with the numbers.
func finding(res, plain laneSummary) string {
	if res.step == 0 || plain.step == 0 || math.IsNaN(res.first) || math.IsNaN(plain.first) {
		return "What this run shows appears here once both networks have trained."
	}
	rr, rp := res.first/res.last, plain.first/plain.last
	var grad string
	healthy := false // the plain network's first layer gets about what the residual one's does
	switch {
	case !finite(rr) || !finite(rp):
		grad = fmt.Sprintf("the first layer's gradient over the last layer's is %s in %s and %s in %s",
			ratio(rr), res.title, ratio(rp), plain.title)
	case !(rp < rr/10) && !(rr < rp/10):
		healthy = true
		grad = fmt.Sprintf("the gradient reaches the first layer of both about as well (%s of the last layer's in %s, %s in %s)",
			ratio(rr), res.title, ratio(rp), plain.title)
	case rp < rr:
		grad = fmt.Sprintf("%s's first layer gets %s of the gradient its last layer gets, %s's %s: it fades on its way back through the plain stack (a vanishing gradient), and the shortcuts carry it",
			plain.title, ratio(rp), res.title, ratio(rr))
	default:
		grad = fmt.Sprintf("%s's first layer gets %s of the gradient its last layer gets, %s's only %s",
			plain.title, ratio(rp), res.title, ratio(rr))
	}
	steps := fmt.Sprintf("After %d steps each", min(res.step, plain.step))
	losses := fmt.Sprintf("recent loss %.3f for %s and %.3f for %s", res.loss, res.title, plain.loss, plain.title)
	switch d := plain.loss - res.loss; {
	case math.Abs(d) <= 0.02*math.Max(res.loss, plain.loss):
		losses += " (about the same so far)"
	case d > 0 && healthy:
		losses += fmt.Sprintf(" (%s is behind so far although its gradient is healthy: degradation, not a vanishing gradient)", plain.title)
	case d > 0:
		losses += fmt.Sprintf(" (%s is behind so far)", plain.title)
	default:
		losses += fmt.Sprintf(" (%s is ahead so far)", plain.title)
	}
	if !math.IsNaN(res.testAcc) && !math.IsNaN(plain.testAcc) {
		losses += fmt.Sprintf("; test accuracy %.1f%% and %.1f%%", 100*res.testAcc, 100*plain.testAcc)
	}
	return steps + ", " + grad + "; " + losses + "."
}

func finite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }

// ratio writes a ratio of gradient norms: 0.42, 3.1e-07, or 0 when none
// reached the layer at all.
func ratio(v float64) string {
	switch {
	case v == 0:
		return "none"
	case math.IsNaN(v) || math.IsInf(v, 0):
		return "?"
	case v >= 0.01 && v < 100:
		return fmt.Sprintf("%.2g", v)
	}
	return fmt.Sprintf("%.1e", v)
}
