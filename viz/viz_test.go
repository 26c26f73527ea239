package viz

import (
	"flag"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the screenshots docs/viz-lenet5.png and docs/viz-resnet18.png")

// testUI returns a viewer that logs the strings it paints.
func testUI(opts Options) (*UI, *[]string) {
	u := New(opts)
	log := new([]string)
	for _, f := range []*face{u.fTitle, u.fText, u.fSmall, u.fBig} {
		f.log = log
	}
	return u, log
}

func render(u *UI) *image.RGBA {
	dst := image.NewRGBA(image.Rect(0, 0, Width, Height))
	u.Draw(dst)
	return dst
}

func region0(t *testing.T, u *UI, key string) region {
	t.Helper()
	u.layout()
	for _, r := range u.regions {
		if r.idString() == key {
			return r
		}
	}
	var keys []string
	for _, r := range u.regions {
		keys = append(keys, r.idString())
	}
	t.Fatalf("no region %q; have %v", key, keys)
	return region{}
}

func center(r image.Rectangle) image.Point {
	return image.Pt((r.Min.X+r.Max.X)/2, (r.Min.Y+r.Max.Y)/2)
}

func click(t *testing.T, u *UI, key string) []Intent {
	t.Helper()
	p := center(region0(t, u, key).r)
	return u.Update(Input{X: p.X, Y: p.Y, Pointer: true, Click: true})
}

func panelRect(t *testing.T, u *UI, name string) image.Rectangle {
	t.Helper()
	r, ok := u.panelRect(name)
	if !ok {
		t.Fatalf("no panel %q", name)
	}
	return r
}

// drawn reports whether r shows something: at least 2% of its pixels
// differ from the panel's background, in at least 4 colours.
func drawn(img *image.RGBA, r image.Rectangle) bool {
	colours := map[color.RGBA]bool{}
	n := 0
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			c := img.RGBAAt(x, y)
			if c != colPanel && c != colBG && c != colPanelLine {
				n++
				colours[c] = true
			}
		}
	}
	return n*50 >= r.Dx()*r.Dy() && len(colours) >= 4
}

// differ counts the pixels of r that differ between a and b.
func differ(a, b *image.RGBA, r image.Rectangle) int {
	n := 0
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			if a.RGBAAt(x, y) != b.RGBAAt(x, y) {
				n++
			}
		}
	}
	return n
}

// below returns r without its title line.
func below(r image.Rectangle) image.Rectangle {
	return image.Rect(r.Min.X, r.Min.Y+titleH, r.Max.X, r.Max.Y)
}

var modelPanels = map[string][]string{
	"lenet5":   {"conv1 (conv_unit.0)", "pool1 (conv_unit.1)", "conv2 (conv_unit.2)", "pool2 (conv_unit.3)", "filters", "fc"},
	"resnet18": {"stem (conv1 + ReLU)", "filters", "fc", "blocks", "blk:0", "blk:1", "blk:2", "blk:3"},
}

// Every panel of both models is drawn, and shows the snapshot: two
// different snapshots give different pixels in each.
func TestPanelsDrawnAndFollowTheSnapshot(t *testing.T) {
	for _, model := range []string{"lenet5", "resnet18"} {
		t.Run(model, func(t *testing.T) {
			a := Synthetic(model, 3, 2500)
			b := Synthetic(model, 5, 1200)
			b.LR, b.Batch = 3e-3, 128
			u, _ := testUI(Options{WeightsPath: "w.safetensors"})
			u.SetSnapshot(a)
			imgA := render(u)
			u.SetSnapshot(b)
			imgB := render(u)
			common := []string{"header", "input", "strip", "controls", "loss", "accuracy"}
			for _, name := range append(common, modelPanels[model]...) {
				r := panelRect(t, u, name)
				body := r
				if name != "header" && !strings.HasPrefix(name, "blk:") {
					body = below(r)
				}
				if !drawn(imgA, body) || !drawn(imgB, body) {
					t.Errorf("panel %s (%v) is blank", name, r)
				}
				if n := differ(imgA, imgB, body); n*200 < body.Dx()*body.Dy() {
					t.Errorf("panel %s (%v): only %d pixels differ between two snapshots", name, r, n)
				}
			}
			if r := panelRect(t, u, "legend"); !drawn(imgA, r) {
				t.Errorf("legend %v is blank", r)
			}
		})
	}
}

