package e2e

import (
	"fmt"
	"image"
	"image/color"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"cifarlab/internal/testenv"
	"cifarlab/viz"
)

// The tests train on tiny subsets: WebGPU on SwiftShader, and the CPU
// fallback (WebAssembly on one thread), train LeNet5 at some tens of
// images a second on two cores.

// setup starts the server on real CIFAR-10 (exact/, 4,000 training and
// 1,000 test images) and a Chromium.
func setup(t *testing.T, o browserOptions) (*server, *browser) {
	t.Helper()
	testenv.Chromium(t)
	data := testenv.Data(t)
	srv := startServer(t, buildAll(t), filepath.Join(data, "exact"))
	return srv, newBrowser(t, o)
}

// TestPageLoadsCleanly opens the page as a visitor would, with the default
// device, and checks that it starts, trains and reports nothing wrong on
// its console; then it opens it again with the dataset kept by the browser
// and reports how long the page takes to its first step.
func TestPageLoadsCleanly(t *testing.T) {
	srv, b := setup(t, browserOptions{})
	url := srv.url + "?model=lenet5&autostart=1&limit=32&batch=16&eval=16"

	first := b.openTimed(url, 3*time.Minute)
	noPageError(t, first)
	st := b.waitFor("two more steps", time.Minute, false, func(s status) bool { return s.Step >= first.Step+2 }, nil)
	checkCleanPage(t, b, st)

	cached := b.openTimed(url, 2*time.Minute)
	noPageError(t, cached)
	if !strings.Contains(cached.Dataset, "kept by the browser") {
		t.Errorf("on the second load the dataset is %q, want it kept by the browser", cached.Dataset)
	}
	checkCleanPage(t, b, b.status())
	t.Logf("page open → first step on %s: %.0f ms with the dataset downloaded, %.0f ms with it kept by the browser",
		st.Backend, first.Ms, cached.Ms)
}

func noPageError(t *testing.T, r firstStep) {
	t.Helper()
	if r.Error != "" {
		t.Fatalf("the page failed before its first step: %s", r.Error)
	}
}

// checkCleanPage checks that the page is started, with no error shown and
// none on its console.
func checkCleanPage(t *testing.T, b *browser, st status) {
	t.Helper()
	if st.Backend == "" || st.Model != "lenet5" || !st.Ready || st.Error != "" {
		t.Errorf("status: %v; want a backend, lenet5, ready and no error", st)
	}
	if e := b.element("loading"); !e.Exists || e.Visible {
		t.Errorf("the loading splash: %+v, want it hidden", e)
	}
	if e := b.element("error"); !e.Exists || e.Visible {
		t.Errorf("the error element: %+v, want it hidden", e)
	}
	if e := b.element("status"); !e.Visible || !strings.Contains(e.Text, "step") {
		t.Errorf("the status line: %+v, want it visible and naming the step", e)
	}
	for _, e := range b.console.errors() {
		t.Errorf("console: %s", e)
	}
}

// needWebGPU skips the test (or fails it, see testenv.WebGPU) when the
// page did not get a WebGPU backend.
func needWebGPU(t *testing.T, r firstStep, st status) {
	t.Helper()
	if r.Error == "" && !st.gpu() {
		testenv.WebGPU(t, fmt.Sprintf("the page trains on %q (notice %q)", st.Backend, st.Notice))
	}
	noPageError(t, r)
}

// TestLeNet5OnWebGPU trains LeNet5 on WebGPU (?device=gpu, which the page
// needs on an emulated GPU such as SwiftShader): the steps advance, the
// loss on the 32 images it trains on falls, and the feature maps are drawn
// and change as it trains. Then it reopens the page and reports the time
// to the first step with the dataset kept by the browser.
func TestLeNet5OnWebGPU(t *testing.T) {
	srv, b := setup(t, browserOptions{})
	url := srv.url + "?model=lenet5&device=gpu&autostart=1&limit=32&batch=16&eval=16"
	first := b.openTimed(url, 3*time.Minute)
	needWebGPU(t, first, b.status())

	t.Run("loss falls", func(t *testing.T) { checkLossFalls(t, b.with(t)) })
	t.Run("maps drawn", func(t *testing.T) { checkMapsDrawn(t, b.with(t), "page-lenet5.png") })
	for _, e := range b.console.errors() {
		t.Errorf("console: %s", e)
	}

	cached := b.openTimed(url, 2*time.Minute)
	noPageError(t, cached)
	if !strings.Contains(cached.Dataset, "kept by the browser") {
		t.Errorf("on the second load the dataset is %q, want it kept by the browser", cached.Dataset)
	}
	t.Logf("page open → first step on WebGPU: %.0f ms with the dataset downloaded, %.0f ms with it kept by the browser", first.Ms, cached.Ms)
}

