package viz

import (
	"fmt"
	"math"
	"math/rand/v2"
)

// Synthetic returns a snapshot of the given model ("lenet5" or "resnet18")
// made without training, for tests, screenshots and trying the viewer: the
// images are drawn shapes, and the maps, with the shapes and titles of
// cifarlab's networks, are what random weights (a function of seed, varied
// with step) compute from the inspected image — LeNet5's forward pass, and
// for ResNet18 the stem's convolution, then a cheap stand-in for each
// block (channel mixes, a 3×3 filter and a normalization per map). The
// loss and accuracy curves are made up, as smooth as real ones.
func Synthetic(model string, seed uint64, step int) *Snapshot {
	rng := rand.New(rand.NewPCG(seed, 1))
	s := &Snapshot{
		Backend:      "synthetic (no training)",
		Model:        model,
		Models:       []ModelChoice{{Name: "lenet5", Title: "LeNet5"}, {Name: "resnet18", Title: "ResNet18", NoBN: "resnet18-nobn"}},
		Classes:      []string{"airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"},
		LR:           1e-3,
		Batch:        64,
		Running:      step > 0,
		Step:         step,
		Epoch:        step/390 + 1,
		ImagesPerSec: 2450,
		Selected:     int(seed % 16),
	}
	s.EpochProgress = float64(step%390) / 390
	if model == "resnet18" {
		s.ImagesPerSec = 310
	}
	for i := range 16 {
		s.Strip = append(s.Strip, synthImage(rand.New(rand.NewPCG(seed, uint64(100+i))), i%10))
		s.Strip[i].Title = s.Classes[i%10]
	}
	s.Input = s.Strip[s.Selected]
	s.Input.Title = ""
	s.Label = s.Selected % 10
	synthCurves(s, rng)

	// Weights: fixed by seed, nudged by step so that snapshots differ.
	wr := rand.New(rand.NewPCG(seed, 2))
	nudge := rand.New(rand.NewPCG(seed, uint64(step)+3))
	weight := func(n int, std float64) []float32 {
		w := make([]float32, n)
		for i := range w {
			w[i] = float32((wr.NormFloat64() + 0.3*nudge.NormFloat64()) * std)
		}
		return w
	}
	planes := [][]float32{s.Input.Data[:1024], s.Input.Data[1024:2048], s.Input.Data[2048:]}
	var logits []float32
	if model == "resnet18" {
		logits = synthResNet(s, planes, weight, nudge)
	} else {
		logits = synthLeNet(s, planes, weight)
	}
	logits[s.Label] += 0.6 * float32(min(step, 2000)) / 500
	s.Probs = softmax(logits)
	return s
}

// synthImage draws a 32×32 RGB image: a gradient sky, a coloured shape
// and some noise.
func synthImage(rng *rand.Rand, kind int) Map {
	m := Map{C: 3, H: 32, W: 32, Data: make([]float32, 3*1024)}
	var bg0, bg1, fg [3]float64
	for c := range 3 {
		bg0[c], bg1[c], fg[c] = rng.Float64(), rng.Float64(), rng.Float64()
	}
	cx, cy, rad := 10+rng.Float64()*12, 10+rng.Float64()*12, 5+rng.Float64()*6
	for y := range 32 {
		for x := range 32 {
			t := float64(y) / 31
			in := false
			dx, dy := float64(x)-cx, float64(y)-cy
			switch kind % 3 {
			case 0:
				in = dx*dx+dy*dy < rad*rad
			case 1:
				in = math.Abs(dx) < rad && math.Abs(dy) < rad*0.6
			default:
				in = math.Abs(dx)+math.Abs(dy) < rad && int(float64(y)/2)%2 == 0
			}
			for c := range 3 {
				v := bg0[c]*(1-t) + bg1[c]*t
				if in {
					v = fg[c]
				}
				v += 0.06 * rng.NormFloat64()
				m.Data[c*1024+y*32+x] = float32(min(max(v, 0), 1))
			}
		}
	}
	return m
}

// synthCurves makes a loss that falls with noise, and accuracies that
// rise, epoch by epoch.
func synthCurves(s *Snapshot, rng *rand.Rand) {
	every := max(1, s.Step/1500)
	for t := 1; t <= s.Step; t += every {
		l := 0.75 + 1.55*math.Exp(-float64(t)/500) + 0.12*rng.NormFloat64()*math.Exp(-float64(t)/3000)
		s.Loss = append(s.Loss, float32(max(l, 0.05)))
		s.LossStep = append(s.LossStep, t)
	}
	for e := 1; e <= s.Step/390; e++ {
		s.TrainAcc = append(s.TrainAcc, float32(0.92-0.62*math.Exp(-float64(e)/3)))
		s.TestAcc = append(s.TestAcc, float32(0.74-0.46*math.Exp(-float64(e)/2.5)+0.01*rng.NormFloat64()))
	}
}

