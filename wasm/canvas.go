//go:build js && wasm

package main

import (
	"image"
	"math"
	"sync"
	"syscall/js"

	"cifarlab/internal/jsutil"
	"cifarlab/viz"
)

// viewer runs the viewer (viz.UI) on the page's <canvas id="viewer">: the
// viewer draws its 1280×800 pixels in software, which go to the canvas
// with putImageData when they change, and the canvas's pointer, wheel and
// key events become its viz.Input. (The desktop runs the same viewer with
// ebiten, viz/game; the page needs nothing of ebiten but a canvas, and its
// module is a third of the size without it.)
//
// Keys are taken at once, in their event (so that a second Escape finds
// the first carried out), the pointer's events in a task just after
// theirs, and the canvas is drawn at the next animation frame, only when
// something changed.
type viewer struct {
	ui      *viz.UI
	el      js.Value // the canvas
	ctx     js.Value // its 2D context
	buf     *image.RGBA
	pix     js.Value // a Uint8ClampedArray the size of buf.Pix
	img     js.Value // an ImageData over pix
	send    func(viz.Intent)
	onFocus func(label string)
	// onLeave, when set, is called for an Escape with none of the
	// viewer's controls focused: the page moves the focus out of the
	// viewer (which keeps Tab for its own controls).
	onLeave func()

	in        viz.Input // the events since they were last taken
	x, y      int       // the pointer, in the viewer's pixels
	pointer   bool      // over the viewer
	taking    bool      // a task to take the events is set
	drawing   bool      // an animation frame is asked for
	redraw    bool      // draw even if the viewer's pixels did not change
	snapMu    sync.Mutex
	snap      *viz.Snapshot // the latest, not yet handed to the viewer
	cursor    viz.Cursor
	lastFocus string
	takeFn    js.Func
	drawFn    js.Func
}

// newViewer shows ui on the canvas el; the user's intents go to send.
func newViewer(ui *viz.UI, el js.Value, send func(viz.Intent), onFocus func(string)) *viewer {
	v := &viewer{ui: ui, el: el, send: send, onFocus: onFocus, redraw: true,
		buf: image.NewRGBA(image.Rect(0, 0, viz.Width, viz.Height))}
	el.Set("width", viz.Width)
	el.Set("height", viz.Height)
	v.ctx = el.Call("getContext", "2d", map[string]any{"alpha": false})
	v.pix = js.Global().Get("Uint8ClampedArray").New(len(v.buf.Pix))
	v.img = js.Global().Get("ImageData").New(v.pix, viz.Width, viz.Height)
	v.takeFn = js.FuncOf(func(js.Value, []js.Value) any { v.take(); return nil })
	v.drawFn = js.FuncOf(func(js.Value, []js.Value) any { v.draw(); return nil })
	v.listen()
	v.schedule()
	// The viewer is the page: it takes the keys from the start (Space
	// starts training), as the desktop's window does.
	el.Call("focus", map[string]any{"preventScroll": true})
	return v
}

// show hands the viewer a snapshot (it draws it at the next frame).
func (v *viewer) show(snap *viz.Snapshot) {
	v.snapMu.Lock()
	v.snap = snap
	v.snapMu.Unlock()
	v.schedule()
}

// schedule sets a task that takes the events.
func (v *viewer) schedule() {
	if !v.taking {
		v.taking = true
		js.Global().Call("setTimeout", v.takeFn, 0)
	}
}

// take hands the viewer the latest snapshot and the events since the last
// time, sends its intents, and asks for a frame.
func (v *viewer) take() {
	v.taking = false
	v.snapMu.Lock()
	snap := v.snap
	v.snap = nil
	v.snapMu.Unlock()
	if snap != nil {
		v.ui.SetSnapshot(snap)
	}
	in := v.in
	in.X, in.Y, in.Pointer = v.x, v.y, v.pointer
	v.in = viz.Input{}
	for _, it := range v.ui.Update(in) {
		v.send(it)
	}
	if l := v.ui.FocusLabel(); l != v.lastFocus {
		v.lastFocus = l
		if v.onFocus != nil {
			v.onFocus(l)
		}
	}
	if c := v.ui.Cursor(); c != v.cursor {
		v.cursor = c
		v.el.Get("style").Set("cursor", cursorCSS(c))
	}
	if !v.drawing {
		v.drawing = true
		js.Global().Call("requestAnimationFrame", v.drawFn)
	}
}