// The legend shows the colour scale, and the values of the map under the
// pointer.
func TestLegend(t *testing.T) {
	u, log := testUI(Options{})
	s := Synthetic("lenet5", 3, 2500)
	u.SetSnapshot(s)
	img := render(u)
	r := panelRect(t, u, "legend")
	// The scale's ends and middle are somewhere in the legend.
	for _, c := range []color.RGBA{colormap[0], colormap[128], colormap[255]} {
		found := false
		for y := r.Min.Y; y < r.Max.Y && !found; y++ {
			for x := r.Min.X; x < r.Max.X && !found; x++ {
				found = img.RGBAAt(x, y) == c
			}
		}
		if !found {
			t.Errorf("legend lacks the scale's colour %v", c)
		}
	}
	if !slices.Contains(*log, "−max|v|") || !slices.Contains(*log, "+max|v|") {
		t.Errorf("legend does not say what the ends mean: %q", *log)
	}

	// Hover conv2's 4th map: the legend names it and gives its range.
	tile := region0(t, u, "tile:conv2 (conv_unit.2):3")
	p := center(tile.r)
	u.Update(Input{X: p.X, Y: p.Y, Pointer: true})
	*log = (*log)[:0]
	hov := render(u)
	lo, hi, _ := mapStats(&s.Panels[2].Maps[3])
	want := fmt.Sprintf("min %s   max %s", num(lo), num(hi))
	if !slices.ContainsFunc(*log, func(l string) bool { return strings.HasPrefix(l, want) }) {
		t.Errorf("hovering conv2 map 4: legend lacks %q; painted %q", want, *log)
	}
	if !slices.ContainsFunc(*log, func(l string) bool { return strings.HasPrefix(l, "conv2 (conv_unit.2) · map 4 of 16") }) {
		t.Errorf("hovering conv2 map 4: legend does not name it; painted %q", *log)
	}
	if differ(img, hov, r) == 0 {
		t.Error("the legend does not change when a map is hovered")
	}
}

// Clicking each control emits its intent.
func TestControlsEmitIntents(t *testing.T) {
	paused := Synthetic("lenet5", 3, 0)
	paused.LR = 1e-3
	running := Synthetic("lenet5", 3, 50)
	resnet := Synthetic("resnet18", 3, 0)
	nobn := Synthetic("resnet18", 3, 0)
	nobn.Model = "resnet18-nobn"
	for _, tc := range []struct {
		snap *Snapshot
		key  string
		want []Intent
	}{
		{paused, "btn:model-next", []Intent{{Kind: SetModel, Model: "resnet18"}}},
		{paused, "btn:model-prev", []Intent{{Kind: SetModel, Model: "resnet18"}}},
		{paused, "btn:model", []Intent{{Kind: SetModel, Model: "resnet18"}}},
		{paused, "btn:model-bn", nil}, // LeNet5 has no BatchNorm
		{resnet, "btn:model-bn", []Intent{{Kind: SetModel, Model: "resnet18-nobn"}}},
		{resnet, "btn:model-next", []Intent{{Kind: SetModel, Model: "lenet5"}}},
		{nobn, "btn:model-bn", []Intent{{Kind: SetModel, Model: "resnet18"}}},
		{paused, "btn:lr-", []Intent{{Kind: SetLR, LR: 5e-4}}},
		{paused, "btn:lr+", []Intent{{Kind: SetLR, LR: 2e-3}}},
		{paused, "btn:lr:3e-4", []Intent{{Kind: SetLR, LR: 3e-4}}},
		{paused, "btn:lr:1e-2", []Intent{{Kind: SetLR, LR: 1e-2}}},
		{paused, "btn:batch:16", []Intent{{Kind: SetBatch, Batch: 16}}},
		{paused, "btn:batch:256", []Intent{{Kind: SetBatch, Batch: 256}}},
		{paused, "btn:start", []Intent{{Kind: Start}}},
		{running, "btn:start", []Intent{{Kind: Pause}}},
		{paused, "btn:step", []Intent{{Kind: StepOnce}}},
		{paused, "btn:reset", []Intent{{Kind: Reset}}},
		{paused, "btn:save", []Intent{{Kind: Save, Path: "w.safetensors"}}},
		{paused, "btn:load", []Intent{{Kind: Load, Path: "w.safetensors"}}},
		{paused, "strip:5", []Intent{{Kind: SelectImage, Image: 5}}},
		{paused, "btn:img-next", []Intent{{Kind: SelectImage, Image: 4}}},
		{paused, "btn:img-prev", []Intent{{Kind: SelectImage, Image: 2}}},
		{paused, "panel:conv1 (conv_unit.0)", nil},
		{paused, "tile:conv1 (conv_unit.0):2", nil},
	} {
		u, _ := testUI(Options{WeightsPath: "w.safetensors"})
		u.SetSnapshot(tc.snap)
		if got := click(t, u, tc.key); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("click %s: got %+v, want %+v", tc.key, got, tc.want)
		}
	}
}

