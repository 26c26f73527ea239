// Command pagestart measures how long cifarlab's page takes from opening to
// its first training step, in headless Chromium with WebGPU (SwiftShader
// where there is no GPU), with the dataset in the browser's Cache Storage.
// It measures what `make build` last built: bin/cifarlab and site/.
//
//	go run ./tools/pagestart -data ../shared/cifar10/exact
//
// It starts `cifarlab serve` (-cifarlab, -site) on a free loopback port,
// opens http://127.0.0.1:PORT/?model=lenet5&autostart=1&limit=1000 in one
// fresh Chromium profile -runs times (the first load fills the cache; the
// later ones are the measurement) and reports for each load, in
// milliseconds from the navigation's start: the modules' fetches, the
// page's performance marks and measures, and the first step
// (window.cifarlab.status().step ≥ 1, polled every 5 ms in the page). (The
// gpu package's marks, one per shader module and pipeline compiled, are
// the trainer's: they are in its worker's timeline, which this does not
// read.)
// -device sets the page's device parameter: by default the page trains on
// the CPU where WebGPU only emulates a GPU (as SwiftShader does);
// -device=gpu measures WebGPU there anyway. With -train D it then counts
// the steps the page trains over D and reports images/s, the page's
// animation frames meanwhile, and how soon Space shows and is carried out.
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	stdnet "net"
	"net/http"
	"os"
	"os/exec"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "pagestart:", err)
		os.Exit(1)
	}
}

type options struct {
	cifarlab, site, data, chromium string
	model, device, query           string
	limit, runs                    int
	timeout, train                 time.Duration
	console, chromiumLog           bool
}

