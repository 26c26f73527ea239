package viz

import (
	"fmt"
	"image"
	"math"
)

// gridFit is how a panel's maps are tiled: each value as an s×s square,
// cols×rows tiles per page, per maps on a page.
type gridFit struct{ s, cols, rows, per int }

// fitGrid tiles n maps of mh×mw into box: the largest scale that shows
// them all with tiles of minTile to maxTile pixels; when none does, the
// largest that shows minPer of them on a page (the rest behind a pager).
func fitGrid(n, mh, mw int, box image.Rectangle, minTile, maxTile, minPer int) gridFit {
	if n == 0 || mh <= 0 || mw <= 0 {
		return gridFit{}
	}
	var best gridFit
	smin := max(1, (minTile+max(mh, mw)-1)/max(mh, mw))
	for s := max(1, maxTile/max(mh, mw)); s >= 1; s-- {
		cols := (box.Dx() + tileGap) / (mw*s + tileGap)
		rows := (box.Dy() + tileGap) / (mh*s + tileGap)
		if cols < 1 || rows < 1 {
			continue
		}
		if cols*rows >= n && s >= smin {
			rows = (n + cols - 1) / cols
			return gridFit{s, cols, rows, n}
		}
		if best.s == 0 && cols*rows >= min(minPer, n) && s >= smin {
			best = gridFit{s, cols, rows, cols * rows}
		}
		if best.s == 0 && s == smin {
			best = gridFit{s, cols, rows, cols * rows}
		}
	}
	if best.s == 0 { // not even one tile at scale 1: draw one, clipped
		best = gridFit{1, 1, 1, 1}
	}
	return best
}

func maxDims(maps []Map) (h, w int) {
	for _, m := range maps {
		h, w = max(h, m.H), max(w, m.W)
	}
	return h, w
}

// tile paints one map in a cell with its border and records it for the
// pointer.
func (u *UI) tile(dst *image.RGBA, x, y, s int, m *Map, key, label string, stretch bool, pager string) {
	r := image.Rect(x, y, x+m.W*s, y+m.H*s)
	u.add(region{r: r, kind: kindTile, key: key, m: m, label: label, pager: pager})
	if dst == nil {
		return
	}
	drawMap(dst, x, y, s, m, stretch)
	if key == u.hover {
		stroke(dst, r.Inset(-2), colHover)
		stroke(dst, r.Inset(-1), colHover)
	} else {
		stroke(dst, r.Inset(-1), colTileLine)
	}
}

// mapPanel paints a panel of maps, paged when they do not all fit.
func (u *UI) mapPanel(dst *image.RGBA, r image.Rectangle, name string, p *Panel, stretch bool) {
	minTile := 16 // a feature map smaller than this is hard to read
	if stretch {
		minTile = 12 // conv1's filters: a few pixels of colour each
	}
	title := p.Title
	if title == "" {
		title = name
	}
	mh, mw := maxDims(p.Maps)
	note := fmt.Sprintf("%d × %d×%d", len(p.Maps), mh, mw)
	if len(p.Maps) == 0 {
		note = "no maps"
	}
	if p.Note != "" {
		note += " · " + p.Note
	}
	content := image.Rect(r.Min.X+8+1, r.Min.Y+titleH+1, r.Max.X-8, r.Max.Y-6)
	fit := fitGrid(len(p.Maps), mh, mw, content, minTile, 128, 8)
	paged := fit.per < len(p.Maps)
	reserve, pager := 0, ""
	if paged {
		reserve, pager = u.pagerWidth(len(p.Maps)), "panel:"+name
	}
	u.panel(dst, r, name, title, note, reserve, pager)
	if fit.s == 0 {
		return
	}
	first := 0
	if paged {
		first = u.pager(dst, r.Max.X-6, r.Min.Y, pager, fit.per, len(p.Maps))
	}
	for k := 0; k < fit.per && first+k < len(p.Maps); k++ {
		i := first + k
		x := content.Min.X + (k%fit.cols)*(mw*fit.s+tileGap)
		y := content.Min.Y + (k/fit.cols)*(mh*fit.s+tileGap)
		u.tile(dst, x, y, fit.s, &p.Maps[i], fmt.Sprintf("tile:%s:%d", name, i), mapLabel(title, &p.Maps[i], i, len(p.Maps)), stretch, pager)
	}
}

