package gpu

import "cifarlab/net"

// Stubs until the linear family has its shader; delete this file then.

// Linear is not implemented yet.
func (b *Backend) Linear(y, x, w, bias net.Tensor) { notYet("Linear") }

// LinearBackwardData is not implemented yet.
func (b *Backend) LinearBackwardData(dx, dy, w net.Tensor) { notYet("LinearBackwardData") }

// LinearBackwardParams is not implemented yet.
func (b *Backend) LinearBackwardParams(dw, db, dy, x net.Tensor) { notYet("LinearBackwardParams") }