func run() error {
	var o options
	flag.StringVar(&o.cifarlab, "cifarlab", "bin/cifarlab", "the cifarlab `binary` that serves the page")
	flag.StringVar(&o.site, "site", "site", "the site `DIR` to serve")
	flag.StringVar(&o.data, "data", "", "the dataset `PATH` the server offers (required)")
	flag.StringVar(&o.chromium, "chromium", "", "the Chromium `binary` (default: chromedp's search)")
	flag.StringVar(&o.model, "model", "lenet5", "the model")
	flag.StringVar(&o.device, "device", "", "the page's ?device=: auto, gpu or cpu (default: the page's, auto)")
	flag.StringVar(&o.query, "query", "", "more URL parameters, `a=b&c=d`")
	flag.IntVar(&o.limit, "limit", 1000, "training images")
	flag.IntVar(&o.runs, "runs", 4, "page loads; the first fills the cache")
	flag.DurationVar(&o.timeout, "timeout", 3*time.Minute, "bound of each load")
	flag.DurationVar(&o.train, "train", 0, "after the last load, count the steps trained over this long (from step 3) and report images/s")
	flag.BoolVar(&o.console, "console", false, "print the page's console messages, timed")
	flag.BoolVar(&o.chromiumLog, "chromium-log", false, "print Chromium's own log (--enable-logging=stderr --v=0)")
	flag.Parse()
	if o.data == "" {
		return errors.New("-data PATH is required")
	}

	addr, stopServer, err := startServer(o)
	if err != nil {
		return err
	}
	defer stopServer()

	profile, err := os.MkdirTemp("", "pagestart-profile-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(profile)
	flags := []chromedp.ExecAllocatorOption{
		chromedp.UserDataDir(profile),
		chromedp.Flag("headless", "new"),
		chromedp.Flag("enable-unsafe-webgpu", true),
		chromedp.Flag("no-sandbox", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("disable-quic", true),
	}
	if o.chromium != "" {
		flags = append(flags, chromedp.ExecPath(o.chromium))
	}
	if o.chromiumLog {
		flags = append(flags, chromedp.Flag("enable-logging", "stderr"), chromedp.Flag("v", "0"),
			chromedp.CombinedOutput(prefixed{os.Stderr, "chromium: "}))
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), flags...)
	defer cancelAlloc()
	ctx, cancel := chromedp.NewContext(actx)
	defer cancel()
	if err := chromedp.Do(ctx); err != nil {
		return fmt.Errorf("start chromium: %w", err)
	}

	var console chan consoleMsg
	if o.console {
		console = make(chan consoleMsg, 1024)
		err := chromedp.Listen(ctx, func(ev any) {
			if e, ok := ev.(*runtime.EventConsoleAPICalled); ok {
				var parts []string
				for _, a := range e.Args {
					s := a.Description
					var str string
					if len(a.Value) > 0 {
						s = string(a.Value)
						if json.Unmarshal(a.Value, &str) == nil {
							s = str
						}
					}
					parts = append(parts, s)
				}
				select {
				case console <- consoleMsg{at: float64(e.Timestamp), text: strings.Join(parts, " ")}:
				default:
				}
			}
		})
		if err != nil {
			return err
		}
	}

	q := fmt.Sprintf("model=%s&autostart=1&limit=%d", o.model, o.limit)
	if o.device != "" {
		q += "&device=" + o.device
	}
	if o.query != "" {
		q += "&" + o.query
	}
	url := "http://" + addr + "/?" + q
	fmt.Printf("pagestart: %s, %d loads\n", url, o.runs)
	var cached []float64
	for i := 0; i < o.runs; i++ {
		r, err := load(ctx, url, o.timeout)
		if err != nil {
			return fmt.Errorf("load %d: %w", i+1, err)
		}
		what := "cached dataset"
		if i == 0 {
			what = "first load, fills the cache"
		} else {
			cached = append(cached, r.Step)
		}
		fmt.Printf("\nload %d (%s): first step at %.0f ms; backend %q\n", i+1, what, r.Step, r.Backend)
		r.print(os.Stdout)
		if console != nil {
			printConsole(console, r.Origin)
		}
	}
	if len(cached) > 0 {
		sort.Float64s(cached)
		fmt.Printf("\nfirst step with the dataset cached: median %.0f ms, min %.0f, max %.0f (%d loads)\n",
			cached[len(cached)/2], cached[0], cached[len(cached)-1], len(cached))
	}
	if o.train > 0 {
		return measureTraining(ctx, o.train)
	}
	return nil
}

// progress is what measureTraining reads of the page's status.
type progress struct {
	Step    int    `json:"step"`
	Batch   int    `json:"batch"`
	Backend string `json:"backend"`
	Error   string `json:"error"`
	Running bool   `json:"running"`
	Pending bool   `json:"pending"` // a Start or Pause the trainer has not carried out yet
}

// frames counts the page's animation frames (requestAnimationFrame runs
// only when the page's thread is free to draw) and the longest gap.
type frames struct {
	N     int     `json:"n"`
	Worst float64 `json:"worst"` // ms
}

const countFrames = `(() => {
	const f = globalThis.__frames = {n: 0, last: performance.now(), worst: 0};
	const tick = (t) => { f.n++; f.worst = Math.max(f.worst, t - f.last); f.last = t; requestAnimationFrame(tick); };
	requestAnimationFrame(tick);
	return null;
})()`

// measureTraining counts the steps the open page trains over d, from its
// third step (the first ones include compiling and warming up), and
// prints images/s: steps × batch / elapsed time.
func measureTraining(ctx context.Context, d time.Duration) error {
	get := func() (progress, error) {
		return chromedp.Run(ctx, chromedp.Evaluate[progress](`globalThis.cifarlab.status()`))
	}
	var a progress
	for deadline := time.Now().Add(3 * time.Minute); ; time.Sleep(100 * time.Millisecond) {
		var err error
		if a, err = get(); err != nil {
			return err
		}
		if a.Error != "" {
			return fmt.Errorf("the page failed: %s", a.Error)
		}
		if a.Step >= 3 {
			break
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("no third step within 3 minutes (step %d)", a.Step)
		}
	}
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[any](countFrames)); err != nil {
		return err
	}
	t0 := time.Now()
	time.Sleep(d)
	b, err := get()
	if err != nil {
		return err
	}
	secs := time.Since(t0).Seconds()
	f, err := chromedp.Run(ctx, chromedp.Evaluate[frames](`globalThis.__frames`))
	if err != nil {
		return err
	}
	fmt.Printf("\ntraining on %s, batch %d: steps %d → %d in %.1f s: %.1f images/s\n",
		b.Backend, b.Batch, a.Step, b.Step, secs, float64((b.Step-a.Step)*b.Batch)/secs)
	fmt.Printf("while training: %.1f animation frames/s, the longest gap between two %.0f ms\n", float64(f.N)/secs, f.Worst)
	return measureLatency(ctx, get)
}

// measureLatency presses Space (pause, then start again) four times and
// reports how long each took to show in the page's status, from the key
// event's dispatch: until its running flag changed (the page shows what
// was asked at once), and until the trainer had carried it out (pending
// false again: a pause waits for the step in progress).
func measureLatency(ctx context.Context, get func() (progress, error)) error {
	var ms, done []string
	for range 4 {
		before, err := get()
		if err != nil {
			return err
		}
		t := time.Now()
		if _, err := chromedp.Run(ctx, chromedp.KeyEvent(" ")); err != nil {
			return err
		}
		for {
			p, err := get()
			if err != nil {
				return err
			}
			if p.Running != before.Running && len(ms) < len(done)+1 {
				ms = append(ms, fmt.Sprintf("%.0f", float64(time.Since(t).Microseconds())/1000))
			}
			if p.Running != before.Running && !p.Pending {
				done = append(done, fmt.Sprintf("%.0f", float64(time.Since(t).Microseconds())/1000))
				break
			}
			if time.Since(t) > 30*time.Second {
				return fmt.Errorf("Space changed nothing within 30 s")
			}
			time.Sleep(2 * time.Millisecond)
		}
	}
	fmt.Printf("Space (pause, start, pause, start) answered in %s ms; carried out by the trainer in %s ms\n",
		strings.Join(ms, ", "), strings.Join(done, ", "))
	return nil
}

