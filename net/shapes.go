package net

import "fmt"

// The shape checks of the ops, shared by every backend: each returns the
// dimensions its op works on, or an error naming the op, the operand and
// what is wrong, which a backend turns into a panic (shape misuse is a
// programmer error; see Backend).

// dims2 returns the dimensions of the 2-D shape s of operand name.
func dims2(op, name string, s Shape) (int, int, error) {
	if len(s) != 2 {
		return 0, 0, fmt.Errorf("%s: %s has shape %v, want 2 dimensions", op, name, s)
	}
	return s[0], s[1], nil
}

// dims4 returns the dimensions of the 4-D shape s of operand name.
func dims4(op, name string, s Shape) (n, c, h, w int, err error) {
	if len(s) != 4 {
		return 0, 0, 0, 0, fmt.Errorf("%s: %s has shape %v, want [N,C,H,W]", op, name, s)
	}
	return s[0], s[1], s[2], s[3], nil
}

// wantShape is an error unless s equals want.
func wantShape(op, name string, s Shape, want ...int) error {
	if !s.Equal(want) {
		return fmt.Errorf("%s: %s has shape %v, want %v", op, name, s, Shape(want))
	}
	return nil
}

// LinearDims are the dimensions of a linear layer's product: a batch of
// N rows of In features to Out features.
type LinearDims struct{ N, In, Out int }

// LinearShapes checks y[N,O] = x[N,I]·w[O,I]ᵀ + b[O].
func LinearShapes(y, x, w, b Shape) (LinearDims, error) {
	const op = "Linear"
	n, in, err := dims2(op, "x", x)
	if err != nil {
		return LinearDims{}, err
	}
	o, in2, err := dims2(op, "w", w)
	if err != nil {
		return LinearDims{}, err
	}
	if in2 != in {
		return LinearDims{}, fmt.Errorf("%s: x %v has %d features, w %v expects %d", op, x, in, w, in2)
	}
	if err := wantShape(op, "b", b, o); err != nil {
		return LinearDims{}, err
	}
	return LinearDims{n, in, o}, wantShape(op, "y", y, n, o)
}

// LinearBackwardDataShapes checks dx[N,I] = dy[N,O]·w[O,I].
func LinearBackwardDataShapes(dx, dy, w Shape) (LinearDims, error) {
	const op = "LinearBackwardData"
	n, o, err := dims2(op, "dy", dy)
	if err != nil {
		return LinearDims{}, err
	}
	o2, in, err := dims2(op, "w", w)
	if err != nil {
		return LinearDims{}, err
	}
	if o2 != o {
		return LinearDims{}, fmt.Errorf("%s: dy %v has %d features, w %v has %d outputs", op, dy, o, w, o2)
	}
	return LinearDims{n, in, o}, wantShape(op, "dx", dx, n, in)
}

// LinearBackwardParamsShapes checks dw[O,I] = dyᵀ·x and db[O] = Σₙ dy.
func LinearBackwardParamsShapes(dw, db, dy, x Shape) (LinearDims, error) {
	const op = "LinearBackwardParams"
	n, o, err := dims2(op, "dy", dy)
	if err != nil {
		return LinearDims{}, err
	}
	n2, in, err := dims2(op, "x", x)
	if err != nil {
		return LinearDims{}, err
	}
	if n2 != n {
		return LinearDims{}, fmt.Errorf("%s: dy %v and x %v have different batch sizes", op, dy, x)
	}
	if err := wantShape(op, "dw", dw, o, in); err != nil {
		return LinearDims{}, err
	}
	return LinearDims{n, in, o}, wantShape(op, "db", db, o)
}

// ConvDims are the dimensions of a convolution of input [N, Ci, H, W] by
// Co square K×K kernels, giving [N, Co, Ho, Wo].
type ConvDims struct{ N, Ci, H, W, Co, K, Ho, Wo int }

