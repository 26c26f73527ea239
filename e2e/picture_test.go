package e2e

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"cifarlab/internal/testenv"
)

// dropFile dispatches a drop of a file named name with data on the page,
// as dragging it from the desktop does.
func (b *browser) dropFile(name, typ string, data []byte) {
	b.t.Helper()
	eval[any](b, fmt.Sprintf(`(() => {
		const bytes = Uint8Array.from(atob(%q), (c) => c.charCodeAt(0));
		const dt = new DataTransfer();
		dt.items.add(new File([bytes], %q, {type: %q}));
		window.dispatchEvent(new DragEvent("drop", {dataTransfer: dt, bubbles: true, cancelable: true}));
		return null;
	})()`, base64.StdEncoding.EncodeToString(data), name, typ))
}

type pagePrediction struct {
	Probs   []float64 `json:"probs"`
	Label   int       `json:"label"`
	Picture string    `json:"picture"`
}

// TestDroppedPicture drops a photo on the page: it is inspected in place
// of a test image, and its probabilities are those cifarlab predict gives
// for the same file and the page's weights. A file that is neither a
// picture nor a dataset gets a clear error.
func TestDroppedPicture(t *testing.T) {
	srv, b := setup(t, browserOptions{})
	noPageError(t, b.openTimed(srv.url+"?model=lenet5&autostart=1&limit=64&batch=16&eval=16", 3*time.Minute))
	b.waitFor("three steps", 2*time.Minute, false, func(s status) bool { return s.Step >= 3 }, nil)
	eval[any](b, "globalThis.cifarlab.pause()")
	dir := t.TempDir()
	weights := filepath.Join(dir, "page.safetensors")
	if err := os.WriteFile(weights, b.allowDownloads().save(b), 0o644); err != nil {
		t.Fatal(err)
	}

	img := image.NewNRGBA(image.Rect(0, 0, 120, 80))
	for y := range 80 {
		for x := range 120 {
			img.Set(x, y, color.NRGBA{uint8(2 * x), uint8(3 * y), uint8((x * y) % 256), 255})
		}
	}
	var file bytes.Buffer
	if err := png.Encode(&file, img); err != nil {
		t.Fatal(err)
	}
	photo := filepath.Join(dir, "photo.png")
	if err := os.WriteFile(photo, file.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	b.dropFile("photo.png", "image/png", file.Bytes())
	var got pagePrediction
	b.waitFor("the picture's prediction", time.Minute, false, func(status) bool {
		got = eval[pagePrediction](b, "globalThis.cifarlab.prediction() || {}")
		return got.Picture == "photo.png" && len(got.Probs) == 10
	}, nil)
	if got.Label != -1 {
		t.Errorf("a picture's label: %d, want -1 (unknown)", got.Label)
	}

	out, err := output(buildAll(t).cifarlab, "predict", "-weights", weights, "-json", photo)
	if err != nil {
		t.Fatal(err)
	}
	var want struct {
		Probs []float64 `json:"probs"`
	}
	if err := json.Unmarshal([]byte(out), &want); err != nil {
		t.Fatalf("predict's output %q: %v", out, err)
	}
	for k := range want.Probs {
		if math.Abs(got.Probs[k]-want.Probs[k]) > 1e-5 {
			t.Fatalf("the page's probabilities %v, predict's %v", got.Probs, want.Probs)
		}
	}
	t.Logf("the page and predict agree on photo.png: %.4f…", got.Probs[:3])

	b.dropFile("notes.txt", "text/plain", []byte("not a picture"))
	st := b.waitFor("the error", time.Minute, true, func(s status) bool { return s.Error != "" }, nil)
	if !strings.Contains(st.Error, "notes.txt is neither a picture") {
		t.Errorf("a dropped text file: %q", st.Error)
	}
	for _, e := range b.console.errors() {
		t.Errorf("console: %s", e)
	}
}

// TestCameraPicture takes a picture with the camera (Chromium's fake one,
// which films a test pattern) and inspects it.
func TestCameraPicture(t *testing.T) {
	srv, b := setup(t, browserOptions{fakeCamera: true})
	noPageError(t, b.openTimed(srv.url+"?model=lenet5&autostart=1&limit=32&batch=16&eval=16", 3*time.Minute))
	if e := b.element("camera-button"); !e.Visible {
		t.Fatalf("the camera button: %+v, want it shown", e)
	}
	eval[any](b, `document.getElementById("camera-button").click()`)
	b.waitFor("the camera's video", time.Minute, false, func(status) bool {
		return eval[bool](b, `document.getElementById("camera-video").videoWidth > 0`)
	}, nil)
	eval[any](b, `document.getElementById("camera-take").click()`)
	var got pagePrediction
	b.waitFor("the camera picture's prediction", time.Minute, false, func(status) bool {
		got = eval[pagePrediction](b, "globalThis.cifarlab.prediction() || {}")
		return got.Picture == "camera" && len(got.Probs) == 10
	}, nil)
	if e := b.element("camera"); e.Visible {
		t.Error("the camera stays open after taking the picture")
	}
	for _, e := range b.console.errors() {
		t.Errorf("console: %s", e)
	}
}

// TestSaliencyMatchesPyTorch: the page's saliency of the inspected test
// image (the strip's first: test record 0) with its weights of the
// moment is PyTorch's for the same weights and record.
func TestSaliencyMatchesPyTorch(t *testing.T) {
	py := testenv.Torch(t)
	srv, b := setup(t, browserOptions{})
	noPageError(t, b.openTimed(srv.url+"?model=lenet5&autostart=1&limit=64&batch=16&eval=16", 3*time.Minute))
	b.waitFor("three steps", 2*time.Minute, false, func(s status) bool { return s.Step >= 3 }, nil)
	eval[any](b, "globalThis.cifarlab.pause()")
	weights := filepath.Join(t.TempDir(), "page.safetensors")
	if err := os.WriteFile(weights, b.allowDownloads().save(b), 0o644); err != nil {
		t.Fatal(err)
	}
	step := b.status().Step
	type pageSaliency struct {
		Map  []float64 `json:"map"`
		Top  int       `json:"top"`
		Step int       `json:"step"`
	}
	var got pageSaliency
	b.waitFor("the saliency of the paused weights", time.Minute, false, func(status) bool {
		got = eval[pageSaliency](b, "globalThis.cifarlab.saliency() || {}")
		return got.Step == step && len(got.Map) == 1024
	}, nil)
	cmd := exec.Command(py, "torch_interop.py", "saliency", "lenet5", weights,
		filepath.Join(testenv.Data(t), "exact", "test_batch.bin"), "0")
	cmd.Dir = filepath.Join(root, "net", "testdata")
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("PyTorch's saliency: %v", err)
	}
	var want struct {
		Top      int       `json:"top"`
		Saliency []float64 `json:"saliency"`
	}
	if err := json.Unmarshal(out, &want); err != nil {
		t.Fatal(err)
	}
	if got.Top != want.Top {
		t.Fatalf("top class %d, PyTorch's %d", got.Top, want.Top)
	}
	top := 0.0
	for _, v := range want.Saliency {
		top = math.Max(top, v)
	}
	for i, v := range want.Saliency {
		if math.Abs(got.Map[i]-v) > 1e-4*top {
			t.Fatalf("pixel %d: saliency %g, PyTorch %g (largest %g)", i, got.Map[i], v, top)
		}
	}
	t.Logf("the page's saliency of test image 0 is PyTorch's (top class %d, largest %.3g)", want.Top, top)
}

