package e2e

import (
	"bytes"
	"fmt"
	"image"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/chromedp/chromedp"

	"cifarlab/viz"
)

// status is what window.cifarlab.status() returns (wasm/main.go); null
// numbers are nil.
type status struct {
	Backend          string    `json:"backend"`
	Model            string    `json:"model"`
	Step             int       `json:"step"`
	Epoch            int       `json:"epoch"`
	Loss             *float64  `json:"loss"`
	TestAccuracy     *float64  `json:"testAccuracy"`
	ImagesPerSec     *float64  `json:"imagesPerSec"`
	Error            string    `json:"error"`
	Running          bool      `json:"running"`
	Ready            bool      `json:"ready"`
	Batch            int       `json:"batch"`
	Dataset          string    `json:"dataset"`
	TrainImages      int       `json:"trainImages"`
	Notice           string    `json:"notice"`
	Experiment       string    `json:"experiment"`
	Confusion        [][]int   `json:"confusion"`
	PerClassAccuracy []float64 `json:"perClassAccuracy"`
	EvalImages       int       `json:"evalImages"`
	Twin             string    `json:"twin"`
	TwinStep         int       `json:"twinStep"`
	Pending          bool      `json:"pending"`
}

func (s status) String() string {
	f := func(p *float64) string {
		if p == nil {
			return "null"
		}
		return fmt.Sprintf("%.4g", *p)
	}
	return fmt.Sprintf("{backend %q, model %s, step %d, epoch %d, loss %s, test accuracy %s, images/s %s, running %v, ready %v, batch %d, error %q, notice %q}",
		s.Backend, s.Model, s.Step, s.Epoch, f(s.Loss), f(s.TestAccuracy), f(s.ImagesPerSec), s.Running, s.Ready, s.Batch, s.Error, s.Notice)
}

// gpu reports whether the backend is WebGPU's (its name starts with "gpu").
func (s status) gpu() bool { return strings.HasPrefix(s.Backend, "gpu") }

func (b *browser) status() status {
	b.t.Helper()
	return eval[status](b, "globalThis.cifarlab.status()")
}

// waitFor polls the page's status every 100 ms until ok accepts it, and
// returns it. It fails the test after timeout, and at once on an error in
// the status unless errorsOK. seen, when not nil, gets each status polled.
func (b *browser) waitFor(what string, timeout time.Duration, errorsOK bool, ok func(status) bool, seen func(status)) status {
	b.t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		st := b.status()
		if seen != nil {
			seen(st)
		}
		if st.Error != "" && !errorsOK {
			b.t.Fatalf("waiting for %s, the page failed: %s\nstatus: %v", what, st.Error, st)
		}
		if ok(st) {
			return st
		}
		if time.Now().After(deadline) {
			b.t.Fatalf("no %s within %v; status: %v; the page's status line: %q", what, timeout, st, b.element("status").Text)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// element is the state of an element of the page.
type element struct {
	Exists  bool   `json:"exists"`
	Visible bool   `json:"visible"` // not hidden, and laid out with a size
	Text    string `json:"text"`
}

func (b *browser) element(id string) element {
	b.t.Helper()
	return eval[element](b, fmt.Sprintf(`(() => {
		const e = document.getElementById(%q);
		if (!e) return {exists: false, visible: false, text: ""};
		const r = e.getBoundingClientRect();
		return {exists: true, visible: !e.hidden && r.width > 0 && r.height > 0, text: e.textContent};
	})()`, id))
}

// firstStepScript resolves when the page has done its first step (or
// failed), with the milliseconds since the navigation started and the
// dataset in use.
const firstStepScript = `new Promise((resolve) => {
	const poll = () => {
		const s = globalThis.cifarlab && globalThis.cifarlab.status();
		if (s && (s.step >= 1 || s.error)) {
			const d = document.getElementById("dataset");
			resolve({ms: performance.now(), step: s.step, error: s.error, dataset: d ? d.textContent : ""});
			return;
		}
		setTimeout(poll, 5);
	};
	poll();
})`

type firstStep struct {
	Ms      float64 `json:"ms"`
	Step    int     `json:"step"`
	Error   string  `json:"error"`
	Dataset string  `json:"dataset"`
}

// openTimed opens url and waits for the first step or an error, timed in
// the page from the navigation's start.
func (b *browser) openTimed(url string, timeout time.Duration) firstStep {
	b.t.Helper()
	// Leave the last page first: a page busy on the GPU delays the next
	// navigation.
	b.navigate("about:blank")
	b.navigate(url)
	return run(b, "wait for the first step", timeout, chromedp.Evaluate[firstStep](firstStepScript, chromedp.EvalAwaitPromise))
}

// shot is a screenshot of the viewport and the viewer's canvas in it.
type shot struct {
	png    []byte
	page   image.Image
	canvas image.Rectangle // in page pixels
}

// screenshot takes a screenshot of the viewport; it fails the test when
// the page has no viewer canvas.
func (b *browser) screenshot() shot {
	b.t.Helper()
	rect := eval[struct{ X, Y, W, H float64 }](b, `(() => {
		const c = document.getElementById("viewer");
		if (!c) return {X: 0, Y: 0, W: 0, H: 0};
		const r = c.getBoundingClientRect();
		return {X: r.x, Y: r.y, W: r.width, H: r.height};
	})()`)
	if rect.W < 1 || rect.H < 1 {
		b.t.Fatalf("the page has no canvas with the id viewer, or it has no size (%+v)", rect)
	}
	data := run(b, "screenshot", 30*time.Second, chromedp.CaptureScreenshot())
	img, err := png.Decode(bytes.NewReader(data))
	if err != nil {
		b.t.Fatalf("decode the screenshot: %v", err)
	}
	canvas := image.Rect(int(rect.X), int(rect.Y), int(rect.X+rect.W), int(rect.Y+rect.H)).Intersect(img.Bounds())
	return shot{png: data, page: img, canvas: canvas}
}

// keep writes the screenshot to $CIFARLAB_SCREENSHOTS/name when the
// variable is set.
func (s shot) keep(b *browser, name string) {
	dir := os.Getenv("CIFARLAB_SCREENSHOTS")
	if dir == "" {
		return
	}
	if !filepath.IsAbs(dir) {
		dir = filepath.Join(root, dir) // relative to the module, as docs
	}
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, s.png, 0o644); err != nil {
		b.t.Errorf("keep the screenshot: %v", err)
		return
	}
	b.t.Logf("wrote %s", path)
}

// area is the part of the canvas that the viewer draws at r (in the
// viewer's 1280×800 coordinates), in page pixels.
func (s shot) area(r image.Rectangle) image.Rectangle {
	sx := float64(s.canvas.Dx()) / viz.Width
	sy := float64(s.canvas.Dy()) / viz.Height
	return image.Rect(
		s.canvas.Min.X+int(float64(r.Min.X)*sx), s.canvas.Min.Y+int(float64(r.Min.Y)*sy),
		s.canvas.Min.X+int(float64(r.Max.X)*sx), s.canvas.Min.Y+int(float64(r.Max.Y)*sy))
}