// ConvShapes checks a convolution of op (Conv2D or one of its backward
// ops) with input shape x, weight shape w and geometry g: 4-D shapes,
// matching channels, a square kernel that fits the padded input.
func ConvShapes(op string, x, w Shape, g ConvGeom) (ConvDims, error) {
	n, ci, h, wd, err := dims4(op, "x", x)
	if err != nil {
		return ConvDims{}, err
	}
	co, ci2, kh, kw, err := dims4(op, "w", w)
	if err != nil {
		return ConvDims{}, err
	}
	switch {
	case ci2 != ci:
		return ConvDims{}, fmt.Errorf("%s: x %v has %d channels, w %v expects %d", op, x, ci, w, ci2)
	case kh != kw:
		return ConvDims{}, fmt.Errorf("%s: w %v is not a square kernel", op, w)
	case g.Stride < 1 || g.Pad < 0:
		return ConvDims{}, fmt.Errorf("%s: bad geometry %+v", op, g)
	}
	ho, wo := g.Out(h, kh), g.Out(wd, kh)
	if ho < 1 || wo < 1 || h+2*g.Pad < kh || wd+2*g.Pad < kh {
		return ConvDims{}, fmt.Errorf("%s: kernel %d with %+v does not fit input %v", op, kh, g, x)
	}
	return ConvDims{N: n, Ci: ci, H: h, W: wd, Co: co, K: kh, Ho: ho, Wo: wo}, nil
}

// GatherShapes checks a batch assembled from n records of image shape img
// [C, H, W]: x [len(index), C, H, W], labels [len(index)], every index a
// record, a normalisation per channel and, when crop is not nil, one crop
// per index within [0, 2·pad].
func GatherShapes(x, labels Shape, img Shape, n int, index []int32, crop []Crop, pad int, norm Normalize) error {
	const op = "Gather"
	c, h, w := img[0], img[1], img[2]
	b := len(index)
	if err := wantShape(op, "x", x, b, c, h, w); err != nil {
		return err
	}
	if err := wantShape(op, "labels", labels, b); err != nil {
		return err
	}
	if len(norm.Mean) != c || len(norm.Std) != c {
		return fmt.Errorf("%s: normalisation for %d and %d channels, images have %d", op, len(norm.Mean), len(norm.Std), c)
	}
	if crop != nil && len(crop) != b {
		return fmt.Errorf("%s: %d crops for %d indices", op, len(crop), b)
	}
	for i, r := range index {
		if r < 0 || int(r) >= n {
			return fmt.Errorf("%s: index[%d] = %d, have %d records", op, i, r, n)
		}
		if crop != nil {
			if cr := crop[i]; pad < 0 || cr.DX < 0 || cr.DY < 0 || int(cr.DX) > 2*pad || int(cr.DY) > 2*pad {
				return fmt.Errorf("%s: crop[%d] = %+v outside [0, %d]", op, i, cr, 2*pad)
			}
		}
	}
	return nil
}

// SoftmaxCrossEntropyShapes checks the operands of SoftmaxCrossEntropy:
// logits and dlogits [N, K], labels [N], and a slot of stats [S, 2]. It
// returns N and K.
func SoftmaxCrossEntropyShapes(dlogits, stats Shape, slot int, logits, labels Shape) (n, k int, err error) {
	const op = "SoftmaxCrossEntropy"
	if n, k, err = dims2(op, "logits", logits); err != nil {
		return 0, 0, err
	}
	if err := wantShape(op, "dlogits", dlogits, n, k); err != nil {
		return 0, 0, err
	}
	if err := wantShape(op, "labels", labels, n); err != nil {
		return 0, 0, err
	}
	slots, two, err := dims2(op, "stats", stats)
	if err != nil {
		return 0, 0, err
	}
	if two != 2 || slot < 0 || slot >= slots {
		return 0, 0, fmt.Errorf("%s: slot %d of stats %v, want [S,2] with 0 ≤ slot < S", op, slot, stats)
	}
	return n, k, nil
}

// GlobalAvgPoolShapes checks y[N,C,1,1] as the global average pool of
// x[N,C,H,W] (or dy and dx of its backward, for op
// GlobalAvgPool2DBackward) and returns N·C planes of H·W values.
func GlobalAvgPoolShapes(op string, y, x Shape) (planes, hw int, err error) {
	xname, yname := "x", "y"
	if op == "GlobalAvgPool2DBackward" {
		xname, yname = "dx", "dy"
	}
	n, c, h, w, err := dims4(op, xname, x)
	if err != nil {
		return 0, 0, err
	}
	if h < 1 || w < 1 {
		return 0, 0, fmt.Errorf("%s: %s %v has an empty plane", op, xname, x)
	}
	return n * c, h * w, wantShape(op, yname, y, n, c, 1, 1)
}

// SumSquaresShapes checks that slot is an element of stats.
func SumSquaresShapes(stats Shape, slot int) error {
	if slot < 0 || slot >= stats.Len() {
		return fmt.Errorf("SumSquares: slot %d of stats %v, want 0 ≤ slot < %d", slot, stats, stats.Len())
	}
	return nil
}
