// Package runplot draws training runs side by side: the training loss
// over the steps, the test accuracy after each epoch and the gradient
// norm reaching each layer, one colour per run, as one PNG and one SVG
// (cifarlab compare).
package runplot

import (
	"errors"
	"image/color"
	"io"
	"math"
	"path/filepath"

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
		l, err := line(smooth(r.Loss), 1, c)
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
		if ok := positive(r.LayerNorms); len(r.LayerNorms) > 0 && ok {
			l, err := line(r.LayerNorms, 1, c)
			if err != nil {
				return [3]*plot.Plot{}, err
			}
			grad.Add(l)
			grad.Legend.Add(r.label(), l)
			logScale = true
		}
	}
	if logScale { // a log axis without a positive value panics in gonum's plot
		grad.Y.Scale, grad.Y.Tick.Marker = plot.LogScale{}, plot.LogTicks{Prec: -1}
	} else {
		grad.Title.Text += " (no norms measured)"
	}
	for _, p := range []*plot.Plot{loss, acc, grad} {
		p.Legend.Top = true
		p.Add(plotter.NewGrid())
	}
	acc.Legend.Left = true
	return [3]*plot.Plot{loss, acc, grad}, nil
}

// positive reports whether every value can go on a log scale.
func positive(v []float64) bool {
	for _, x := range v {
		if !(x > 0) || math.IsInf(x, 0) {
			return false
		}
	}
	return true
}

// line is v[i] at x = x0 + i.
func line(v []float64, x0 float64, c color.RGBA) (*plotter.Line, error) {
	xy := make(plotter.XYs, 0, len(v))
	for i, y := range v {
		if math.IsNaN(y) || math.IsInf(y, 0) {
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
	l, err := line(v, x0, c)
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
