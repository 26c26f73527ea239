// Package runplot draws training runs side by side: the training loss
// over the steps, the test accuracy after each epoch and the gradient
// norm reaching each layer, one colour per run, as one PNG and one SVG
// (cifarlab compare).
package runplot

import (
	"errors"
	"fmt"
	"image/color"
	"io"
	"math"
	"path/filepath"
	"strconv"

	"cifarlab/internal/atomicfile"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
	"gonum.org/v1/plot/vg/vgsvg"
)

// Run is one training run, as cifarlab compare records it.
type Run struct {
	Name     string    // the legend, e.g. "plain20"
	Loss     []float64 // the training loss of every step, from step 1
	TestAcc  []float64 // the test accuracy after every epoch, from epoch 1
	TrainAcc []float64 // the training accuracy of every epoch
	// Layers are the weight tensors (convolutions and linears) in forward
	// order, and LayerNorms each one's gradient norm, the geometric mean
	// over the steps that measured them.
	Layers     []string
	LayerNorms []float64
	// Stopped says why the run ended early ("" when it did not), e.g.
	// that it diverged at some step; the legend says so.
	Stopped string
}

// GeoMeans accumulates the geometric means of Run.LayerNorms: one norm per
// layer at each measured step (0 for one that underflowed, +Inf for one
// that overflowed).
type GeoMeans struct {
	logSums []float64
	steps   int
}

// Add takes the norms of one step, one per layer.
func (g *GeoMeans) Add(norms []float64) {
	if g.logSums == nil {
		g.logSums = make([]float64, len(norms))
	}
	for k, v := range norms {
		g.logSums[k] += math.Log(v)
	}
	g.steps++
}

// Means are the geometric means, nil before any step.
func (g *GeoMeans) Means() []float64 {
	if g.steps == 0 {
		return nil
	}
	out := make([]float64, len(g.logSums))
	for k, s := range g.logSums {
		out[k] = math.Exp(s / float64(g.steps))
	}
	return out
}

// label is the run's name in the legends.
func (r Run) label() string {
	if r.Stopped != "" {
		return r.Name + " (" + r.Stopped + ")"
	}
	return r.Name
}

// Size of the picture: three panels side by side.
const (
	width  = 33 * vg.Centimeter
	height = 11 * vg.Centimeter
)

// Write draws runs into dir/base.png and dir/base.svg.
func Write(dir, base string, runs []Run) error {
	if len(runs) == 0 {
		return errors.New("no runs to draw")
	}
	plots, err := panels(runs)
	if err != nil {
		return err
	}
	png := vgimg.PngCanvas{Canvas: vgimg.NewWith(vgimg.UseWH(width, height), vgimg.UseDPI(110))}
	draw3(plots, png)
	if err := save(filepath.Join(dir, base+".png"), png); err != nil {
		return err
	}
	svg := vgsvg.New(width, height)
	draw3(plots, svg)
	return save(filepath.Join(dir, base+".svg"), svg)
}

// save writes c to path atomically.
func save(path string, c io.WriterTo) error {
	return atomicfile.WriteFile(path, func(w io.Writer) error {
		_, err := c.WriteTo(w)
		return err
	})
}

// draw3 lays the panels out side by side on c.
func draw3(plots [3]*plot.Plot, c vg.CanvasSizer) {
	dc := draw.New(c)
	t := draw.Tiles{Rows: 1, Cols: 3, PadX: vg.Millimeter * 4, PadTop: vg.Millimeter * 2, PadBottom: vg.Millimeter * 2,
		PadLeft: vg.Millimeter * 2, PadRight: vg.Millimeter * 2}
	for i, p := range plots {
		p.Draw(t.At(dc, i, 0))
	}
}

// colors are the runs' colours, distinct in print and for common colour
// blindness (Okabe and Ito's palette).
var colors = []color.RGBA{
	{0x00, 0x72, 0xb2, 0xff}, {0xd5, 0x5e, 0x00, 0xff}, {0x00, 0x9e, 0x73, 0xff}, {0xcc, 0x79, 0xa7, 0xff},
	{0xe6, 0x9f, 0x00, 0xff}, {0x56, 0xb4, 0xe9, 0xff}, {0x00, 0x00, 0x00, 0xff}, {0xf0, 0xe4, 0x42, 0xff},
}

func colorOf(i int) color.RGBA { return colors[i%len(colors)] }

