package viz

import (
	"fmt"
	"image"
	"image/color"
	"math"
)

// The gradient view: what reaches each layer on the way back, the
// experiment behind shortcuts. Norms span many decades (a plain network
// without BatchNorm passes its first layers 1e-6 of what its last gets),
// so both charts are on a log scale.

// BarColor is the colour of the gradient view's bars per layer (for tests
// that look at the page's pixels).
var BarColor = colAccent

// Colours of the first, middle and last layer's lines.
var gradLineCols = [3]color.RGBA{{0x56, 0xb4, 0xe9, 0xff}, {0xe6, 0x9f, 0x00, 0xff}, {0xcc, 0x79, 0xa7, 0xff}}

// grads draws the gradient view into area.
func (u *UI) grads(dst *image.RGBA, area image.Rectangle) {
	g := &u.snap.Grads
	if e := u.snap.Experiment; e != nil {
		u.experimentPanel(dst, image.Rect(area.Min.X, area.Min.Y, area.Max.X, area.Min.Y+experimentH), e)
		area.Min.Y += experimentH + 6
	}
	barH := area.Dy() * 55 / 100
	bars := image.Rect(area.Min.X, area.Min.Y, area.Max.X, area.Min.Y+barH)
	if u.gradBlocks && len(g.Blocks) > 0 {
		u.blockGradBars(dst, bars, g)
	} else {
		u.gradBars(dst, bars, g)
	}
	u.gradLines(dst, image.Rect(area.Min.X, area.Min.Y+barH+6, area.Max.X, area.Max.Y), g)
}

// decades returns the powers of ten that bound the positive values of vs.
func decades(vs ...[]float32) (lo, hi float64, ok bool) {
	lo, hi = math.Inf(1), math.Inf(-1)
	for _, v := range vs {
		for _, x := range v {
			if x > 0 && !math.IsInf(float64(x), 0) {
				l := math.Log10(float64(x))
				lo, hi = min(lo, l), max(hi, l)
			}
		}
	}
	if lo > hi {
		return 0, 0, false
	}
	lo, hi = math.Floor(lo-0.25), math.Ceil(hi) // the smallest bar keeps some height
	if hi <= lo {
		hi = lo + 1
	}
	return lo, hi, true
}

// logAxis paints the decade lines of [lo, hi] across p and returns the
// y of a value.
func (u *UI) logAxis(dst *image.RGBA, clip, p image.Rectangle, lo, hi float64) func(float32) float64 {
	y := func(v float32) float64 {
		l := math.Log10(max(float64(v), math.Pow(10, lo)))
		return float64(p.Max.Y-1) - (l-lo)/(hi-lo)*float64(p.Dy()-1)
	}
	step := max(1, int(math.Ceil((hi-lo)/6)))
	for d := int(lo); d <= int(hi); d += step {
		yy := int(y(float32(math.Pow(10, float64(d)))))
		if dst != nil {
			fill(dst, image.Rect(p.Min.X, yy, p.Max.X, yy+1), colPanelLine)
		}
		lbl := fmt.Sprintf("1e%d", d)
		u.fSmall.text(dst, clip, p.Min.X-6-u.fSmall.width(lbl), yy+4, lbl, colDim)
	}
	return y
}

// gradBars is one bar per layer: the norm of its weight's gradient at the
// last step that measured them; the other runs' norms are lines across
// the bars in their colours.
func (u *UI) gradBars(dst *image.RGBA, r image.Rectangle, g *GradFlow) {
	runs := u.gradRuns()
	vs := [][]float32{g.Norms}
	note := "|∂L/∂W| of each layer's weights, input → output, log scale"
	for _, run := range runs {
		vs = append(vs, run.Grads.Norms)
	}
	if len(runs) > 0 {
		note += "; points: the other runs"
	}
	c, lo, hi, ok := u.gradPanel(dst, r, g, "Gradient reaching each layer", note, len(g.Norms) == len(g.Layers), vs...)
	if !ok {
		return
	}
	p := image.Rect(c.Min.X+40, c.Min.Y+6, c.Max.X-4, c.Max.Y-16)
	y := u.logAxis(dst, r, p, lo, hi)
	n := len(g.Norms)
	for i, v := range g.Norms {
		x0 := p.Min.X + i*p.Dx()/n
		x1 := p.Min.X + (i+1)*p.Dx()/n
		bar := image.Rect(x0+1, int(y(v)), max(x1-1, x0+2), p.Max.Y)
		u.add(region{r: image.Rect(x0, p.Min.Y, x1, p.Max.Y), kind: kindInfo, key: "gradbar", indexed: true, idx: i, of: n,
			label: "|∂L/∂W|", sub: g.Layers[i], val: v, bar: true})
		if dst == nil {
			continue
		}
		col := colAccent
		if u.hover == (rid{"gradbar", i}) {
			col = colHover
		}
		if v > 0 {
			fill(dst, bar, col)
		}
	}
	if dst != nil {
		for _, run := range runs {
			runLayers(dst, p, run.Grads.Norms, y, runColor(run.ID))
		}
	}
	u.endLabels(dst, r, p, c, g.Layers[0], g.Layers[n-1])
}

