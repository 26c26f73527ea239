package app

import (
	"fmt"
	"time"

	"cifarlab/net"
	"cifarlab/viz"
)

// The saliency of the inspected image: how much each pixel sways the
// network's top class, |∂(top class score)/∂input| with the maximum over
// the colour channels (net.InputGradTop, a backward pass to the input in
// eval mode). It is computed with every inspection while paused, and
// while training at most every saliencyEvery: on a GPU it waits for the
// device.

const saliencyEvery = 2 * time.Second

// saliency is the last one computed.
type saliency struct {
	m     viz.Map // [1, 32, 32]
	class int
	step  int
	at    time.Time
}

// computeSaliency computes the saliency of the inspected image with the
// front network's weights of the moment.
func (w *worker) computeSaliency() error {
	if !w.ready() || len(w.strip) == 0 {
		return nil
	}
	x, err := w.inspectedInput()
	if err != nil {
		return err
	}
	grad, top, err := net.InputGradTop(w.b, w.net, x)
	if err != nil {
		return fmt.Errorf("saliency: %w", err)
	}
	s := x.Shape()
	w.sal = &saliency{m: viz.Map{Title: "saliency", C: 1, H: s[2], W: s[3], Data: net.Saliency(grad, s)},
		class: top[0], step: w.step, at: time.Now()}
	return nil
}

// saliencyDue says whether the saliency should be computed again while
// training.
func (w *worker) saliencyDue(now time.Time) bool {
	return w.sal == nil || (w.sal.step != w.step && now.Sub(w.sal.at) >= saliencyEvery)
}

// saliencyView is the snapshot's.
func (w *worker) saliencyView() *viz.Saliency {
	if w.sal == nil {
		return nil
	}
	return &viz.Saliency{Map: w.sal.m, Class: w.sal.class, Step: w.sal.step}
}
