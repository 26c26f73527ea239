package gpu

import (
	"math"

	"cifarlab/net"
)

// adamParams mirrors Params in shaders/adam.wgsl.
type adamParams struct {
	N             uint32  `wgsl:"n"`
	StepSize      float32 `wgsl:"step_size"`
	BC2Sqrt       float32 `wgsl:"bc2_sqrt"`
	OneMinusBeta1 float32 `wgsl:"one_minus_beta1"`
	Beta2         float32 `wgsl:"beta2"`
	OneMinusBeta2 float32 `wgsl:"one_minus_beta2"`
	Eps           float32 `wgsl:"eps"`
	Pad0          uint32  `wgsl:"_pad0"`
}

// kAdam is adam.wgsl's update. Bindings: 1 grad, 2 param, 3 m, 4 v.
var kAdam = newKernel[adamParams]("adam.wgsl", "adam", 256, slot{1, read}, slot{2, readWrite}, slot{3, readWrite}, slot{4, readWrite})

// Adam is PyTorch's Adam step (torch.optim.Adam, single-tensor, no weight
// decay) with the bias corrections computed in float64 on the host, as the
// CPU backend does:
//
//	m = m + (1−β1)·(g − m);  v = β2·v + (1−β2)·g²
//	p −= (lr/(1−β1ᵗ)) · m / (√v/√(1−β2ᵗ) + eps)
func (b *Backend) Adam(param, grad, m, v net.Tensor, p net.AdamParams) {
	const op = "Adam"
	P, G, M, V := tensor(op, "param", param), tensor(op, "grad", grad), tensor(op, "m", m), tensor(op, "v", v)
	n := P.shape.Len()
	sameLen(op, n, []string{"grad", "m", "v"}, G, M, V)
	b.adam(op, n, p, G.st.region(), P.st.region(), M.st.region(), V.st.region())
}

// adam records adam.wgsl's update of n values in the regions g, param, m, v.
func (b *Backend) adam(op string, n int, p net.AdamParams, g, param, m, v region) {
	if p.Step < 1 {
		panicf("%s: step %d, want ≥ 1", op, p.Step)
	}
	b1, b2 := float64(p.Beta1), float64(p.Beta2)
	t := float64(p.Step)
	prm := adamParams{
		N:             uint32(n),
		StepSize:      float32(float64(p.LR) / (1 - math.Pow(b1, t))),
		BC2Sqrt:       float32(math.Sqrt(1 - math.Pow(b2, t))),
		OneMinusBeta1: float32(1 - b1),
		Beta2:         p.Beta2,
		OneMinusBeta2: float32(1 - b2),
		Eps:           p.Eps,
	}
	dispatch(b, op, kAdam, n, &prm, g, param, m, v)
}
