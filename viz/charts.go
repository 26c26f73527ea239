package viz

// The training charts (loss, accuracy) and the colour legend.

import (
	"fmt"
	"image"
	"image/color"
	"math"
	"strings"
)

// lossChart: the training loss of every step, raw (faint) and smoothed.
func (u *UI) lossChart(dst *image.RGBA, r image.Rectangle) {
	s := u.snap
	note := ""
	if s != nil && len(s.Loss) > 0 {
		note = fmt.Sprintf("%.3f at step %d", s.Loss[len(s.Loss)-1], lossStep(s, len(s.Loss)-1))
	}
	c := u.panel(dst, r, "loss", "Training loss", note, exportW, "")
	u.exportButtons(dst, r)
	if s != nil && len(s.Runs) > 0 {
		u.runChips(dst, r, image.Rect(c.Min.X, c.Min.Y, c.Max.X, c.Min.Y+16))
		c.Min.Y += 18
	}
	runs := u.shownRuns()
	if s == nil || len(s.Loss) == 0 && len(runs) == 0 {
		u.fSmall.text(dst, c, c.Min.X, c.Min.Y+20, "appears after the first step", colFaint)
		return
	}
	if !visible(dst, r) {
		return
	}
	plotR := image.Rect(c.Min.X+34, c.Min.Y+4, c.Max.X-4, c.Max.Y-14)
	ymax := float32(0)
	x0, x1 := math.Inf(1), math.Inf(-1)
	for _, ser := range append([]Run{{Loss: s.Loss, LossStep: s.LossStep}}, runs...) {
		for i, v := range ser.Loss {
			if v == v && v < 1e30 {
				ymax = max(ymax, v)
			}
			st := float64(stepOf(ser.LossStep, i))
			x0, x1 = min(x0, st), max(x1, st)
		}
	}
	if ymax <= 0 {
		ymax = 1
	}
	ymax *= 1.05
	if x1 <= x0 {
		x1 = x0 + 1
	}
	u.axes(dst, r, plotR, []float64{0, float64(ymax) / 2, float64(ymax)}, func(v float64) string { return fmt.Sprintf("%.2f", v) }, float64(ymax))
	u.fSmall.text(dst, r, plotR.Min.X, c.Max.Y, fmt.Sprintf("step %d", int(x0)), colDim)
	lbl := fmt.Sprintf("step %d", int(x1))
	u.fSmall.text(dst, r, plotR.Max.X-u.fSmall.width(lbl), c.Max.Y, lbl, colDim)

	px := func(step float64) float64 {
		return float64(plotR.Min.X) + (step-x0)/(x1-x0)*float64(plotR.Dx()-1)
	}
	py := func(v float32) float64 {
		return float64(plotR.Max.Y-1) - float64(v/ymax)*float64(plotR.Dy()-1)
	}
	// Earlier runs: their smoothed curves, each in its colour.
	for _, run := range runs {
		emaLine(dst, plotR, run.Loss, run.LossStep, px, py, ymax, runColor(run.ID))
	}
	// Raw values: one vertical span per column, from its smallest to its
	// largest value (so thousands of steps stay legible).
	raw := color.RGBA{0x36, 0x55, 0x7a, 0xff}
	col, lo, hi := -1, 0.0, 0.0
	flush := func() {
		if col >= 0 {
			fill(dst, image.Rect(col, int(hi), col+1, int(lo)+1).Intersect(plotR), raw)
		}
	}
	for i, v := range s.Loss {
		if v != v {
			continue
		}
		x, y := int(px(float64(lossStep(s, i)))), py(min(v, ymax))
		if x != col {
			flush()
			col, lo, hi = x, y, y
		}
		lo, hi = max(lo, y), min(hi, y)
	}
	flush()
	emaLine(dst, plotR, s.Loss, s.LossStep, px, py, ymax, colText)
}

// emaLine draws a loss curve smoothed by an exponential moving average
// over about 2% of the run.
func emaLine(dst *image.RGBA, plotR image.Rectangle, loss []float32, steps []int, px func(float64) float64, py func(float32) float64, ymax float32, col color.RGBA) {
	a := float32(2 / (max(float64(len(loss))/50, 1) + 1))
	ema, started := float32(0), false
	var lx, ly float64
	for i, v := range loss {
		if v != v {
			continue
		}
		if !started {
			ema, started = v, true
		} else {
			ema += a * (v - ema)
		}
		x, y := px(float64(stepOf(steps, i))), py(min(ema, ymax))
		if i > 0 && int(x) == int(lx) && i < len(loss)-1 {
			continue
		}
		if i > 0 {
			line(dst, plotR, lx, ly, x, y, col)
		}
		lx, ly = x, y
	}
}