// The browser has no file field: Save and Load carry no path.
func TestSaveLoadWithoutPath(t *testing.T) {
	u, _ := testUI(Options{})
	u.SetSnapshot(Synthetic("lenet5", 3, 10))
	if got := click(t, u, "btn:save"); !reflect.DeepEqual(got, []Intent{{Kind: Save}}) {
		t.Errorf("save: %+v", got)
	}
	for _, r := range u.regions {
		if r.idString() == "field:path" {
			t.Error("a path field without Options.WeightsPath")
		}
	}
}

// Keys: arrows choose the image (twice quickly goes two steps), Space
// starts and pauses.
func TestKeys(t *testing.T) {
	u, _ := testUI(Options{})
	s := Synthetic("lenet5", 3, 10) // Selected 3, running
	u.SetSnapshot(s)
	in := Input{Keys: []Key{KeyRight}}
	got := append(u.Update(in), u.Update(in)...)
	want := []Intent{{Kind: SelectImage, Image: 4}, {Kind: SelectImage, Image: 5}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("→ →: %+v, want %+v", got, want)
	}
	u.SetSnapshot(Synthetic("lenet5", 0, 10)) // Selected 0: the snapshot wins
	if got := u.Update(Input{Keys: []Key{KeyLeft}}); !reflect.DeepEqual(got, []Intent{{Kind: SelectImage, Image: 15}}) {
		t.Errorf("← from the first image: %+v", got)
	}
	if got := u.Update(Input{Keys: []Key{KeySpace}}); !reflect.DeepEqual(got, []Intent{{Kind: Pause}}) {
		t.Errorf("Space while running: %+v", got)
	}
}

// The learning rate can be typed; a bad one is refused with a message.
func TestLearningRateField(t *testing.T) {
	u, log := testUI(Options{})
	u.SetSnapshot(Synthetic("lenet5", 3, 10))
	click(t, u, "field:lr")
	if got := u.Update(Input{Chars: []rune("5x e-4"), Keys: []Key{KeyEnter}}); !reflect.DeepEqual(got, []Intent{{Kind: SetLR, LR: 5e-4}}) {
		t.Errorf("typing 5e-4: %+v", got)
	}
	click(t, u, "field:lr")
	u.Update(Input{Chars: []rune("1e")})
	if got := u.Update(Input{Keys: []Key{KeyEnter}}); got != nil {
		t.Errorf("typing 1e: %+v", got)
	}
	render(u)
	if !slices.ContainsFunc(*log, func(l string) bool { return strings.Contains(l, "is not a learning rate") }) {
		t.Error("a bad learning rate is not reported")
	}
	// Escape leaves the value alone; a click elsewhere commits.
	click(t, u, "field:lr")
	u.Update(Input{Chars: []rune("0.02")})
	if got := u.Update(Input{Keys: []Key{KeyEscape}}); got != nil {
		t.Errorf("Escape: %+v", got)
	}
	click(t, u, "field:lr")
	u.Update(Input{Chars: []rune("0.025"), Keys: []Key{KeyBackspace}})
	if got := click(t, u, "panel:conv1 (conv_unit.0)"); !reflect.DeepEqual(got, []Intent{{Kind: SetLR, LR: 0.02}}) {
		t.Errorf("click away after typing 0.025⌫: %+v", got)
	}
}