// checkLossFalls polls the status until step 24 (12 epochs of 2 steps)
// and compares the mean loss of steps 1 to 4 with that of steps 18 on.
func checkLossFalls(t *testing.T, b *browser) {
	const lastStep = 24
	losses := map[int]float64{} // by step
	var rates []float64
	lastSeen := 0
	b.waitFor(fmt.Sprintf("step %d", lastStep), 3*time.Minute, false, func(s status) bool { return s.Step >= lastStep }, func(s status) {
		if s.Step < lastSeen {
			t.Errorf("the step went back from %d to %d", lastSeen, s.Step)
		}
		lastSeen = s.Step
		if s.Loss != nil {
			losses[s.Step] = *s.Loss
		}
		if s.ImagesPerSec != nil && *s.ImagesPerSec > 0 && s.Step > 2 {
			rates = append(rates, *s.ImagesPerSec)
		}
	})
	early, nEarly := meanLoss(losses, 1, 4)
	late, nLate := meanLoss(losses, 18, lastStep+100)
	t.Logf("loss: %.3f (steps 1–4, %d seen) → %.3f (steps 18 on, %d seen); %d steps seen in all", early, nEarly, late, nLate, len(losses))
	if nEarly == 0 || nLate == 0 || len(losses) < 6 {
		t.Fatalf("too few steps seen to compare: %v", losses)
	}
	if early < 1.8 || early > 3 {
		t.Errorf("the first steps' loss is %.3f, want about ln 10 = 2.30 for 10 classes", early)
	}
	if late > 0.75*early {
		t.Errorf("the loss fell from %.3f to %.3f only, want below %.3f (three quarters)", early, late, 0.75*early)
	}
	if len(rates) > 0 {
		slices.Sort(rates)
		t.Logf("images/s: median %.1f (%.1f to %.1f, %d samples)", rates[len(rates)/2], rates[0], rates[len(rates)-1], len(rates))
	}
}

func meanLoss(losses map[int]float64, from, to int) (float64, int) {
	sum, n := 0.0, 0
	for step, l := range losses {
		if step >= from && step <= to {
			sum += l
			n++
		}
	}
	if n == 0 {
		return 0, 0
	}
	return sum / float64(n), n
}

// checkMapsDrawn checks that the maps' area of the canvas is drawn (many
// colours, most pixels off the panel's background) and that it changes
// while the page trains.
func checkMapsDrawn(t *testing.T, b *browser, keepAs string) {
	a := b.screenshot()
	area := a.area(mapsArea)
	p := summarise(a.page, area)
	t.Logf("the maps' area: %v", p)
	checkDrawn(t, "the maps' area", p, 300)
	if st := b.status(); !st.Running {
		t.Fatalf("the page stopped training: %v", st)
	}
	var diff float64
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); {
		time.Sleep(time.Second)
		if diff = changed(a.page, b.screenshot().page, area); diff > 0.01 {
			break
		}
	}
	t.Logf("the maps' area changed in %.1f%% of its pixels while training", 100*diff)
	if diff <= 0.01 {
		t.Errorf("the maps' area did not change in 20 s of training (%.2f%% of the pixels)", 100*diff)
	}
	b.screenshot().keep(b, keepAs)
}

// drawn reports whether p looks like maps: at least minColours colours,
// and at least a fifth of the pixels off the commonest colour (the panel
// that waits for the first step has about 400 colours, in its text, on
// 1.5% of the maps' area).
func drawn(p pixels, minColours int) bool { return p.distinct >= minColours && p.busy >= 0.2 }

func checkDrawn(t *testing.T, what string, p pixels, minColours int) {
	t.Helper()
	if !drawn(p, minColours) {
		t.Errorf("%s looks blank: %v; want at least %d colours and 20%% off the commonest", what, p, minColours)
	}
}

