package viz

import (
	"encoding/binary"
	"image"
	"image/color"
	"math"
)

// The palette: a dark theme, so that the colour scale's dark zero reads as
// "nothing here" and activations stand out.
var (
	colBG        = color.RGBA{0x12, 0x14, 0x18, 0xff}
	colPanel     = color.RGBA{0x1c, 0x1f, 0x26, 0xff}
	colPanelLine = color.RGBA{0x2c, 0x31, 0x3b, 0xff}
	colTileLine  = color.RGBA{0x3a, 0x40, 0x4c, 0xff}
	colText      = color.RGBA{0xe6, 0xe8, 0xec, 0xff}
	colDim       = color.RGBA{0x9a, 0xa1, 0xad, 0xff}
	colFaint     = color.RGBA{0x5c, 0x63, 0x70, 0xff}
	colAccent    = color.RGBA{0x4c, 0xa3, 0xff, 0xff}
	colGood      = color.RGBA{0x4c, 0xc3, 0x70, 0xff}
	colWarn      = color.RGBA{0xf0, 0xb4, 0x3c, 0xff}
	colBad       = color.RGBA{0xf0, 0x55, 0x55, 0xff}
	colButton    = color.RGBA{0x2a, 0x2f, 0x39, 0xff}
	colButtonHi  = color.RGBA{0x38, 0x3f, 0x4c, 0xff}
	colActive    = color.RGBA{0x1f, 0x5f, 0xa8, 0xff}
	colHover     = color.RGBA{0xff, 0xff, 0xff, 0xff}
	colErrorBG   = color.RGBA{0x5a, 0x16, 0x1a, 0xff}
	colNoticeBG  = color.RGBA{0x4a, 0x3a, 0x10, 0xff}
	colTrain     = color.RGBA{0x4c, 0xa3, 0xff, 0xff}
	colTest      = color.RGBA{0xf0, 0x8c, 0x3c, 0xff}
	colNaN       = color.RGBA{0xff, 0x00, 0xff, 0xff}
)

// The colour scale of a feature map: diverging around a dark zero, blue
// for negative and red-to-yellow for positive values, both brightening
// with magnitude (after seaborn's "icefire"). A map v is drawn at
// colormap[(v/m+1)·127.5] where m is the map's own largest |v|.
var colormap = func() (lut [256]color.RGBA) {
	stops := []struct {
		t       float64
		r, g, b float64
	}{
		{0.000, 205, 242, 255},
		{0.125, 98, 186, 235},
		{0.250, 44, 118, 206},
		{0.375, 34, 56, 120},
		{0.500, 20, 20, 24},
		{0.625, 116, 30, 42},
		{0.750, 204, 54, 50},
		{0.875, 244, 138, 52},
		{1.000, 255, 238, 160},
	}
	for i := range lut {
		t := float64(i) / 255
		j := 1
		for j < len(stops)-1 && stops[j].t < t {
			j++
		}
		a, b := stops[j-1], stops[j]
		f := (t - a.t) / (b.t - a.t)
		lut[i] = color.RGBA{
			uint8(a.r + f*(b.r-a.r) + 0.5),
			uint8(a.g + f*(b.g-a.g) + 0.5),
			uint8(a.b + f*(b.b-a.b) + 0.5),
			255,
		}
	}
	return lut
}()

// colormap32 is colormap packed as the 4 bytes of an RGBA pixel.
var colormap32 = func() (lut [256]uint32) {
	for i, c := range colormap {
		lut[i] = pack(c)
	}
	return lut
}()

func pack(c color.RGBA) uint32 {
	return uint32(c.R) | uint32(c.G)<<8 | uint32(c.B)<<16 | 0xff<<24
}

