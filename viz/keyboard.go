package viz

import (
	"fmt"
	"image"
	"image/color"
	"strings"
)

// Keyboard use: Tab and Shift+Tab (KeyBackTab) move a visible focus ring
// through every control of the frame in the order it is laid out
// (buttons, test images, the evaluation's cells and images, the text
// fields); Enter or Space presses the one focused, as a click would;
// Escape leaves the ring. Without a focused control Space starts or
// pauses training and the arrows choose the image. The legend line
// describes the focused control as it does the one under the pointer, and
// FocusLabel names it for a screen reader.

// spokenNames name the buttons whose label is a symbol.
var spokenNames = map[string]string{
	"btn:img-prev":     "previous test image",
	"btn:img-next":     "next test image",
	"btn:model-prev":   "previous network",
	"btn:model-next":   "next network",
	"btn:lr-":          "halve the learning rate",
	"btn:lr+":          "double the learning rate",
	"btn:twin":         "show the other network of the experiment",
	"btn:experiment":   "shortcut experiment",
	"btn:export-csv":   "export the runs as CSV",
	"btn:export-jsonl": "export the runs as JSON Lines",
}

// colFocus is the focus ring's colour.
var colFocus = color.RGBA{0xff, 0xd2, 0x3f, 0xff}

// focusable says whether the keyboard can reach r.
func focusable(r *region) bool {
	return r.act != nil && (r.kind == kindButton || r.kind == kindTile || r.kind == kindField)
}

// moveFocus moves the keyboard focus d controls on (±1), wrapping around.
func (u *UI) moveFocus(d int) {
	u.layout()
	var list []region
	seen := map[rid]bool{}
	for i := range u.regions {
		r := &u.regions[i]
		if focusable(r) && !seen[r.id()] {
			seen[r.id()] = true
			list = append(list, *r)
		}
	}
	if len(list) == 0 {
		return
	}
	at := -1
	for i, r := range list {
		if r.id() == u.kbFocus {
			at = i
		}
	}
	switch {
	case at < 0 && d > 0:
		at = 0
	case at < 0:
		at = len(list) - 1
	default:
		at = (at + d + len(list)) % len(list)
	}
	u.kbFocus = list[at].id()
	u.changed()
}

// focused is the region the keyboard focus is on, if it is in the frame.
func (u *UI) focused() (*region, bool) {
	if u.kbFocus.key == "" {
		return nil, false
	}
	for i := range u.regions {
		if r := &u.regions[i]; r.id() == u.kbFocus && focusable(r) {
			return r, true
		}
	}
	return nil, false
}

// pressFocus presses the focused control.
func (u *UI) pressFocus() []Intent {
	r, ok := u.focused()
	if !ok {
		return nil
	}
	out := r.act()
	u.changed()
	return out
}

// FocusLabel names the control the keyboard focus is on ("" for none),
// for a screen reader: its label and, where it has one, its state.
func (u *UI) FocusLabel() string {
	r, ok := u.focused()
	if !ok {
		return ""
	}
	name := r.label
	if spoken, ok := spokenNames[r.key]; ok {
		name = spoken
	} else if strings.HasPrefix(r.key, "btn:prev:") || strings.HasPrefix(r.key, "btn:next:") {
		name = strings.TrimPrefix(strings.TrimPrefix(r.key, "btn:"), "prev:")
		name = map[bool]string{true: "previous page of ", false: "next page of "}[strings.HasPrefix(r.key, "btn:prev:")] +
			strings.TrimPrefix(name, "next:")
	}
	if p, ok := strings.CutPrefix(r.key, "btn:help:"); ok {
		if u.help == p {
			return "what this panel shows, open: " + helpFor(p)
		}
		return "what this panel shows (" + p + "), button"
	}
	if r.key == "btn:model" {
		name = "network " + r.label + " (Enter: the next)"
	}
	if name == "" {
		name = r.describe()
	}
	switch r.kind {
	case kindField:
		return name + ", text field: Enter to type, Enter again to set"
	case kindTile:
		if r.indexed {
			name = fmt.Sprintf("%s, %d of %d", name, r.idx+1, r.of)
		}
		if r.sub != "" {
			name += ": " + r.sub
		}
		return name + ", image: Enter to inspect"
	}
	if r.active {
		name += " (on)"
	}
	return name + ", button"
}

// focusRing paints the ring around the focused control.
func (u *UI) focusRing(dst *image.RGBA) {
	r, ok := u.focused()
	if !ok || dst == nil {
		return
	}
	o := r.r.Inset(-2)
	stroke(dst, o, colFocus)
	stroke(dst, o.Inset(1), colFocus)
}
