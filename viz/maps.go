package viz

import (
	"fmt"
	"image"
	"math"
	"strconv"
	"strings"
)

// gridFit is how a panel's maps are tiled: each value as an s×s square,
// cols×rows tiles per page, per maps on a page.
type gridFit struct{ s, cols, rows, per int }

// tileSizes are the largest and the preferred smallest tile for maps of
// d×d values: large maps up to 96 pixels, tiny ones (a 1×1 map is one
// colour) small enough that many channels fit; filters may go smaller.
func tileSizes(d int, filter bool) (maxTile, prefTile int) {
	maxTile = min(max(12*d, 24), 96)
	prefTile = min(max(8*d, 16), 32)
	if filter {
		prefTile = 12
	}
	return maxTile, prefTile
}

// fitGrid tiles n maps of mh×mw into box: the largest scale that shows
// them all with tiles of at least prefTile and at most maxTile pixels;
// when none does, as many as fit at prefTile on a page (the rest behind a
// pager), or smaller tiles if not even one fits.
func fitGrid(n, mh, mw int, box image.Rectangle, maxTile, prefTile int) gridFit {
	if n == 0 || mh <= 0 || mw <= 0 {
		return gridFit{}
	}
	d := max(mh, mw)
	grid := func(s int) (int, int) {
		return (box.Dx() + tileGap) / (mw*s + tileGap), (box.Dy() + tileGap) / (mh*s + tileGap)
	}
	smax := max(1, maxTile/d)
	spref := min(max(1, (prefTile+d-1)/d), smax)
	for s := smax; s >= spref; s-- {
		if cols, rows := grid(s); cols >= 1 && rows >= 1 && cols*rows >= n {
			return gridFit{s, cols, (n + cols - 1) / cols, n}
		}
	}
	for s := spref; s >= 1; s-- {
		if cols, rows := grid(s); cols >= 1 && rows >= 1 {
			return gridFit{s, cols, rows, min(cols*rows, n)}
		}
	}
	return gridFit{1, 1, 1, 1} // not even one tile: draw one, clipped
}

func maxDims(maps []Map) (h, w int) {
	for _, m := range maps {
		h, w = max(h, m.H), max(w, m.W)
	}
	return h, w
}

// tile paints one map in a cell with its border and records it for the
// pointer.
// t has the region's key, index and description; tile adds the rest.
func (u *UI) tile(dst *image.RGBA, x, y, s int, m *Map, t region, stretch bool, shared float32, pager string) {
	r := image.Rect(x, y, x+m.W*s, y+m.H*s)
	t.r, t.kind, t.m, t.shared, t.pager, t.indexed = r, kindTile, m, shared, pager, true
	u.add(t)
	if !visible(dst, r.Inset(-2)) {
		return
	}
	drawMap(dst, x, y, s, m, stretch, shared)
	if t.id() == u.hover {
		stroke(dst, r.Inset(-2), colHover)
		stroke(dst, r.Inset(-1), colHover)
	} else {
		stroke(dst, r.Inset(-1), colTileLine)
	}
}

// mapPanel paints a panel of maps, paged when they do not all fit.
func (u *UI) mapPanel(dst *image.RGBA, r image.Rectangle, name string, p *Panel, stretch bool) {

	title := p.Title
	if title == "" {
		title = name
	}
	mh, mw := maxDims(p.Maps)
	note := fmt.Sprintf("%d × %d×%d", len(p.Maps), mh, mw)
	if strings.Contains(p.Note, fmt.Sprintf("%d×%d", mh, mw)) {
		note = fmt.Sprintf("%d maps", len(p.Maps)) // the note has the shape
	}
	if len(p.Maps) == 0 {
		note = "no maps"
	}
	if p.Note != "" {
		note += " · " + p.Note
	}
	content := image.Rect(r.Min.X+8+1, r.Min.Y+titleH+1, r.Max.X-8, r.Max.Y-6)
	maxTile, prefTile := tileSizes(max(mh, mw), stretch)
	fit := fitGrid(len(p.Maps), mh, mw, content, maxTile, prefTile)
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
	var shared float32
	if !stretch && mh*mw < minOwnScale {
		shared = sharedScale(p.Maps)
	}
	key := "tile:" + name
	for k := 0; k < fit.per && first+k < len(p.Maps); k++ {
		i := first + k
		x := content.Min.X + (k%fit.cols)*(mw*fit.s+tileGap)
		y := content.Min.Y + (k/fit.cols)*(mh*fit.s+tileGap)
		t := region{key: key, idx: i, of: len(p.Maps), label: title, noun: "map"}
		if m := &p.Maps[i]; m.Title != strconv.Itoa(i) && m.Title != strconv.Itoa(i+1) {
			t.sub = m.Title // a title other than its number
		}
		u.tile(dst, x, y, fit.s, &p.Maps[i], t, stretch, shared, pager)
	}
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
		u.bars(dst, image.Rect(x, c.Min.Y, x+w, c.Max.Y), &s.FC[i], i, true)
		x += w + 12
	}
}