// TestLimitKeepsEveryClassInThePage drops a dataset ordered by class (as
// image folders are) with ?limit=50: the page trains on five images of each
// class, not on fifty airplanes.
func TestLimitKeepsEveryClassInThePage(t *testing.T) {
	srv, b := setup(t, browserOptions{})
	raw, err := os.ReadFile(filepath.Join(testenv.Data(t), "exact", "data_batch_1.bin"))
	if err != nil {
		t.Fatal(err)
	}
	const n, size = 1000, 3073
	var sorted []byte
	for c := byte(0); c < 10; c++ {
		for i := range n {
			if r := raw[i*size : (i+1)*size]; r[0] == c {
				sorted = append(sorted, r...)
			}
		}
	}
	b.navigate(srv.url + "?model=lenet5&limit=50&batch=10&eval=16")
	b.waitFor("the page ready", 3*time.Minute, false, func(s status) bool { return s.Ready }, nil)
	b.dropFile("sorted.bin", "application/octet-stream", sorted)
	st := b.waitFor("the dropped dataset", 2*time.Minute, false, func(s status) bool {
		return strings.Contains(s.Dataset, "sorted.bin") && s.Ready
	}, nil)
	if !strings.Contains(st.Notice, "training on 50 of 1,000 images, taken from the classes in turn") || strings.Contains(st.Notice, "hold no") {
		t.Errorf("notice %q", st.Notice)
	}
}
