package viz

// Widgets: panels, buttons, text fields and pagers.

import (
	"fmt"
	"image"
)

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
