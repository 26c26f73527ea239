package viz

import (
	"image"
	"image/color"
	"image/png"
	"math"
	"os"
	"slices"
	"strings"
	"testing"
)

// evalSnapshot has an evaluation of 10 classes, cat often taken for dog.
func evalSnapshot() *Snapshot {
	s := Synthetic("lenet5", 3, 40)
	e := &Evaluation{Step: 390, Epoch: 1, Images: 1000, Loss: 1.52, Accuracy: 0.46, Classes: s.Classes}
	for i := range 10 {
		row := make([]int, 10)
		row[i] = 40 + 5*i
		row[(i+1)%10] = 100 - row[i]
		e.Confusion = append(e.Confusion, row)
		e.PerClass = append(e.PerClass, float32(row[i])/100)
	}
	e.PerClass[9] = float32(math.NaN())
	e.Cell, e.CellTotal = [2]int{3, 4}, 55
	for k := range 24 {
		e.CellImages = append(e.CellImages, s.Strip[k%len(s.Strip)])
		e.CellIndex = append(e.CellIndex, 100+k)
	}
	s.Evaluation = e
	return s
}

// The Evaluation tab shows the confusion matrix, each class's accuracy and
// a cell's images; a cell asks for its images, an image to be inspected.
func TestEvaluationView(t *testing.T) {
	u, _ := testUI(Options{})
	u.SetSnapshot(evalSnapshot())
	click(t, u, "btn:view:eval")
	p := panelRect(t, u, "evaluation")
	img := render(u)
	if !drawn(img, p) {
		t.Fatal("the evaluation view is blank")
	}
	cell := region0(t, u, "cell:34") // true cat, predicted deer
	if !cell.r.In(p) || img.RGBAAt(center(cell.r).X, center(cell.r).Y-8) == colBG {
		t.Errorf("cell 3,4 at %v is not shaded", cell.r)
	}
	if got := click(t, u, "cell:34"); len(got) != 1 || got[0].Kind != ShowCell || got[0].Cell != [2]int{3, 4} {
		t.Errorf("a cell emits %v", got)
	}
	if got := click(t, u, "cellimg:2"); len(got) != 1 || got[0].Kind != InspectTestImage || got[0].Image != 102 {
		t.Errorf("a cell's image emits %v", got)
	}
	if got := click(t, u, "btn:evaluate"); len(got) != 1 || got[0].Kind != Evaluate {
		t.Errorf("Evaluate now emits %v", got)
	}
	region0(t, u, "classacc:9")
	if out := os.Getenv("VIZ_EVAL_PNG"); out != "" {
		f, _ := os.Create(out)
		png.Encode(f, render(u))
		f.Close()
	}

	u.SetSnapshot(Synthetic("lenet5", 3, 40))
	render(u)
	panelRect(t, u, "evaluation")
	for _, r := range u.regions {
		if r.key == "cell" {
			t.Fatal("a matrix before any evaluation")
		}
	}
	if got := click(t, u, "btn:evaluate"); len(got) != 1 || got[0].Kind != Evaluate {
		t.Errorf("Evaluate now before any evaluation emits %v", got)
	}
}

// The input panel's toggle draws the saliency over the image, then alone.
func TestSaliencyToggle(t *testing.T) {
	s := Synthetic("lenet5", 3, 40)
	sal := Map{C: 1, H: 32, W: 32, Data: make([]float32, 1024)}
	for i := range sal.Data {
		if i%32 < 8 {
			sal.Data[i] = 1 // the left quarter sways the network
		}
	}
	u, _ := testUI(Options{})
	u.SetSnapshot(s)
	if got := click(t, u, "btn:saliency"); got != nil {
		t.Errorf("without a saliency the toggle emits %v", got)
	}
	s2 := *s
	s2.Saliency = &Saliency{Map: sal, Class: 3, Step: 40}
	u.SetSnapshot(&s2)
	in := region0(t, u, "tile:input").r
	plain := render(u)
	click(t, u, "btn:saliency")
	over := render(u)
	click(t, u, "btn:saliency")
	alone := render(u)
	left, right := image.Pt(in.Min.X+10, in.Min.Y+60), image.Pt(in.Max.X-10, in.Min.Y+60)
	if over.RGBAAt(left.X, left.Y) != salColor || over.RGBAAt(right.X, right.Y) == plain.RGBAAt(right.X, right.Y) {
		t.Errorf("over the image: left %v, right %v (image %v)", over.RGBAAt(left.X, left.Y), over.RGBAAt(right.X, right.Y), plain.RGBAAt(right.X, right.Y))
	}
	if alone.RGBAAt(left.X, left.Y) != salColor || alone.RGBAAt(right.X, right.Y) != colBG {
		t.Errorf("alone: left %v, right %v", alone.RGBAAt(left.X, left.Y), alone.RGBAAt(right.X, right.Y))
	}
	click(t, u, "btn:saliency")
	if back := render(u); back.RGBAAt(left.X, left.Y) != plain.RGBAAt(left.X, left.Y) {
		t.Error("the third click does not bring the image back")
	}
}