// TestResNet18Panels trains ResNet18 for a step and checks that the
// residual blocks' panel draws its three columns: the main path, the
// shortcut and their sum.
func TestResNet18Panels(t *testing.T) {
	srv, b := setup(t, browserOptions{})
	url := srv.url + "?model=resnet18&autostart=1&limit=8&batch=4&eval=4"
	first := b.openTimed(url, 4*time.Minute)
	noPageError(t, first)
	st := b.status()
	if st.Model != "resnet18" {
		t.Fatalf("status: %v, want resnet18", st)
	}
	// The blocks' panel and its three columns, where the viewer puts them.
	blocks := locate(t, viz.Synthetic("resnet18", 1, 1), viz.Options{}, "blocks")
	groups := viz.BlockGroups(image.Rect(blocks.Min.X+8, blocks.Min.Y+24, blocks.Max.X-8, blocks.Max.Y-6))
	colW := groups[0].Dx()
	names := []string{"main path", "shortcut", "sum"}
	const minColours = 100 // the blocks' tiles are small: 5×5 down to 1×1
	var s shot
	var ps []pixels
	for deadline := time.Now().Add(2 * time.Minute); ; {
		s, ps = b.screenshot(), nil
		all := true
		for g := range names {
			cx := groups[g].Min.X
			col := image.Rect(cx+colW/8, blocks.Min.Y+40, cx+colW*7/8, blocks.Max.Y-16)
			p := summarise(s.page, s.area(col))
			ps = append(ps, p)
			all = all && drawn(p, minColours)
		}
		if all || time.Now().After(deadline) {
			break
		}
		time.Sleep(time.Second)
	}
	for g, p := range ps {
		t.Logf("ResNet18's %s column: %v", names[g], p)
		checkDrawn(t, "ResNet18's "+names[g]+" column", p, minColours)
	}
	if st := b.status(); st.Error != "" {
		t.Errorf("the page failed: %v", st)
	}
	for _, e := range b.console.errors() {
		t.Errorf("console: %s", e)
	}
	s.keep(b, "page-resnet18.png")
}

// TestCPUFallback trains on the CPU backend where WebGPU is not to be had:
// in a Chromium without --enable-unsafe-webgpu (navigator.gpu is there
// but gives no adapter), when the URL asks for the CPU, and in a page
// without navigator.gpu. Each time the notice of the CPU fallback says
// why, and no error shows: a fallback is not a failure.
func TestCPUFallback(t *testing.T) {
	srv, b := setup(t, browserOptions{noWebGPU: true})
	q := "?model=lenet5&autostart=1&limit=32&batch=16&eval=16"
	adapter := eval[bool](b, "(async () => !!(navigator.gpu && await navigator.gpu.requestAdapter()))()")
	if adapter {
		t.Fatal("Chromium without --enable-unsafe-webgpu gives a WebGPU adapter: this test expects none")
	}

	t.Run("no adapter", func(t *testing.T) {
		checkCPUFallback(t, b.with(t), srv.url+q, "WebGPU is not available here", "page-cpu.png")
	})
	t.Run("device=cpu", func(t *testing.T) {
		checkCPUFallback(t, b.with(t), srv.url+q+"&device=cpu", "(?device=cpu)", "")
	})
	t.Run("no navigator.gpu", func(t *testing.T) {
		b := b.with(t)
		b.addWorkerInitScript("delete WorkerNavigator.prototype.gpu;")
		checkCPUFallback(t, b, srv.url+q, "no WebGPU in this browser", "")
	})
}

// checkCPUFallback opens url and checks that it trains on the CPU, with
// the fallback's notice shown, saying why (want), and no error.
func checkCPUFallback(t *testing.T, b *browser, url, want, keepAs string) {
	first := b.openTimed(url, 2*time.Minute)
	if first.Error != "" {
		t.Fatalf("the page's error: %q, want none", first.Error)
	}
	st := b.waitFor("two steps", time.Minute, false, func(s status) bool { return s.Step >= 2 }, nil)
	if !strings.HasPrefix(st.Backend, "cpu") {
		t.Errorf("the backend is %q, want the CPU's", st.Backend)
	}
	if !strings.Contains(st.Notice, "CPU backend") || !strings.Contains(st.Notice, want) {
		t.Errorf("the notice is %q, want the CPU fallback's with %q", st.Notice, want)
	}
	if e := b.element("notice"); !e.Visible || !strings.Contains(e.Text, "CPU backend") {
		t.Errorf("the notice element: %+v, want it visible with the CPU fallback's notice", e)
	}
	if e := b.element("error"); e.Visible || st.Error != "" {
		t.Errorf("an error is shown: %q (status %q)", e.Text, st.Error)
	}
	s0 := st.Step
	b.waitFor("the steps to go on", time.Minute, false, func(s status) bool { return s.Step >= s0+2 }, nil)
	if keepAs != "" {
		b.screenshot().keep(b, keepAs)
	}
}

