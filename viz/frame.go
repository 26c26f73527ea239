package viz

import (
	"image"
)

// The frame's fixed geometry: a header and a message band across the top,
// a left column (input, strip, controls, curves) and the maps on the right
// under the colour legend.
const (
	headerH = 32
	bandY   = headerH
	bandH   = 24
	top     = bandY + bandH + 6 // first panel row
	leftX0  = 8
	leftX1  = 316
	rightX0 = 324
	rightX1 = Width - 8
	bottom  = Height - 8
	legendH = 44
	titleH  = 24 // a panel's title line
	tileGap = 4
	rowH    = 28 // a row of controls
)

// frame lays out and, when dst is not nil, paints the whole viewer. With
// dst nil it only records the regions (for Update's hit tests), so that
// layout and painting cannot disagree.
func (u *UI) frame(dst *image.RGBA) {
	u.regions = u.regions[:0]
	u.pagers = u.pagers[:0]
	u.hoverR = region{} // add refreshes it from this layout
	if dst != nil {
		fill(dst, dst.Rect, colBG)
	}
	u.header(dst, image.Rect(0, 0, Width, headerH))
	u.band(dst, image.Rect(0, bandY, Width, bandY+bandH))

	y := top
	u.inputPanel(dst, image.Rect(leftX0, y, leftX1, y+176))
	y += 176 + 6
	u.stripPanel(dst, image.Rect(leftX0, y, leftX1, y+68))
	y += 68 + 6
	rows := 6
	if u.opts.WeightsPath != "" {
		rows = 7
	}
	ch := titleH + rows*rowH + 4
	u.controls(dst, image.Rect(leftX0, y, leftX1, y+ch))
	y += ch + 6
	lossH := (bottom - y - 6) * 57 / 100
	u.lossChart(dst, image.Rect(leftX0, y, leftX1, y+lossH))
	u.accChart(dst, image.Rect(leftX0, y+lossH+6, leftX1, bottom))

	legend := image.Rect(rightX0, top, rightX1-viewTabsW-6, top+legendH)
	u.viewTabs(dst, image.Rect(legend.Max.X+6, top, rightX1, top+legendH))
	maps := MapsArea()
	switch s := u.snap; {
	case s != nil && u.view == viewGrads:
		u.grads(dst, maps)
	case s != nil && u.view == viewEval:
		u.evaluation(dst, maps)
	case s != nil && len(s.Blocks) > 0:
		u.resnet(dst, maps)
	case s != nil && len(s.Panels) > 0:
		u.lenet(dst, maps)
	default:
		u.waiting(dst, maps)
	}
	// Last, so that it shows what this layout put under the pointer.
	u.legend(dst, legend)
	u.focusRing(dst)
	u.helpOverlay(dst)
	u.overlay(dst)
}

// viewTabsW is the width of the tabs that switch the right side between
// the feature maps, the gradient view and the evaluation.
const viewTabsW = 300

// rightView is what the right side shows.
type rightView int

const (
	viewMaps rightView = iota
	viewGrads
	viewEval
)

func (o Options) view() rightView {
	switch {
	case o.Evaluation:
		return viewEval
	case o.Gradients:
		return viewGrads
	}
	return viewMaps
}

// viewTabs paints the tabs.
func (u *UI) viewTabs(dst *image.RGBA, r image.Rectangle) {
	u.panel(dst, r, "view", "", "", 0, "")
	y0, y1 := r.Min.Y+(r.Dy()-24)/2, r.Min.Y+(r.Dy()-24)/2+24
	tabs := []struct {
		key, label string
		v          rightView
	}{{"view:maps", "Feature maps", viewMaps}, {"view:grads", "Gradients", viewGrads}, {"view:eval", "Evaluation", viewEval}}
	w := (r.Dx() - 12 - 4*(len(tabs)-1)) / len(tabs)
	for i, t := range tabs {
		x := r.Min.X + 6 + i*(w+4)
		u.button(dst, image.Rect(x, y0, x+w, y1), t.key, t.label, u.view == t.v,
			func() []Intent { u.view = t.v; u.changed(); return nil })
	}
}

// waiting fills the maps' area before there is anything to show.
func (u *UI) waiting(dst *image.RGBA, r image.Rectangle) {
	u.panel(dst, r, "waiting", "Feature maps", "", 0, "")
	s := u.snap
	msg, sub := "Starting…", "The dataset and the model are being made ready."
	switch {
	case s == nil:
	case s.Error != "":
		msg, sub = "Training cannot run", "See the error above."
	case s.Notice != "" && s.Step == 0:
		msg, sub = s.Notice, "The feature maps of the inspected image appear here after the first training step."
	default:
		msg = "Waiting for the first training step"
		sub = "Press Start (or Space) to train, or Step for a single batch: the feature maps of the inspected image appear here."
	}
	msg = u.fBig.fit(msg, r.Dx()-40)
	y := r.Min.Y + r.Dy()/2 - 10
	u.fBig.text(dst, r, r.Min.X+(r.Dx()-u.fBig.width(msg))/2, y, msg, colText)
	for i, l := range u.fText.wrap(sub, r.Dx()-80) {
		u.fText.text(dst, r, r.Min.X+(r.Dx()-u.fText.width(l))/2, y+28+i*u.fText.height, l, colDim)
	}
}
