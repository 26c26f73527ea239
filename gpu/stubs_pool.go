package gpu

import "cifarlab/net"

// Stubs until the pool family has its shader; delete this file then.

// MaxPool2D is not implemented yet.
func (b *Backend) MaxPool2D(y net.Tensor, argmax net.IntTensor, x net.Tensor, g net.PoolGeom) {
	notYet("MaxPool2D")
}

// MaxPool2DBackward is not implemented yet.
func (b *Backend) MaxPool2DBackward(dx, dy net.Tensor, argmax net.IntTensor) {
	notYet("MaxPool2DBackward")
}