// The desktop's file field feeds Save and Load.
func TestPathField(t *testing.T) {
	u, _ := testUI(Options{WeightsPath: "a.safetensors"})
	u.SetSnapshot(Synthetic("lenet5", 3, 10))
	click(t, u, "field:path")
	u.Update(Input{Chars: []rune("runs/b.safetensors"), Keys: []Key{KeyEnter}})
	if got := click(t, u, "btn:load"); !reflect.DeepEqual(got, []Intent{{Kind: Load, Path: "runs/b.safetensors"}}) {
		t.Errorf("load: %+v", got)
	}
}

// tilesShown returns the channels of a panel (prefix "tile:blk:2:main:")
// in the layout.
func tilesShown(u *UI, prefix string) []int {
	u.layout()
	var out []int
	for _, r := range u.regions {
		if rest, ok := strings.CutPrefix(r.idString(), prefix); ok {
			var c int
			fmt.Sscan(rest, &c)
			out = append(out, c)
		}
	}
	return out
}

// The pager changes which channels are drawn, per block, with the
// buttons, the wheel and PgUp/PgDn, wrapping around.
func TestPager(t *testing.T) {
	u, _ := testUI(Options{})
	u.SetSnapshot(Synthetic("resnet18", 3, 2500))
	before := render(u)
	first := tilesShown(u, "tile:blk:3:main:")
	per := len(first)
	if per == 0 || first[0] != 0 || per >= 512 {
		t.Fatalf("block 6 shows channels %v", first)
	}
	click(t, u, "btn:next:blk:3")
	after := render(u)
	if got := tilesShown(u, "tile:blk:3:main:"); got[0] != per || len(got) != per {
		t.Errorf("after next: channels %v, want from %d", got, per)
	}
	for _, g := range []string{"main", "shortcut", "sum"} {
		if got := tilesShown(u, "tile:blk:3:"+g+":"); got[0] != per {
			t.Errorf("%s did not follow the pager: %v", g, got)
		}
	}
	if got := tilesShown(u, "tile:blk:2:main:"); got[0] != 0 {
		t.Errorf("block 7 paged with block 6: %v", got)
	}
	rr := region0(t, u, "panel:blk:3").r
	if differ(before, after, rr) == 0 {
		t.Error("paging did not change the block's pixels")
	}

	// The wheel over a tile of block 6 pages back.
	p := center(region0(t, u, fmt.Sprintf("tile:blk:3:sum:%d", per)).r)
	u.Update(Input{X: p.X, Y: p.Y, Pointer: true, WheelY: 1})
	if got := tilesShown(u, "tile:blk:3:main:"); got[0] != 0 {
		t.Errorf("after the wheel up: %v", got)
	}
	// Back from the first page wraps to the last.
	click(t, u, "btn:prev:blk:3")
	if got := tilesShown(u, "tile:blk:3:main:"); got[len(got)-1] != 511 {
		t.Errorf("previous from the first page: %v", got)
	}
	// PgDn pages every pager.
	u.Update(Input{Keys: []Key{KeyPageDown}})
	if got := tilesShown(u, "tile:blk:2:main:"); got[0] == 0 {
		t.Errorf("PgDn did not page block 7: %v", got)
	}
	if got := tilesShown(u, "tile:stem (conv1 + ReLU):"); got[0] == 0 {
		t.Errorf("PgDn did not page the stem: %v", got)
	}
}

