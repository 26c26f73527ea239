package viz

import (
	"fmt"
	"image"
)

// picturePanel is the input panel for a picture of one's own: the picture
// on the left, what the network sees of it (32×32, at its real size)
// beside, and the network's top 3.
func (u *UI) picturePanel(dst *image.RGBA, r image.Rectangle, s *Snapshot) {
	p := s.Picture
	c := u.panel(dst, r, "input", "Input", "your picture", salButtonW+8, "")
	u.saliencyButton(dst, r)
	box := image.Rect(c.Min.X, c.Min.Y+2, c.Min.X+128, c.Min.Y+130)
	fill(dst, box, colBG)
	if p.Original.valid() {
		o := p.Original
		at := image.Pt(box.Min.X+(128-o.W)/2, box.Min.Y+(128-o.H)/2)
		u.add(region{r: image.Rect(at.X, at.Y, at.X+o.W, at.Y+o.H), kind: kindTile, key: "tile:picture", m: &p.Original,
			label: "your picture, " + p.Name})
		drawMap(dst, at.X, at.Y, 1, &p.Original, false, 0)
	}
	stroke(dst, box.Inset(-1), colTileLine)
	u.fSmall.text(dst, r, box.Min.X, box.Max.Y+16, u.fSmall.fit(fmt.Sprintf("%s · %d×%d %s", p.Name, p.Width, p.Height, p.Format), c.Dx()), colDim)

	x, x1 := box.Max.X+12, c.Max.X
	in := image.Rect(x, c.Min.Y+4, x+32, c.Min.Y+36)
	if s.Input.valid() {
		u.add(region{r: in, kind: kindTile, key: "tile:input", m: u.inputShown(), label: u.inputLabel("what the network sees: the picture squashed to 32×32")})
		u.drawInput(dst, in.Min.X, in.Min.Y, 1, &s.Input)
		stroke(dst, in.Inset(-1), colTileLine)
	}
	u.fSmall.text(dst, r, in.Max.X+8, c.Min.Y+14, "what the", colDim)
	u.fSmall.text(dst, r, in.Max.X+8, c.Min.Y+28, "network sees", colDim)
	u.prediction(dst, r, c, x, x1)
}

// Saliency modes of the input panel's toggle.
const (
	salOff   = iota // the image
	salOver         // the saliency over the image
	salAlone        // the saliency alone
	salModes
)

var salLabels = [salModes]string{"saliency", "saliency: over", "saliency: alone"}

// salColor is the saliency's colour at full strength.
var salColor = colCellWrong

// saliencyButton paints the toggle on the input panel's title line.
func (u *UI) saliencyButton(dst *image.RGBA, r image.Rectangle) {
	s := u.snap
	var act func() []Intent
	if s != nil && s.Saliency != nil {
		act = func() []Intent { u.salMode = (u.salMode + 1) % salModes; u.changed(); return nil }
	}
	u.button(dst, image.Rect(r.Max.X-6-salButtonW, r.Min.Y+3, r.Max.X-6, r.Min.Y+21), "saliency", salLabels[u.salMode],
		u.salMode != salOff && act != nil, act)
}

const salButtonW = 112

// drawInput draws the input image at (x, y), scaled by sc, with the
// saliency over it or instead of it as the toggle says.
func (u *UI) drawInput(dst *image.RGBA, x, y, sc int, in *Map) {
	s := u.snap
	sal := (*Map)(nil)
	if s != nil && s.Saliency != nil && s.Saliency.Map.valid() && s.Saliency.Map.H == in.H && s.Saliency.Map.W == in.W {
		sal = &s.Saliency.Map
	}
	if sal == nil || u.salMode == salOff {
		drawMap(dst, x, y, sc, in, false, 0)
		return
	}
	if dst == nil {
		return
	}
	top := float32(0)
	for _, v := range sal.Data {
		top = max(top, v)
	}
	if u.salMode == salOver {
		drawMap(dst, x, y, sc, in, false, 0)
	}
	for py := range in.H {
		for px := range in.W {
			a := 0.0
			if top > 0 {
				a = float64(sal.Data[py*in.W+px] / top)
			}
			r := image.Rect(x+px*sc, y+py*sc, x+(px+1)*sc, y+(py+1)*sc)
			base := colBG
			if u.salMode == salOver {
				// Dim the image where the saliency is low, so that what sways
				// the network stands out in its colour.
				c := dst.RGBAAt(r.Min.X, r.Min.Y)
				base = blend(colBG, c, 0.35)
			}
			fill(dst, r, blend(base, salColor, a))
		}
	}
}

// inputShown is the map whose values hovering the input shows: the
// saliency's while it is drawn.
func (u *UI) inputShown() *Map {
	s := u.snap
	if u.salMode != salOff && s.Saliency != nil && s.Saliency.Map.valid() {
		return &s.Saliency.Map
	}
	return &s.Input
}

// inputLabel names what hovering the input shows.
func (u *UI) inputLabel(what string) string {
	s := u.snap
	if u.salMode != salOff && s.Saliency != nil {
		return fmt.Sprintf("saliency: |∂ score of %s / ∂ input|, max over colours (step %d)", u.className(s.Saliency.Class), s.Saliency.Step)
	}
	return what
}