func mapLabel(panel string, m *Map, i, n int) string {
	l := fmt.Sprintf("%s · map %d of %d", panel, i+1, n)
	if m.Title != "" {
		l += " (" + m.Title + ")"
	}
	return l
}

// lenet lays out a network without residual blocks (LeNet5): the panels
// two by two, conv1's filters beside the first two, and the fully
// connected layers below.
func (u *UI) lenet(dst *image.RGBA, area image.Rectangle) {
	s := u.snap
	fcH := 0
	if len(s.FC) > 0 {
		fcH = 190
	}
	nrows := (len(s.Panels) + 1) / 2
	// Rows of large maps get twice the height of rows of small ones.
	weights, total := make([]int, nrows), 0
	for i := range weights {
		weights[i] = 1
		for _, p := range s.Panels[2*i : min(2*i+2, len(s.Panels))] {
			if h, _ := maxDims(p.Maps); h >= 20 {
				weights[i] = 2
			}
		}
		total += weights[i]
	}
	avail := area.Dy() - fcH - 6*nrows
	if fcH == 0 {
		avail += 6
	}
	y := area.Min.Y
	for i := range nrows {
		h := avail * weights[i] / total
		row := image.Rect(area.Min.X, y, area.Max.X, y+h)
		x1 := row.Max.X
		if i == 0 && len(s.Filters.Maps) > 0 {
			fw := 230
			if len(s.Filters.Maps) > 16 {
				fw = 330
			}
			u.filters(dst, image.Rect(x1-fw, row.Min.Y, x1, row.Max.Y))
			x1 -= fw + 6
		}
		ps := s.Panels[2*i : min(2*i+2, len(s.Panels))]
		w := (x1 - row.Min.X - 6*(len(ps)-1)) / len(ps)
		for k := range ps {
			x := row.Min.X + k*(w+6)
			u.mapPanel(dst, image.Rect(x, row.Min.Y, x+w, row.Max.Y), panelName(&ps[k], 2*i+k), &ps[k], false)
		}
		y += h + 6
	}
	if fcH > 0 {
		u.fcPanel(dst, image.Rect(area.Min.X, area.Max.Y-fcH, area.Max.X, area.Max.Y))
	}
}

func panelName(p *Panel, i int) string {
	if p.Title != "" {
		return p.Title
	}
	return fmt.Sprintf("panel%d", i)
}

// filters: conv1's filters as RGB tiles, each stretched to its own range.
func (u *UI) filters(dst *image.RGBA, r image.Rectangle) {
	f := u.snap.Filters // a copy: its Maps are still the snapshot's
	if f.Title == "" {
		f.Title = "conv1 filters"
	}
	if f.Note == "" {
		f.Note = "RGB, stretched per tile"
	}
	u.mapPanel(dst, r, "filters", &f, true)
}

// fcPanel: the fully connected layers' activations as bar charts.
func (u *UI) fcPanel(dst *image.RGBA, r image.Rectangle) {
	s := u.snap
	c := u.panel(dst, r, "fc", "Fully connected", "activations, each layer scaled by its own largest |value|", 0, "")
	// Widths in proportion to the number of bars, at least 140 pixels.
	weight := func(b *Bars) int {
		if len(b.Labels) == len(b.Values) && len(b.Values) <= 16 {
			return 60 // labelled horizontal bars need room for the labels
		}
		return max(len(b.Values), 30)
	}
	total := 0
	for i := range s.FC {
		total += weight(&s.FC[i])
	}
	x := c.Min.X
	avail := c.Dx() - 12*(len(s.FC)-1)
	for i := range s.FC {
		w := avail * weight(&s.FC[i]) / total
		u.bars(dst, image.Rect(x, c.Min.Y, x+w, c.Max.Y), &s.FC[i], i)
		x += w + 12
	}
}

