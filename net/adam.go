package net

// Adam is torch.optim.Adam without weight decay or amsgrad.
type Adam struct {
	b                     Backend
	LR, Beta1, Beta2, Eps float32
	Step                  int // updates done; the next uses Step+1 for bias correction
	Params                []*Param
}

// NewAdam makes an optimizer over params with PyTorch's defaults (betas
// 0.9, 0.999, eps 1e-8) and allocates zeroed moment estimates. On a
// backend that packs (Packer), the parameters, their gradients and the
// moments are packed, four buffers laid out alike, so that Update is one
// dispatch.
func NewAdam(b Backend, params []*Param, lr float32) *Adam {
	for _, p := range params {
		if p.M == nil {
			p.M = b.NewTensor(p.Shape)
			p.V = b.NewTensor(p.Shape)
		}
	}
	a := &Adam{b: b, LR: lr, Beta1: 0.9, Beta2: 0.999, Eps: 1e-8, Params: params}
	if pk, ok := b.(Packer); ok && len(params) > 0 {
		for _, ts := range a.lists() {
			pk.Pack(ts)
		}
	}
	return a
}

// lists are the parameters' values, gradients and moments.
func (a *Adam) lists() [4][]Tensor {
	var l [4][]Tensor
	for _, q := range a.Params {
		l[0] = append(l[0], q.Value)
		l[1] = append(l[1], q.Grad)
		l[2] = append(l[2], q.M)
		l[3] = append(l[3], q.V)
	}
	return l
}

// Update applies one step to every parameter from its gradient.
func (a *Adam) Update() {
	a.Step++
	p := AdamParams{LR: a.LR, Beta1: a.Beta1, Beta2: a.Beta2, Eps: a.Eps, Step: a.Step}
	if pk, ok := a.b.(Packer); ok {
		if l := a.lists(); pk.AdamAll(l[0], l[1], l[2], l[3], p) {
			return
		}
	}
	for _, q := range a.Params {
		a.b.Adam(q.Value, q.Grad, q.M, q.V, p)
	}
}

// Reset zeroes the moment estimates and the step count.
func (a *Adam) Reset() {
	a.Step = 0
	for _, q := range a.Params {
		zero := make([]float32, q.Shape.Len())
		a.b.Upload(q.M, zero)
		a.b.Upload(q.V, zero)
	}
}