// A panel of 512 maps in the LeNet-style layout is paged too, and a
// malformed map draws as such instead of panicking.
func TestManyMapsAndBadMaps(t *testing.T) {
	s := Synthetic("lenet5", 3, 100)
	big := Panel{Title: "wide"}
	for i := range 512 {
		big.Maps = append(big.Maps, Map{C: 1, H: 4, W: 4, Data: make([]float32, 16)})
		big.Maps[i].Data[i%16] = float32(i)
	}
	big.Maps[1].Data = big.Maps[1].Data[:3] // too short
	s.Panels = append(s.Panels, big)
	u, _ := testUI(Options{})
	u.SetSnapshot(s)
	render(u)
	shown := tilesShown(u, "tile:wide:")
	if len(shown) == 0 || len(shown) >= 512 {
		t.Fatalf("512 maps: %d shown", len(shown))
	}
	click(t, u, "btn:next:panel:wide")
	if got := tilesShown(u, "tile:wide:"); got[0] != len(shown) {
		t.Errorf("after next: %v", got[:3])
	}
	render(u)
}

// Malformed or partial snapshots draw without panicking.
func TestDegenerateSnapshots(t *testing.T) {
	bad := Map{C: 1, H: 8, W: 8, Data: make([]float32, 5)}
	nan := Map{C: 1, H: 2, W: 2, Data: []float32{float32(math.NaN()), float32(math.Inf(1)), -1, 0}}
	for i, s := range []*Snapshot{
		{Model: "resnet18", Blocks: []Block{{}}},
		{Model: "resnet18", Blocks: []Block{{Main: Panel{Maps: []Map{bad, nan}}}}, Panels: []Panel{{}}},
		{Model: "lenet5", Panels: []Panel{{Maps: []Map{bad}}, {}, {Maps: []Map{nan}}}, FC: []Bars{{}, {Values: []float32{float32(math.NaN()), 1}}}},
		{Model: "lenet5", Input: bad, Label: 12, Probs: []float32{0.5, 0.5}, Strip: []Map{bad, {}}, Selected: 7,
			Loss: []float32{float32(math.NaN()), 2, 1}, LossStep: []int{5}, TrainAcc: []float32{0.5}, TestAcc: []float32{55, 60},
			Panels: []Panel{{Maps: []Map{{C: 1, H: 300, W: 300, Data: make([]float32, 90000)}}}}},
	} {
		u, _ := testUI(Options{})
		u.SetSnapshot(s)
		render(u)
		u.Update(Input{Keys: []Key{KeyRight, KeyPageDown}})
		for _, r := range u.regions {
			if r.kind == kindButton || r.kind == kindTile {
				p := center(r.r)
				u.Update(Input{X: p.X, Y: p.Y, Pointer: true})
				render(u)
			}
		}
		t.Logf("snapshot %d: %d regions", i, len(u.regions))
	}
}

// Before the first snapshot, and before the first step, the viewer says
// what is happening.
func TestWaiting(t *testing.T) {
	u, log := testUI(Options{})
	img := render(u)
	if !slices.Contains(*log, "Starting…") {
		t.Errorf("no snapshot: painted %q", *log)
	}
	r := panelRect(t, u, "waiting")
	if !drawn(img, image.Rect(r.Min.X, r.Min.Y+r.Dy()/2-40, r.Max.X, r.Min.Y+r.Dy()/2+40)) {
		t.Error("the waiting message is not drawn")
	}
	for _, s := range []*Snapshot{
		{Model: "lenet5", Notice: "loading the dataset… 40%"},
		{Model: "resnet18"},
	} {
		*log = (*log)[:0]
		u.SetSnapshot(s)
		img := render(u)
		want := "Waiting for the first training step"
		if s.Notice != "" {
			want = s.Notice
			if got := img.RGBAAt(Width-4, bandY+bandH/2); got != colNoticeBG {
				t.Errorf("the notice band is %v", got)
			}
		}
		if !slices.Contains(*log, want) {
			t.Errorf("%+v: %q not painted in %q", s, want, *log)
		}
	}
}