// bars draws one bar chart: vertical bars around a zero line, or, for a
// few labelled values (the logits), horizontal bars with their labels.
func (u *UI) bars(dst *image.RGBA, r image.Rectangle, b *Bars, idx int, header bool) {
	m := maxAbs(b.Values)
	title := b.Title
	if title == "" {
		title = fmt.Sprintf("fc%d", idx+1)
	}
	if header {
		hdr := u.fText.fit(fmt.Sprintf("%s · %d", title, len(b.Values)), r.Dx()-70)
		x := u.fText.text(dst, r, r.Min.X, r.Min.Y+12, hdr, colText)
		u.fSmall.text(dst, r, x+8, r.Min.Y+12, u.fSmall.fit("max|v| "+num(m), r.Max.X-x-8), colDim)
	}
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
	key := fmt.Sprintf("bar:%d", idx)
	info := func(r image.Rectangle, i int) region {
		t := region{r: r, kind: kindInfo, key: key, indexed: true, idx: i, of: n, label: title, val: b.Values[i], bar: true}
		if i < len(b.Labels) {
			t.sub = b.Labels[i]
		}
		return t
	}
	hovered := func(i int) bool { return u.hover == rid{key, i} }
	if len(b.Labels) == n && n <= 16 {
		lw := 0
		for _, l := range b.Labels {
			lw = max(lw, u.fSmall.width(l))
		}
		rowH := max(min(plotR.Dy()/n, 20), 12)
		zero := plotR.Min.X + lw + 8 + (plotR.Dx()-lw-8)/2
		half := float64(plotR.Max.X-zero-40) / float64(m)
		fill(dst, image.Rect(zero, plotR.Min.Y, zero+1, plotR.Min.Y+n*rowH), colFaint)
		for i, v := range b.Values {
			y := plotR.Min.Y + i*rowH
			rr := image.Rect(plotR.Min.X, y, plotR.Max.X, y+rowH)
			u.add(info(rr, i))
			u.fSmall.text(dst, rr, plotR.Min.X+4, y+rowH/2+4, b.Labels[i], colDim)
			l := int(float64(v) * half)
			bar := image.Rect(zero, y+2, zero+l, y+rowH-2).Canon()
			col := pos
			if v < 0 {
				col = neg
			}
			if hovered(i) {
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
		u.add(info(image.Rect(x0, plotR.Min.Y, x1, plotR.Max.Y), i))
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
		if hovered(i) {
			col = colHover
		}
		fill(dst, bar, col)
	}
}

// resnet lays out a residual network: the stem's maps, conv1's filters
// and the logits on top, then one row per block with its main path,
// shortcut and sum side by side, channel for channel, each block with its
// own pager.
func (u *UI) resnet(dst *image.RGBA, area image.Rectangle) {
	s := u.snap
	topH := 176
	if len(s.Blocks) > 4 {
		topH = 142
	}
	top := image.Rect(area.Min.X, area.Min.Y, area.Max.X, area.Min.Y+topH)
	x1 := top.Max.X
	if len(s.FC) > 0 {
		b := &s.FC[len(s.FC)-1] // the logits
		r := image.Rect(x1-250, top.Min.Y, x1, top.Max.Y)
		c := u.panel(dst, r, "fc", b.Title, fmt.Sprintf("max|v| %s", num(maxAbs(b.Values))), 0, "")
		u.bars(dst, image.Rect(c.Min.X, c.Min.Y-20, c.Max.X, c.Max.Y), b, len(s.FC)-1, false)
		x1 -= 256
	}
	if len(s.Filters.Maps) > 0 {
		u.filters(dst, image.Rect(x1-300, top.Min.Y, x1, top.Max.Y))
		x1 -= 306
	}
	if n := len(s.Panels); n > 0 {
		w := (x1 - top.Min.X - 6*(n-1)) / n
		for k := range s.Panels {
			x := top.Min.X + k*(w+6)
			u.mapPanel(dst, image.Rect(x, top.Min.Y, x+w, top.Max.Y), panelName(&s.Panels[k], k), &s.Panels[k], false)
		}
	}
	u.blocks(dst, image.Rect(area.Min.X, top.Max.Y+6, area.Max.X, area.Max.Y))
}

// The block rows' geometry.
const (
	blockRows   = 4   // rows shown at once; more blocks (He et al.'s nets have 9 to 27) page
	blockLabelW = 156 // the left column: the block's name, shortcut kind, pager
	blockGroupG = 12  // between main, shortcut and sum
	blockRowPad = 8   // a row's height beyond its tiles
)

func (u *UI) blocks(dst *image.RGBA, r image.Rectangle) {
	s := u.snap
	reserve, pager := 0, ""
	if len(s.Blocks) > blockRows {
		reserve, pager = u.pagerWidth(len(s.Blocks)), "blocks"
	}
	title, note := "Residual blocks", "per block: the main path, the shortcut and their sum, channel by channel"
	if s.Blocks[0].Shortcut.Maps == nil && s.Blocks[0].Sum.Title == "output" {
		title, note = "Plain blocks", "per block: the main path and the block's output, channel by channel: no shortcut"
	}
	c := u.panel(dst, r, "blocks", title, note, reserve, pager)
	first, shown := 0, len(s.Blocks)
	if pager != "" {
		first = u.pager(dst, r.Max.X-6, r.Min.Y, pager, blockRows, len(s.Blocks))
		shown = min(blockRows, len(s.Blocks)-first)
	}
	groups := BlockGroups(c)
	groupW := groups[0].Dx()
	gx := func(g int) int { return groups[g].Min.X }

	// Column headings, from the blocks' panels; a note only when every
	// block has the same (the shortcuts' differ: identity or projection).
	names := [3]string{"main path", "shortcut", "sum"}
	for g := range 3 {
		p0 := blockPanel(&s.Blocks[0], g)
		if p0.Title != "" {
			names[g] = p0.Title
		}
		if g == 1 && p0.Maps == nil {
			names[g] = "no shortcut"
		}
		note := p0.Note
		for i := range s.Blocks {
			if blockPanel(&s.Blocks[i], g).Note != note {
				note = ""
			}
		}
		x := u.fTitle.text(dst, c, gx(g), c.Min.Y+12, u.fTitle.fit(names[g], groupW), colText)
		if note != "" && gx(g)+groupW-x-8 > 30 {
			u.fSmall.text(dst, c, x+8, c.Min.Y+12, u.fSmall.fit(note, gx(g)+groupW-x-8), colDim)
		}
	}

	y0 := c.Min.Y + 20
	n := max(shown, min(len(s.Blocks), blockRows)) // the last page's rows keep their height
	for k := range shown {
		ra := y0 + k*(c.Max.Y-y0)/n
		rb := y0 + (k+1)*(c.Max.Y-y0)/n
		u.blockRow(dst, image.Rect(c.Min.X, ra, c.Max.X, rb), first+k, names, groupW, gx)
	}
}

// blockPanel returns a block's main path (0), shortcut (1) or sum (2).
func blockPanel(b *Block, g int) *Panel {
	switch g {
	case 0:
		return &b.Main
	case 1:
		return &b.Shortcut
	}
	return &b.Sum
}

func (u *UI) blockRow(dst *image.RGBA, r image.Rectangle, i int, names [3]string, groupW int, gx func(int) int) {
	b := &u.snap.Blocks[i]
	key := fmt.Sprintf("blk:%d", i)
	u.add(region{r: r, kind: kindPanel, key: "panel:" + key, name: key, pager: key})
	fill(dst, image.Rect(r.Min.X, r.Min.Y, r.Max.X, r.Min.Y+1), colPanelLine)

	// The grid, the same for the three groups so that they show the same
	// channels side by side.
	var mh, mw, total int
	for g := range 3 {
		h, w := maxDims(blockPanel(b, g).Maps)
		mh, mw, total = max(mh, h), max(mw, w), max(total, len(blockPanel(b, g).Maps))
	}
	box := image.Rect(0, 0, groupW, r.Dy()-blockRowPad)
	maxTile, prefTile := tileSizes(max(mh, mw), false)
	fit := fitGrid(total, mh, mw, box, maxTile, prefTile)

	// The label column: the name, what it is (the part of the title in
	// parentheses goes on its own line), the shortcut's kind, the pager.
	name, detail, _ := strings.Cut(b.Title, " (")
	detail = strings.TrimSuffix(detail, ")")
	if name == "" {
		name = fmt.Sprintf("block %d", i+1)
	}
	short := "identity shortcut"
	switch {
	case b.Shortcut.Maps == nil:
		short = "no shortcut"
	case b.Projection:
		short = "1×1 projection shortcut"
	}
	lines := []string{detail, short, fmt.Sprintf("%d channels of %d×%d", total, mh, mw)}
	if detail == "" {
		lines = lines[1:]
	}
	room := (r.Dy() - 22 - 28) / 14 // lines between the name and the pager
	if fit.per >= total {
		room = (r.Dy() - 22) / 14
	}
	u.fTitle.text(dst, r, r.Min.X, r.Min.Y+17, u.fTitle.fit(name, blockLabelW-8), colText)
	for k, l := range lines[:max(min(room, len(lines)), 0)] {
		u.fSmall.text(dst, r, r.Min.X, r.Min.Y+32+14*k, u.fSmall.fit(l, blockLabelW-8), colDim)
	}
	first := 0
	if fit.per < total {
		first = u.pager(dst, r.Min.X+blockLabelW-8, r.Max.Y-titleH-2, key, fit.per, total)
	}
	if fit.s == 0 {
		return
	}
	for g := range 3 {
		p := blockPanel(b, g)
		tkey, label := fmt.Sprintf("tile:%s:%s", key, groupKey[g]), name+" · "+names[g]
		var shared float32
		if mh*mw < minOwnScale {
			shared = sharedScale(p.Maps)
		}
		for k := 0; k < fit.per && first+k < len(p.Maps); k++ {
			ch := first + k
			m := &p.Maps[ch]
			x := gx(g) + 1 + (k%fit.cols)*(mw*fit.s+tileGap)
			y := r.Min.Y + blockRowPad/2 + 1 + (k/fit.cols)*(mh*fit.s+tileGap)
			t := region{key: tkey, idx: ch, of: len(p.Maps), label: label, noun: "channel"}
			u.tile(dst, x, y, fit.s, m, t, false, shared, key)
		}
	}
}

var groupKey = [3]string{"main", "shortcut", "sum"}

// maxAbs is the largest finite |v|.
func maxAbs(vs []float32) float32 {
	var m float32
	for _, v := range vs {
		if v-v == 0 {
			m = max(m, float32(math.Abs(float64(v))))
		}
	}
	return m
}

// minOwnScale is the fewest values a map needs for a colour scale of its
// own: below it (2×2, 1×1) its largest value would always be the scale's
// end, so such maps share their panel's scale.
const minOwnScale = 9

// sharedScale is the largest finite |v| of all the maps.
func sharedScale(maps []Map) float32 {
	var m float32
	for i := range maps {
		m = max(m, maxAbs(maps[i].Data))
	}
	return m
}