// bars draws one bar chart: vertical bars around a zero line, or, for a
// few labelled values (the logits), horizontal bars with their labels.
func (u *UI) bars(dst *image.RGBA, r image.Rectangle, b *Bars, idx int) {
	var m float32
	for _, v := range b.Values {
		if v == v {
			m = max(m, float32(math.Abs(float64(v))))
		}
	}
	title := b.Title
	if title == "" {
		title = fmt.Sprintf("fc%d", idx+1)
	}
	hdr := fmt.Sprintf("%s · %d", title, len(b.Values))
	x := u.fText.text(dst, r, r.Min.X, r.Min.Y+12, hdr, colText)
	u.fSmall.text(dst, r, x+8, r.Min.Y+12, u.fSmall.fit("max|v| "+num(m), r.Max.X-x-8), colDim)
	if m == 0 {
		m = 1
	}
	pos, neg := colormap[215], colormap[40]
	plotR := image.Rect(r.Min.X, r.Min.Y+20, r.Max.X, r.Max.Y)
	fill(dst, plotR, colBG)
	n := len(b.Values)
	if n == 0 {
		return
	}
	key := func(i int) string { return fmt.Sprintf("bar:%d:%d", idx, i) }
	label := func(i int) string {
		l := fmt.Sprintf("%s[%d] = %s", title, i, num(b.Values[i]))
		if i < len(b.Labels) && b.Labels[i] != "" {
			l = fmt.Sprintf("%s[%s] = %s", title, b.Labels[i], num(b.Values[i]))
		}
		return l
	}
	if len(b.Labels) == n && n <= 16 {
		lw := 0
		for _, l := range b.Labels {
			lw = max(lw, u.fSmall.width(l))
		}
		rowH := max(min(plotR.Dy()/n, 20), 8)
		zero := plotR.Min.X + lw + 8 + (plotR.Dx()-lw-8)/2
		half := float64(plotR.Max.X-zero-40) / float64(m)
		fill(dst, image.Rect(zero, plotR.Min.Y, zero+1, plotR.Min.Y+n*rowH), colFaint)
		for i, v := range b.Values {
			y := plotR.Min.Y + i*rowH
			rr := image.Rect(plotR.Min.X, y, plotR.Max.X, y+rowH)
			u.add(region{r: rr, kind: kindInfo, key: key(i), label: label(i)})
			u.fSmall.text(dst, rr, plotR.Min.X+4, y+rowH/2+4, b.Labels[i], colDim)
			l := int(float64(v) * half)
			bar := image.Rect(zero, y+2, zero+l, y+rowH-2).Canon()
			col := pos
			if v < 0 {
				col = neg
			}
			if key(i) == u.hover {
				col = colHover
			}
			fill(dst, bar, col)
			t := num(v)
			tx := zero + l + 4
			if v < 0 {
				tx = zero + 4
			}
			u.fSmall.text(dst, rr, tx, y+rowH/2+4, t, colDim)
		}
		return
	}
	zero := plotR.Min.Y + plotR.Dy()/2
	neg0 := false
	for _, v := range b.Values {
		neg0 = neg0 || v < 0
	}
	if !neg0 {
		zero = plotR.Max.Y - 1
	}
	fill(dst, image.Rect(plotR.Min.X, zero, plotR.Max.X, zero+1), colFaint)
	bw := float64(plotR.Dx()) / float64(n)
	gap := 0
	if bw >= 3 {
		gap = 1
	}
	for i, v := range b.Values {
		x0, x1 := plotR.Min.X+int(float64(i)*bw), plotR.Min.X+int(float64(i+1)*bw)
		u.add(region{r: image.Rect(x0, plotR.Min.Y, x1, plotR.Max.Y), kind: kindInfo, key: key(i), label: label(i)})
		if dst == nil || v != v {
			continue
		}
		room := float64(zero - plotR.Min.Y - 2)
		h := int(float64(v) / float64(m) * room)
		bar := image.Rect(x0, zero, x1-gap, zero-h).Canon()
		if h == 0 {
			continue
		}
		col := pos
		if v < 0 {
			col = neg
		}
		if key(i) == u.hover {
			col = colHover
		}
		fill(dst, bar, col)
	}
}