// An error shows in the band, all of it on hover.
func TestError(t *testing.T) {
	u, log := testUI(Options{})
	s := Synthetic("lenet5", 3, 100)
	s.Error = "gpu: validation: " + strings.Repeat("the bind group layout does not match the pipeline ", 4) + "END"
	u.SetSnapshot(s)
	render(u)
	if got := u.last.RGBAAt(Width-4, bandY+bandH/2); got != colErrorBG {
		t.Errorf("the error band is %v", got)
	}
	if !slices.ContainsFunc(*log, func(l string) bool { return strings.HasPrefix(l, "Error: gpu: validation") }) {
		t.Errorf("the error is not painted: %q", *log)
	}
	*log = (*log)[:0]
	u.Update(Input{X: 600, Y: bandY + 10, Pointer: true})
	render(u)
	if !slices.ContainsFunc(*log, func(l string) bool { return strings.HasSuffix(l, "END") }) {
		t.Errorf("hovering the band does not show the whole error: %q", *log)
	}
}

// Idle frames cost nothing: Draw paints only after a change.
func TestDirty(t *testing.T) {
	u, _ := testUI(Options{})
	s := Synthetic("lenet5", 3, 100)
	u.SetSnapshot(s)
	dst := image.NewRGBA(image.Rect(0, 0, Width, Height))
	if !u.Draw(dst) {
		t.Fatal("first Draw did not paint")
	}
	if u.Draw(dst) {
		t.Error("Draw painted with nothing changed")
	}
	u.SetSnapshot(s)
	u.Update(Input{X: 2, Y: 2, Pointer: true})
	u.Update(Input{X: 3, Y: 2, Pointer: true})
	if u.Draw(dst) {
		t.Error("Draw painted after the same snapshot and a move over nothing")
	}
	p := center(region0(t, u, "tile:conv1 (conv_unit.0):0").r)
	u.Update(Input{X: p.X, Y: p.Y, Pointer: true})
	if !u.Draw(dst) {
		t.Error("hovering a map did not repaint")
	}
	u.Update(Input{X: p.X + 1, Y: p.Y, Pointer: true})
	if u.Draw(dst) {
		t.Error("moving within the same map repainted")
	}
	// Moving from map to map and to a button repaints only parts of the
	// frame; the result is the frame a full repaint gives.
	for _, key := range []string{"tile:conv2 (conv_unit.2):5", "bar:0:17", "btn:reset", "tile:conv1 (conv_unit.0):3"} {
		q := center(region0(t, u, key).r)
		u.Update(Input{X: q.X, Y: q.Y, Pointer: true})
		if len(u.damage) == 0 || u.dirty {
			t.Errorf("moving onto %s: damage %v, dirty %v", key, u.damage, u.dirty)
		}
		u.Draw(dst)
		v, _ := testUI(Options{})
		v.SetSnapshot(s)
		v.Update(Input{X: q.X, Y: q.Y, Pointer: true})
		if n := differ(dst, render(v), dst.Rect); n != 0 {
			t.Errorf("hovering %s: the partial repaint differs from a full one in %d pixels", key, n)
		}
	}
	if u.Cursor() != CursorDefault {
		t.Errorf("cursor over a map: %v", u.Cursor())
	}
	p = center(region0(t, u, "btn:step").r)
	u.Update(Input{X: p.X, Y: p.Y, Pointer: true})
	if u.Cursor() != CursorPointer {
		t.Errorf("cursor over a button: %v", u.Cursor())
	}
	u.SetSnapshot(Synthetic("lenet5", 3, 101))
	if !u.Draw(dst) {
		t.Error("a new snapshot did not repaint")
	}
}

// Every character the viewer paints exists in the Go fonts.
func TestGlyphs(t *testing.T) {
	u, log := testUI(Options{WeightsPath: "w"})
	for _, m := range []string{"lenet5", "resnet18"} {
		u.SetSnapshot(Synthetic(m, 3, 2500))
		render(u)
	}
	u.SetSnapshot(nil)
	render(u)
	seen := map[rune]bool{}
	for _, l := range *log {
		for _, r := range l {
			if !seen[r] && u.fText.glyph(r).notdefRune {
				t.Errorf("no glyph for %q (in %q)", r, l)
			}
			seen[r] = true
		}
	}
}

