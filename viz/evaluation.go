package viz

import (
	"fmt"
	"image"
	"image/color"
	"math"
)

// The evaluation view: what the model gets wrong. The confusion matrix of
// the last evaluation on the test images as a heat map (rows: the true
// class, each row shaded by its share of that class's images, so that a
// class with few images shows as clearly as one with many), each class's
// accuracy as a bar, and the test images of the cell clicked, any of which
// can be inspected.

// Colours of the matrix: a correct cell (the diagonal) and a mistake, at
// full share; a cell is blended from the panel's background by its share.
var (
	colCellRight = color.RGBA{0x4c, 0xc3, 0x70, 0xff}
	colCellWrong = color.RGBA{0xf0, 0x7a, 0x3c, 0xff}
)

// evaluation draws the view into area.
func (u *UI) evaluation(dst *image.RGBA, area image.Rectangle) {
	e := u.snap.Evaluation
	note := "the last evaluation on the test images"
	if e != nil {
		note = fmt.Sprintf("step %d (%s): %.1f%% of %s test images right, loss %.3f", e.Step, plural(e.Epoch, "epoch"), 100*e.Accuracy,
			Thousands(e.Images), e.Loss)
	}
	const bw = 140
	c := u.panel(dst, area, "evaluation", "Evaluation", note, bw+8, "")
	u.button(dst, image.Rect(area.Max.X-6-bw, area.Min.Y+3, area.Max.X-6, area.Min.Y+21), "evaluate", "Evaluate now", false,
		func() []Intent { return []Intent{{Kind: Evaluate}} })
	if e == nil || len(e.Confusion) == 0 {
		u.fSmall.text(dst, c, c.Min.X, c.Min.Y+20, "appears after the first epoch, or press Evaluate now", colFaint)
		return
	}
	n := len(e.Confusion)
	cs := min(40, (c.Dy()-200)/n, (c.Dx()-420)/n) // a cell's side
	m := image.Rect(c.Min.X+84, c.Min.Y+40, c.Min.X+84+n*cs, c.Min.Y+40+n*cs)
	u.confusion(dst, area, m, cs, e)
	u.perClass(dst, area, image.Rect(m.Max.X+40, m.Min.Y, c.Max.X, m.Max.Y), e)
	u.cellImages(dst, area, image.Rect(c.Min.X, m.Max.Y+12, c.Max.X, c.Max.Y), e)
}

// confusion paints the matrix into m, cells of side cs, with the class
// names along it.
func (u *UI) confusion(dst *image.RGBA, clip, m image.Rectangle, cs int, e *Evaluation) {
	n := len(e.Confusion)
	u.fSmall.text(dst, clip, m.Min.X, m.Min.Y-24, "predicted →", colDim)
	u.fSmall.text(dst, clip, m.Min.X-84, m.Min.Y-8, "true ↓", colDim)
	for j := range n {
		lbl := u.fSmall.fit(e.className(j), cs+6)
		u.fSmall.text(dst, clip, m.Min.X+j*cs+(cs-u.fSmall.width(lbl))/2, m.Min.Y-6, lbl, colDim)
	}
	for i, row := range e.Confusion {
		total := 0
		for _, v := range row {
			total += v
		}
		y := m.Min.Y + i*cs
		u.fSmall.text(dst, clip, m.Min.X-84, y+cs/2+4, u.fSmall.fit(e.className(i), 80), colText)
		for j, v := range row {
			r := image.Rect(m.Min.X+j*cs, y, m.Min.X+(j+1)*cs, y+cs)
			share := 0.0
			if total > 0 {
				share = float64(v) / float64(total)
			}
			u.add(region{r: r, kind: kindButton, key: "cell", indexed: true, idx: i*n + j, of: n * n,
				label: fmt.Sprintf("true %s, predicted %s: %d of %d (click: their images)", e.className(i), e.className(j), v, total),
				act:   func() []Intent { return []Intent{{Kind: ShowCell, Cell: [2]int{i, j}}} }})
			if dst == nil {
				continue
			}
			col := colCellWrong
			if i == j {
				col = colCellRight
			}
			fill(dst, r.Inset(1), blend(colBG, col, share))
			if e.CellImages != nil && e.Cell == [2]int{i, j} || u.hover == (rid{"cell", i*n + j}) {
				stroke(dst, r, colHover)
			}
			if v > 0 {
				s := fmt.Sprint(v)
				tc := colText
				if share > 0.6 {
					tc = colBG
				}
				u.fSmall.text(dst, clip, r.Min.X+(cs-u.fSmall.width(s))/2, r.Min.Y+cs/2+4, u.fSmall.fit(s, cs-2), tc)
			}
		}
	}
}

