package viz

// The inspected image and the strip of test images to choose from.

import (
	"fmt"
	"image"
)

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
