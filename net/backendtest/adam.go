package backendtest

import (
	"fmt"
	"testing"

	"cifarlab/net"
)

// CheckAdam runs several Adam steps (t = 1, 2, 3, 10, 1000) with two sets
// of hyperparameters and checks param, m and v after each step against the
// reference applied to the state before it.
func CheckAdam(t *testing.T, b net.Backend, p Profile) {
	shapes := []net.Shape{{1}, {17}, {6, 5, 3, 3}, {4099}}
	if p == Standard {
		shapes = append(shapes, net.Shape{70001})
	}
	hypers := []net.AdamParams{
		{LR: 1e-3, Beta1: 0.9, Beta2: 0.999, Eps: 1e-8},
		{LR: 0.05, Beta1: 0.8, Beta2: 0.99, Eps: 1e-3}, // eps large enough to matter
	}
	// The update is at most about lr·few; float32 rounding of param and of
	// the update stays far below an error in bias correction or eps.
	tolP := Tol{Atol: 2e-7, Rtol: 3e-7}
	tolMoment := Tol{Atol: 1e-6, Rtol: 4e-6}
	for i, sh := range shapes {
		for j, hp := range hypers {
			name := fmt.Sprintf("Adam/%s_lr%g_b%g_%g_eps%g", shapeName(sh), hp.LR, hp.Beta1, hp.Beta2, hp.Eps)
			t.Run(name, func(t *testing.T) {
				s := newSession(t, b)
				rnd := newGen(uint64(50000 + 10*i + j))
				param := s.tensor(sh, rnd.normal(sh.Len(), 1))
				m, v := s.tensor(sh, nil), s.tensor(sh, nil)
				grad := s.tensor(sh, nil)
				for _, step := range []int{1, 2, 3, 10, 1000} {
					g := rnd.normal(sh.Len(), 1)
					for k := range g {
						if k%7 == 3 {
							g[k] = 0
						}
					}
					b.Upload(grad, g)
					P0, M0, V0 := ArrayOf(sh, s.get(param)), ArrayOf(sh, s.get(m)), ArrayOf(sh, s.get(v))
					hp.Step = step
					b.Adam(param, grad, m, v, hp)
					wantP, wantM, wantV := RefAdam(P0, ArrayOf(sh, g), M0, V0, hp)
					checkClose(t, fmt.Sprintf("step %d: m", step), s.get(m), wantM, tolMoment)
					checkClose(t, fmt.Sprintf("step %d: v", step), s.get(v), wantV, tolMoment)
					checkClose(t, fmt.Sprintf("step %d: param", step), s.get(param), wantP, tolP)
				}
			})
		}
	}
}