// stepOf is the step of the i-th loss value: steps[i], or i+1 without
// steps.
func stepOf(steps []int, i int) int {
	if i < len(steps) {
		return steps[i]
	}
	return i + 1
}

func lossStep(s *Snapshot, i int) int {
	if len(s.LossStep) == len(s.Loss) {
		return s.LossStep[i]
	}
	return i + 1
}

// axes draws a plot's frame, horizontal grid lines at ys (in 0…ymax) and
// their labels to the left.
func (u *UI) axes(dst *image.RGBA, clip, p image.Rectangle, ys []float64, format func(float64) string, ymax float64) {
	fill(dst, p, colBG)
	for _, v := range ys {
		y := p.Max.Y - 1 - int(v/ymax*float64(p.Dy()-1)+0.5)
		fill(dst, image.Rect(p.Min.X, y, p.Max.X, y+1), colPanelLine)
		lbl := format(v)
		u.fSmall.text(dst, clip, p.Min.X-4-u.fSmall.width(lbl), y+4, lbl, colDim)
	}
	stroke(dst, p.Inset(-1), colPanelLine)
}

// accChart: train and test accuracy per finished epoch.
func (u *UI) accChart(dst *image.RGBA, r image.Rectangle) {
	s := u.snap
	var tr, te []float32
	if s != nil {
		tr, te = s.TrainAcc, s.TestAcc
	}
	n := max(len(tr), len(te))
	runs := u.shownRuns()
	for _, run := range runs {
		n = max(n, len(run.TestAcc))
	}
	c := u.panel(dst, r, "accuracy", "Accuracy per epoch", "", 150, "")
	// The key, right-aligned on the title line, with the latest values.
	key := func(x int, name string, v []float32, col color.RGBA) int {
		t := name
		if len(v) > 0 {
			t += fmt.Sprintf(" %.1f%%", pct(v[len(v)-1]))
		}
		x -= u.fSmall.width(t)
		u.fSmall.text(dst, r, x, r.Min.Y+17, t, colText)
		fill(dst, image.Rect(x-12, r.Min.Y+9, x-4, r.Min.Y+17), col)
		return x - 22
	}
	x := key(r.Max.X-8, "test", te, colTest)
	key(x, "train", tr, colTrain)
	if n == 0 {
		msg := "appears when the first epoch ends"
		if s != nil && s.Step > 0 {
			msg = fmt.Sprintf("appears when epoch %d ends (%.0f%% done)", max(s.Epoch, 1), 100*s.EpochProgress)
		}
		u.fSmall.text(dst, c, c.Min.X, c.Min.Y+20, msg, colFaint)
		return
	}
	if !visible(dst, r) {
		return
	}
	plotR := image.Rect(c.Min.X+34, c.Min.Y+4, c.Max.X-4, c.Max.Y-14)
	u.axes(dst, r, plotR, []float64{0, 50, 100}, func(v float64) string { return fmt.Sprintf("%.0f%%", v) }, 100)
	u.fSmall.text(dst, r, plotR.Min.X, c.Max.Y, "epoch 1", colDim)
	lbl := fmt.Sprintf("epoch %d", max(n, 2))
	u.fSmall.text(dst, r, plotR.Max.X-u.fSmall.width(lbl), c.Max.Y, lbl, colDim)
	px := func(i int) float64 {
		return float64(plotR.Min.X+3) + float64(i)/float64(max(n-1, 1))*float64(plotR.Dx()-7)
	}
	py := func(v float32) float64 {
		return float64(plotR.Max.Y-1) - float64(min(max(pct(v), 0), 100))/100*float64(plotR.Dy()-1)
	}
	// Earlier runs' test accuracy, thin, in their colours.
	for _, run := range runs {
		for i := 1; i < len(run.TestAcc); i++ {
			line(dst, plotR, px(i-1), py(run.TestAcc[i-1]), px(i), py(run.TestAcc[i]), runColor(run.ID))
		}
		if k := len(run.TestAcc); k > 0 {
			x, y := px(k-1), py(run.TestAcc[k-1])
			fill(dst, image.Rect(int(x)-1, int(y)-1, int(x)+2, int(y)+2).Intersect(plotR), runColor(run.ID))
		}
	}
	for _, ser := range []struct {
		v   []float32
		col color.RGBA
	}{{tr, colTrain}, {te, colTest}} {
		for i, v := range ser.v {
			x, y := px(i), py(v)
			if i > 0 {
				line(dst, plotR, px(i-1), py(ser.v[i-1]), x, y, ser.col)
			}
			fill(dst, image.Rect(int(x)-2, int(y)-2, int(x)+3, int(y)+3).Intersect(plotR), ser.col)
		}
	}
}

