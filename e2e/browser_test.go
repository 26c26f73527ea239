package e2e

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"cifarlab/internal/testenv"
)

// browserFlags are Chromium's flags, and no others (chromedp adds
// --remote-debugging-pipe and the profile's --user-data-dir).
// --enable-unsafe-webgpu is what exposes navigator.gpu on Linux; the flags
// that turn off background networking keep Chromium from dialling out.
var browserFlags = []string{
	"headless=new",
	"enable-unsafe-webgpu",
	"no-sandbox",
	"disable-background-networking",
	"disable-component-update",
	"disable-sync",
	"no-first-run",
	"disable-quic",
}

// The viewport: the viewer's 1280×800 canvas above the page's 28-pixel bar.
const viewW, viewH = 1280, 828

// browserOptions change how newBrowser starts Chromium.
type browserOptions struct {
	noWebGPU   bool // without --enable-unsafe-webgpu
	fakeCamera bool // a camera that films a test pattern, allowed without asking
}

// browser is one Chromium with a fresh profile and one tab.
type browser struct {
	t       *testing.T
	ctx     context.Context // the tab's
	console *consoleLog
	output  *lines // Chromium's own stdout and stderr
}

// newBrowser starts Chromium for the test and stops it when the test ends.
func newBrowser(t *testing.T, o browserOptions) *browser {
	t.Helper()
	exe := testenv.Chromium(t)
	b := &browser{t: t, output: &lines{}}
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(exe),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.CombinedOutput(b.output),
	}
	for _, f := range browserFlags {
		if o.noWebGPU && f == "enable-unsafe-webgpu" {
			continue
		}
		name, value, ok := strings.Cut(f, "=")
		if ok {
			opts = append(opts, chromedp.Flag(name, value))
		} else {
			opts = append(opts, chromedp.Flag(name, true))
		}
	}
	if o.fakeCamera {
		opts = append(opts, chromedp.Flag("use-fake-device-for-media-stream", true), chromedp.Flag("use-fake-ui-for-media-stream", true))
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(actx)
	t.Cleanup(func() {
		cancel()
		cancelAlloc()
		if t.Failed() {
			b.logOutput()
		}
	})
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(viewW, viewH)); err != nil {
		t.Fatalf("start %s: %v\n%s", exe, err, b.output)
	}
	b.ctx = ctx
	b.console = watchConsole(ctx)
	return b
}

// with is b for the subtest t: its failures go to t.
func (b *browser) with(t *testing.T) *browser {
	c := *b
	c.t = t
	return &c
}

// logOutput logs Chromium's output, less its complaints about a missing
// D-Bus, which it makes in every container.
func (b *browser) logOutput() {
	out := strings.SplitAfter(b.output.String(), "\n")
	out = slices.DeleteFunc(out, func(l string) bool { return strings.Contains(l, "dbus") })
	if len(out) > 0 {
		b.t.Logf("Chromium's output:\n%s", strings.Join(out, ""))
	}
	for _, m := range b.console.all() {
		b.t.Logf("console %s", m)
	}
}

// addInitScript runs src in every page before the page's own scripts.
func (b *browser) addInitScript(src string) {
	b.t.Helper()
	if _, err := chromedp.Call(b.ctx, page.AddScriptToEvaluateOnNewDocument,
		page.AddScriptToEvaluateOnNewDocumentParams{Source: src}); err != nil {
		b.t.Fatalf("add a script to new documents: %v", err)
	}
}

// addWorkerInitScript runs src in the page's worker (the trainer) before
// its own script: an init script of the page starts every worker from a
// blob: URL whose script is src, then the worker's own (which resolves
// what it fetches against the page's URL).
func (b *browser) addWorkerInitScript(src string) {
	b.t.Helper()
	b.addInitScript(fmt.Sprintf(`{
		const Real = globalThis.Worker;
		globalThis.Worker = function (url, opts) {
			const own = new URL(url, location.href).href;
			const src = %q + "\n;importScripts(" + JSON.stringify(own) + ");";
			return new Real(URL.createObjectURL(new Blob([src], {type: "text/javascript"})), opts);
		};
	}`, src))
}

// consoleLog keeps the tab's console messages and exceptions.
type consoleLog struct {
	mu   sync.Mutex
	msgs []chromedp.ConsoleMessage
}

func watchConsole(ctx context.Context) *consoleLog {
	c := &consoleLog{}
	msgs := chromedp.Console(ctx)
	go func() {
		for m, err := range msgs {
			if err != nil {
				return
			}
			c.mu.Lock()
			c.msgs = append(c.msgs, m)
			c.mu.Unlock()
		}
	}()
	return c
}

func (c *consoleLog) all() []chromedp.ConsoleMessage {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.msgs)
}

// errors are the calls of console.error and the exceptions nothing caught.
func (c *consoleLog) errors() []string {
	var errs []string
	for _, m := range c.all() {
		if m.IsException() || (m.Type == chromedp.ConsoleError && m.Source == "") {
			s := m.String()
			if m.URL != "" {
				s += fmt.Sprintf(" (%s:%d)", m.URL, m.Line+1)
			}
			errs = append(errs, s)
		}
	}
	return errs
}

// run runs a chromedp action on the tab within timeout, failing the test
// on an error.
func run[T any](b *browser, what string, timeout time.Duration, a chromedp.Action[T]) T {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, timeout)
	defer cancel()
	v, err := chromedp.Run(ctx, a)
	if err != nil {
		b.t.Fatalf("%s: %v", what, err)
	}
	return v
}

// eval evaluates a JavaScript expression in the page and returns its value.
func eval[T any](b *browser, expr string) T {
	b.t.Helper()
	return run(b, "evaluate "+expr, 30*time.Second, chromedp.Evaluate[T](expr, chromedp.EvalAwaitPromise))
}

// navigate loads url in the tab.
func (b *browser) navigate(url string) {
	b.t.Helper()
	run(b, "navigate to "+url, 60*time.Second, chromedp.Steps(chromedp.Navigate(url)))
}