// resnet lays out a residual network: the stem's maps and conv1's filters
// on top, then one row per block with its main path, shortcut and sum side
// by side, channel for channel, each block with its own pager.
func (u *UI) resnet(dst *image.RGBA, area image.Rectangle) {
	s := u.snap
	// The top row is as tall as the stem's maps need, at most 142.
	topH := 142
	if len(s.Panels) > 0 {
		w := (area.Dx() - 346 - 6*(len(s.Panels)-1)) / len(s.Panels)
		mh, mw := maxDims(s.Panels[0].Maps)
		fit := fitGrid(len(s.Panels[0].Maps), mh, mw, image.Rect(0, 0, w-17, topH-titleH-7), 16, 128, 8)
		if fit.s > 0 {
			topH = min(topH, titleH+fit.rows*(mh*fit.s+tileGap)+8)
		}
	}
	x1 := area.Max.X
	if len(s.Filters.Maps) > 0 {
		u.filters(dst, image.Rect(x1-340, area.Min.Y, x1, area.Min.Y+topH))
		x1 -= 346
	}
	if n := len(s.Panels); n > 0 {
		w := (x1 - area.Min.X - 6*(n-1)) / n
		for k := range s.Panels {
			x := area.Min.X + k*(w+6)
			u.mapPanel(dst, image.Rect(x, area.Min.Y, x+w, area.Min.Y+topH), panelName(&s.Panels[k], k), &s.Panels[k], false)
		}
	}
	u.blocks(dst, image.Rect(area.Min.X, area.Min.Y+topH+6, area.Max.X, area.Max.Y))
}

// The block rows' geometry.
const (
	blockLabelW = 150 // the left column: the block's name, shortcut kind, pager
	blockGroupG = 12  // between main, shortcut and sum
	blockRowPad = 10  // a row's height beyond its tiles
	blockMinRow = 42  // the label column's three lines
)

