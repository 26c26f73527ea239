package viz

import (
	"image/png"
	"os"
	"testing"
)

// The shortcut experiment's account sits above the gradient charts with
// a button that shows the other network; the other network is a live run
// drawn in its colour across the bars, which cannot be forgotten; the
// controls' button starts the experiment of the network shown.
func TestExperimentView(t *testing.T) {
	s := gradSnapshot()
	s.Models[1].Twin = "resnet18-plain"
	s.Experiment = &Experiment{Title: "Shortcut experiment: ResNet18 against ResNet18, plain",
		Look: "Compare how much of the gradient reaches the first layers of each.", Shown: "After 40 steps each, it fades.",
		Twin: "ResNet18, plain"}
	twin := Run{ID: 3, Live: true, Short: "ResNet18, plain", Name: "ResNet18, plain · training alongside"}
	twin.Grads = s.Grads
	twin.Grads.Norms = []float32{1e-9, 1e-8, 1e-7, 1e-6, 1e-5, 1e-4}
	twin.Loss, twin.LossStep = s.Loss, s.LossStep
	s.Runs = []Run{twin}
	u, _ := testUI(Options{Gradients: true})
	u.SetSnapshot(s)

	exp, bars := panelRect(t, u, "experiment"), panelRect(t, u, "grads")
	if exp.Max.Y > bars.Min.Y {
		t.Fatalf("the account %v overlaps the bars %v", exp, bars)
	}
	img := render(u)
	if !drawn(img, exp) {
		t.Error("the account is blank")
	}
	col := runColor(3)
	n := 0
	for y := bars.Min.Y; y < bars.Max.Y; y++ {
		for x := bars.Min.X; x < bars.Max.X; x++ {
			if img.RGBAAt(x, y) == col {
				n++
			}
		}
	}
	if n < 30 {
		t.Errorf("the live run's norms: %d pixels of its colour across the bars", n)
	}
	if got := click(t, u, "btn:twin"); len(got) != 1 || got[0].Kind != ShowTwin {
		t.Errorf("Show the other network emits %v", got)
	}
	for _, r := range u.regions {
		if r.idString() == "btn:forget:3" {
			t.Error("the live run can be forgotten")
		}
	}
	if got := click(t, u, "btn:experiment"); len(got) != 1 || got[0].Kind != StartExperiment || got[0].Model != "resnet18" {
		t.Errorf("the experiment button emits %v, want StartExperiment resnet18", got)
	}
	s2 := Synthetic("lenet5", 3, 40)
	u.SetSnapshot(s2)
	if got := click(t, u, "btn:experiment"); len(got) != 1 || got[0].Kind != StartExperiment || got[0].Model != "" {
		t.Errorf("with LeNet5 shown the experiment button emits %v, want the default experiment", got)
	}
	if out := os.Getenv("VIZ_EXPERIMENT_PNG"); out != "" {
		u.SetSnapshot(s)
		f, _ := os.Create(out)
		png.Encode(f, render(u))
		f.Close()
	}
}

// The loss chart's buttons export the run shown and the earlier runs not
// hidden.
func TestExportButtons(t *testing.T) {
	s := Synthetic("lenet5", 3, 40)
	run := Run{ID: 4, Short: "plain-20", Loss: []float32{2.3, 2.2}, LossStep: []int{1, 2}}
	hidden := Run{ID: 5, Short: "plain-56", Loss: []float32{2.3}, LossStep: []int{1}}
	s.Runs = []Run{run, hidden}
	u, _ := testUI(Options{WeightsPath: "/tmp/w.safetensors"})
	u.SetSnapshot(s)
	click(t, u, "btn:run:5") // hide it
	got := click(t, u, "btn:export-jsonl")
	if len(got) != 1 || got[0].Kind != ExportRuns || got[0].Format != "jsonl" || len(got[0].Runs) != 2 ||
		got[0].Runs[0] != 0 || got[0].Runs[1] != 4 || got[0].Path != "/tmp/w.safetensors" {
		t.Errorf("JSONL emits %+v", got)
	}
	if got := click(t, u, "btn:export-csv"); len(got) != 1 || got[0].Format != "csv" {
		t.Errorf("CSV emits %+v", got)
	}
	u.SetSnapshot(Synthetic("lenet5", 3, 0))
	if got := click(t, u, "btn:export-csv"); got != nil {
		t.Errorf("before any step, CSV emits %+v", got)
	}
}

// A picture of one's own shows beside what the network sees of it.
func TestPicturePanel(t *testing.T) {
	s := Synthetic("lenet5", 3, 40)
	orig := Map{C: 3, H: 60, W: 128, Data: make([]float32, 3*60*128)}
	for i := range orig.Data {
		orig.Data[i] = float32(i%128) / 128
	}
	s.Picture = &Picture{Name: "cat.jpg", Format: "JPEG", Width: 1280, Height: 600, Original: orig}
	s.Selected, s.Label = -1, -1
	u, _ := testUI(Options{})
	u.SetSnapshot(s)
	pic, in := region0(t, u, "tile:picture"), region0(t, u, "tile:input")
	if pic.r.Dx() != 128 || pic.r.Dy() != 60 || in.r.Dx() != 32 || in.r.Dy() != 32 || pic.r.Overlaps(in.r) {
		t.Errorf("picture at %v, input at %v", pic.r, in.r)
	}
	img := render(u)
	if !drawn(img, pic.r) || !drawn(img, in.r) {
		t.Error("the picture or the input is not drawn")
	}
	if got := click(t, u, "strip:0"); len(got) != 1 || got[0].Kind != SelectImage || got[0].Image != 0 {
		t.Errorf("a test image after the picture: %v", got)
	}
	if out := os.Getenv("VIZ_PICTURE_PNG"); out != "" {
		f, _ := os.Create(out)
		png.Encode(f, img)
		f.Close()
	}
}