// Tab moves a focus ring through the controls, Enter or Space presses the
// one focused, Escape leaves; the legend and FocusLabel name it.
func TestKeyboard(t *testing.T) {
	u, _ := testUI(Options{})
	u.SetSnapshot(Synthetic("lenet5", 3, 0))
	key := func(k Key) []Intent { return u.Update(Input{Keys: []Key{k}}) }
	var got []Intent
	for range 60 {
		key(KeyTab)
		if u.FocusLabel() == "► Start, button" {
			got = key(KeyEnter)
			break
		}
	}
	if len(got) != 1 || got[0].Kind != Start {
		t.Fatalf("Tab to Start and Enter: %v (focus %q)", got, u.FocusLabel())
	}
	r, _ := u.focused()
	img := render(u)
	if img.RGBAAt(r.r.Min.X-2, r.r.Min.Y+5) != colFocus {
		t.Error("no focus ring around the focused button")
	}
	key(KeyTab) // Step
	if got := key(KeySpace); len(got) != 1 || got[0].Kind != StepOnce || u.FocusLabel() != "Step, button" {
		t.Errorf("Space on Step: %v (focus %q)", got, u.FocusLabel())
	}
	key(KeyBackTab)
	if u.FocusLabel() != "► Start, button" {
		t.Errorf("Shift+Tab: focus %q", u.FocusLabel())
	}
	key(KeyEscape)
	if got := key(KeySpace); u.FocusLabel() != "" || len(got) != 1 || got[0].Kind != Start {
		t.Errorf("after Escape, Space: %v (focus %q)", got, u.FocusLabel())
	}
	// The learning rate field: Enter to type, Enter to set.
	for range 60 {
		if key(KeyTab); strings.HasPrefix(u.FocusLabel(), "learning rate, text field") {
			break
		}
	}
	key(KeyEnter)
	u.Update(Input{Chars: []rune("0.02")})
	if got := key(KeyEnter); len(got) != 1 || got[0].Kind != SetLR || got[0].LR != 0.02 {
		t.Errorf("typing 0.02 into the focused learning rate: %v (focus %q)", got, u.FocusLabel())
	}
}

// Every panel has a "?" whose note opens over the frame and closes with
// a click elsewhere or Escape.
func TestHelpNotes(t *testing.T) {
	for _, model := range []string{"lenet5", "resnet18"} {
		u, _ := testUI(Options{})
		u.SetSnapshot(Synthetic(model, 3, 40))
		render(u)
		var panels, helps []string
		for _, r := range u.regions {
			switch {
			case r.kind == kindPanel && r.name != "view" && r.name != "header" && !strings.HasPrefix(r.name, "blk:"): // the header, a block row (the blocks panel's ? tells)
				panels = append(panels, r.name)
			case strings.HasPrefix(r.key, "btn:help:"):
				helps = append(helps, strings.TrimPrefix(r.key, "btn:help:"))
			}
		}
		for _, p := range panels {
			if !slices.Contains(helps, p) {
				t.Errorf("%s: panel %q has no ?", model, p)
			}
		}
		plain := render(u)
		click(t, u, "btn:help:loss")
		open := render(u)
		loss := panelRect(t, u, "loss")
		if differ(plain, open, image.Rect(loss.Min.X, loss.Min.Y+titleH, loss.Max.X, loss.Max.Y)) == 0 || u.help != "loss" {
			t.Errorf("%s: the loss chart's note is not drawn", model)
		}
		if out := os.Getenv("VIZ_HELP_PNG"); out != "" && model == "resnet18" {
			f, _ := os.Create(out)
			png.Encode(f, open)
			f.Close()
		}
		if got := u.Update(Input{Keys: []Key{KeyEscape}}); got != nil || u.help != "" {
			t.Errorf("Escape leaves the note open")
		}
		click(t, u, "btn:help:controls")
		click(t, u, "btn:step") // a click elsewhere closes it, and does what it does
		if u.help != "" {
			t.Error("a click elsewhere leaves the note open")
		}
	}
}

// The pictures mean what they say: the input's planes are red, green and
// blue in that order, a pixel at (x, y) is drawn at column x and row y,
// and a map's values get the colour the scale gives them (+max the scale's
// end, −max its start, 0 its middle).
func TestPixelsMeanWhatTheySay(t *testing.T) {
	s := Synthetic("lenet5", 3, 40)
	in := Map{C: 3, H: 32, W: 32, Data: make([]float32, 3*1024)}
	in.Data[0*1024+5*32+3] = 1   // red at x 3, y 5
	in.Data[1*1024+5*32+3] = 0.5 // half green there
	in.Data[2*1024+2*32+9] = 1   // blue at x 9, y 2
	s.Input = in
	m := Map{Title: "probe", C: 1, H: 4, W: 6, Data: make([]float32, 24)}
	m.Data[0*6+5] = 2  // +max at x 5, y 0
	m.Data[3*6+0] = -2 // −max at x 0, y 3
	s.Panels[0].Maps[0] = m
	u, _ := testUI(Options{})
	u.SetSnapshot(s)
	img := render(u)
	box := region0(t, u, "tile:input").r // 128×128: 4 pixels a pixel
	at := func(r image.Rectangle, w, x, y int) color.RGBA {
		sc := r.Dx() / w
		return img.RGBAAt(r.Min.X+x*sc+sc/2, r.Min.Y+y*sc+sc/2)
	}
	if c := at(box, 32, 3, 5); c != (color.RGBA{255, 128, 0, 255}) && c != (color.RGBA{255, 127, 0, 255}) {
		t.Errorf("input pixel (3, 5): %v, want red with half green", c)
	}
	if c := at(box, 32, 9, 2); c != (color.RGBA{0, 0, 255, 255}) {
		t.Errorf("input pixel (9, 2): %v, want blue", c)
	}
	if c := at(box, 32, 5, 3); c != (color.RGBA{0, 0, 0, 255}) {
		t.Errorf("input pixel (5, 3), the transposed red: %v, want black", c)
	}
	tile := region0(t, u, "tile:"+s.Panels[0].Title+":0").r
	for _, c := range []struct {
		x, y int
		want color.RGBA
	}{{5, 0, colormap[255]}, {0, 3, colormap[0]}, {1, 1, colormap[127]}} {
		if got := at(tile, 6, c.x, c.y); got != c.want {
			t.Errorf("map value at (%d, %d): %v, want %v", c.x, c.y, got, c.want)
		}
	}
}