// perClass paints each class's accuracy as a bar into r.
func (u *UI) perClass(dst *image.RGBA, clip, r image.Rectangle, e *Evaluation) {
	u.fSmall.text(dst, clip, r.Min.X, r.Min.Y-8, "accuracy per class", colDim)
	n := len(e.PerClass)
	if n == 0 {
		return
	}
	h := r.Dy() / n
	for i, a := range e.PerClass {
		y := r.Min.Y + i*h
		u.fSmall.text(dst, clip, r.Min.X, y+h/2+4, u.fSmall.fit(e.className(i), 80), colText)
		bar := image.Rect(r.Min.X+86, y+h/2-5, r.Max.X-48, y+h/2+5)
		lbl := "none"
		if !math.IsNaN(float64(a)) {
			lbl = fmt.Sprintf("%.0f%%", 100*a)
		}
		u.add(region{r: image.Rect(r.Min.X, y, r.Max.X, y+h), kind: kindInfo, key: "classacc", indexed: true, idx: i, of: n,
			label: "accuracy of " + e.className(i), val: a, bar: true})
		if dst == nil {
			continue
		}
		fill(dst, bar, colBG)
		if !math.IsNaN(float64(a)) {
			fill(dst, image.Rect(bar.Min.X, bar.Min.Y, bar.Min.X+int(float64(a)*float64(bar.Dx())+0.5), bar.Max.Y), colAccent)
		}
		u.fSmall.text(dst, clip, r.Max.X-40, y+h/2+4, lbl, colText)
	}
}

// cellImages paints the test images of the cell asked for into r: click
// one to inspect it.
func (u *UI) cellImages(dst *image.RGBA, clip, r image.Rectangle, e *Evaluation) {
	if e.CellImages == nil && e.CellTotal == 0 {
		u.fSmall.text(dst, clip, r.Min.X, r.Min.Y+12, "click a cell to see its test images; click an image to inspect it", colFaint)
		return
	}
	t, f := e.className(e.Cell[0]), e.className(e.Cell[1])
	head := fmt.Sprintf("true %s, predicted %s: %s", t, f, plural(e.CellTotal, "image"))
	if len(e.CellImages) < e.CellTotal {
		head += fmt.Sprintf(", the first %d", len(e.CellImages))
	}
	u.fSmall.text(dst, clip, r.Min.X, r.Min.Y+12, head+" (click one to inspect it)", colDim)
	const s = 2 // 64×64
	side := 32*s + tileGap
	per := max(1, r.Dx()/side)
	for k := range e.CellImages {
		m := &e.CellImages[k]
		x, y := r.Min.X+(k%per)*side, r.Min.Y+20+(k/per)*side
		tr := image.Rect(x, y, x+32*s, y+32*s)
		if tr.Max.Y > r.Max.Y {
			break
		}
		idx := e.CellIndex[k]
		u.add(region{r: tr, kind: kindTile, key: "cellimg", indexed: true, idx: k, of: len(e.CellImages), m: m,
			label: "test images of the cell", noun: "image", sub: m.Title,
			act: func() []Intent { return []Intent{{Kind: InspectTestImage, Image: idx}} }})
		if dst == nil {
			continue
		}
		drawMap(dst, x, y, s, m, false, 0)
		col := colTileLine
		if u.hover == (rid{"cellimg", k}) {
			col = colHover
		}
		stroke(dst, tr.Inset(-1), col)
	}
}

func (e *Evaluation) className(i int) string {
	if i < len(e.Classes) {
		return e.Classes[i]
	}
	return fmt.Sprint(i)
}

// blend is a at share 0 and b at share 1.
func blend(a, b color.RGBA, share float64) color.RGBA {
	mix := func(x, y uint8) uint8 { return uint8(float64(x)*(1-share) + float64(y)*share + 0.5) }
	return color.RGBA{mix(a.R, b.R), mix(a.G, b.G), mix(a.B, b.B), 0xff}
}

// plural writes n and the noun, with an s when n is not 1.
func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return Thousands(n) + " " + noun + "s"
}

// Thousands writes n with commas: 10,000.
func Thousands(n int) string {
	s := fmt.Sprint(n)
	if n < 0 {
		return "-" + Thousands(-n)
	}
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}
