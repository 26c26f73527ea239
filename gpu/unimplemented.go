package gpu

import "cifarlab/net"

// The families below have no shaders yet; each will get its own WGSL file
// in shaders/ and its own Go file here (see the package documentation).

func notYet(op string) { panicf("%s: not implemented yet", op) }

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

// Linear is not implemented yet.
func (b *Backend) Linear(y, x, w, bias net.Tensor) { notYet("Linear") }

// LinearBackwardData is not implemented yet.
func (b *Backend) LinearBackwardData(dx, dy, w net.Tensor) { notYet("LinearBackwardData") }

// LinearBackwardParams is not implemented yet.
func (b *Backend) LinearBackwardParams(dw, db, dy, x net.Tensor) { notYet("LinearBackwardParams") }

// MaxPool2D is not implemented yet.
func (b *Backend) MaxPool2D(y net.Tensor, argmax net.IntTensor, x net.Tensor, g net.PoolGeom) {
	notYet("MaxPool2D")
}

// MaxPool2DBackward is not implemented yet.
func (b *Backend) MaxPool2DBackward(dx, dy net.Tensor, argmax net.IntTensor) {
	notYet("MaxPool2DBackward")
}

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
