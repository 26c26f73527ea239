package viz

import (
	"fmt"
	"image"
	"strconv"
)

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

	m      *Map    // kindTile: the map under the pointer
	shared float32 // kindTile: the colour scale it shares with its panel; 0: its own

	// What it is, for the legend line, put together only for the region
	// under the pointer (describe): a frame has a thousand regions.
	label   string  // the panel or chart; kindInfo "band": the whole message
	indexed bool    // idx counts: one of many with the same key
	idx, of int     // the map's or bar's index, of how many
	noun    string  // tiles: "map", "channel"…
	sub     string  // the map's title or the bar's label
	val     float32 // bars: the value
	bar     bool
	active  bool // buttons: lit (on, selected)
}

// rid identifies a region across layouts: the pointer's target.
type rid struct {
	key string
	idx int
}

func (r *region) id() rid { return rid{r.key, r.idx} }

// idString returns the id as one string (for tests): "tile:conv1:3".
func (r *region) idString() string {
	if r.indexed {
		return r.key + ":" + strconv.Itoa(r.idx)
	}
	return r.key
}

// describe says what the region is, for the legend line.
func (r *region) describe() string {
	switch {
	case r.bar:
		k := strconv.Itoa(r.idx)
		if r.sub != "" {
			k = r.sub
		}
		return fmt.Sprintf("%s[%s] = %s", r.label, k, num(r.val))
	case r.noun != "":
		s := fmt.Sprintf("%s · %s %d of %d", r.label, r.noun, r.idx+1, r.of)
		if r.sub != "" {
			s += " (" + r.sub + ")"
		}
		return s
	}
	return r.label
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
	if u.hover.key != "" && r.id() == u.hover && r.kind != kindPanel {
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