// result is what a load reports, from the page (see waitScript).
type result struct {
	Step    float64 `json:"step"`   // ms from the navigation's start
	Origin  float64 `json:"origin"` // performance.timeOrigin, ms since the epoch
	Backend string  `json:"backend"`
	Error   string  `json:"error"`
	Entries []entry `json:"entries"`
}

type entry struct {
	Name     string  `json:"name"`
	Type     string  `json:"type"`
	Start    float64 `json:"start"`
	Duration float64 `json:"duration"`
}

// waitScript resolves when the first step is done, with the page's timing.
const waitScript = `new Promise((resolve) => {
	const done = (s) => resolve({
		step: performance.now(), origin: performance.timeOrigin, backend: s.backend, error: s.error,
		entries: performance.getEntries()
			.filter((e) => e.entryType !== "resource" || e.name.includes("cifarlab") || e.name.includes("wasm_exec") || e.name.includes("/data"))
			.map((e) => ({name: e.name, type: e.entryType, start: e.entryType === "resource" ? e.requestStart : e.startTime,
				duration: e.entryType === "resource" ? e.responseEnd - e.requestStart : e.duration})),
	});
	const poll = () => {
		const s = globalThis.cifarlab && globalThis.cifarlab.status();
		if (s && (s.step >= 1 || (s.error && !s.error.startsWith("WebGPU failed")))) {
			done(s);
			return;
		}
		setTimeout(poll, 5);
	};
	poll();
})`

// load opens url and waits for the first step.
func load(ctx context.Context, url string, timeout time.Duration) (*result, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	// Leave the last page first: it may still be training, and a page
	// busy on the GPU delays the next navigation by seconds.
	if err := chromedp.Do(ctx, chromedp.Navigate("about:blank")); err != nil {
		return nil, err
	}
	time.Sleep(time.Second)
	if err := chromedp.Do(ctx, chromedp.Navigate(url)); err != nil {
		return nil, err
	}
	r, err := chromedp.Run(ctx, chromedp.Evaluate[result](waitScript, chromedp.EvalAwaitPromise))
	if err != nil {
		return nil, err
	}
	if r.Error != "" {
		return &r, fmt.Errorf("the page failed: %s", r.Error)
	}
	return &r, nil
}

// print writes the entries in order of their end.
func (r *result) print(w io.Writer) {
	slices.SortStableFunc(r.Entries, func(a, b entry) int {
		return int((a.Start + a.Duration) - (b.Start + b.Duration))
	})
	for _, e := range r.Entries {
		switch e.Type {
		case "mark":
			fmt.Fprintf(w, "  %8.0f           %s\n", e.Start, e.Name)
		case "measure", "resource", "navigation":
			fmt.Fprintf(w, "  %8.0f %8.0f  %s (%s, from %.0f)\n", e.Start+e.Duration, e.Duration, e.Name, e.Type, e.Start)
		}
	}
}

type consoleMsg struct {
	at   float64 // ms since the epoch
	text string
}

// printConsole prints the console messages so far, in ms from origin.
func printConsole(ch chan consoleMsg, origin float64) {
	for {
		select {
		case m := <-ch:
			fmt.Printf("  console %8.0f  %s\n", m.at-origin, m.text)
		default:
			return
		}
	}
}

// startServer runs cifarlab serve on a free loopback port and waits until
// it answers.
func startServer(o options) (string, func(), error) {
	ln, err := stdnet.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, err
	}
	addr := ln.Addr().String()
	ln.Close()
	cmd := exec.Command(o.cifarlab, "serve", "-addr", addr, "-data", o.data, "-site", o.site)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return "", nil, err
	}
	if err := cmd.Start(); err != nil {
		return "", nil, fmt.Errorf("start %s serve: %w", o.cifarlab, err)
	}
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			fmt.Fprintln(os.Stderr, "serve:", sc.Text())
		}
	}()
	stop := func() {
		cmd.Process.Signal(os.Interrupt)
		cmd.Wait()
	}
	for deadline := time.Now().Add(30 * time.Second); ; {
		resp, err := http.Get("http://" + addr + "/")
		if err == nil {
			resp.Body.Close()
			return addr, stop, nil
		}
		if time.Now().After(deadline) {
			stop()
			return "", nil, fmt.Errorf("the server did not answer: %w", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// prefixed writes each line with a prefix.
type prefixed struct {
	w      io.Writer
	prefix string
}

func (p prefixed) Write(b []byte) (int, error) {
	for _, l := range strings.SplitAfter(string(b), "\n") {
		if l != "" {
			fmt.Fprint(p.w, p.prefix+l)
		}
	}
	return len(b), nil
}