// fill paints r with the opaque colour c.
func fill(dst *image.RGBA, r image.Rectangle, c color.RGBA) {
	if dst == nil {
		return
	}
	r = r.Intersect(dst.Rect)
	if r.Empty() {
		return
	}
	row := dst.Pix[dst.PixOffset(r.Min.X, r.Min.Y):dst.PixOffset(r.Max.X, r.Min.Y)]
	for i := 0; i < len(row); i += 4 {
		row[i], row[i+1], row[i+2], row[i+3] = c.R, c.G, c.B, 255
	}
	for y := r.Min.Y + 1; y < r.Max.Y; y++ {
		copy(dst.Pix[dst.PixOffset(r.Min.X, y):], row)
	}
}

// stroke draws r's 1-pixel border inside r.
func stroke(dst *image.RGBA, r image.Rectangle, c color.RGBA) {
	if r.Empty() {
		return
	}
	fill(dst, image.Rect(r.Min.X, r.Min.Y, r.Max.X, r.Min.Y+1), c)
	fill(dst, image.Rect(r.Min.X, r.Max.Y-1, r.Max.X, r.Max.Y), c)
	fill(dst, image.Rect(r.Min.X, r.Min.Y, r.Min.X+1, r.Max.Y), c)
	fill(dst, image.Rect(r.Max.X-1, r.Min.Y, r.Max.X, r.Max.Y), c)
}

// plot blends c into one pixel with coverage a (0…1).
func plot(dst *image.RGBA, clip image.Rectangle, x, y int, c color.RGBA, a float64) {
	if dst == nil || !(image.Point{x, y}).In(clip) || !(image.Point{x, y}).In(dst.Rect) || a <= 0 {
		return
	}
	if a > 1 {
		a = 1
	}
	i := dst.PixOffset(x, y)
	p := dst.Pix[i : i+4 : i+4]
	p[0] = uint8(float64(c.R)*a + float64(p[0])*(1-a) + 0.5)
	p[1] = uint8(float64(c.G)*a + float64(p[1])*(1-a) + 0.5)
	p[2] = uint8(float64(c.B)*a + float64(p[2])*(1-a) + 0.5)
	p[3] = 255
}

// line draws an antialiased line (Xiaolin Wu's) from (x0, y0) to (x1, y1).
func line(dst *image.RGBA, clip image.Rectangle, x0, y0, x1, y1 float64, c color.RGBA) {
	if dst == nil {
		return
	}
	steep := math.Abs(y1-y0) > math.Abs(x1-x0)
	if steep {
		x0, y0, x1, y1 = y0, x0, y1, x1
	}
	if x0 > x1 {
		x0, x1, y0, y1 = x1, x0, y1, y0
	}
	dx, dy := x1-x0, y1-y0
	grad := 1.0
	if dx > 1e-9 {
		grad = dy / dx
	}
	put := func(x, y int, a float64) {
		if steep {
			plot(dst, clip, y, x, c, a)
		} else {
			plot(dst, clip, x, y, c, a)
		}
	}
	xs, xe := int(math.Round(x0)), int(math.Round(x1))
	for x := xs; x <= xe; x++ {
		y := y0 + grad*(float64(x)-x0)
		fy := math.Floor(y)
		f := y - fy
		put(x, int(fy), 1-f)
		put(x, int(fy)+1, f)
	}
}

// mapStats returns the smallest and the largest finite value of m.
func mapStats(m *Map) (lo, hi float32, ok bool) {
	lo, hi = float32(math.Inf(1)), float32(math.Inf(-1))
	for _, v := range m.Data {
		if v-v != 0 { // NaN or ±Inf
			continue
		}
		lo, hi = min(lo, v), max(hi, v)
		ok = true
	}
	if !ok {
		return 0, 0, false
	}
	return lo, hi, true
}

// valid says whether m's data has the size its shape says.
func (m *Map) valid() bool {
	return m.C > 0 && m.H > 0 && m.W > 0 && len(m.Data) >= m.C*m.H*m.W
}

