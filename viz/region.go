package viz

import "image"

// regionKind says what a region of the frame is for.
type regionKind int

const (
	kindPanel  regionKind = iota // a labelled panel: passive, may page with the wheel
	kindPager                    // a pager's state: passive, read by page()
	kindButton                   // clickable
	kindTile                     // a map or an image: hover shows its values
	kindField                    // a text field
	kindInfo                     // hover shows a value (a bar, a truncated message)
)

// region is one thing on the frame, recorded by each layout: where it is,
// how the pointer finds it again (key, stable across layouts) and what it
// does.
type region struct {
	r     image.Rectangle
	kind  regionKind
	key   string
	name  string          // panels: the name tests look them up by
	act   func() []Intent // on click
	pager string          // the pager the wheel turns over this region

	first, per, total int // kindPager: the page shown

	m     *Map   // kindTile: the map under the pointer
	label string // kindTile, kindInfo: what it is, for the legend line
}

// pageTo returns the first index n pages on, wrapping around at both ends.
func (r region) pageTo(n int) int {
	if r.per <= 0 || r.total <= 0 {
		return 0
	}
	f := r.first + n*r.per
	switch {
	case f >= r.total:
		return 0
	case f < 0 && r.first > 0:
		return 0
	case f < 0:
		return (r.total - 1) / r.per * r.per
	}
	return f
}

func (u *UI) add(r region) {
	if u.hover != "" && r.key == u.hover && r.kind != kindPanel {
		u.hoverR = r
	}
	u.regions = append(u.regions, r)
}

// panelRect returns the rectangle of the panel called name in the last
// layout (for tests).
func (u *UI) panelRect(name string) (image.Rectangle, bool) {
	u.layout()
	for _, r := range u.regions {
		if r.kind == kindPanel && r.name == name {
			return r.r, true
		}
	}
	return image.Rectangle{}, false
}
