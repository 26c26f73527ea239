package viz

// The header line, the message band and the model titles.

import (
	"fmt"
	"image"
	"image/color"
)

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
