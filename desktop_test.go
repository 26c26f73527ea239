package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"image"
	"image/color"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"cifarlab/internal/app"
	"cifarlab/internal/testenv"
	"cifarlab/viz"
)

var updateDesktop = flag.Bool("update-desktop", false, "write the desktop test's screenshot to docs/desktop-lenet5.png")

// desktop's flags are checked in every build; a cifarlab built without the
// viewer says how to build one with it.
func TestDesktopFlags(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"desktop", "-model", "vgg"}, "lenet5, resnet18"},
		{[]string{"desktop", "-device", "tpu"}, "auto, cpu, gpu"},
		{[]string{"desktop", "-batch", "0"}, "-batch 0: must be 1 to 4096"},
		{[]string{"desktop", "-lr", "0"}, "-lr 0: must be a positive number"},
		{[]string{"desktop", "-frames", "-1"}, "-frames -1"},
		{[]string{"desktop", "-threads", "-2"}, "-threads -2"},
		{[]string{"desktop", "-seed", "0"}, "-seed 0"},
		{[]string{"desktop", "extra"}, `unexpected argument "extra"`},
		{[]string{"desktop", "-experiment", "-model", "lenet5"}, "lenet5 has no twin without shortcuts"},
		{[]string{"desktop", "-experiment", "-init", "w.safetensors"}, "takes no -init"},
		{[]string{"desktop", "-experiment", "-bn=false"}, "needs -model"},
	} {
		code, _, errs := cli(t, tc.args...)
		if code != 2 || !strings.Contains(errs, tc.want) {
			t.Errorf("%v: exit %d, stderr %q; want exit 2 and %q", tc.args, code, errs, tc.want)
		}
	}
	f, err := parseDesktopFlags([]string{"-model", "resnet18", "-shuffle=false", "-limit", "100", "-seed", "7"}, os.Stderr)
	if err != nil {
		t.Fatal(err)
	}
	cfg := f.sessionConfig(8)
	if cfg.Model != "resnet18" || !cfg.FileOrder || cfg.Limit != 100 || cfg.Seed != 7 || cfg.StatsEvery != 8 ||
		f.weights != "resnet18.safetensors" || f.threads < 1 {
		t.Errorf("flags %+v gave the session %+v", f, cfg)
	}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"-experiment"}, "resnet20-nobn"},
		{[]string{"-experiment", "-model", "plain56"}, "resnet56"},
		{[]string{"-experiment", "-model", "resnet18", "-bn=false"}, "resnet18-nobn"},
	} {
		f, err := parseDesktopFlags(c.args, os.Stderr)
		if err != nil || f.sessionConfig(1).Experiment != c.want || f.view.value != "grads" {
			t.Errorf("%v: %+v, %v; want the experiment of %s in the gradient view", c.args, f, err, c.want)
		}
	}
	if !desktopBuilt {
		code, _, errs := cli(t, "desktop", "-limit", "10")
		if code != 1 || !strings.Contains(errs, "built without the desktop viewer") || !strings.Contains(errs, "make build") {
			t.Errorf("desktop in a build without it: exit %d, stderr %q", code, errs)
		}
	}
}

// buildDesktop builds cifarlab with the desktop viewer, as make build does.
func buildDesktop(t *testing.T) string {
	t.Helper()
	goCmd, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("no go command on PATH to build the desktop viewer: %v", err)
	}
	bin := filepath.Join(t.TempDir(), "cifarlab")
	cmd := exec.Command(goCmd, "build", "-tags", "nofakecgo", "-o", bin, ".")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("CGO_ENABLED=0 go build -tags nofakecgo: %v\n%s", err, out)
	}
	return bin
}

