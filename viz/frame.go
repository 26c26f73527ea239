package viz

import (
	"fmt"
	"image"
	"image/color"
	"math"
	"strings"
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

// visible says whether painting r into dst would change a pixel (dst is
// nil for a layout, and a part of the frame for a partial repaint).
func visible(dst *image.RGBA, r image.Rectangle) bool {
	return dst != nil && r.Overlaps(dst.Rect)
}

// panel paints a labelled panel and returns its content rectangle. The
// note follows the title, dimmer, and stops reserve pixels before the
// right edge (where the caller puts a pager or a value).
func (u *UI) panel(dst *image.RGBA, r image.Rectangle, name, title, note string, reserve int, pager string) image.Rectangle {
	u.add(region{r: r, kind: kindPanel, key: "panel:" + name, name: name, pager: pager})
	if dst != nil {
		fill(dst, r, colPanel)
		stroke(dst, r, colPanelLine)
	}
	x := u.fTitle.text(dst, r, r.Min.X+8, r.Min.Y+17, u.fTitle.fit(title, r.Dx()-16-reserve-24), colText)
	if title != "" {
		x = u.helpButton(dst, r, name, x)
	}
	if note != "" {
		if w := r.Max.X - 8 - reserve - (x + 10); w > 20 {
			u.fSmall.text(dst, r, x+10, r.Min.Y+17, u.fSmall.fit(note, w), colDim)
		}
	}
	return image.Rect(r.Min.X+8, r.Min.Y+titleH, r.Max.X-8, r.Max.Y-6)
}

// button paints a button and records what a click on it does.
func (u *UI) button(dst *image.RGBA, r image.Rectangle, key, label string, active bool, act func() []Intent) {
	key = "btn:" + key
	u.add(region{r: r, kind: kindButton, key: key, act: act, label: label, active: active})
	if dst == nil {
		return
	}
	bg, fg := colButton, colText
	switch {
	case active:
		bg = colActive
	case key == u.hover.key:
		bg = colButtonHi
	}
	if act == nil {
		fg = colFaint
	}
	fill(dst, r, bg)
	if key == u.hover.key && act != nil {
		stroke(dst, r, colAccent)
	} else {
		stroke(dst, r, colPanelLine)
	}
	label = u.fText.fit(label, r.Dx()-6)
	w := u.fText.width(label)
	u.fText.text(dst, r, r.Min.X+(r.Dx()-w)/2, r.Min.Y+(r.Dy()+u.fText.ascent)/2-2, label, fg)
}

// field paints a text field: name is "lr" or "path", shown its value when
// not being typed in.
func (u *UI) field(dst *image.RGBA, r image.Rectangle, name, shown string, bad bool) {
	key := "field:" + name
	what := map[string]string{"lr": "learning rate", "path": "weights file"}[name]
	u.add(region{r: r, kind: kindField, key: key, label: what, act: func() []Intent { return u.focusField(name) }})
	if dst == nil {
		return
	}
	focused := u.focus == name
	fill(dst, r, colBG)
	switch {
	case bad:
		stroke(dst, r, colBad)
	case focused:
		stroke(dst, r, colAccent)
	case key == u.hover.key:
		stroke(dst, r, colDim)
	default:
		stroke(dst, r, colPanelLine)
	}
	text := shown
	if focused {
		text = u.edit
	}
	base := r.Min.Y + (r.Dy()+u.fText.ascent)/2 - 2
	// Show the end of a long text: that is where one types.
	for len(text) > 0 && u.fText.width(text) > r.Dx()-12 {
		_, n := firstRune(text)
		text = text[n:]
	}
	if focused && u.replace && text != "" {
		w := u.fText.width(text)
		fill(dst, image.Rect(r.Min.X+4, r.Min.Y+3, r.Min.X+6+w, r.Max.Y-3), colActive)
	}
	x := u.fText.text(dst, r, r.Min.X+5, base, text, colText)
	if focused {
		fill(dst, image.Rect(x+1, r.Min.Y+4, x+2, r.Max.Y-4), colText)
	}
}

func firstRune(s string) (rune, int) {
	for i, r := range s {
		if i > 0 {
			return r, i
		}
	}
	return 0, len(s)
}

// pager paints "◄ a–b of n ►" ending at x1 on the title line at y (a
// panel's top) and returns the first index shown.
func (u *UI) pager(dst *image.RGBA, x1, y int, key string, per, total int) int {
	first := min(max(u.pages[key], 0), max(total-1, 0))
	u.pages[key] = first
	u.pagers = append(u.pagers, key)
	last := min(first+per, total)
	label := fmt.Sprintf("%d–%d of %d", first+1, last, total)
	w := u.fSmall.width(label)
	bw := 20
	next := image.Rect(x1-bw, y+3, x1, y+21)
	prev := image.Rect(next.Min.X-w-12-bw, y+3, next.Min.X-w-12, y+21)
	pr := region{r: image.Rect(prev.Min.X, y, x1, y+titleH), kind: kindPager, key: "pager:" + key, pager: key, first: first, per: per, total: total}
	u.add(pr)
	u.button(dst, prev, "prev:"+key, "◄", false, func() []Intent { u.page(key, -1); return nil })
	u.button(dst, next, "next:"+key, "►", false, func() []Intent { u.page(key, +1); return nil })
	u.fSmall.text(dst, pr.r, prev.Max.X+6, y+16, label, colText)
	return first
}

// pagerWidth is the room a pager of total maps takes on a title line.
func (u *UI) pagerWidth(total int) int {
	return u.fSmall.width(fmt.Sprintf("%d–%d of %d", total, total, total)) + 12 + 40 + 8
}

// The header: the app, the model, the backend and the training's progress.
func (u *UI) header(dst *image.RGBA, r image.Rectangle) {
	u.add(region{r: r, kind: kindPanel, key: "panel:header", name: "header"})
	fill(dst, r, colPanel)
	fill(dst, image.Rect(r.Min.X, r.Max.Y-1, r.Max.X, r.Max.Y), colPanelLine)
	base := r.Min.Y + 22
	x := u.fBig.text(dst, r, 12, base, "cifarlab", colText)
	s := u.snap
	if s == nil {
		return
	}
	// The status, right-aligned.
	status, sc := "○ paused", colWarn
	if s.Running {
		status, sc = "● training", colGood
	}
	sw := u.fTitle.width(status)
	u.fTitle.text(dst, r, r.Max.X-12-sw, base, status, sc)

	x += 20
	sep := func() { x = u.fText.text(dst, r, x+8, base, "·", colFaint) + 8 }
	x = u.fTitle.text(dst, r, x, base, modelName(s, s.Model), colText)
	if s.Backend != "" {
		sep()
		x = u.fText.text(dst, r, x, base, u.fText.fit(s.Backend, 300), colDim)
	}
	sep()
	x = u.fText.text(dst, r, x, base, fmt.Sprintf("step %d", s.Step), colText)
	sep()
	x = u.fText.text(dst, r, x, base, fmt.Sprintf("epoch %d", max(s.Epoch, 1)), colText)
	bar := image.Rect(x+8, r.Min.Y+14, x+8+90, r.Min.Y+22)
	fill(dst, bar, colBG)
	p := min(max(s.EpochProgress, 0), 1)
	fill(dst, image.Rect(bar.Min.X, bar.Min.Y, bar.Min.X+int(p*float64(bar.Dx())+0.5), bar.Max.Y), colAccent)
	stroke(dst, bar, colPanelLine)
	x = u.fText.text(dst, r, bar.Max.X+6, base, fmt.Sprintf("%.0f%%", 100*p), colDim)
	sep()
	u.fText.text(dst, r, x, base, fmt.Sprintf("%s images/s", humanRate(s.ImagesPerSec)), colText)
}

func humanRate(v float64) string {
	switch {
	case v <= 0:
		return "–"
	case v < 10:
		return fmt.Sprintf("%.1f", v)
	}
	return fmt.Sprintf("%.0f", v)
}

// modelName is ModelTitle of s's picker, or "no model".
func modelName(s *Snapshot, m string) string {
	if m == "" {
		return "no model"
	}
	var models []ModelChoice
	if s != nil {
		models = s.Models
	}
	return ModelTitle(models, m)
}

// ModelTitle is the title models give model ("plain-56, no BN" for a
// NoBN), else the name itself.
func ModelTitle(models []ModelChoice, m string) string {
	for _, c := range models {
		switch m {
		case c.Name:
			return c.Title
		case c.NoBN:
			return c.Title + ", no BN"
		}
	}
	return m
}

// band is the message line: the error, else the notice, else a hint.
func (u *UI) band(dst *image.RGBA, r image.Rectangle) {
	s := u.snap
	var bg, fg color.RGBA
	var msg string
	switch {
	case s != nil && s.Error != "":
		bg, fg, msg = colErrorBG, color.RGBA{0xff, 0xd0, 0xd0, 0xff}, "Error: "+s.Error
		if s.Notice != "" {
			msg += "  ·  " + s.Notice
		}
	case u.fieldErr != "":
		bg, fg, msg = colErrorBG, color.RGBA{0xff, 0xd0, 0xd0, 0xff}, u.fieldErr
	case s != nil && s.Notice != "":
		bg, fg, msg = colNoticeBG, color.RGBA{0xff, 0xe6, 0xa8, 0xff}, s.Notice
	default:
		bg, fg = colBG, colDim
		switch {
		case s == nil:
			msg = "starting…"
		case s.Step == 0 && !s.Running:
			msg = "ready: Start (or Space) trains, Step trains one batch · ← → chooses the inspected image"
		case s.Running:
			msg = "training · hover a map for its values · the wheel or PgUp/PgDn pages channels · ← → chooses the image"
		default:
			msg = "paused · Start (or Space) resumes, Step trains one batch"
		}
	}
	shown := u.fTitle.fit(msg, r.Dx()-24)
	full := ""
	if shown != msg {
		full = msg
	}
	u.add(region{r: r, kind: kindInfo, key: "band", name: "band", label: full})
	if dst == nil {
		return
	}
	fill(dst, r, bg)
	u.fTitle.text(dst, r, 12, r.Min.Y+17, shown, fg)
}

// overlay shows the whole of a truncated message under the pointer.
func (u *UI) overlay(dst *image.RGBA) {
	if dst == nil || u.hover.key != "band" || u.hoverR.label == "" {
		return
	}
	lines := u.fText.wrap(u.hoverR.label, 880)
	h := 12 + len(lines)*u.fText.height
	r := image.Rect(12, bandY+bandH, 12+900, bandY+bandH+h)
	fill(dst, r, colErrorBG)
	stroke(dst, r, colBad)
	for i, l := range lines {
		u.fText.text(dst, r, r.Min.X+10, r.Min.Y+6+u.fText.ascent+i*u.fText.height, l, colText)
	}
}

func (u *UI) className(i int) string {
	if s := u.snap; s != nil && i >= 0 && i < len(s.Classes) {
		return s.Classes[i]
	}
	return fmt.Sprintf("class %d", i)
}

// inputPanel: the inspected image, its true label, the top-3 prediction.
func (u *UI) inputPanel(dst *image.RGBA, r image.Rectangle) {
	s := u.snap
	if s != nil && s.Picture != nil {
		u.picturePanel(dst, r, s)
		return
	}
	c := u.panel(dst, r, "input", "Input", "the inspected test image", salButtonW+8, "")
	u.saliencyButton(dst, r)
	img := image.Rect(c.Min.X, c.Min.Y+2, c.Min.X+128, c.Min.Y+130)
	if s == nil || !s.Input.valid() {
		fill(dst, img, colBG)
		stroke(dst, img, colPanelLine)
		u.fSmall.text(dst, img, img.Min.X+30, img.Min.Y+68, "no image yet", colFaint)
	} else {
		sc := max(1, 128/max(s.Input.H, s.Input.W))
		u.add(region{r: img, kind: kindTile, key: "tile:input", m: u.inputShown(), label: u.inputLabel("the input image")})
		u.drawInput(dst, img.Min.X, img.Min.Y, sc, &s.Input)
		stroke(dst, img.Inset(-1), colTileLine)
	}
	if s != nil && len(s.Strip) > 0 && u.sel >= 0 {
		u.fSmall.text(dst, r, img.Min.X, img.Max.Y+16, fmt.Sprintf("test image %d of %d", u.sel+1, len(s.Strip)), colDim)
	}

	x, x1 := img.Max.X+12, c.Max.X
	u.fSmall.text(dst, r, x, c.Min.Y+12, "true label", colDim)
	label := "unknown"
	if s != nil && s.Label >= 0 {
		label = u.className(s.Label)
	}
	u.fTitle.text(dst, r, x, c.Min.Y+30, u.fTitle.fit(label, x1-x), colText)
	u.prediction(dst, r, c, x, x1)
}

// prediction paints the top 3 classes of the snapshot's probabilities in
// the input panel's column from x to x1.
func (u *UI) prediction(dst *image.RGBA, r, c image.Rectangle, x, x1 int) {
	s := u.snap
	u.fSmall.text(dst, r, x, c.Min.Y+52, "prediction", colDim)
	if s == nil || len(s.Probs) == 0 {
		u.fSmall.text(dst, r, x, c.Min.Y+70, "none yet", colFaint)
		return
	}
	for i, k := range topK(s.Probs, 3) {
		y := c.Min.Y + 68 + i*24
		col := colAccent
		if k == s.Label {
			col = colGood
		}
		pct := fmt.Sprintf("%.0f%%", 100*s.Probs[k])
		pw := u.fSmall.width(pct)
		u.fText.text(dst, r, x, y, u.fText.fit(u.className(k), x1-x-pw-6), colText)
		u.fSmall.text(dst, r, x1-pw, y, pct, colText)
		bar := image.Rect(x, y+4, x1, y+10)
		fill(dst, bar, colBG)
		p := float64(min(max(s.Probs[k], 0), 1))
		fill(dst, image.Rect(bar.Min.X, bar.Min.Y, bar.Min.X+int(p*float64(bar.Dx())+0.5), bar.Max.Y), col)
	}
}

// topK returns the indices of the k largest values, largest first.
func topK(v []float32, k int) []int {
	var idx []int
	for range min(k, len(v)) {
		best := -1
		for i, x := range v {
			taken := false
			for _, j := range idx {
				taken = taken || j == i
			}
			if !taken && (best < 0 || x > v[best]) {
				best = i
			}
		}
		idx = append(idx, best)
	}
	return idx
}

// stripPanel: test images to choose from.
func (u *UI) stripPanel(dst *image.RGBA, r image.Rectangle) {
	s := u.snap
	c := u.panel(dst, r, "strip", "Test images", "click one, or ← →", 52, "")
	var act func(int) func() []Intent
	if s != nil && len(s.Strip) > 0 {
		act = func(d int) func() []Intent { return func() []Intent { return u.selectRel(d) } }
	}
	prev, next := func() []Intent { return nil }, func() []Intent { return nil }
	if act != nil {
		prev, next = act(-1), act(+1)
	}
	u.button(dst, image.Rect(r.Max.X-52, r.Min.Y+3, r.Max.X-30, r.Min.Y+21), "img-prev", "◄", false, prev)
	u.button(dst, image.Rect(r.Max.X-26, r.Min.Y+3, r.Max.X-4, r.Min.Y+21), "img-next", "►", false, next)
	if s == nil || len(s.Strip) == 0 {
		u.fSmall.text(dst, c, c.Min.X, c.Min.Y+20, "no test images yet", colFaint)
		return
	}
	const t = 32
	vis := (c.Dx() + tileGap) / (t + tileGap)
	n := len(s.Strip)
	sel := min(u.sel, n-1)
	if sel >= 0 && sel < u.stripFirst {
		u.stripFirst = sel
	}
	if sel >= u.stripFirst+vis {
		u.stripFirst = sel - vis + 1
	}
	u.stripFirst = min(max(u.stripFirst, 0), max(n-vis, 0))
	for j := 0; j < vis && u.stripFirst+j < n; j++ {
		i := u.stripFirst + j
		m := &s.Strip[i]
		tr := image.Rect(c.Min.X+j*(t+tileGap), c.Min.Y+4, c.Min.X+j*(t+tileGap)+t, c.Min.Y+4+t)
		u.add(region{r: tr, kind: kindTile, key: "strip", indexed: true, idx: i, of: n, m: m,
			label: "test images", noun: "image", sub: m.Title, act: func() []Intent { return u.selectImage(i) }})
		if dst == nil {
			continue
		}
		if m.valid() {
			sc := max(1, t/max(m.H, m.W))
			drawMap(dst, tr.Min.X, tr.Min.Y, sc, m, false, 0)
		}
		switch {
		case i == sel:
			stroke(dst, tr.Inset(-2), colAccent)
			stroke(dst, tr.Inset(-1), colAccent)
		case u.hover == (rid{"strip", i}):
			stroke(dst, tr.Inset(-1), colHover)
		}
	}
}

// controls: model, learning rate, batch size and the training's commands.
func (u *UI) controls(dst *image.RGBA, r image.Rectangle) {
	c := u.panel(dst, r, "controls", "Controls", "Space starts or pauses", 0, "")
	s := u.snap
	lx, bx := c.Min.X, c.Min.X+52
	row := func(i int) (int, int) { return c.Min.Y + 2 + i*rowH, c.Min.Y + 2 + i*rowH + 22 }
	label := func(i int, t string) {
		y0, _ := row(i)
		u.fSmall.text(dst, r, lx, y0+15, t, colDim)
	}
	// buttons lays out n equal buttons from x0 to x1 on row i.
	cells := func(i, n, x0, x1 int) []image.Rectangle {
		y0, y1 := row(i)
		w := (x1 - x0 - (n-1)*4) / n
		out := make([]image.Rectangle, n)
		for k := range out {
			out[k] = image.Rect(x0+k*(w+4), y0, x0+k*(w+4)+w, y1)
		}
		return out
	}
	lr, batch := 0.0, 0
	if s != nil {
		lr, batch = s.LR, s.Batch
	}

	label(0, "model")
	u.modelPicker(dst, bx, c.Max.X, row)

	label(1, "lr")
	y0, y1 := row(1)
	u.button(dst, image.Rect(bx, y0, bx+24, y1), "lr-", "−", false, func() []Intent { return u.setLR(u.curLR() / 2) })
	shown := "–"
	if lr > 0 {
		shown = formatLR(lr)
	}
	u.field(dst, image.Rect(bx+28, y0, bx+128, y1), "lr", shown, u.fieldErr != "")
	u.button(dst, image.Rect(bx+132, y0, bx+156, y1), "lr+", "+", false, func() []Intent { return u.setLR(u.curLR() * 2) })
	u.fSmall.text(dst, r, bx+164, y0+15, "÷2 ×2, or type", colFaint)
	for k, v := range lrPresets {
		u.button(dst, cells(2, len(lrPresets), bx, c.Max.X)[k], "lr:"+presetLabel(v), presetLabel(v), sameLR(lr, v),
			func() []Intent { return u.setLR(v) })
	}

	label(3, "batch")
	for k, b := range batchPresets {
		u.button(dst, cells(3, len(batchPresets), bx, c.Max.X)[k], fmt.Sprintf("batch:%d", b), fmt.Sprint(b), batch == b,
			func() []Intent { return []Intent{{Kind: SetBatch, Batch: b}} })
	}

	cmd := cells(4, 3, lx, c.Max.X)
	startLabel := "► Start"
	if s != nil && s.Running {
		startLabel = "Pause"
	}
	u.button(dst, cmd[0], "start", startLabel, s != nil && s.Running, u.startPause)
	u.button(dst, cmd[1], "step", "Step", false, func() []Intent { return []Intent{{Kind: StepOnce}} })
	u.button(dst, cmd[2], "reset", "Reset weights", false, func() []Intent { return []Intent{{Kind: Reset}} })
	io := cells(5, 3, lx, c.Max.X)
	u.button(dst, io[0], "save", "Save weights", false, func() []Intent { return []Intent{{Kind: Save, Path: u.path}} })
	u.button(dst, io[1], "load", "Load weights", false, func() []Intent { return []Intent{{Kind: Load, Path: u.path}} })
	u.experimentButton(dst, io[2])
	if u.opts.WeightsPath != "" {
		label(6, "file")
		y0, y1 := row(6)
		u.field(dst, image.Rect(bx, y0, c.Max.X, y1), "path", u.path, false)
	}
}

// modelPicker is the model row: the previous and next network of the
// snapshot's Models (keeping BatchNorm on or off where the next one has
// it), the present one's title, and BatchNorm on or off.
func (u *UI) modelPicker(dst *image.RGBA, x0, x1 int, row func(int) (int, int)) {
	y0, y1 := row(0)
	s := u.snap
	var models []ModelChoice
	model := ""
	if s != nil {
		models, model = s.Models, s.Model
	}
	at, nobn := -1, false
	for i, m := range models {
		switch model {
		case m.Name:
			at = i
		case m.NoBN:
			at, nobn = i, m.NoBN != ""
		}
	}
	pick := func(i int) func() []Intent {
		if len(models) == 0 {
			return nil
		}
		m := models[(i+len(models))%len(models)]
		name := m.Name
		if nobn && m.NoBN != "" {
			name = m.NoBN
		}
		return func() []Intent { return []Intent{{Kind: SetModel, Model: name}} }
	}
	bnW := 56
	nameR := image.Rect(x0+28, y0, x1-28-bnW-4, y1)
	u.button(dst, image.Rect(x0, y0, x0+24, y1), "model-prev", "◄", false, pick(at-1))
	u.button(dst, nameR, "model", modelName(s, model), false, pick(at+1))
	u.button(dst, image.Rect(nameR.Max.X+4, y0, nameR.Max.X+28, y1), "model-next", "►", false, pick(at+1))
	bn := "no BN"
	var toggle func() []Intent
	if at >= 0 && models[at].NoBN != "" {
		bn = "BN on"
		if nobn {
			bn = "BN off"
		}
		m := models[at]
		name := m.NoBN
		if nobn {
			name = m.Name
		}
		toggle = func() []Intent { return []Intent{{Kind: SetModel, Model: name}} }
	}
	u.button(dst, image.Rect(x1-bnW, y0, x1, y1), "model-bn", bn, at >= 0 && models[at].NoBN != "" && !nobn, toggle)
}

func sameLR(a, b float64) bool {
	return a > 0 && b > 0 && a/b > 0.999 && a/b < 1.001
}

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