// The screenshots for the README, rewritten with -update. The LeNet5 one
// hovers a conv2 map so that the legend shows its values.
func TestScreenshots(t *testing.T) {
	for _, tc := range []struct{ model, hover string }{
		{"lenet5", "tile:conv2 (conv_unit.2):6"},
		{"resnet18", "tile:blk:0:sum:1"},
	} {
		u, _ := testUI(Options{})
		u.SetSnapshot(Synthetic(tc.model, 3, 2500))
		p := center(region0(t, u, tc.hover).r)
		u.Update(Input{X: p.X, Y: p.Y, Pointer: true})
		img := render(u)
		path := filepath.Join("..", "docs", "viz-"+tc.model+".png")
		if !*update {
			// The committed picture is what this code draws: the same
			// synthetic snapshot, pixel for pixel (a few pixels' rounding
			// allowed, where anti-aliasing meets floating point).
			f, err := os.Open(path)
			if err != nil {
				t.Fatalf("%v: go test ./viz -run Screenshots -update writes it", err)
			}
			want, err := png.Decode(f)
			f.Close()
			if err != nil {
				t.Fatalf("%s: %v", path, err)
			}
			if want.Bounds() != img.Bounds() {
				t.Fatalf("%s is %v, the viewer draws %v", path, want.Bounds(), img.Bounds())
			}
			off := 0
			for y := 0; y < Height; y++ {
				for x := 0; x < Width; x++ {
					r, g, b, _ := want.At(x, y).RGBA()
					c := img.RGBAAt(x, y)
					if absDiff(uint8(r>>8), c.R) > 8 || absDiff(uint8(g>>8), c.G) > 8 || absDiff(uint8(b>>8), c.B) > 8 {
						off++
					}
				}
			}
			if off > Width*Height/1000 {
				t.Errorf("%s differs from what the viewer draws in %d pixels: if the change is meant, go test ./viz -run Screenshots -update", path, off)
			}
			continue
		}
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		f, err := os.Create(path)
		if err != nil {
			t.Fatal(err)
		}
		if err := png.Encode(f, img); err != nil {
			t.Fatal(err)
		}
		if err := f.Close(); err != nil {
			t.Fatal(err)
		}
		t.Logf("wrote %s", path)
	}
}

func absDiff(a, b uint8) int {
	if a > b {
		return int(a - b)
	}
	return int(b - a)
}

// A full repaint of each model, as after every new snapshot.
func BenchmarkDraw(b *testing.B) {
	for _, model := range []string{"lenet5", "resnet18"} {
		b.Run(model, func(b *testing.B) {
			u := New(Options{})
			u.SetSnapshot(Synthetic(model, 3, 2500))
			dst := image.NewRGBA(image.Rect(0, 0, Width, Height))
			u.Draw(dst) // warm the glyph cache
			b.ResetTimer()
			for range b.N {
				u.changed()
				u.Draw(dst)
			}
		})
	}
	b.Run("hover", func(b *testing.B) { // the pointer moving from map to map
		u := New(Options{})
		u.SetSnapshot(Synthetic("resnet18", 3, 2500))
		dst := image.NewRGBA(image.Rect(0, 0, Width, Height))
		u.Draw(dst)
		var in [2]Input
		for i, key := range []string{"tile:blk:1:main:0", "tile:blk:3:sum:1"} {
			for _, r := range u.regions {
				if r.idString() == key {
					p := center(r.r)
					in[i] = Input{X: p.X, Y: p.Y, Pointer: true}
				}
			}
		}
		b.ResetTimer()
		for i := range b.N {
			u.Update(in[i%2])
			u.Draw(dst)
		}
	})
	b.Run("idle", func(b *testing.B) {
		u := New(Options{})
		u.SetSnapshot(Synthetic("resnet18", 3, 2500))
		dst := image.NewRGBA(image.Rect(0, 0, Width, Height))
		u.Draw(dst)
		in := Input{X: 5, Y: 5, Pointer: true}
		b.ResetTimer()
		for range b.N {
			u.Update(in)
			u.Draw(dst)
		}
	})
}