// gradRuns are the shown runs that measured gradient norms.
func (u *UI) gradRuns() []Run {
	var out []Run
	for _, run := range u.shownRuns() {
		if len(run.Grads.Norms) > 0 && len(run.Grads.Norms) == len(run.Grads.Layers) {
			out = append(out, run)
		}
	}
	return out
}

// runLayers draws a run's norms per layer across plot p: a point at the
// middle of each of its layers (a network of another depth spreads its
// layers over the same width), joined by lines.
func runLayers(dst *image.RGBA, p image.Rectangle, norms []float32, y func(float32) float64, col color.RGBA) {
	n := len(norms)
	x := func(i int) float64 { return float64(p.Min.X) + (float64(i)+0.5)*float64(p.Dx())/float64(n) }
	for i, v := range norms {
		if i > 0 && v > 0 && norms[i-1] > 0 {
			haloLine(dst, p, x(i-1), y(norms[i-1]), x(i), y(v), col, colBG)
		}
	}
	for i, v := range norms {
		if v > 0 {
			cx, cy := int(x(i)), int(y(v))
			fill(dst, image.Rect(cx-3, cy-3, cx+4, cy+4), colBG)
			fill(dst, image.Rect(cx-2, cy-2, cx+3, cy+3), col)
		}
	}
}

// gradPanel paints the panel of a chart of gradient norms (its note after
// the step that measured them, and the per layer / per block switch) and
// returns its content and the decades of vs; ok is false, with a hint
// painted, until there are values to draw (and consistent says they fit).
func (u *UI) gradPanel(dst *image.RGBA, r image.Rectangle, g *GradFlow, title, note string, consistent bool, vs ...[]float32) (c image.Rectangle, lo, hi float64, ok bool) {
	if g.Step > 0 {
		note = fmt.Sprintf("step %d: %s", g.Step, note)
	}
	c = u.panel(dst, r, "grads", title, note, u.gradModeW(g), "")
	u.gradMode(dst, r, g)
	lo, hi, ok = decades(vs...)
	if !ok || !consistent {
		u.fSmall.text(dst, c, c.Min.X, c.Min.Y+20, "appears after the first training step", colFaint)
		return c, 0, 0, false
	}
	return c, lo, hi, true
}

// endLabels names the first and the last bar of plot p under it.
func (u *UI) endLabels(dst *image.RGBA, clip, p, c image.Rectangle, first, last string) {
	u.fSmall.text(dst, clip, p.Min.X, c.Max.Y, first, colDim)
	u.fSmall.text(dst, clip, p.Max.X-u.fSmall.width(last), c.Max.Y, last, colDim)
}

// gradModeW is the room the per layer / per block switch takes on the
// bars' title line (none without blocks).
func (u *UI) gradModeW(g *GradFlow) int {
	if len(g.Blocks) == 0 {
		return 0
	}
	return 2*84 + 12
}

// gradMode paints the switch between the bars per layer and per block.
func (u *UI) gradMode(dst *image.RGBA, r image.Rectangle, g *GradFlow) {
	if len(g.Blocks) == 0 {
		return
	}
	set := func(blocks bool) func() []Intent {
		return func() []Intent { u.gradBlocks = blocks; u.changed(); return nil }
	}
	x1 := r.Max.X - 6
	u.button(dst, image.Rect(x1-84, r.Min.Y+3, x1, r.Min.Y+21), "grads:blocks", "per block", u.gradBlocks, set(true))
	u.button(dst, image.Rect(x1-172, r.Min.Y+3, x1-88, r.Min.Y+21), "grads:layers", "per layer", !u.gradBlocks, set(false))
}

// Colours of a block's two bars: the gradient arriving at its sum, and
// what its main path passes back.
var (
	colBlockSum  = color.RGBA{0x56, 0xb4, 0xe9, 0xff}
	colBlockMain = color.RGBA{0xe6, 0x9f, 0x00, 0xff}
)

