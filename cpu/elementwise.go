package cpu

import (
	"math"

	"cifarlab/cpu/vec"
	"cifarlab/net"
)

// elemGrain is the number of elements per worker for elementwise ops:
// below twice this an op runs on the calling goroutine.
const elemGrain = 1 << 15

// sameLen panics unless every tensor has n elements.
func sameLen(op string, n int, ts map[string]*Tensor) {
	for name, t := range ts {
		if len(t.data) != n {
			panicf("%s: %s %v has %d elements, want %d", op, name, t.shape, len(t.data), n)
		}
	}
}

// ReLU is y = max(x, 0); NaN stays NaN.
func (b *Backend) ReLU(y, x net.Tensor) {
	const op = "ReLU"
	Y, X := tensor(op, "y", y), tensor(op, "x", x)
	sameLen(op, len(Y.data), map[string]*Tensor{"x": X})
	b.parallel(len(Y.data), elemGrain, func(_, lo, hi int) {
		vec.ReLU(Y.data[lo:hi], X.data[lo:hi])
	})
}

// ReLUBackward is dx = dy where y > 0, else 0.
func (b *Backend) ReLUBackward(dx, dy, y net.Tensor) {
	const op = "ReLUBackward"
	DX, DY, Y := tensor(op, "dx", dx), tensor(op, "dy", dy), tensor(op, "y", y)
	sameLen(op, len(DX.data), map[string]*Tensor{"dy": DY, "y": Y})
	b.parallel(len(DX.data), elemGrain, func(_, lo, hi int) {
		vec.ReLUMask(DX.data[lo:hi], DY.data[lo:hi], Y.data[lo:hi])
	})
}

// AddReLUBackward is dx = a + (dy where y > 0, else 0), in pieces that
// stay in cache between the mask and the sum.
func (b *Backend) AddReLUBackward(dx, a, dy, y net.Tensor) {
	const op = "AddReLUBackward"
	DX, A, DY, Y := tensor(op, "dx", dx), tensor(op, "a", a), tensor(op, "dy", dy), tensor(op, "y", y)
	sameLen(op, len(DX.data), map[string]*Tensor{"a": A, "dy": DY, "y": Y})
	const piece = 4096
	b.parallel(len(DX.data), elemGrain, func(_, lo, hi int) {
		for p := lo; p < hi; p += piece {
			q := min(hi, p+piece)
			vec.ReLUMask(DX.data[p:q], DY.data[p:q], Y.data[p:q])
			vec.Add(DX.data[p:q], A.data[p:q]) // mask + a: Add's a + mask, the same bits
		}
	})
}

// Add is y = a + b elementwise.
func (b *Backend) Add(y, a, c net.Tensor) {
	const op = "Add"
	Y, A, C := tensor(op, "y", y), tensor(op, "a", a), tensor(op, "b", c)
	sameLen(op, len(Y.data), map[string]*Tensor{"a": A, "b": C})
	b.parallel(len(Y.data), elemGrain, func(_, lo, hi int) {
		vec.Add3(Y.data[lo:hi], A.data[lo:hi], C.data[lo:hi])
	})
}

// SoftmaxCrossEntropy writes dlogits, the gradient of the mean loss, and
// the mean loss and number of correct predictions into stats[slot]. Each
// row is shifted by its maximum and summed in float64.
func (b *Backend) SoftmaxCrossEntropy(dlogits, stats net.Tensor, slot int, logits net.Tensor, labels net.IntTensor) {
	const op = "SoftmaxCrossEntropy"
	D, S, L := tensor(op, "dlogits", dlogits), tensor(op, "stats", stats), tensor(op, "logits", logits)
	Lab := intTensor(op, "labels", labels)
	n, k, err := net.SoftmaxCrossEntropyShapes(D.shape, S.shape, slot, L.shape, Lab.shape)
	if err != nil {
		panicf("%v", err)
	}
	var loss float64
	correct := 0
	for r := 0; r < n; r++ {
		row, d := L.data[r*k:(r+1)*k], D.data[r*k:(r+1)*k]
		label := int(Lab.data[r])
		if label < 0 || label >= k {
			panicf("%s: label %d of row %d is not below %d", op, label, r, k)
		}
		best := 0
		for j, v := range row {
			if v > row[best] {
				best = j
			}
		}
		if best == label {
			correct++
		}
		top, xl := float64(row[best]), float64(row[label])
		var sum float64
		for j, v := range row {
			e := math.Exp(float64(v) - top)
			sum += e
			d[j] = float32(e) // exp(v − max), scaled below (d may be logits itself)
		}
		loss += math.Log(sum) - (xl - top)
		scale := 1 / (sum * float64(n))
		for j := range d {
			d[j] = float32(float64(d[j]) * scale)
		}
		d[label] -= float32(1 / float64(n))
	}
	S.data[2*slot] = float32(loss / float64(n))
	S.data[2*slot+1] = float32(correct)
}

// Adam is PyTorch's Adam step (torch.optim.Adam, single-tensor, no weight
// decay), in float32 with the bias corrections in float64:
//
//	m = m + (1−β1)·(g − m);  v = β2·v + (1−β2)·g²
//	p −= (lr/(1−β1ᵗ)) · m / (√v/√(1−β2ᵗ) + eps)
func (b *Backend) Adam(param, grad, m, v net.Tensor, p net.AdamParams) {
	const op = "Adam"
	P, G, M, V := tensor(op, "param", param), tensor(op, "grad", grad), tensor(op, "m", m), tensor(op, "v", v)
	sameLen(op, len(P.data), map[string]*Tensor{"grad": G, "m": M, "v": V})
	if p.Step < 1 {
		panicf("%s: step %d, want ≥ 1", op, p.Step)
	}
	b1, b2 := float64(p.Beta1), float64(p.Beta2)
	t := float64(p.Step)
	stepSize := float32(float64(p.LR) / (1 - math.Pow(b1, t)))
	bc2sqrt := float32(math.Sqrt(1 - math.Pow(b2, t)))
	w1, beta2, w2, eps := float32(1-b1), p.Beta2, float32(1-b2), p.Eps
	b.parallel(len(P.data), elemGrain, func(_, lo, hi int) {
		pp, mm, vv := P.data[lo:hi], M.data[lo:hi], V.data[lo:hi]
		for i, g := range G.data[lo:hi] {
			mi := mm[i] + w1*(g-mm[i])
			vi := beta2*vv[i] + w2*g*g
			mm[i], vv[i] = mi, vi
			denom := float32(math.Sqrt(float64(vi)))/bc2sqrt + eps
			pp[i] -= stepSize * mi / denom
		}
	})
}

// SumSquares stores Σ x², summed in float64, into stats[slot].
func (b *Backend) SumSquares(stats net.Tensor, slot int, x net.Tensor) {
	const op = "SumSquares"
	S, X := tensor(op, "stats", stats), tensor(op, "x", x)
	if err := net.SumSquaresShapes(S.shape, slot); err != nil {
		panicf("%v", err)
	}
	parts := make([]float64, b.threads)
	b.parallel(len(X.data), elemGrain, func(w, lo, hi int) {
		var s float64
		for _, v := range X.data[lo:hi] {
			s += float64(v) * float64(v)
		}
		parts[w] += s
	})
	var s float64
	for _, p := range parts {
		s += p
	}
	S.data[slot] = float32(s)
}
