package viz

import (
	"fmt"
	"image"
	"strconv"
	"strings"
)

// The viewer's size in pixels. Draw renders exactly this; the embedding
// program scales the window or canvas, not the drawing.
const (
	Width  = 1280
	Height = 800
)

// Key is a key of the keyboard the viewer reacts to.
type Key int

// The keys the viewer reacts to. Letters and digits arrive as Input.Chars.
const (
	KeyLeft Key = iota + 1
	KeyRight
	KeyUp
	KeyDown
	KeyPageUp
	KeyPageDown
	KeyHome
	KeyEnd
	KeyEnter
	KeyEscape
	KeyBackspace
	KeyTab
	KeySpace
	KeyBackTab // Shift+Tab
)

// Input is what the user did during one frame, in the viewer's pixels
// (Width×Height), independent of any windowing library: the ebiten game
// fills it from ebiten's input, tests fill it by hand.
type Input struct {
	X, Y    int     // the pointer, in the viewer's pixels
	Pointer bool    // the pointer is over the viewer (X, Y mean something)
	Click   bool    // the primary button or a touch went down this frame, at X, Y
	WheelY  float64 // wheel movement this frame; positive is up (previous page)
	Keys    []Key   // keys pressed this frame, auto-repeats included
	Chars   []rune  // text typed this frame (for the text fields)
}

// Cursor is the pointer shape the viewer asks for.
type Cursor int

// The pointer shapes.
const (
	CursorDefault Cursor = iota
	CursorPointer        // over something clickable
	CursorText           // over a text field
)

// Options configure a UI.
type Options struct {
	// WeightsPath, when not empty, shows a file field, prefilled with it,
	// whose text becomes the Path of Save and Load intents (the desktop).
	// The browser leaves it empty: it downloads and picks files itself.
	WeightsPath string
	// Gradients starts with the gradient view on the right instead of the
	// feature maps (the page's ?view=grads, desktop -view grads).
	Gradients bool
	// Evaluation starts with the evaluation view on the right instead
	// (it wins over Gradients).
	Evaluation bool
}

// The learning-rate and batch-size presets offered as buttons.
var (
	lrPresets    = []float64{1e-4, 3e-4, 1e-3, 3e-3, 1e-2}
	batchPresets = []int{16, 32, 64, 128, 256}
)

// UI is the viewer: it holds its own state (the pointer's target, the
// pagers, the text being typed), is fed Snapshots and turns the user's
// input into Intents. It never waits on anything: SetSnapshot and Update
// only record, and Draw renders into a pixel buffer only when something
// changed. A UI is not safe for concurrent use; the ebiten game calls it
// from its own goroutine only.
type UI struct {
	opts Options
	snap *Snapshot

	fTitle, fText, fSmall, fBig *face

	dirty        bool              // the frame must be repainted
	damage       []image.Rectangle // else: these parts of it (the pointer moved)
	regionsValid bool              // regions match the current state
	last         *image.RGBA       // the buffer the last frame went to
	regions      []region          // what is where, from the last layout
	hover        rid               // the region under the pointer
	hoverR       region            // that region, refreshed by each layout
	pointer      image.Point       // the pointer, when over the viewer
	cursor       Cursor            //
	pages        map[string]int    // first channel shown, per pager
	pagers       []string          // the pagers of the current layout
	wheel        float64           // wheel movement not yet turned into pages
	stripFirst   int               // first strip image shown
	view         rightView         // what the right side shows
	salMode      int               // the input panel's saliency toggle (salOff…)
	kbFocus      rid               // the control the keyboard focus is on
	help         string            // the panel whose note is open
	gradBlocks   bool              // the gradient view's bars are per block, not per layer
	hiddenRuns   map[int]bool      // earlier runs the charts leave out

	// The user's latest requests, shown until a snapshot says otherwise,
	// so that two quick clicks on "next" or "+" go two steps.
	sel   int
	lr    float64
	snapS int     // the Selected of the previous snapshot
	snapL float64 // the LR of the previous snapshot

	focus    string // "", "lr" or "path": the text field being typed in
	edit     string // its text while typing
	replace  bool   // the next character replaces the whole text
	fieldErr string // why the last learning rate typed was refused
	path     string // the weights file (desktop)
}

// New returns a viewer with no snapshot yet: it shows that it is waiting.
func New(opts Options) *UI {
	fontsOnce.Do(parseFonts)
	if fontsErr != nil {
		panic("viz: " + fontsErr.Error()) // the fonts are compiled in: cannot happen
	}
	return &UI{
		opts:   opts,
		fTitle: newFace(fontMedium, 14),
		fText:  newFace(fontRegular, 13),
		fSmall: newFace(fontRegular, 12),
		fBig:   newFace(fontMedium, 20),
		dirty:  true,
		pages:  map[string]int{},

		hiddenRuns: map[int]bool{},
		sel:        -1,
		snapS:      -1,
		path:       opts.WeightsPath,

		view: opts.view(),
	}
}

