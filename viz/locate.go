package viz

import "image"

// Locate lays out the viewer for snapshot s (as New(opts) would show it)
// and returns where the thing named key is, in the viewer's pixels: a
// panel by its name ("loss", "grads", "blocks"…) or a control or tile by
// its id ("btn:start", "cell:34", "cellimg:0"…). Browser tests use it to
// find what to click and where to look, instead of copying the layout.
func Locate(s *Snapshot, opts Options, key string) (image.Rectangle, bool) {
	u := New(opts)
	u.SetSnapshot(s)
	u.layout()
	for _, r := range u.regions {
		if r.kind == kindPanel && r.name == key || r.kind != kindPanel && r.idString() == key {
			return r.r, true
		}
	}
	return image.Rectangle{}, false
}

// MapsArea is where the right side of the viewer (the feature maps, the
// gradient view, the evaluation) is drawn.
func MapsArea() image.Rectangle {
	return image.Rect(rightX0, top+legendH+6, rightX1, bottom)
}

// BlockGroups are the three columns of the blocks panel's content c: the
// main path, the shortcut and the sum.
func BlockGroups(c image.Rectangle) [3]image.Rectangle {
	w := (c.Dx() - blockLabelW - 2*blockGroupG) / 3
	var g [3]image.Rectangle
	for i := range g {
		x := c.Min.X + blockLabelW + i*(w+blockGroupG)
		g[i] = image.Rect(x, c.Min.Y, x+w, c.Max.Y)
	}
	return g
}
