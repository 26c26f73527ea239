package net

// Adam is torch.optim.Adam without weight decay or amsgrad.
type Adam struct {
	b                     Backend
	LR, Beta1, Beta2, Eps float32
	Step                  int // updates done; the next uses Step+1 for bias correction
	Params                []*Param
}

// NewAdam makes an optimizer over params with PyTorch's defaults (betas
// 0.9, 0.999, eps 1e-8) and allocates zeroed moment estimates.
func NewAdam(b Backend, params []*Param, lr float32) *Adam {
	for _, p := range params {
		if p.M == nil {
			p.M = b.NewTensor(p.Shape)
			p.V = b.NewTensor(p.Shape)
		}
	}
	return &Adam{b: b, LR: lr, Beta1: 0.9, Beta2: 0.999, Eps: 1e-8, Params: params}
}

// Update applies one step to every parameter from its gradient.
func (a *Adam) Update() {
	a.Step++
	p := AdamParams{LR: a.LR, Beta1: a.Beta1, Beta2: a.Beta2, Eps: a.Eps, Step: a.Step}
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