// SetSnapshot shows s from the next Draw on. s is not modified and must
// not be modified afterwards (send a new one instead). nil shows the
// waiting state.
func (u *UI) SetSnapshot(s *Snapshot) {
	if s == u.snap {
		return
	}
	if s != nil {
		if s.Selected != u.snapS {
			u.sel, u.snapS = s.Selected, s.Selected
		}
		if s.LR != u.snapL {
			u.lr, u.snapL = s.LR, s.LR
		}
	}
	u.snap = s
	u.changed()
}

// Snapshot returns the snapshot shown.
func (u *UI) Snapshot() *Snapshot { return u.snap }

// Dirty reports whether the next Draw will repaint.
func (u *UI) Dirty() bool { return u.dirty || len(u.damage) > 0 }

// Cursor returns the pointer shape for what is under the pointer.
func (u *UI) Cursor() Cursor { return u.cursor }

func (u *UI) changed() {
	u.dirty = true
	u.regionsValid = false
}

// Draw renders the viewer into dst, which must be Width×Height at the
// origin, and reports whether it painted. It paints only when something
// changed since the last Draw into the same buffer (an idle frame costs
// nothing): the whole frame after a new snapshot or a click, only the
// parts that change (the map left and the map entered, the legend) when
// the pointer moves.
func (u *UI) Draw(dst *image.RGBA) bool {
	if dst.Rect != image.Rect(0, 0, Width, Height) {
		panic(fmt.Sprintf("viz: Draw into %v, want %v", dst.Rect, image.Rect(0, 0, Width, Height)))
	}
	switch {
	case u.dirty || dst != u.last:
		u.frame(dst)
	case len(u.damage) > 0:
		for _, r := range u.damage {
			u.frame(dst.SubImage(r).(*image.RGBA)) // paints clip to r
		}
	default:
		return false
	}
	u.dirty, u.damage, u.regionsValid, u.last = false, u.damage[:0], true, dst
	return true
}

// hoverChanged records what the pointer's move from old to now changes.
func (u *UI) hoverChanged(old, now region) {
	if u.dirty {
		return
	}
	add := func(r image.Rectangle) {
		for _, d := range u.damage {
			if r.In(d) {
				return
			}
		}
		u.damage = append(u.damage, r)
	}
	for _, r := range []region{old, now} {
		switch {
		case r.key == "" && r.idx == 0:
		case r.key == "band" && r.label != "":
			u.dirty = true // the whole message covers other panels
			return
		case r.kind == kindTile || r.kind == kindInfo:
			add(r.r.Inset(-3))
			if l, ok := u.panelRect("legend"); ok {
				add(l)
			}
		default:
			add(r.r.Inset(-3))
		}
	}
}

// layout recomputes where everything is without painting.
func (u *UI) layout() {
	if !u.regionsValid {
		u.frame(nil)
		u.regionsValid = true
	}
}

// Update takes one frame's input and returns the intents it makes, in
// order. It never blocks.
func (u *UI) Update(in Input) []Intent {
	u.layout()
	var out []Intent

	// What is under the pointer.
	var hit *region
	if in.Pointer {
		u.pointer = image.Pt(in.X, in.Y)
		hit = u.hit(u.pointer)
	} else {
		u.pointer = image.Pt(-1, -1)
	}
	key, cur := rid{}, CursorDefault
	if hit != nil {
		key = hit.id()
		switch {
		case hit.kind == kindField:
			cur = CursorText
		case hit.act != nil:
			cur = CursorPointer
		}
	}
	if key != u.hover {
		old := u.hoverR
		u.hover, u.hoverR = key, region{}
		if hit != nil {
			u.hoverR = *hit
		}
		u.hoverChanged(old, u.hoverR)
	}
	u.cursor = cur

	if in.Click {
		if u.help != "" && (hit == nil || hit.key != "btn:help:"+u.help) {
			u.help = "" // any click closes the note (and does what it does)
			u.changed()
		}
		if u.focus != "" && (hit == nil || hit.key != "field:"+u.focus) {
			out = append(out, u.commit()...)
		}
		if hit != nil && hit.act != nil {
			out = append(out, hit.act()...)
			u.changed()
		}
	}

	if in.WheelY != 0 && hit != nil && hit.pager != "" {
		u.wheel += in.WheelY
		for u.wheel >= 1 {
			u.page(hit.pager, -1)
			u.wheel--
		}
		for u.wheel <= -1 {
			u.page(hit.pager, +1)
			u.wheel++
		}
	}

	if u.focus != "" {
		out = append(out, u.typing(in)...)
		return out
	}
	for _, k := range in.Keys {
		switch k {
		case KeyTab:
			u.moveFocus(+1)
		case KeyBackTab:
			u.moveFocus(-1)
		case KeyEscape:
			if u.help != "" {
				u.help = ""
			} else {
				u.kbFocus = rid{}
			}
			u.changed()
		case KeyEnter:
			out = append(out, u.pressFocus()...)
		case KeyLeft, KeyUp:
			out = append(out, u.selectRel(-1)...)
		case KeyRight, KeyDown:
			out = append(out, u.selectRel(+1)...)
		case KeyPageUp:
			u.pageAll(-1)
		case KeyPageDown:
			u.pageAll(+1)
		case KeySpace:
			if _, ok := u.focused(); ok {
				out = append(out, u.pressFocus()...)
			} else {
				out = append(out, u.startPause()...)
			}
		}
		if u.focus != "" { // Enter on a text field: the rest is typing
			break
		}
	}
	return out
}

