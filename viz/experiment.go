package viz

import (
	"image"
)

// The shortcut experiment in the viewer: its account above the gradient
// charts, with the button that shows the other network, and the button of
// the controls that starts it.

// experimentH is the height of the account's panel.
const experimentH = titleH + 3*15 + 8

// experimentPanel paints the account of the experiment in r: its title,
// what to look for and what the run has shown so far.
func (u *UI) experimentPanel(dst *image.RGBA, r image.Rectangle, e *Experiment) {
	bw := min(200, u.fText.width("Show "+e.Twin)+24)
	c := u.panel(dst, r, "experiment", e.Title, "", bw+8, "")
	u.button(dst, image.Rect(r.Max.X-6-bw, r.Min.Y+3, r.Max.X-6, r.Min.Y+21), "twin", "Show "+e.Twin, false,
		func() []Intent { return []Intent{{Kind: ShowTwin}} })
	lines := u.fSmall.wrap(e.Look+" "+e.Shown, c.Dx())
	for i, l := range lines {
		y := c.Min.Y + 10 + i*15
		if y > c.Max.Y {
			break
		}
		u.fSmall.text(dst, r, c.Min.X, y, l, colText)
	}
}

// experimentButton is the controls' button that starts the experiment:
// with the network shown when it has a twin, else the default one. In an
// experiment it is lit and starts it again with new weights.
func (u *UI) experimentButton(dst *image.RGBA, r image.Rectangle) {
	s := u.snap
	model, running := "", false
	if s != nil {
		running = s.Experiment != nil
		for _, m := range s.Models {
			if m.Twin != "" && (s.Model == m.Name || s.Model == m.NoBN) {
				model = s.Model
			}
		}
	}
	u.button(dst, r, "experiment", "Shortcuts", running, func() []Intent {
		return []Intent{{Kind: StartExperiment, Model: model}}
	})
}
