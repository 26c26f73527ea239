//go:build js && wasm

package main

import (
	"github.com/hajimehoshi/ebiten/v2"

	"cifarlab/viz"
	"cifarlab/viz/game"
)

// newGame prepares the viewer on the page's canvas and returns the
// function that runs it until it stops; it takes the session's snapshots
// and sends the user's intents through the host's channels. Call it
// before the session starts.
//
// The page has one thread for the viewer, the page's events and (on the
// CPU fallback) training, and a canvas that headless browsers and GPU-less
// machines composite in software. So the game draws only when there is
// something new: on the user's input, and when a snapshot arrives
// (ScheduleFrame, called by host.feed), instead of 60 times a second.
func newGame(h *host) func() error {
	ebiten.SetFPSMode(ebiten.FPSModeVsyncOffMinimum) //nolint:staticcheck // the frame-on-demand mode is what the page needs
	h.onSnapshot = ebiten.ScheduleFrame              //nolint:staticcheck
	g := game.New(viz.New(viz.Options{Gradients: h.params.grads, Evaluation: h.params.evalView}), h.snapshots(), h.intentCh())
	g.OnFocus(func(label string) { h.ui.setText(idFocus, label) })
	return func() error { return game.Run(g, "cifarlab") }
}
