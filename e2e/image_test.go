package e2e

import (
	"fmt"
	"image"
	"image/color"
	"testing"

	"cifarlab/viz"
)

// The viewer's layout: the maps fill the right of the frame under the
// colour legend.
var mapsArea = viz.MapsArea()

// locate is viz.Locate, failing the test when key is not in the layout.
func locate(t *testing.T, s *viz.Snapshot, opts viz.Options, key string) image.Rectangle {
	t.Helper()
	r, ok := viz.Locate(s, opts, key)
	if !ok {
		t.Fatalf("%s is not in the viewer's layout", key)
	}
	return r
}

// pixels summarises the pixels of an image's rectangle.
type pixels struct {
	n        int     // pixels
	distinct int     // distinct colours
	busy     float64 // the fraction that differs from the commonest colour
}

func (p pixels) String() string {
	return fmt.Sprintf("%d pixels, %d colours, %.1f%% off the commonest", p.n, p.distinct, 100*p.busy)
}

func summarise(img image.Image, r image.Rectangle) pixels {
	counts := map[color.RGBA]int{}
	r = r.Intersect(img.Bounds())
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			counts[rgba(img.At(x, y))]++
		}
	}
	p := pixels{n: r.Dx() * r.Dy(), distinct: len(counts)}
	most := 0
	for _, c := range counts {
		most = max(most, c)
	}
	if p.n > 0 {
		p.busy = 1 - float64(most)/float64(p.n)
	}
	return p
}

// changed is the fraction of the pixels of r that differ between a and b.
func changed(a, b image.Image, r image.Rectangle) float64 {
	r = r.Intersect(a.Bounds()).Intersect(b.Bounds())
	if r.Empty() {
		return 0
	}
	n := 0
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			if rgba(a.At(x, y)) != rgba(b.At(x, y)) {
				n++
			}
		}
	}
	return float64(n) / float64(r.Dx()*r.Dy())
}

func rgba(c color.Color) color.RGBA {
	r, g, b, a := c.RGBA()
	return color.RGBA{uint8(r >> 8), uint8(g >> 8), uint8(b >> 8), uint8(a >> 8)}
}
