package gpu

import "cifarlab/net"

// Stubs until the conv family has its shader; delete this file then.

// Conv2D is not implemented yet.
func (b *Backend) Conv2D(y, x, w, bias net.Tensor, g net.ConvGeom) { notYet("Conv2D") }

// Conv2DBackwardData is not implemented yet.
func (b *Backend) Conv2DBackwardData(dx, dy, w net.Tensor, g net.ConvGeom) {
	notYet("Conv2DBackwardData")
}

// Conv2DBackwardParams is not implemented yet.
func (b *Backend) Conv2DBackwardParams(dw, db, dy, x net.Tensor, g net.ConvGeom) {
	notYet("Conv2DBackwardParams")
}
