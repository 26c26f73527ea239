// Package game runs the viewer of package viz as an ebiten game, for the
// desktop window. (The page runs the same viewer on a canvas of its own,
// without ebiten: see ../../wasm/canvas.go.)
//
// The Game is thin: Update turns ebiten's input into a viz.Input, takes
// the latest snapshot without waiting and hands the user's intents on
// without waiting; Draw writes the viewer's pixels into the screen only
// when they changed. Training runs elsewhere and talks to the game through
// two channels.
//
// On Linux, ebiten needs no cgo and opens no display until RunGame. A
// binary that has both ebiten and gogpu/wgpu links only with
// CGO_ENABLED=0 and -tags nofakecgo.
package game

import (
	"image"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/hajimehoshi/ebiten/v2"
	"github.com/hajimehoshi/ebiten/v2/inpututil"

	"cifarlab/viz"
)

// maxPending is how many intents wait for the program to take them
// before the oldest are dropped.
const maxPending = 64

// Game is an ebiten.Game showing a viz.UI.
type Game struct {
	ui        *viz.UI
	snapshots <-chan *viz.Snapshot
	intents   chan<- viz.Intent

	pending []viz.Intent // intents the program has not taken yet
	dropped atomic.Int64 // intents dropped because pending was full

	mu  sync.Mutex  // guards buf against Screenshot from another goroutine
	buf *image.RGBA // the viewer's pixels, Width×Height, reused

	frames      atomic.Int64 // frames drawn
	stopAt      atomic.Int64 // stop once this many frames are drawn; 0: never
	stop        atomic.Bool  // stop at the next Update
	cursor      viz.Cursor
	redraw      bool        // the screen must be drawn again (its size changed)
	outside     image.Point // the window's size, from Layout
	sinceBlit   int         // frames since the screen was last drawn
	chars       []rune
	touches     []ebiten.TouchID
	lastTouches []ebiten.TouchID // down at the last update

	onFocus   func(label string) // OnFocus's
	lastFocus string
}

// OnFocus has f called (on the game's goroutine) with the viewer's
// FocusLabel whenever it changes: the page reads it out to screen readers.
func (g *Game) OnFocus(f func(label string)) { g.onFocus = f }

// New returns a game that shows ui, takes snapshots from snapshots (the
// latest one each frame; nil or closed: none) and sends the user's
// intents to intents without ever blocking: while the channel is full they
// wait in a queue of 64, then the oldest are dropped.
func New(ui *viz.UI, snapshots <-chan *viz.Snapshot, intents chan<- viz.Intent) *Game {
	return &Game{
		ui:        ui,
		snapshots: snapshots,
		intents:   intents,
		buf:       image.NewRGBA(image.Rect(0, 0, viz.Width, viz.Height)),
	}
}

// Run opens a window of the viewer's size titled title (in the browser:
// fills the canvas) and runs g until the window closes or g stops. It
// returns nil when g stopped itself (Stop, StopAfter).
func Run(g *Game, title string) error {
	ebiten.SetWindowSize(viz.Width, viz.Height)
	ebiten.SetWindowTitle(title)
	ebiten.SetWindowResizingMode(ebiten.WindowResizingModeEnabled)
	ebiten.SetScreenClearedEveryFrame(false) // Draw draws only after a change
	return ebiten.RunGame(g)
}

// Layout fixes the game's pixels at the viewer's size; ebiten scales them
// to the window.
func (g *Game) Layout(w, h int) (int, int) {
	if p := image.Pt(w, h); p != g.outside {
		g.outside, g.redraw = p, true
	}
	return viz.Width, viz.Height
}

// Update reads this frame's input and moves snapshots and intents along.
// It returns ebiten.Termination once Stop was called or StopAfter's
// frames are drawn.
func (g *Game) Update() error {
	if g.stopped() {
		return ebiten.Termination
	}
	g.step(g.input())
	if in := droppedIntents(); in != nil {
		g.queue(in)
		g.flush()
	}
	if c := g.ui.Cursor(); c != g.cursor {
		g.cursor = c
		ebiten.SetCursorShape(cursorShape(c))
	}
	return nil
}

func (g *Game) stopped() bool {
	n := g.stopAt.Load()
	return g.stop.Load() || (n > 0 && g.frames.Load() >= n)
}

// step is Update without ebiten: the latest snapshot, the input, the
// intents.
func (g *Game) step(in viz.Input) {
	var latest *viz.Snapshot
drain:
	for g.snapshots != nil {
		select {
		case s, ok := <-g.snapshots:
			if !ok {
				g.snapshots = nil
				break drain
			}
			latest = s
		default:
			break drain
		}
	}
	if latest != nil {
		g.ui.SetSnapshot(latest)
	}
	g.queue(g.ui.Update(in))
	g.flush()
	if l := g.ui.FocusLabel(); l != g.lastFocus {
		g.lastFocus = l
		if g.onFocus != nil {
			g.onFocus(l)
		}
	}
}

// queue adds intents to the pending ones, dropping the oldest beyond
// maxPending.
func (g *Game) queue(in []viz.Intent) {
	g.pending = append(g.pending, in...)
	if n := len(g.pending) - maxPending; n > 0 {
		g.dropped.Add(int64(n))
		g.pending = append(g.pending[:0], g.pending[n:]...)
	}
}

// flush sends the pending intents, in order, as far as the channel takes
// them now.
func (g *Game) flush() {
	if g.intents == nil {
		g.pending = g.pending[:0]
		return
	}
	sent := 0
send:
	for _, it := range g.pending {
		select {
		case g.intents <- it:
			sent++
		default:
			break send
		}
	}
	g.pending = append(g.pending[:0], g.pending[sent:]...)
}