// conv is a valid convolution of in (C planes of h×w) with weights of
// (out, C, k, k), plus a ReLU when relu.
func conv(in [][]float32, h, w int, wt []float32, out, k int, relu bool) ([][]float32, int, int) {
	oh, ow := h-k+1, w-k+1
	res := make([][]float32, out)
	for o := range out {
		p := make([]float32, oh*ow)
		for c := range in {
			for ky := range k {
				for kx := range k {
					wv := wt[((o*len(in)+c)*k+ky)*k+kx]
					for y := range oh {
						row := in[c][(y+ky)*w+kx:]
						for x := range ow {
							p[y*ow+x] += wv * row[x]
						}
					}
				}
			}
		}
		if relu {
			for i, v := range p {
				p[i] = max(v, 0)
			}
		}
		res[o] = p
	}
	return res, oh, ow
}

func maxPool(in [][]float32, h, w int) [][]float32 {
	res := make([][]float32, len(in))
	for c, p := range in {
		q := make([]float32, h/2*w/2)
		for y := range h / 2 {
			for x := range w / 2 {
				q[y*w/2+x] = max(p[2*y*w+2*x], p[2*y*w+2*x+1], p[(2*y+1)*w+2*x], p[(2*y+1)*w+2*x+1])
			}
		}
		res[c] = q
	}
	return res
}

func linear(in []float32, wt []float32, out int, relu bool) []float32 {
	res := make([]float32, out)
	for o := range res {
		var a float32
		for i, v := range in {
			a += wt[o*len(in)+i] * v
		}
		if relu {
			a = max(a, 0)
		}
		res[o] = a
	}
	return res
}

func planeMaps(ps [][]float32, h, w int) []Map {
	ms := make([]Map, len(ps))
	for i, p := range ps {
		ms[i] = Map{C: 1, H: h, W: w, Data: p}
	}
	return ms
}

func filterMaps(wt []float32, out, k int) []Map {
	ms := make([]Map, out)
	for o := range out {
		ms[o] = Map{C: 3, H: k, W: k, Data: wt[o*3*k*k : (o+1)*3*k*k]}
	}
	return ms
}

func synthLeNet(s *Snapshot, in [][]float32, weight func(int, float64) []float32) []float32 {
	w1 := weight(6*3*25, 0.25)
	c1, h, w := conv(in, 32, 32, w1, 6, 5, false)
	p1 := maxPool(c1, h, w)
	c2, h2, w2 := conv(p1, 14, 14, weight(16*6*25, 0.12), 16, 5, false)
	p2 := maxPool(c2, h2, w2)
	var flat []float32
	for _, p := range p2 {
		flat = append(flat, p...)
	}
	f1 := linear(flat, weight(120*400, 0.08), 120, true)
	f2 := linear(f1, weight(84*120, 0.12), 84, true)
	f3 := linear(f2, weight(10*84, 0.15), 10, false)
	s.Panels = []Panel{
		{Title: "conv1 (conv_unit.0)", Note: "Conv2d(3, 6, 5); no activation follows, as in the reference", Maps: planeMaps(c1, h, w)},
		{Title: "pool1 (conv_unit.1)", Note: "MaxPool2d(2, 2)", Maps: planeMaps(p1, 14, 14)},
		{Title: "conv2 (conv_unit.2)", Note: "Conv2d(6, 16, 5); no activation follows", Maps: planeMaps(c2, h2, w2)},
		{Title: "pool2 (conv_unit.3)", Note: "MaxPool2d(2, 2); flattened to 400 inputs of fc_unit", Maps: planeMaps(p2, 5, 5)},
	}
	s.FC = []Bars{
		{Title: "fc1 after ReLU (fc_unit.1)", Values: f1},
		{Title: "fc2 after ReLU (fc_unit.3)", Values: f2},
		{Title: "logits (fc_unit.4)", Labels: s.Classes, Values: f3},
	}
	s.Filters = Panel{Title: "conv1 filters", Note: "conv_unit.0.weight, 6×3×5×5", Maps: filterMaps(w1, 6, 5)}
	return f3
}