// TestGradientView opens the page on plain20 without BatchNorm in the
// gradient view (?view=grads) and checks that the bars of the gradient
// reaching each layer are drawn, and redrawn as training goes on.
func TestGradientView(t *testing.T) {
	srv, b := setup(t, browserOptions{})
	url := srv.url + "?model=plain20-nobn&view=grads&autostart=1&limit=64&batch=16&eval=16"
	first := b.openTimed(url, 4*time.Minute)
	noPageError(t, first)
	if st := b.status(); st.Model != "plain20-nobn" {
		t.Fatalf("status: %v, want plain20-nobn", st)
	}
	bars := locate(t, viz.Synthetic("resnet18", 1, 1), viz.Options{Gradients: true}, "grads")
	barShare := func(s shot) float64 { return s.share(bars, viz.BarColor) }
	var s1 shot
	st := b.waitFor("the gradient bars", 2*time.Minute, false, func(st status) bool {
		if st.Step < 2 {
			return false
		}
		s1 = b.screenshot()
		return barShare(s1) > 0.05
	}, nil)
	t.Logf("bars cover %.1f%% of their panel at step %d", 100*barShare(s1), st.Step)
	step := st.Step
	var s2 shot
	st = b.waitFor("the gradient bars to change", 2*time.Minute, false, func(st status) bool {
		if st.Step < step+3 {
			return false
		}
		s2 = b.screenshot()
		return changed(s1.page, s2.page, s1.area(bars)) > 0.001
	}, nil)
	t.Logf("at step %d, %.1f%% of the bars' pixels changed", st.Step, 100*changed(s1.page, s2.page, s1.area(bars)))
	for _, e := range b.console.errors() {
		t.Errorf("console: %s", e)
	}
	s2.keep(b, "page-gradients.png")
}

// share is the fraction of r (in the viewer's pixels) drawn within 6 of
// colour c in each channel.
func (s shot) share(r image.Rectangle, c color.RGBA) float64 {
	a := s.area(r).Intersect(s.page.Bounds())
	n := 0
	for y := a.Min.Y; y < a.Max.Y; y++ {
		for x := a.Min.X; x < a.Max.X; x++ {
			if near(rgba(s.page.At(x, y)), c, 6) {
				n++
			}
		}
	}
	return float64(n) / float64(max(a.Dx()*a.Dy(), 1))
}

// near reports whether a and b differ by at most tol in each channel.
func near(a, b color.RGBA, tol int) bool {
	d := func(x, y uint8) bool { return int(x)-int(y) <= tol && int(y)-int(x) <= tol }
	return d(a.R, b.R) && d(a.G, b.G) && d(a.B, b.B)
}

// ?experiment=shortcuts trains ResNet-20 and plain-20 without BatchNorm
// in turns: the loss chart shows both curves (the twin's in its run
// colour), the gradient bars are drawn below the experiment's account and
// change as it trains, and the account, also in the page's text for
// screen readers, says what the run showed.
func TestShortcutExperimentPage(t *testing.T) {
	srv, b := setup(t, browserOptions{})
	first := b.openTimed(srv.url+"?experiment=shortcuts&limit=64&batch=16&eval=16", 4*time.Minute)
	noPageError(t, first)
	if st := b.status(); st.Model != "resnet20-nobn" || st.Twin != "plain20-nobn" {
		t.Fatalf("status: %v, twin %q; want resnet20-nobn and plain20-nobn", st, st.Twin)
	}
	st := b.waitFor("both networks' steps", 3*time.Minute, false, func(st status) bool {
		return st.Step >= 6 && st.TwinStep >= 6
	}, nil)
	// The loss chart's plot, under its title and the runs' chips.
	loss := image.Rect(16, 562, 308, 668)
	// The twin's colour (viz's run colours are blue, green, orange…; the
	// curve of the network shown is white): only its curve is bluish.
	twinPixels := func(s shot) int {
		r := s.area(loss).Intersect(s.page.Bounds())
		n := 0
		for y := r.Min.Y; y < r.Max.Y; y++ {
			for x := r.Min.X; x < r.Max.X; x++ {
				if c := rgba(s.page.At(x, y)); int(c.B) > int(c.R)+60 {
					n++
				}
			}
		}
		return n
	}
	// The bars, under the experiment's account.
	exp := viz.Synthetic("resnet18", 1, 1)
	exp.Experiment = &viz.Experiment{Title: "t", Twin: "plain"}
	bars := locate(t, exp, viz.Options{Gradients: true}, "grads")
	barShare := func(s shot) float64 { return s.share(bars, viz.BarColor) }
	var s1 shot
	b.waitFor("the twin's loss curve and the gradient bars", 2*time.Minute, false, func(st status) bool {
		s1 = b.screenshot()
		return twinPixels(s1) > 30 && barShare(s1) > 0.05
	}, nil)
	t.Logf("step %d and %d: %d pixels of the twin's curve, bars cover %.1f%% of their panel", st.Step, st.TwinStep, twinPixels(s1), 100*barShare(s1))
	step := b.status().Step
	var s2 shot
	st = b.waitFor("the gradient bars to change", 2*time.Minute, false, func(st status) bool {
		if st.Step < step+3 {
			return false
		}
		s2 = b.screenshot()
		return changed(s1.page, s2.page, s1.area(bars)) > 0.001
	}, nil)
	acc := b.element("experiment")
	if !acc.Exists || !strings.Contains(acc.Text, "Shortcut experiment: ResNet-20 against plain-20") || !strings.Contains(acc.Text, "After ") {
		t.Errorf("the experiment's account in the page: %q", acc.Text)
	}
	t.Logf("account: %s", acc.Text)
	for _, e := range b.console.errors() {
		t.Errorf("console: %s", e)
	}
	s2.keep(b, "page-experiment.png")
}

