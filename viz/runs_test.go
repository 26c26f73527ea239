package viz

import (
	"image/png"
	"os"
	"strings"
	"testing"
)

// Earlier runs are drawn in their colours in the loss chart, a chip hides
// and shows one, and × asks to forget it.
func TestEarlierRunsInTheCharts(t *testing.T) {
	s := Synthetic("lenet5", 3, 40)
	run := Run{ID: 2, Name: "plain-20 · lr 0.001", Short: "plain-20", TestAcc: []float32{0.2, 0.3}}
	for st := 1; st <= 60; st++ {
		run.Loss = append(run.Loss, 2.2-float32(st)*0.01)
		run.LossStep = append(run.LossStep, st)
	}
	s.Runs = []Run{run}
	u, _ := testUI(Options{})
	u.SetSnapshot(s)
	loss := panelRect(t, u, "loss")
	coloured := func() int {
		img := render(u)
		n := 0
		for y := loss.Min.Y + 40; y < loss.Max.Y; y++ {
			for x := loss.Min.X; x < loss.Max.X; x++ {
				// runColor(2) is a bluish green, blended by the
				// anti-aliased line with the chart's dark background;
				// nothing else in the chart is green.
				if c := img.RGBAAt(x, y); int(c.G) > int(c.R)+40 && int(c.G) > int(c.B)+10 {
					n++
				}
			}
		}
		return n
	}
	if n := coloured(); n < 40 {
		t.Fatalf("the earlier run's curve: %d pixels in its colour, want a line across the chart", n)
	}
	if got := click(t, u, "btn:run:2"); got != nil {
		t.Errorf("hiding a run emits %v", got)
	}
	if n := coloured(); n != 0 {
		t.Errorf("a hidden run still has %d pixels in its colour", n)
	}
	click(t, u, "btn:run:2")
	if got := click(t, u, "btn:forget:2"); len(got) != 1 || got[0].Kind != ForgetRun || got[0].Run != 2 {
		t.Errorf("× emits %v, want ForgetRun 2", got)
	}
	if !region0(t, u, "btn:run:2").r.In(loss) {
		t.Error("the chip is outside the loss chart")
	}
	if out := os.Getenv("VIZ_RUNS_PNG"); out != "" {
		f, _ := os.Create(out)
		png.Encode(f, render(u))
		f.Close()
	}
}

// A plain network's blocks say that they have no shortcut: the panel, its
// column and each block's label.
func TestPlainBlocksSayNoShortcut(t *testing.T) {
	s := Synthetic("resnet18", 3, 10)
	for i := range s.Blocks {
		s.Blocks[i].Shortcut = Panel{}
		s.Blocks[i].Projection = false
		s.Blocks[i].Sum.Title = "output"
	}
	u, log := testUI(Options{})
	u.SetSnapshot(s)
	render(u)
	text := strings.Join(*log, "\n")
	for _, want := range []string{"Plain blocks", "no shortcut"} {
		if !strings.Contains(text, want) {
			t.Errorf("the frame does not say %q", want)
		}
	}
	for _, bad := range []string{"identity shortcut", "projection shortcut"} {
		if strings.Contains(text, bad) {
			t.Errorf("a plain block is labelled %q", bad)
		}
	}
}