// blockGradBars is two bars per block: the norm of the gradient arriving
// at the block's sum, and of what its main path alone passes back to its
// input. With a shortcut the block's input gets both (the shortcut passes
// the first on unchanged); without one, only the second.
func (u *UI) blockGradBars(dst *image.RGBA, r image.Rectangle, g *GradFlow) {
	c, lo, hi, ok := u.gradPanel(dst, r, g, "Gradient through each block", "at each block's sum, and what its main path passes back, log scale",
		len(g.BlockSum) == len(g.Blocks) && len(g.BlockMain) == len(g.Blocks), g.BlockSum, g.BlockMain)
	if !ok {
		return
	}
	lx := c.Min.X
	first := "arriving at the sum (the shortcut passes it on)"
	if g.Plain {
		first = "arriving at the output (no shortcut: the input gets only the main path's)"
	}
	for k, lbl := range []string{first, "passed back by the main path"} {
		col := [2]color.RGBA{colBlockSum, colBlockMain}[k]
		if dst != nil {
			fill(dst, image.Rect(lx, c.Min.Y+6, lx+14, c.Min.Y+12), col)
		}
		lx = u.fSmall.text(dst, r, lx+18, c.Min.Y+12, lbl, colText) + 16
	}
	p := image.Rect(c.Min.X+40, c.Min.Y+22, c.Max.X-4, c.Max.Y-16)
	y := u.logAxis(dst, r, p, lo, hi)
	n := len(g.Blocks)
	for i := range g.Blocks {
		x0 := p.Min.X + i*p.Dx()/n
		x1 := p.Min.X + (i+1)*p.Dx()/n
		mid := (x0 + x1) / 2
		for k, v := range []float32{g.BlockSum[i], g.BlockMain[i]} {
			bx0, bx1 := x0+1, mid
			label := "arriving at " + g.Blocks[i] + "'s sum"
			if k == 1 {
				bx0, bx1 = mid, max(x1-1, mid+1)
				label = "passed back by " + g.Blocks[i] + "'s main path"
			}
			u.add(region{r: image.Rect(bx0, p.Min.Y, bx1, p.Max.Y), kind: kindInfo, key: "blockgrad", indexed: true,
				idx: 2*i + k, of: 2 * n, label: "|∂L/∂x|", sub: label, val: v, bar: true})
			if dst != nil && v > 0 {
				fill(dst, image.Rect(bx0, int(y(v)), bx1, p.Max.Y), [2]color.RGBA{colBlockSum, colBlockMain}[k])
			}
		}
	}
	u.endLabels(dst, r, p, c, g.Blocks[0], g.Blocks[n-1])
}

// gradLines is the norms of the first, middle and last layer over the
// steps, and the first layer's of the other runs in their colours.
func (u *UI) gradLines(dst *image.RGBA, r image.Rectangle, g *GradFlow) {
	runs := u.gradRuns()
	note := "the first, middle and last layer's |∂L/∂W| over the steps, log scale"
	vs := [][]float32{g.First, g.Middle, g.Last}
	s0, s1 := math.MaxInt, math.MinInt
	if len(g.Steps) > 0 {
		s0, s1 = g.Steps[0], g.Steps[len(g.Steps)-1]
	}
	for _, run := range runs {
		if rs := run.Grads.Steps; len(rs) > 1 && len(run.Grads.First) == len(rs) {
			vs = append(vs, run.Grads.First)
			s0, s1 = min(s0, rs[0]), max(s1, rs[len(rs)-1])
		}
	}
	if len(vs) > 3 {
		note += "; dashed: the other runs' first layer"
	}
	c := u.panel(dst, r, "gradlines", "While training", note, 0, "")
	lo, hi, ok := decades(vs...)
	if !ok || len(g.Steps) < 2 || len(g.Layers) == 0 {
		u.fSmall.text(dst, c, c.Min.X, c.Min.Y+20, "appears after two training steps", colFaint)
		return
	}
	p := image.Rect(c.Min.X+40, c.Min.Y+22, c.Max.X-4, c.Max.Y-16)
	y := u.logAxis(dst, r, p, lo, hi)
	if s1 <= s0 {
		s1 = s0 + 1
	}
	x := func(s int) float64 {
		return float64(p.Min.X) + float64(s-s0)/float64(s1-s0)*float64(p.Dx()-1)
	}
	series := func(steps []int, vs []float32, col color.RGBA, dashed bool) {
		if dst == nil || len(vs) != len(steps) {
			return
		}
		for i := 1; i < len(vs); i++ {
			if vs[i-1] > 0 && vs[i] > 0 {
				if dashed {
					dashedLine(dst, p, x(steps[i-1]), y(vs[i-1]), x(steps[i]), y(vs[i]), col, 4)
				} else {
					line(dst, p, x(steps[i-1]), y(vs[i-1]), x(steps[i]), y(vs[i]), col)
				}
			}
		}
	}
	for _, run := range runs {
		series(run.Grads.Steps, run.Grads.First, runColor(run.ID), true)
	}
	names := [3]string{g.Layers[0], g.Layers[len(g.Layers)/2], g.Layers[len(g.Layers)-1]}
	lx := c.Min.X
	for k, vs := range [3][]float32{g.First, g.Middle, g.Last} {
		col := gradLineCols[k]
		lbl := [3]string{"first", "middle", "last"}[k] + ": " + names[k]
		if dst != nil {
			fill(dst, image.Rect(lx, c.Min.Y+6, lx+14, c.Min.Y+9), col)
		}
		lx = u.fSmall.text(dst, r, lx+18, c.Min.Y+12, lbl, colText) + 16
		series(g.Steps, vs, col, false)
	}
	u.fSmall.text(dst, r, p.Min.X, c.Max.Y, fmt.Sprintf("step %d", s0), colDim)
	lbl := fmt.Sprintf("step %d", s1)
	u.fSmall.text(dst, r, p.Max.X-u.fSmall.width(lbl), c.Max.Y, lbl, colDim)
}