// pageRun is an element of window.cifarlab.runs().
type pageRun struct {
	ID    int    `json:"id"`
	Name  string `json:"name"`
	Model string `json:"model"`
	Live  bool   `json:"live"`
	Steps int    `json:"steps"`
}

// The page keeps its runs across a reload (Cache Storage), and exports
// them as the JSON Lines of train -log and as CSV.
func TestRunsSurviveReload(t *testing.T) {
	srv, b := setup(t, browserOptions{})
	url := srv.url + "?model=lenet5&limit=64&batch=16&eval=16"
	noPageError(t, b.openTimed(url+"&autostart=1", 4*time.Minute))
	b.waitFor("three steps", 2*time.Minute, false, func(st status) bool { return st.Step >= 3 }, nil)
	eval[any](b, `globalThis.cifarlab.setModel("resnet20")`) // LeNet5's run ends
	var runs []pageRun
	b.waitFor("LeNet5's run kept", time.Minute, false, func(status) bool {
		runs = eval[[]pageRun](b, "globalThis.cifarlab.runs()")
		kept := eval[bool](b, `caches.open("cifarlab-runs-v1").then((c) => c.match("/cifarlab-store/runs.json")).then((r) => !!r)`)
		return len(runs) == 1 && kept
	}, nil)
	steps := runs[0].Steps
	if runs[0].Model != "LeNet5" || steps < 3 {
		t.Fatalf("runs %+v", runs)
	}

	noPageError(t, b.openTimed(url+"&autostart=1", 4*time.Minute))
	runs = eval[[]pageRun](b, "globalThis.cifarlab.runs()")
	if len(runs) == 0 || runs[0].Model != "LeNet5" || runs[0].Steps < steps {
		t.Fatalf("after the reload, runs %+v; want LeNet5's of %d steps or more first", runs, steps)
	}
	t.Logf("after the reload: %+v", runs)

	d := b.allowDownloads()
	jsonl := string(d.take(b, `globalThis.cifarlab.exportRuns("jsonl")`, ".jsonl"))
	lines := strings.Split(strings.TrimSpace(jsonl), "\n")
	if !strings.Contains(lines[0], `"event":"start"`) || !strings.Contains(jsonl, `"model":"lenet5"`) ||
		!strings.Contains(jsonl, `"grad_norms":{"conv_unit.0.weight"`) || strings.Count(jsonl, `"event":"start"`) != 1+len(runs) {
		t.Errorf("exported JSONL (%d lines) starts %q", len(lines), lines[0])
	}
	csv := string(d.take(b, `globalThis.cifarlab.exportRuns("csv")`, ".csv"))
	if !strings.HasPrefix(csv, "run,model,step,epoch,loss,accuracy,train_accuracy,test_accuracy,grad_norm:") {
		t.Errorf("exported CSV starts %.100q", csv)
	}
	for _, e := range b.console.errors() {
		t.Errorf("console: %s", e)
	}
}
