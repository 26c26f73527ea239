package gpu

import "cifarlab/net"

// Stubs until the batchnorm family has its shader; delete this file then.

// BatchNorm2DTrain is not implemented yet.
func (b *Backend) BatchNorm2DTrain(y, mean, invstd, x, gamma, beta, runMean, runVar net.Tensor, momentum, eps float32) {
	notYet("BatchNorm2DTrain")
}

// BatchNorm2DEval is not implemented yet.
func (b *Backend) BatchNorm2DEval(y, x, gamma, beta, runMean, runVar net.Tensor, eps float32) {
	notYet("BatchNorm2DEval")
}

// BatchNorm2DBackward is not implemented yet.
func (b *Backend) BatchNorm2DBackward(dx, dgamma, dbeta, dy, x, mean, invstd, gamma net.Tensor) {
	notYet("BatchNorm2DBackward")
}
