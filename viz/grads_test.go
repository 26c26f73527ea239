package viz

import (
	"fmt"
	"image/color"
	"image/png"
	"os"
	"strings"
	"testing"
)

// gradSnapshot is a snapshot whose gradient norms fade by ten times per
// layer from the last to the first, as in a deep plain network.
func gradSnapshot() *Snapshot {
	s := Synthetic("resnet18", 3, 40)
	g := &s.Grads
	for i := range 6 {
		g.Layers = append(g.Layers, fmt.Sprintf("layer%d.weight", i))
		g.Norms = append(g.Norms, float32(1e-5*pow10(i)))
	}
	g.Step = 40
	for st := 1; st <= 40; st++ {
		g.Steps = append(g.Steps, st)
		g.First = append(g.First, 1e-5)
		g.Middle = append(g.Middle, 1e-2)
		g.Last = append(g.Last, 1)
	}
	return s
}

func pow10(n int) float64 {
	v := 1.0
	for range n {
		v *= 10
	}
	return v
}

// The Gradients tab shows one bar per layer on a log scale: each decade
// up the same height, and hovering a bar names its layer and value.
func TestGradientView(t *testing.T) {
	u, _ := testUI(Options{})
	u.SetSnapshot(gradSnapshot())
	if _, ok := findRegion(u, "gradbar:0"); ok {
		t.Fatal("gradient bars before the Gradients tab was chosen")
	}
	click(t, u, "btn:view:grads")
	img := render(u)
	var tops []int
	for i := range 6 {
		r := region0(t, u, fmt.Sprintf("gradbar:%d", i))
		// The bar's top: the first row from the top of its column in
		// the accent colour.
		x, top := (r.r.Min.X+r.r.Max.X)/2, -1
		for y := r.r.Min.Y; y < r.r.Max.Y; y++ {
			if img.RGBAAt(x, y) == colAccent {
				top = y
				break
			}
		}
		if top < 0 {
			t.Fatalf("bar %d not drawn", i)
		}
		tops = append(tops, top)
	}
	for i := 1; i < 6; i++ {
		step := tops[i-1] - tops[i]
		if d := step - (tops[0] - tops[1]); step <= 0 || d < -1 || d > 1 {
			t.Errorf("bar tops %v: each tenfold should rise by the same height", tops)
			break
		}
	}
	p := center(region0(t, u, "gradbar:3").r)
	u.Update(Input{X: p.X, Y: p.Y + 5, Pointer: true})
	if d := u.hoverR.describe(); !strings.Contains(d, "layer3.weight") || !strings.Contains(d, "0.01") {
		t.Errorf("hovering bar 3 describes %q", d)
	}
	if _, ok := findRegion(u, "panel:gradlines"); !ok {
		t.Error("no chart of the norms over the steps")
	}
	click(t, u, "btn:view:maps")
	if _, ok := findRegion(u, "gradbar:0"); ok {
		t.Error("gradient bars after going back to the feature maps")
	}
	if out := os.Getenv("VIZ_GRADS_PNG"); out != "" {
		u.SetSnapshot(gradSnapshot())
		click(t, u, "btn:view:grads")
		f, _ := os.Create(out)
		png.Encode(f, render(u))
		f.Close()
	}
}

func findRegion(u *UI, key string) (region, bool) {
	u.layout()
	for _, r := range u.regions {
		if r.idString() == key {
			return r, true
		}
	}
	return region{}, false
}

// Per block, two bars: the gradient arriving at the sum and what the main
// path passes back; the switch shows only for networks of blocks.
func TestBlockGradientView(t *testing.T) {
	u, _ := testUI(Options{})
	s := gradSnapshot()
	u.SetSnapshot(s)
	click(t, u, "btn:view:grads")
	if _, ok := findRegion(u, "btn:grads:blocks"); ok {
		t.Fatal("a per-block switch for a snapshot without blocks")
	}
	s = gradSnapshot()
	s.Grads.Blocks = []string{"layer1.0", "layer1.1", "layer1.2"}
	s.Grads.BlockSum = []float32{1, 1, 1}
	s.Grads.BlockMain = []float32{1e-1, 1e-2, 1e-3}
	u.SetSnapshot(s)
	click(t, u, "btn:grads:blocks")
	img := render(u)
	top := func(key string, col color.RGBA) int {
		r := region0(t, u, key).r
		x := (r.Min.X + r.Max.X) / 2
		for y := r.Min.Y; y < r.Max.Y; y++ {
			if img.RGBAAt(x, y) == col {
				return y
			}
		}
		t.Fatalf("%s not drawn", key)
		return 0
	}
	sum0, main0, main2 := top("blockgrad:0", colBlockSum), top("blockgrad:1", colBlockMain), top("blockgrad:5", colBlockMain)
	if !(sum0 < main0 && main0 < main2) {
		t.Errorf("bar tops: sum %d, main of block 0 %d, of block 2 %d; want the sum tallest and the main paths falling", sum0, main0, main2)
	}
	p := center(region0(t, u, "blockgrad:3").r)
	u.Update(Input{X: p.X, Y: p.Y + 5, Pointer: true})
	if d := u.hoverR.describe(); !strings.Contains(d, "layer1.1's main path") || !strings.Contains(d, "0.01") {
		t.Errorf("hovering block 1's main-path bar describes %q", d)
	}
	if out := os.Getenv("VIZ_BLOCKS_PNG"); out != "" {
		f, _ := os.Create(out)
		png.Encode(f, render(u))
		f.Close()
	}
	click(t, u, "btn:grads:layers")
	if _, ok := findRegion(u, "gradbar:0"); !ok {
		t.Error("no bars per layer after switching back")
	}
}
