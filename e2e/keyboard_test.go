package e2e

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/input"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"cifarlab/viz"
)

// TestKeyboardOnly trains from the keyboard alone: Tab to the viewer, Tab
// through its controls (a screen reader hears each in the focus live
// region) to Start, Enter; the live region then reads out the training.
func TestKeyboardOnly(t *testing.T) {
	srv, b := setup(t, browserOptions{})
	b.navigate(srv.url + "?model=lenet5&limit=32&batch=16&eval=16")
	b.waitFor("the page ready", 3*time.Minute, false, func(s status) bool { return s.Ready }, nil)
	press := func(key string) { run(b, "press "+key, 10*time.Second, chromedp.KeyEvent(key)) }
	for i := 0; eval[string](b, "document.activeElement ? document.activeElement.id : ''") != "viewer"; i++ {
		if i == 10 {
			t.Fatalf("ten Tabs did not reach the viewer (focus on %q)", eval[string](b, "document.activeElement.id"))
		}
		press(kb.Tab)
	}
	if c := b.element("viewer"); !strings.Contains(eval[string](b, `document.getElementById("viewer").getAttribute("aria-label")`), "Tab") || !c.Visible {
		t.Error("the viewer has no accessible name that says how to use it")
	}
	var heard []string
	for i := 0; ; i++ {
		if i == 80 {
			t.Fatalf("80 Tabs did not reach Start; heard %q", heard)
		}
		press(kb.Tab)
		time.Sleep(50 * time.Millisecond) // a frame
		f := b.element("focus").Text
		heard = append(heard, f)
		if f == "► Start, button" {
			break
		}
	}
	t.Logf("Tab went through %d controls: %s", len(heard), strings.Join(heard, " · "))
	press(kb.Enter)
	st := b.waitFor("training from the keyboard", 2*time.Minute, false, func(s status) bool { return s.Running && s.Step >= 2 }, nil)
	b.waitFor("the live region", time.Minute, false, func(status) bool {
		return strings.Contains(b.element("live").Text, "training")
	}, nil)
	t.Logf("step %d; the live region says %q", st.Step, b.element("live").Text)
	press(kb.Escape)
	press(kb.Escape)
	if id := eval[string](b, "document.activeElement ? document.activeElement.id : ''"); id != "dataset-button" {
		t.Errorf("Escape twice leaves the viewer for %q, want the bar's dataset-button", id)
	}
	b.screenshot().keep(b, "page-keyboard.png")
	for _, e := range b.console.errors() {
		t.Errorf("console: %s", e)
	}
}

// tap touches the page at (x, y) CSS pixels and lifts the finger.
func (b *browser) tap(x, y float64) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 10*time.Second)
	defer cancel()
	if _, err := chromedp.Call(ctx, input.DispatchTouchEvent, input.DispatchTouchEventParams{Type: input.DispatchTouchEventTypeTouchStart,
		TouchPoints: []*input.TouchPoint{{X: x, Y: y}}}); err != nil {
		b.t.Fatalf("touch: %v", err)
	}
	time.Sleep(100 * time.Millisecond) // a frame sees the finger down
	if _, err := chromedp.Call(ctx, input.DispatchTouchEvent, input.DispatchTouchEventParams{Type: input.DispatchTouchEventTypeTouchEnd,
		TouchPoints: []*input.TouchPoint{}}); err != nil {
		b.t.Fatalf("lift: %v", err)
	}
}

// TestPhoneViewport opens the page on a phone's viewport (390×844 CSS
// pixels): the viewer keeps one CSS pixel per pixel of its own, so its
// text stays at its 12 px and more, and the page scrolls to the rest; a
// tap on a control works.
func TestPhoneViewport(t *testing.T) {
	srv, b := setup(t, browserOptions{})
	run(b, "phone viewport", 10*time.Second, chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile, chromedp.EmulateTouch))
	noPageError(t, b.openTimed(srv.url+"?model=lenet5&autostart=1&limit=32&batch=16&eval=16", 3*time.Minute))
	size := eval[struct{ W, H, ScrollW float64 }](b, `(() => {
		const r = document.getElementById("viewer").getBoundingClientRect();
		return {W: r.width, H: r.height, ScrollW: document.scrollingElement.scrollWidth};
	})()`)
	if size.W != 1280 || size.H != 800 || size.ScrollW < 1280 {
		t.Fatalf("on a phone the viewer is %v×%v CSS pixels (page %v wide); want 1280×800, scrolling", size.W, size.H, size.ScrollW)
	}
	// Pause with a tap on the Start/Pause button (the controls' row 4).
	b.waitFor("training", time.Minute, false, func(s status) bool { return s.Running && s.Step >= 1 }, nil)
	start := center(locate(t, viz.Synthetic("lenet5", 1, 1), viz.Options{}, "btn:start"))
	b.tap(float64(start.X), float64(start.Y))
	b.waitFor("paused by a tap", time.Minute, false, func(s status) bool { return !s.Running }, nil)
	b.screenshot().keep(b, "page-phone.png")
}
