package viz

import (
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"sync"

	"golang.org/x/image/font"
	"golang.org/x/image/font/gofont/gomedium"
	"golang.org/x/image/font/gofont/goregular"
	"golang.org/x/image/font/opentype"
	"golang.org/x/image/math/fixed"
)

// The Go fonts, parsed once per process.
var (
	fontsOnce               sync.Once
	fontRegular, fontMedium *opentype.Font
	fontsErr                error
)

func parseFonts() {
	fontRegular, fontsErr = opentype.Parse(goregular.TTF)
	if fontsErr != nil {
		fontsErr = fmt.Errorf("parse goregular: %w", fontsErr)
		return
	}
	fontMedium, fontsErr = opentype.Parse(gomedium.TTF)
	if fontsErr != nil {
		fontsErr = fmt.Errorf("parse gomedium: %w", fontsErr)
	}
}

// glyph is one rasterized rune: an alpha mask placed relative to the pen
// on the baseline, and the pen's advance. All in whole pixels: faces are
// fully hinted, so advances are integers.
type glyph struct {
	mask       []uint8 // w·h coverage values
	w, h       int
	dx, dy     int // the mask's top-left corner relative to the pen
	adv        int
	notdefRune bool
}

// face is a font at one size with a cache of rasterized glyphs, so that
// redrawing a frame's few thousand characters costs a copy each, not a
// rasterization. Not safe for concurrent use: each UI has its own.
type face struct {
	f              font.Face
	ascent, height int // pixels: baseline below the top, line height
	ascii          [128]*glyph
	other          map[rune]*glyph
	log            *[]string // tests: every string painted
}

func newFace(f *opentype.Font, size float64) *face {
	ff, err := opentype.NewFace(f, &opentype.FaceOptions{Size: size, DPI: 72, Hinting: font.HintingFull})
	if err != nil {
		panic(fmt.Sprintf("viz: new face of size %v: %v", size, err)) // only on a programmer error
	}
	m := ff.Metrics()
	return &face{f: ff, ascent: m.Ascent.Ceil(), height: m.Height.Ceil(), other: map[rune]*glyph{}}
}

func (fc *face) glyph(r rune) *glyph {
	if r >= 0 && r < 128 {
		if g := fc.ascii[r]; g != nil {
			return g
		}
	} else if g, ok := fc.other[r]; ok {
		return g
	}
	g := fc.rasterize(r)
	if r >= 0 && r < 128 {
		fc.ascii[r] = g
	} else {
		fc.other[r] = g
	}
	return g
}

func (fc *face) rasterize(r rune) *glyph {
	dr, mask, maskp, adv, ok := fc.f.Glyph(fixed.P(0, 0), r)
	g := &glyph{w: dr.Dx(), h: dr.Dy(), dx: dr.Min.X, dy: dr.Min.Y, adv: adv.Round(), notdefRune: !ok}
	g.mask = make([]uint8, g.w*g.h)
	if g.w > 0 && g.h > 0 {
		a := image.NewAlpha(image.Rect(0, 0, g.w, g.h))
		draw.Draw(a, a.Bounds(), mask, maskp, draw.Src)
		copy(g.mask, a.Pix)
	}
	return g
}

// width is the advance of s in pixels.
func (fc *face) width(s string) int {
	w := 0
	for _, r := range s {
		w += fc.glyph(r).adv
	}
	return w
}

// fit returns s, or s shortened with an ellipsis, so that it is at most
// maxW pixels wide.
func (fc *face) fit(s string, maxW int) string {
	if fc.width(s) <= maxW {
		return s
	}
	ell := fc.glyph('…').adv
	w := 0
	for i, r := range s {
		a := fc.glyph(r).adv
		if w+a+ell > maxW {
			return s[:i] + "…"
		}
		w += a
	}
	return s
}

// wrap splits s into lines at most maxW pixels wide, breaking at spaces
// where it can.
func (fc *face) wrap(s string, maxW int) []string {
	var lines []string
	for len(s) > 0 {
		w, lastSpace, cut := 0, -1, len(s)
		for i, r := range s {
			if r == '\n' {
				cut = i
				break
			}
			if r == ' ' {
				lastSpace = i
			}
			w += fc.glyph(r).adv
			if w > maxW && i > 0 {
				cut = i
				if lastSpace > 0 {
					cut = lastSpace
				}
				break
			}
		}
		lines = append(lines, s[:cut])
		s = s[cut:]
		if len(s) > 0 && (s[0] == ' ' || s[0] == '\n') {
			s = s[1:]
		}
	}
	return lines
}

// text draws s with its baseline at y, starting at x, clipped to clip, and
// returns the pen's x after it.
func (fc *face) text(dst *image.RGBA, clip image.Rectangle, x, y int, s string, c color.RGBA) int {
	if fc.log != nil && dst != nil {
		*fc.log = append(*fc.log, s)
	}
	for _, r := range s {
		g := fc.glyph(r)
		if dst != nil && g.w > 0 {
			blendMask(dst, clip, x+g.dx, y+g.dy, g.mask, g.w, g.h, c)
		}
		x += g.adv
	}
	return x
}

// blendMask blends colour c through an alpha mask of w×h whose top-left
// corner is at (x0, y0).
func blendMask(dst *image.RGBA, clip image.Rectangle, x0, y0 int, mask []uint8, w, h int, c color.RGBA) {
	r := image.Rect(x0, y0, x0+w, y0+h).Intersect(clip).Intersect(dst.Rect)
	if r.Empty() {
		return
	}
	cr, cg, cb := uint32(c.R), uint32(c.G), uint32(c.B)
	for y := r.Min.Y; y < r.Max.Y; y++ {
		m := mask[(y-y0)*w+(r.Min.X-x0):]
		p := dst.Pix[dst.PixOffset(r.Min.X, y):]
		for i := 0; i < r.Dx(); i++ {
			a := uint32(m[i])
			if a == 0 {
				continue
			}
			q := p[4*i : 4*i+4 : 4*i+4]
			if a == 255 {
				q[0], q[1], q[2], q[3] = c.R, c.G, c.B, 255
				continue
			}
			na := 255 - a
			q[0] = uint8((cr*a + uint32(q[0])*na + 127) / 255)
			q[1] = uint8((cg*a + uint32(q[1])*na + 127) / 255)
			q[2] = uint8((cb*a + uint32(q[2])*na + 127) / 255)
			q[3] = 255
		}
	}
}