// synthResNet fills the stem, the four blocks and the logits of
// cifarlab's ResNet18: a 3×3 stride-3 stem to 64×10×10, then blocks
// 64→128, 128→256, 256→512 and 512→512, each of stride 2 with a 1×1
// projection shortcut, down to 512×1×1.
func synthResNet(s *Snapshot, in [][]float32, weight func(int, float64) []float32, rng *rand.Rand) []float32 {
	ws := weight(64*3*9, 0.3)
	full, h, w := conv(in, 32, 32, ws, 64, 3, true)
	x := make([][]float32, len(full)) // stride 3: every third output
	oh, ow := (h+2)/3, (w+2)/3
	for c, p := range full {
		x[c] = make([]float32, oh*ow)
		for y := range oh {
			for xx := range ow {
				x[c][y*ow+xx] = p[3*y*w+3*xx]
			}
		}
	}
	h, w = oh, ow
	s.Panels = []Panel{{Title: "stem (conv1 + ReLU)", Note: "Conv2d(3, 64, 3, stride 3), BatchNorm2d, ReLU", Maps: planeMaps(x, h, w)}}
	s.Filters = Panel{Title: "conv1 filters", Note: "conv1.0.weight, 64×3×3×3", Maps: filterMaps(ws, 64, 3)}

	for i, co := range []int{128, 256, 512, 512} {
		ci := len(x)
		oh, ow := (h+1)/2, (w+1)/2
		main := mixMaps(x, h, w, co, 2, 3, rng, true)
		short := mixMaps(x, h, w, co, 2, 2, rng, false)
		sum := make([][]float32, co)
		next := make([][]float32, co)
		for c := range co {
			sum[c] = make([]float32, oh*ow)
			next[c] = make([]float32, oh*ow)
			for j := range sum[c] {
				sum[c][j] = main[c][j] + short[c][j]
				next[c][j] = max(sum[c][j], 0)
			}
		}
		s.Blocks = append(s.Blocks, Block{
			Title:      fmt.Sprintf("blk%d (%d→%d, stride 2)", i+1, ci, co),
			Projection: true,
			Main:       Panel{Title: "main path", Note: "bn2(conv2(relu(bn1(conv1(x)))))", Maps: planeMaps(main, oh, ow)},
			Shortcut:   Panel{Title: "shortcut", Note: fmt.Sprintf("extra: 1×1 Conv2d(%d, %d, stride=2) + BatchNorm2d", ci, co), Maps: planeMaps(short, oh, ow)},
			Sum:        Panel{Title: "sum", Note: "main + shortcut: the block's output", Maps: planeMaps(sum, oh, ow)},
		})
		x, h, w = next, oh, ow
	}
	// Global max pool and the output layer.
	feat := make([]float32, len(x))
	for c, p := range x {
		feat[c] = p[0]
		for _, v := range p {
			feat[c] = max(feat[c], v)
		}
	}
	logits := linear(feat, weight(10*len(feat), 0.2), 10, false)
	s.FC = []Bars{{Title: "logits (outlayer)", Labels: s.Classes, Values: logits}}
	return logits
}

// mixMaps makes out maps, each a random mix of taps input maps, subsampled
// by stride, filtered with a random 3×3 kernel (when filter) and
// normalized to zero mean and a random spread, as BatchNorm would.
func mixMaps(x [][]float32, h, w, out, stride, taps int, rng *rand.Rand, filter bool) [][]float32 {
	oh, ow := (h+stride-1)/stride, (w+stride-1)/stride
	res := make([][]float32, out)
	tmp := make([]float32, oh*ow)
	for o := range out {
		clear(tmp)
		for range taps {
			c, a := rng.IntN(len(x)), float32(rng.NormFloat64())
			for y := range oh {
				for xx := range ow {
					tmp[y*ow+xx] += a * x[c][y*stride*w+xx*stride]
				}
			}
		}
		p := make([]float32, oh*ow)
		if filter {
			var k [9]float32
			for i := range k {
				k[i] = float32(rng.NormFloat64())
			}
			for y := range oh {
				for xx := range ow {
					var a float32
					for ky := -1; ky <= 1; ky++ {
						for kx := -1; kx <= 1; kx++ {
							yy, xk := y+ky, xx+kx
							if yy >= 0 && yy < oh && xk >= 0 && xk < ow {
								a += k[(ky+1)*3+kx+1] * tmp[yy*ow+xk]
							}
						}
					}
					p[y*ow+xx] = a
				}
			}
		} else {
			copy(p, tmp)
		}
		m := mean(p)
		var v float64
		for _, q := range p {
			v += float64((q - m) * (q - m))
		}
		sd := float32(math.Sqrt(v/float64(len(p)))) + 1e-5
		g, b := float32(0.4+0.8*rng.Float64()), float32(0.3*rng.NormFloat64())
		for i := range p {
			p[i] = (p[i]-m)/sd*g + b
		}
		res[o] = p
	}
	return res
}

func softmax(v []float32) []float32 {
	m := v[0]
	for _, x := range v {
		m = max(m, x)
	}
	out := make([]float32, len(v))
	var s float32
	for i, x := range v {
		out[i] = float32(math.Exp(float64(x - m)))
		s += out[i]
	}
	for i := range out {
		out[i] /= s
	}
	return out
}