func panels(runs []Run) ([3]*plot.Plot, error) {
	loss, acc, grad := plot.New(), plot.New(), plot.New()
	loss.Title.Text, loss.X.Label.Text, loss.Y.Label.Text = "training loss", "step", "cross-entropy (moving mean)"
	acc.Title.Text, acc.X.Label.Text, acc.Y.Label.Text = "test accuracy", "epoch", "accuracy"
	grad.Title.Text, grad.X.Label.Text, grad.Y.Label.Text = "gradient reaching each layer", "layer (input → output)", "‖∂L/∂W‖ (geometric mean)"
	acc.Y.Min, acc.Y.Max = 0, 1
	logScale := false
	for i, r := range runs {
		c := colorOf(i)
		l, err := line(smooth(r.Loss), 1, c, false)
		if err != nil {
			return [3]*plot.Plot{}, err
		}
		loss.Add(l)
		loss.Legend.Add(r.label(), l)
		if len(r.TestAcc) > 0 {
			l, pts, err := linePoints(r.TestAcc, 1, c)
			if err != nil {
				return [3]*plot.Plot{}, err
			}
			acc.Add(l, pts)
			acc.Legend.Add(r.label(), l, pts)
		}
		if n := positives(r.LayerNorms); n > 0 {
			// Only the positive norms go on the log axis: a norm of 0 is a
			// gradient that underflowed float32 on its way back.
			l, err := line(r.LayerNorms, 1, c, true)
			if err != nil {
				return [3]*plot.Plot{}, err
			}
			grad.Add(l)
			label := r.label()
			if z := len(r.LayerNorms) - n; z > 0 {
				label += fmt.Sprintf(" (0 at %d layers)", z)
			}
			grad.Legend.Add(label, l)
			logScale = true
		} else if len(r.LayerNorms) > 0 {
			grad.Legend.Add(r.label()+" (0 at every layer)", emptyLine(c))
		}
	}
	if logScale { // a log axis without a positive value panics in gonum's plot
		grad.Y.Scale, grad.Y.Tick.Marker = plot.LogScale{}, decadeTicks{}
		// The decades around the norms: gonum widens a range of one value
		// to [v−1, v+1], below 0 for a norm under 1.
		lo, hi := math.Inf(1), math.Inf(-1)
		for _, r := range runs {
			for _, v := range r.LayerNorms {
				if v > 0 && !math.IsInf(v, 0) {
					lo, hi = min(lo, v), max(hi, v)
				}
			}
		}
		grad.Y.Min, grad.Y.Max = math.Pow(10, math.Floor(math.Log10(lo))), math.Pow(10, math.Ceil(math.Log10(hi)))
		if grad.Y.Max <= grad.Y.Min {
			grad.Y.Max = 10 * grad.Y.Min
		}
	} else {
		grad.Title.Text += " (no norms measured)"
	}
	loss.X.Tick.Marker, acc.X.Tick.Marker = wholeTicks{}, wholeTicks{}
	for _, p := range []*plot.Plot{loss, acc, grad} {
		p.Legend.Top = true
		p.Add(plotter.NewGrid())
	}
	acc.Legend.Left = true
	return [3]*plot.Plot{loss, acc, grad}, nil
}

// positives counts the values that can go on a log scale.
func positives(v []float64) int {
	n := 0
	for _, x := range v {
		if x > 0 && !math.IsInf(x, 0) {
			n++
		}
	}
	return n
}

// emptyLine is a legend entry's line without points.
func emptyLine(c color.RGBA) *plotter.Line {
	l := &plotter.Line{}
	l.Color, l.Width = c, vg.Points(1.5)
	return l
}

// decadeTicks marks every power of ten of a log axis, labelled 1e-5 …
// 0.01, 0.1, 1, 10 (gonum's LogTicks prints 9.999999999999999e-05).
type decadeTicks struct{}

func (decadeTicks) Ticks(lowest, highest float64) []plot.Tick {
	lo, hi := math.Floor(math.Log10(lowest)), math.Ceil(math.Log10(highest))
	if math.IsNaN(lo) || math.IsInf(lo, 0) || math.IsNaN(hi) || math.IsInf(hi, 0) || hi-lo > 60 {
		return nil
	}
	every := max(1, int(math.Ceil((hi-lo)/8))) // labels on at most about 8 decades
	var ts []plot.Tick
	for e := lo; e <= hi; e++ {
		v := math.Pow(10, e)
		label := fmt.Sprintf("1e%d", int(e))
		if e >= -2 && e <= 3 {
			label = strconv.FormatFloat(v, 'f', -1, 64)
		}
		if int(e)%every != 0 {
			label = ""
		}
		if v >= lowest && v <= highest {
			ts = append(ts, plot.Tick{Value: v, Label: label})
		}
	}
	return ts
}

// wholeTicks is gonum's default ticks with whole numbers as such (steps,
// epochs), and no tick between two whole numbers.
type wholeTicks struct{}

func (wholeTicks) Ticks(lowest, highest float64) []plot.Tick {
	var ts []plot.Tick
	for _, t := range (plot.DefaultTicks{}).Ticks(lowest, highest) {
		if t.Value != math.Trunc(t.Value) {
			if t.Label != "" {
				continue
			}
		} else if t.Label != "" {
			t.Label = strconv.FormatFloat(t.Value, 'f', -1, 64)
		}
		ts = append(ts, t)
	}
	return ts
}

// line is v[i] at x = x0 + i, leaving out the values that are not
// numbers, and with logY those a log axis cannot show.
func line(v []float64, x0 float64, c color.RGBA, logY bool) (*plotter.Line, error) {
	xy := make(plotter.XYs, 0, len(v))
	for i, y := range v {
		if math.IsNaN(y) || math.IsInf(y, 0) || y <= 0 && logY {
			continue
		}
		xy = append(xy, plotter.XY{X: x0 + float64(i), Y: y})
	}
	l, err := plotter.NewLine(xy)
	if err != nil {
		return nil, err
	}
	l.Color, l.Width = c, vg.Points(1.5)
	return l, nil
}

// linePoints is line with a dot at each value.
func linePoints(v []float64, x0 float64, c color.RGBA) (*plotter.Line, *plotter.Scatter, error) {
	l, err := line(v, x0, c, false)
	if err != nil {
		return nil, nil, err
	}
	pts, err := plotter.NewScatter(l.XYs)
	if err != nil {
		return nil, nil, err
	}
	pts.GlyphStyle.Shape, pts.GlyphStyle.Color, pts.GlyphStyle.Radius = draw.CircleGlyph{}, c, vg.Points(2.5)
	return l, pts, nil
}

// smooth is the mean of each value with those of the window before it,
// the window a 50th of the run (the loss of one batch is noisy).
func smooth(v []float64) []float64 {
	w := max(1, len(v)/50)
	out := make([]float64, len(v))
	var sum float64
	for i, x := range v {
		sum += x
		if i >= w {
			sum -= v[i-w]
		}
		out[i] = sum / float64(min(i+1, w))
	}
	return out
}