func (u *UI) blocks(dst *image.RGBA, r image.Rectangle) {
	s := u.snap
	c := u.panel(dst, r, "blocks", "Residual blocks", "per block: the main path, the shortcut and their sum, channel by channel", 0, "")
	groupW := (c.Dx() - blockLabelW - 2*blockGroupG) / 3
	gx := func(g int) int { return c.Min.X + blockLabelW + g*(groupW+blockGroupG) }

	// Column headings, from the first block's panels.
	names := [3]string{"main path (bn2)", "shortcut", "sum = main + shortcut"}
	notes := [3]string{}
	b0 := &s.Blocks[0]
	for g, p := range []*Panel{&b0.Main, &b0.Shortcut, &b0.Sum} {
		if p.Title != "" {
			names[g] = p.Title
		}
		notes[g] = p.Note
	}
	for g := range 3 {
		x := u.fText.text(dst, c, gx(g), c.Min.Y+12, u.fText.fit(names[g], groupW), colText)
		if notes[g] != "" && gx(g)+groupW-x-8 > 30 {
			u.fSmall.text(dst, c, x+8, c.Min.Y+12, u.fSmall.fit(notes[g], gx(g)+groupW-x-8), colDim)
		}
	}

	// Tile sizes: start every row at scale 1, then grow the smallest tiles
	// while the rows fit.
	rows := c.Min.Y + 20
	budget := c.Max.Y - rows
	n := len(s.Blocks)
	hs, ws, scale := make([]int, n), make([]int, n), make([]int, n)
	for i := range s.Blocks {
		b := &s.Blocks[i]
		h1, w1 := maxDims(b.Main.Maps)
		h2, w2 := maxDims(b.Shortcut.Maps)
		h3, w3 := maxDims(b.Sum.Maps)
		hs[i], ws[i], scale[i] = max(h1, h2, h3, 1), max(w1, w2, w3, 1), 1
	}
	height := func(i, s int) int { return max(hs[i]*s, blockMinRow) + blockRowPad }
	used := 0
	for i := range n {
		used += height(i, scale[i])
	}
	maxTile := min(72, groupW/3-tileGap)
	for {
		best := -1
		for i := range n {
			grow := height(i, scale[i]+1) - height(i, scale[i])
			if hs[i]*(scale[i]+1) > maxTile || ws[i]*(scale[i]+1) > maxTile || used+grow > budget {
				continue
			}
			if best < 0 || hs[i]*scale[i] < hs[best]*scale[best] {
				best = i
			}
		}
		if best < 0 {
			break
		}
		used += height(best, scale[best]+1) - height(best, scale[best])
		scale[best]++
	}

	y := rows
	for i := range s.Blocks {
		h := height(i, scale[i])
		u.blockRow(dst, image.Rect(c.Min.X, y, c.Max.X, y+h), i, scale[i], ws[i], hs[i], groupW, gx)
		y += h
		if y > c.Max.Y {
			break
		}
	}
}

func (u *UI) blockRow(dst *image.RGBA, r image.Rectangle, i, sc, mw, mh, groupW int, gx func(int) int) {
	b := &u.snap.Blocks[i]
	fill(dst, image.Rect(r.Min.X, r.Min.Y, r.Max.X, r.Min.Y+1), colPanelLine)
	title := b.Title
	if title == "" {
		title = fmt.Sprintf("block %d", i+1)
	}
	short := "identity shortcut"
	if b.Projection {
		short = "1×1 projection"
	}
	u.fTitle.text(dst, r, r.Min.X, r.Min.Y+15, u.fTitle.fit(title, blockLabelW-6), colText)
	total := max(len(b.Main.Maps), len(b.Shortcut.Maps), len(b.Sum.Maps))
	u.fSmall.text(dst, r, r.Min.X, r.Min.Y+28, u.fSmall.fit(fmt.Sprintf("%s · %d×%d", short, mh, mw), blockLabelW-6), colDim)
	per := max((groupW+tileGap)/(mw*sc+tileGap), 1)
	key := fmt.Sprintf("blk:%d", i)
	first := 0
	if total > per {
		// The pager sits in the label column, under the name.
		first = u.pager(dst, r.Min.X+blockLabelW-8, r.Min.Y+28, key, per, total)
	} else {
		u.fSmall.text(dst, r, r.Min.X, r.Min.Y+44, fmt.Sprintf("%d channels", total), colDim)
	}
	u.add(region{r: r, kind: kindPanel, key: "panel:" + key, name: key, pager: key})
	groups := []struct {
		p    *Panel
		name string
	}{{&b.Main, "main"}, {&b.Shortcut, "shortcut"}, {&b.Sum, "sum"}}
	for g, gr := range groups {
		for k := 0; k < per && first+k < len(gr.p.Maps); k++ {
			c := first + k
			m := &gr.p.Maps[c]
			x := gx(g) + 1 + k*(mw*sc+tileGap)
			lbl := fmt.Sprintf("%s · %s · channel %d of %d", title, gr.name, c+1, len(gr.p.Maps))
			if m.Title != "" {
				lbl += " (" + m.Title + ")"
			}
			u.tile(dst, x, r.Min.Y+blockRowPad/2+1, sc, m, fmt.Sprintf("tile:%s:%s:%d", key, gr.name, c), lbl, false, key)
		}
	}
}