// draw puts the viewer's pixels on the canvas when they changed.
func (v *viewer) draw() {
	v.drawing = false
	if v.ui.Draw(v.buf) || v.redraw {
		js.CopyBytesToJS(v.pix, v.buf.Pix)
		v.ctx.Call("putImageData", v.img, 0, 0)
		v.redraw = false
	}
}

func cursorCSS(c viz.Cursor) string {
	switch c {
	case viz.CursorPointer:
		return "pointer"
	case viz.CursorText:
		return "text"
	}
	return "default"
}

// at turns a point of the page (client coordinates) into the viewer's
// pixels: the canvas keeps the viewer's aspect (object-fit: contain),
// centred.
func (v *viewer) at(cx, cy float64) (int, int, bool) {
	r := v.el.Call("getBoundingClientRect")
	w, h := r.Get("width").Float(), r.Get("height").Float()
	s := math.Min(w/viz.Width, h/viz.Height)
	if s <= 0 {
		return 0, 0, false
	}
	ox := r.Get("left").Float() + (w-s*viz.Width)/2
	oy := r.Get("top").Float() + (h-s*viz.Height)/2
	x, y := int(math.Floor((cx-ox)/s)), int(math.Floor((cy-oy)/s))
	return x, y, x >= 0 && y >= 0 && x < viz.Width && y < viz.Height
}

// keys maps KeyboardEvent.key to the viewer's keys (the browser repeats
// those held down).
var keys = map[string]viz.Key{
	"ArrowLeft": viz.KeyLeft, "ArrowRight": viz.KeyRight, "ArrowUp": viz.KeyUp, "ArrowDown": viz.KeyDown,
	"PageUp": viz.KeyPageUp, "PageDown": viz.KeyPageDown, "Home": viz.KeyHome, "End": viz.KeyEnd,
	"Enter": viz.KeyEnter, "Escape": viz.KeyEscape, "Backspace": viz.KeyBackspace, "Tab": viz.KeyTab, " ": viz.KeySpace,
}

// listen takes the canvas's events.
func (v *viewer) listen() {
	on := func(event string, passive bool, f func(e js.Value)) {
		v.el.Call("addEventListener", event, js.FuncOf(func(_ js.Value, args []js.Value) any {
			f(jsutil.Arg0(args))
			return nil
		}), map[string]any{"passive": passive})
	}
	point := func(e js.Value) {
		v.x, v.y, v.pointer = v.at(e.Get("clientX").Float(), e.Get("clientY").Float())
	}
	on("pointermove", true, func(e js.Value) {
		point(e)
		v.schedule()
	})
	on("pointerleave", true, func(js.Value) {
		v.pointer = false
		v.schedule()
	})
	// A press of the primary button, or a touch: a click (a tap also moves
	// the pointer, so that it shows a map's values).
	on("pointerdown", true, func(e js.Value) {
		if e.Get("button").Int() != 0 {
			return
		}
		point(e)
		v.in.Click = v.in.Click || v.pointer
		v.el.Call("focus", map[string]any{"preventScroll": true})
		v.schedule()
	})
	on("wheel", false, func(e js.Value) {
		point(e)
		d := e.Get("deltaY").Float()
		switch e.Get("deltaMode").Int() {
		case 1: // lines
			d *= 33
		case 2: // pages
			d *= 800
		}
		v.in.WheelY -= d / 100 // a notch of a mouse's wheel is about 100 pixels
		e.Call("preventDefault")
		v.schedule()
	})
	on("keydown", false, func(e js.Value) {
		if e.Get("ctrlKey").Bool() || e.Get("metaKey").Bool() || e.Get("altKey").Bool() {
			return // the browser's shortcuts
		}
		key := e.Get("key").String()
		if key == "Escape" && v.ui.FocusLabel() == "" && v.onLeave != nil {
			v.onLeave()
			return
		}
		if k, ok := keys[key]; ok {
			if k == viz.KeyTab && e.Get("shiftKey").Bool() {
				k = viz.KeyBackTab
			}
			v.in.Keys = append(v.in.Keys, k)
			if k != viz.KeyEscape {
				e.Call("preventDefault") // the viewer's, not the page's: no scrolling, no leaving by Tab
			}
		}
		if r := []rune(key); len(r) == 1 {
			v.in.Chars = append(v.in.Chars, r[0])
		}
		v.take()
	})
	on("focus", true, func(js.Value) { v.schedule() })
	// A new size: draw again.
	js.Global().Call("addEventListener", "resize", js.FuncOf(func(js.Value, []js.Value) any {
		v.redraw = true
		v.schedule()
		return nil
	}))
}