// hit returns the topmost interactive region at p.
func (u *UI) hit(p image.Point) *region {
	for i := len(u.regions) - 1; i >= 0; i-- {
		r := &u.regions[i]
		if r.kind != kindPanel && r.kind != kindPager && p.In(r.r) {
			return r
		}
	}
	// Panels that page (a wheel over a panel's gaps still pages it).
	for i := len(u.regions) - 1; i >= 0; i-- {
		r := &u.regions[i]
		if r.kind == kindPanel && r.pager != "" && p.In(r.r) {
			return r
		}
	}
	return nil
}

// page moves pager key by n pages; the layout clamps it.
func (u *UI) page(key string, n int) {
	for _, r := range u.regions {
		if r.kind == kindPager && r.pager == key {
			u.pages[key] = r.pageTo(n)
			u.changed()
			return
		}
	}
}

func (u *UI) pageAll(n int) {
	for _, key := range u.pagers {
		u.page(key, n)
	}
}

// The actions of the controls.

func (u *UI) selectImage(i int) []Intent {
	u.sel = i
	u.changed()
	return []Intent{{Kind: SelectImage, Image: i}}
}

func (u *UI) selectRel(d int) []Intent {
	if u.snap == nil || len(u.snap.Strip) == 0 {
		return nil
	}
	n := len(u.snap.Strip)
	return u.selectImage(((max(u.sel, 0)+d)%n + n) % n)
}

func (u *UI) startPause() []Intent {
	if u.snap != nil && u.snap.Running {
		return []Intent{{Kind: Pause}}
	}
	return []Intent{{Kind: Start}}
}

func (u *UI) setLR(lr float64) []Intent {
	u.lr = lr
	return []Intent{{Kind: SetLR, LR: lr}}
}

// curLR is the learning rate the −/+ buttons start from.
func (u *UI) curLR() float64 {
	if u.lr > 0 {
		return u.lr
	}
	return 1e-3
}

// Text fields.

func (u *UI) focusField(name string) []Intent {
	if u.focus == name {
		return nil
	}
	u.focus, u.replace, u.fieldErr = name, true, ""
	switch name {
	case "lr":
		u.edit = formatLR(u.curLR())
	case "path":
		u.edit = u.path
	}
	return nil
}

func (u *UI) typing(in Input) []Intent {
	for _, r := range in.Chars {
		if r < ' ' || r == 0x7f {
			continue
		}
		if u.focus == "lr" && !strings.ContainsRune("0123456789.eE-+", r) {
			continue
		}
		if u.replace {
			u.edit, u.replace = "", false
		}
		u.edit += string(r)
		u.dirty = true
	}
	for _, k := range in.Keys {
		switch k {
		case KeyBackspace:
			if u.replace {
				u.edit, u.replace = "", false
			} else if r := []rune(u.edit); len(r) > 0 {
				u.edit = string(r[:len(r)-1])
			}
			u.dirty = true
		case KeyEnter, KeyTab:
			return u.commit()
		case KeyEscape:
			u.focus, u.fieldErr = "", ""
			u.changed()
			return nil
		}
	}
	return nil
}

// commit ends typing in the focused field and returns the intent it makes.
func (u *UI) commit() []Intent {
	defer u.changed()
	switch u.focus {
	case "lr":
		v, err := strconv.ParseFloat(strings.TrimSpace(u.edit), 64)
		if err != nil || !(v > 0 && v < 10) {
			u.fieldErr = fmt.Sprintf("%q is not a learning rate (0 < lr < 10)", u.edit)
			u.focus = ""
			return nil
		}
		u.focus, u.fieldErr = "", ""
		return u.setLR(v)
	case "path":
		u.path = strings.TrimSpace(u.edit)
	}
	u.focus = ""
	return nil
}

// formatLR writes a learning rate briefly: 0.001, 3e-04 → 0.0003.
func formatLR(v float64) string {
	return strconv.FormatFloat(v, 'g', 4, 64)
}

func presetLabel(v float64) string {
	s := strconv.FormatFloat(v, 'e', 0, 64) // 1e-04
	return strings.Replace(s, "e-0", "e-", 1)
}