// drawMap paints m with its top-left corner at (x0, y0), each value as an
// s×s square (nearest neighbour: pixels stay crisp). A single-plane map
// goes through the colour scale, scaled by its own largest |v|, or by
// shared when that is positive; an RGB map is drawn as is (values in
// [0, 1]), or, with stretch, with its own minimum at black and its
// maximum at white (for conv1's filters, whose weights are signed).
func drawMap(dst *image.RGBA, x0, y0, s int, m *Map, stretch bool, shared float32) {
	if dst == nil || s < 1 {
		return
	}
	r := image.Rect(x0, y0, x0+m.W*s, y0+m.H*s)
	if !m.valid() {
		fill(dst, r, colPanelLine)
		for i := 0; i < r.Dx() && i < r.Dy(); i++ {
			plot(dst, dst.Rect, r.Min.X+i, r.Min.Y+i, colBad, 1)
		}
		return
	}
	clip := r.Intersect(dst.Rect)
	if clip.Empty() {
		return
	}
	lo, hi, _ := mapStats(m)
	scale := max(-lo, hi)
	if shared > 0 {
		scale = shared
	}
	if scale <= 0 {
		scale = 1
	}
	off, mul := float32(0), float32(1)
	if m.C == 3 && stretch && hi > lo {
		off, mul = lo, 1/(hi-lo)
	}
	plane := m.H * m.W
	for y := 0; y < m.H; y++ {
		py := y0 + y*s
		if py+s <= clip.Min.Y || py >= clip.Max.Y {
			continue
		}
		first := max(py, clip.Min.Y)
		base := dst.PixOffset(clip.Min.X, first)
		row := dst.Pix[base : base+4*clip.Dx()]
		for x := 0; x < m.W; x++ {
			var c uint32
			if m.C >= 3 {
				c = pack(color.RGBA{
					unit((m.Data[y*m.W+x] - off) * mul),
					unit((m.Data[plane+y*m.W+x] - off) * mul),
					unit((m.Data[2*plane+y*m.W+x] - off) * mul),
					255,
				})
			} else {
				v := m.Data[y*m.W+x]
				if v != v {
					c = pack(colNaN)
				} else {
					t := (v/scale + 1) * 127.5
					c = colormap32[int(min(max(t, 0), 255))]
				}
			}
			for px := max(x0+x*s, clip.Min.X) - clip.Min.X; px < min(x0+(x+1)*s, clip.Max.X)-clip.Min.X; px++ {
				binary.LittleEndian.PutUint32(row[4*px:], c)
			}
		}
		for yy := first + 1; yy < min(py+s, clip.Max.Y); yy++ {
			copy(dst.Pix[dst.PixOffset(clip.Min.X, yy):], row)
		}
	}
}

// unit maps [0, 1] to a byte, clamping.
func unit(v float32) uint8 {
	if v != v || v <= 0 {
		return 0
	}
	if v >= 1 {
		return 255
	}
	return uint8(v*255 + 0.5)
}

// dashedLine draws a line of dashes and gaps dash pixels long.
func dashedLine(dst *image.RGBA, clip image.Rectangle, x0, y0, x1, y1 float64, c color.RGBA, dash float64) {
	n := math.Hypot(x1-x0, y1-y0) / dash
	for k := 0.0; k < n; k += 2 {
		t0, t1 := k/n, min(k+1, n)/n
		line(dst, clip, x0+(x1-x0)*t0, y0+(y1-y0)*t0, x0+(x1-x0)*t1, y0+(y1-y0)*t1, c)
	}
}

// haloLine draws a line with a one-pixel halo of colour h around it, so
// that it stands out over bars of a colour near its own.
func haloLine(dst *image.RGBA, clip image.Rectangle, x0, y0, x1, y1 float64, c, h color.RGBA) {
	for _, d := range [][2]float64{{0, -1.5}, {0, 1.5}, {-1.5, 0}, {1.5, 0}} {
		line(dst, clip, x0+d[0], y0+d[1], x1+d[0], y1+d[1], h)
	}
	line(dst, clip, x0, y0, x1, y1, c)
}