// Draw shows the viewer. The screen keeps its pixels from frame to frame
// (Run turns clearing off), so Draw writes the viewer's pixels into it
// only after a change, after a resize, and once a second in case the
// platform lost them; ebiten presents a frame only after such a write.
// Writing straight into the screen, rather than into an image drawn onto
// it, spares a full-window draw, which with a software OpenGL such as
// Mesa's llvmpipe costs half as much CPU as presenting the frame. Once
// Stop or StopAfter ended the game, Draw draws nothing and counts no
// frame.
func (g *Game) Draw(screen *ebiten.Image) {
	if g.stopped() {
		return
	}
	g.mu.Lock()
	changed := g.ui.Draw(g.buf)
	g.mu.Unlock()
	g.sinceBlit++
	if changed || g.redraw || g.sinceBlit >= 60 || ebiten.IsScreenClearedEveryFrame() {
		screen.WritePixels(g.buf.Pix)
		g.redraw, g.sinceBlit = false, 0
	}
	g.frames.Add(1)
}

// Frames returns the number of frames drawn so far. Safe from any
// goroutine.
func (g *Game) Frames() int64 { return g.frames.Load() }

// Dropped returns the number of intents dropped because the program did
// not take them. Safe from any goroutine.
func (g *Game) Dropped() int64 { return g.dropped.Load() }

// Stop makes the next Update end the game (RunGame then returns nil).
// Safe from any goroutine.
func (g *Game) Stop() { g.stop.Store(true) }

// StopAfter ends the game once n frames are drawn (n ≤ 0: never), for
// `cifarlab desktop -frames N`. Safe from any goroutine.
func (g *Game) StopAfter(n int64) { g.stopAt.Store(max(n, 0)) }

// Screenshot returns a copy of the frame last drawn (after RunGame
// returns: the last frame shown). Safe from any goroutine.
func (g *Game) Screenshot() *image.RGBA {
	g.mu.Lock()
	defer g.mu.Unlock()
	out := image.NewRGBA(g.buf.Rect)
	copy(out.Pix, g.buf.Pix)
	return out
}

func cursorShape(c viz.Cursor) ebiten.CursorShapeType {
	switch c {
	case viz.CursorPointer:
		return ebiten.CursorShapePointer
	case viz.CursorText:
		return ebiten.CursorShapeText
	}
	return ebiten.CursorShapeDefault
}

// keys maps ebiten's keys to the viewer's; repeat says which repeat while
// held.
var keys = []struct {
	k      ebiten.Key
	v      viz.Key
	repeat bool
}{
	{ebiten.KeyArrowLeft, viz.KeyLeft, true},
	{ebiten.KeyArrowRight, viz.KeyRight, true},
	{ebiten.KeyArrowUp, viz.KeyUp, true},
	{ebiten.KeyArrowDown, viz.KeyDown, true},
	{ebiten.KeyPageUp, viz.KeyPageUp, true},
	{ebiten.KeyPageDown, viz.KeyPageDown, true},
	{ebiten.KeyHome, viz.KeyHome, false},
	{ebiten.KeyEnd, viz.KeyEnd, false},
	{ebiten.KeyEnter, viz.KeyEnter, false},
	{ebiten.KeyNumpadEnter, viz.KeyEnter, false},
	{ebiten.KeyEscape, viz.KeyEscape, false},
	{ebiten.KeyBackspace, viz.KeyBackspace, true},
	{ebiten.KeyTab, viz.KeyTab, false},
	{ebiten.KeySpace, viz.KeySpace, false},
}

// Key repeat, in ticks (60 a second): after half a second, 15 a second.
const (
	repeatDelay    = 30
	repeatInterval = 4
)

func pressed(d int, repeat bool) bool {
	return d == 1 || (repeat && d >= repeatDelay && (d-repeatDelay)%repeatInterval == 0)
}

// input reads this frame's mouse, touches, wheel and keys.
func (g *Game) input() viz.Input {
	var in viz.Input
	in.X, in.Y = ebiten.CursorPosition()
	in.Pointer = in.X >= 0 && in.Y >= 0 && in.X < viz.Width && in.Y < viz.Height
	in.Click = in.Pointer && inpututil.IsMouseButtonJustPressed(ebiten.MouseButtonLeft)
	// A touch that was not down at the last update is a click (and moves
	// the pointer, so that a tap on a map shows its values). Kept here
	// rather than with inpututil's tick counts: the page updates only on
	// input, and a short tap can come and go between two counted ticks.
	g.touches = ebiten.AppendTouchIDs(g.touches[:0])
	for _, id := range g.touches {
		if !slices.Contains(g.lastTouches, id) {
			in.X, in.Y = ebiten.TouchPosition(id)
			in.Pointer, in.Click = true, true
			break
		}
	}
	g.lastTouches = append(g.lastTouches[:0], g.touches...)
	_, in.WheelY = ebiten.Wheel()
	shift := ebiten.IsKeyPressed(ebiten.KeyShift)
	for _, k := range keys {
		if pressed(inpututil.KeyPressDuration(k.k), k.repeat) {
			v := k.v
			if v == viz.KeyTab && shift {
				v = viz.KeyBackTab
			}
			in.Keys = append(in.Keys, v)
		}
	}
	g.chars = ebiten.AppendInputChars(g.chars[:0])
	in.Chars = g.chars
	return in
}
