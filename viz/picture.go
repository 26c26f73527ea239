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
	c := u.panel(dst, r, "input", "Input", "your picture", 0, "")
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
		u.add(region{r: in, kind: kindTile, key: "tile:input", m: &s.Input, label: "what the network sees: the picture squashed to 32×32"})
		drawMap(dst, in.Min.X, in.Min.Y, 1, &s.Input, false, 0)
		stroke(dst, in.Inset(-1), colTileLine)
	}
	u.fSmall.text(dst, r, in.Max.X+8, c.Min.Y+14, "what the", colDim)
	u.fSmall.text(dst, r, in.Max.X+8, c.Min.Y+28, "network sees", colDim)
	u.prediction(dst, r, c, x, x1)
}