// TestDesktop runs `cifarlab desktop` under Xvfb while LeNet5 trains on
// real CIFAR-10 on the CPU backend: it exits after -frames frames, prints
// the frame rate and how far training got, and its screenshot shows every
// feature-map panel drawn. With -update-desktop the screenshot becomes
// docs/desktop-lenet5.png.
func TestDesktop(t *testing.T) {
	if testing.Short() {
		t.Skip("builds cifarlab with the desktop viewer and runs it for several seconds")
	}
	data := filepath.Join(testenv.Data(t), "exact")
	xvfb := testenv.Xvfb(t)
	bin := buildDesktop(t)
	dir := t.TempDir()

	t.Run("no display", func(t *testing.T) {
		cmd := exec.Command(bin, "desktop", "-data", filepath.Join(data, "data_batch_1.bin"))
		cmd.Env = slices.DeleteFunc(os.Environ(), func(kv string) bool { return strings.HasPrefix(kv, "DISPLAY=") })
		out, err := cmd.CombinedOutput()
		if code := cmd.ProcessState.ExitCode(); code != 1 || !strings.Contains(string(out), "no display") ||
			strings.Contains(string(out), "panic") {
			t.Errorf("without $DISPLAY: exit %d (%v), output %q; want exit 1 and a clear error", code, err, out)
		}
	})

	const frames = 240
	shot, weights := filepath.Join(dir, "desktop.png"), filepath.Join(dir, "w.safetensors")
	// An earlier run of the last start, kept beside the weights.
	kept, err := app.EncodeRuns([]*app.RunRecord{{Model: "plain20", NormsEvery: 1, Steps: []app.StepRecord{{Step: 1, Epoch: 1, Loss: 2.3}}}})
	if err != nil {
		t.Fatal(err)
	}
	runsFile := filepath.Join(dir, "w.runs.json")
	if err := os.WriteFile(runsFile, kept, 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	args := append(xvfb[1:], bin, "desktop", "-autostart", "-frames", strconv.Itoa(frames), "-screenshot", shot,
		"-data", filepath.Join(data, "data_batch_1.bin"), "-test", filepath.Join(data, "test_batch.bin"),
		"-limit", "1024", "-device", "cpu", "-weights", weights)
	cmd := exec.CommandContext(ctx, xvfb[0], args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("%s: %v\nstdout:\n%s\nstderr:\n%s", strings.Join(cmd.Args, " "), err, &stdout, &stderr)
	}
	out := stdout.String()
	t.Logf("%s", out)
	if s := stderr.String(); strings.Contains(s, "released by GC") || strings.Contains(s, "last error") {
		t.Errorf("stderr:\n%s", s)
	}

	m := regexp.MustCompile(`desktop: (\d+) frames in [0-9.]+ s \(([0-9.]+) frames/s\); ebiten.ActualFPS ([0-9.]+) at exit`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("no frame rate printed:\n%s", out)
	}
	if n, _ := strconv.Atoi(m[1]); n != frames {
		t.Errorf("%d frames drawn, want -frames %d", n, frames)
	}
	if fps, _ := strconv.ParseFloat(m[3], 64); !(fps > 0) {
		t.Errorf("ebiten.ActualFPS %s at exit", m[3])
	}
	st := regexp.MustCompile(`desktop: lenet5 on cpu [^:]*: step (\d+),`).FindStringSubmatch(out)
	if st == nil {
		t.Fatalf("no training status printed:\n%s", out)
	}
	if n, _ := strconv.Atoi(st[1]); n < 1 {
		t.Errorf("training did not advance: step %d", n)
	}

	keptNow, err := os.ReadFile(runsFile)
	runs, derr := app.DecodeRuns(keptNow)
	if err != nil || derr != nil || len(runs) != 2 || runs[0].Model != "plain20" || runs[1].Model != "lenet5" || len(runs[1].Steps) == 0 {
		t.Errorf("the runs kept at exit: %d, %v, %v; want plain20's kept and lenet5's", len(runs), err, derr)
	}

	img := readPNG(t, shot)
	if b := img.Bounds(); b != image.Rect(0, 0, viz.Width, viz.Height) {
		t.Fatalf("screenshot is %v, want 1280×800", b)
	}
	for i, area := range mapAreas(t, weights) {
		if why := blank(img, area); why != "" {
			t.Errorf("feature-map panel %d (%d pixels around %v) is not drawn: %s", i, len(area), area[len(area)/2], why)
		}
	}
	if *updateDesktop {
		data, err := os.ReadFile(shot)
		if err == nil {
			err = os.WriteFile(filepath.Join("docs", "desktop-lenet5.png"), data, 0o644)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
}

func readPNG(t *testing.T, path string) image.Image {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return img
}

// mapAreas finds, for each of LeNet5's feature-map panels (conv1, pool1,
// conv2, pool2), the pixels that show its maps' values: those that change
// when only that panel's values change, in two renderings of viz's
// synthetic LeNet5 snapshot, whose maps have cifarlab's shapes and so the
// same layout as the desktop's.
func mapAreas(t *testing.T, weightsPath string) [][]image.Point {
	t.Helper()
	render := func(s *viz.Snapshot) *image.RGBA {
		dst := image.NewRGBA(image.Rect(0, 0, viz.Width, viz.Height))
		u := viz.New(viz.Options{WeightsPath: weightsPath})
		u.SetSnapshot(s)
		u.Draw(dst)
		return dst
	}
	base := viz.Synthetic("lenet5", 1, 100)
	if len(base.Panels) != 4 {
		t.Fatalf("viz.Synthetic's LeNet5 has %d panels, want 4", len(base.Panels))
	}
	ref := render(base)
	var areas [][]image.Point
	for i := range base.Panels {
		alt := *base
		alt.Panels = slices.Clone(base.Panels)
		p := &alt.Panels[i]
		p.Maps = slices.Clone(p.Maps)
		for k := range p.Maps {
			d := slices.Clone(p.Maps[k].Data)
			for j := range d {
				d[j] = -d[j]
			}
			p.Maps[k].Data = d
		}
		img := render(&alt)
		var area []image.Point
		for y := range viz.Height {
			for x := range viz.Width {
				if img.RGBAAt(x, y) != ref.RGBAAt(x, y) {
					area = append(area, image.Pt(x, y))
				}
			}
		}
		if len(area) < 100 {
			t.Fatalf("panel %d of the synthetic snapshot covers %d pixels", i, len(area))
		}
		areas = append(areas, area)
	}
	return areas
}

// blank says why the pixels of area look blank, or returns "": a drawn
// panel shows many colours, none of them on most of it (a panel of
// constant maps, or a background, is one colour).
func blank(img image.Image, area []image.Point) string {
	count := map[color.Color]int{}
	most := 0
	for _, p := range area {
		c := img.At(p.X, p.Y)
		count[c]++
		most = max(most, count[c])
	}
	switch {
	case len(count) < 16:
		return strconv.Itoa(len(count)) + " colours"
	case most*2 > len(area):
		return "one colour covers " + strconv.Itoa(100*most/len(area)) + "% of it"
	}
	return ""
}

// A runs file that does not decode is moved aside, not overwritten by the
// next runs.
func TestUnreadableRunsKeptAside(t *testing.T) {
	dir := t.TempDir()
	runs := filepath.Join(dir, "w.runs.json")
	if err := os.WriteFile(runs, []byte("not json"), 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := parseDesktopFlags([]string{"-runs", runs}, os.Stderr)
	if err != nil {
		t.Fatal(err)
	}
	var cfg app.Config
	var stderr bytes.Buffer
	f.keepRuns(&cfg, &stderr)
	kept, err := os.ReadFile(runs + ".unreadable")
	if err != nil || string(kept) != "not json" || cfg.Runs != nil || !strings.Contains(stderr.String(), "moved to") {
		t.Errorf("kept %q (%v), cfg.Runs %q, stderr %q", kept, err, cfg.Runs, stderr.String())
	}
	if _, err := os.Stat(runs); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the unreadable file is still at %s: %v", runs, err)
	}
}