// pct reads an accuracy as a percentage: fractions (≤ 1.5) are scaled.
func pct(v float32) float32 {
	if v <= 1.5 {
		return 100 * v
	}
	return v
}

// legend: the colour scale, and the values of the map under the pointer.
func (u *UI) legend(dst *image.RGBA, r image.Rectangle) {
	u.panel(dst, r, "legend", "", "", 0, "")
	x := r.Min.X + 10
	u.helpButton(dst, image.Rect(r.Min.X, r.Min.Y+1, r.Max.X, r.Max.Y), "legend", u.fTitle.text(dst, r, x, r.Min.Y+18, "Colour scale", colText))
	u.fSmall.text(dst, r, x, r.Min.Y+35, "one per map", colDim)
	g := image.Rect(x+110, r.Min.Y+9, x+110+256, r.Min.Y+21)
	if dst != nil {
		for i := 0; i < g.Dx(); i++ {
			fill(dst, image.Rect(g.Min.X+i, g.Min.Y, g.Min.X+i+1, g.Max.Y), colormap[i*256/g.Dx()])
		}
		stroke(dst, g.Inset(-1), colTileLine)
	}
	loL, midL, hiL := "−max|v|", "0", "+max|v|"
	info, vals := "hover a map for its values", "each map is scaled by its own largest |value| (maps under 3×3 by their panel's): dark is 0"
	h, hovered := u.hoverR, u.hover.key != ""
	if f, ok := u.focused(); ok && !hovered {
		h, hovered = *f, true
	}
	if hovered && h.m != nil && h.m.valid() {
		m := h.m
		lo, hi, _ := mapStats(m)
		info = fmt.Sprintf("%s · %d×%d", h.describe(), m.H, m.W)
		if m.C == 3 {
			info = fmt.Sprintf("%s · RGB %d×%d", h.describe(), m.H, m.W)
		}
		vals = fmt.Sprintf("min %s   max %s", num(lo), num(hi))
		if m.C == 1 {
			sc := max(-lo, hi)
			if h.shared > 0 {
				sc = h.shared
			}
			loL, hiL = "−"+num(sc), "+"+num(sc)
			vals += fmt.Sprintf("   mean %s", num(mean(m.Data)))
			if h.shared > 0 {
				vals += "   (too small for a scale of its own: scaled with its panel)"
			}
		} else if strings.HasPrefix(h.key, "tile:filters") {
			vals += "   (tile stretched: min black, max white)"
		}
	} else if hovered && h.kind == kindInfo && h.key != "band" {
		info, vals = h.describe(), ""
	}
	u.fSmall.text(dst, r, g.Min.X, r.Min.Y+36, loL, colDim)
	u.fSmall.text(dst, r, g.Min.X+(g.Dx()-u.fSmall.width(midL))/2, r.Min.Y+36, midL, colDim)
	u.fSmall.text(dst, r, g.Max.X-u.fSmall.width(hiL), r.Min.Y+36, hiL, colDim)
	ix := g.Max.X + 24
	u.fText.text(dst, r, ix, r.Min.Y+18, u.fText.fit(info, r.Max.X-ix-8), colText)
	u.fSmall.text(dst, r, ix, r.Min.Y+35, u.fSmall.fit(vals, r.Max.X-ix-8), colDim)
}

// num writes a value briefly.
func num(v float32) string {
	a := v
	if a < 0 {
		a = -a
	}
	s := ""
	switch {
	case a == 0:
		return "0"
	case a >= 1000 || a < 0.001:
		s = fmt.Sprintf("%.2e", v)
	case a >= 10:
		s = fmt.Sprintf("%.1f", v)
	default:
		s = fmt.Sprintf("%.3f", v)
	}
	return strings.Replace(s, "-", "−", 1)
}

func mean(v []float32) float32 {
	var s float64
	n := 0
	for _, x := range v {
		if x == x {
			s += float64(x)
			n++
		}
	}
	if n == 0 {
		return 0
	}
	return float32(s / float64(n))
}
