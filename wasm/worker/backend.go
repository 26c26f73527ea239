//go:build js && wasm

package main

import (
	"fmt"
	"syscall/js"
	"time"

	"cifarlab/cpu"
	"cifarlab/gpu"
	"cifarlab/net"
)

// opened is the backend the page trains on, and what to tell about it.
type opened struct {
	b       net.Backend
	gpu     bool   // WebGPU, as opposed to the CPU fallback
	slow    bool   // the CPU, or a GPU emulated on the CPU (SwiftShader)
	notice  string // shown for as long as the backend is used
	failure error  // a failure of the backend (shown as an error): a fallback is not one
}

// cpuNotice is the notice of the CPU fallback.
const cpuNotice = "training runs on the CPU backend, in WebAssembly on one thread: much slower than on WebGPU"

// emulatedNotice is the notice of the CPU backend chosen over a WebGPU
// adapter that emulates a GPU on the CPU.
const emulatedNotice = "this browser's WebGPU emulates a GPU on the CPU (%s), which trains more slowly than the CPU backend: " +
	"training on the CPU, in WebAssembly on one thread (?device=gpu trains on the emulation)"

// openBackend opens the backend that device (a URL parameter) asks for:
// "cpu", the CPU backend; "gpu", WebGPU when navigator.gpu gives an
// adapter; "auto", WebGPU on a GPU and the CPU backend otherwise, also
// when the adapter only emulates a GPU on the CPU (Chromium's SwiftShader,
// where LeNet5 trains at about a tenth of the CPU backend's images/s and
// compiling its kernels takes seconds; see BENCHMARKS.md). Without WebGPU
// it falls back to the CPU backend and says why. It waits on JavaScript
// promises: call it from a goroutine, never from a JavaScript callback.
func openBackend(device string) opened {
	if device == "cpu" {
		return opened{b: newCPU(), slow: true, notice: cpuNotice + " (?device=cpu)"}
	}
	if g := js.Global().Get("navigator").Get("gpu"); !g.Truthy() {
		return opened{b: newCPU(), slow: true,
			notice: "no WebGPU in this browser (navigator.gpu is undefined; it needs a recent Chrome, Edge or Safari, and a secure context such as http://127.0.0.1): " + cpuNotice}
	}
	var g *gpu.Backend
	var err error
	if device == "auto" {
		var emulation string
		g, emulation, err = gpu.OpenAuto(gpu.Options{})
		if emulation != "" {
			o := opened{b: newCPU(), slow: true, notice: fmt.Sprintf(emulatedNotice, emulation)}
			if err != nil {
				o.failure = fmt.Errorf("closing the emulated WebGPU device: %w", err)
			}
			return o
		}
	} else {
		g, err = gpu.Open(gpu.Options{})
	}
	if err != nil {
		// Chrome on Linux without flags, a blocklisted driver: a fallback,
		// not a failure.
		return opened{b: newCPU(), slow: true, notice: fmt.Sprintf("WebGPU is not available here (%v): %s", err, cpuNotice)}
	}
	o := opened{b: g, gpu: true}
	if g.CPUEmulation() {
		o.slow = true
		o.notice = "the WebGPU adapter emulates a GPU on the CPU: training is slow (?device=gpu)"
	}
	return o
}

// newCPU is the CPU backend, yielding to the worker's event loop between
// its ops (see yielding).
func newCPU() net.Backend {
	return &yielding{b: cpu.New(), every: yieldEvery}
}

// In Go's WebAssembly, goroutines share the worker's one thread and are not
// preempted: while the CPU backend computes, nothing else runs, neither
// the page's messages (an intent, the ack that lets the next snapshot go)
// nor the goroutines that send the page its state. yielding lets them
// through: before an op, once yieldEvery has passed since the last time,
// it sleeps briefly, which hands the thread back to the event loop.
const (
	yieldEvery = 15 * time.Millisecond
	yieldFor   = time.Millisecond
)

// yielding is a backend that yields to the event loop before the ops of
// its backend that take long. It spells out every method of net.Backend
// instead of embedding one, so that an op added to the interface is a
// compile error here until someone decides whether it yields.
type yielding struct {
	b     net.Backend
	every time.Duration
	last  time.Time
}

var _ net.Backend = (*yielding)(nil)

// maybeYield yields when the last yield is older than every.
func (y *yielding) maybeYield() {
	if time.Since(y.last) >= y.every {
		time.Sleep(yieldFor)
		y.last = time.Now()
	}
}

func (yl *yielding) Name() string {
	return yl.b.Name()
}

func (yl *yielding) NewTensor(s net.Shape) net.Tensor {
	return yl.b.NewTensor(s)
}

func (yl *yielding) NewIntTensor(s net.Shape) net.IntTensor {
	return yl.b.NewIntTensor(s)
}

func (yl *yielding) Reshape(t net.Tensor, s net.Shape) net.Tensor {
	return yl.b.Reshape(t, s)
}

func (yl *yielding) Free(t any) {
	yl.b.Free(t)
}

func (yl *yielding) Upload(dst net.Tensor, src []float32) {
	yl.b.Upload(dst, src)
}

func (yl *yielding) UploadInt(dst net.IntTensor, src []int32) {
	yl.b.UploadInt(dst, src)
}

func (yl *yielding) Download(dst []float32, src net.Tensor) error {
	return yl.b.Download(dst, src)
}

func (yl *yielding) DownloadInt(dst []int32, src net.IntTensor) error {
	return yl.b.DownloadInt(dst, src)
}

func (yl *yielding) ReadLater(src net.Tensor) func() ([]float32, error) {
	return yl.b.ReadLater(src)
}

func (yl *yielding) UploadRecords(data []byte, img net.Shape) (net.Records, error) {
	return yl.b.UploadRecords(data, img)
}

func (yl *yielding) Submit() error {
	return yl.b.Submit()
}

func (yl *yielding) Close() error {
	return yl.b.Close()
}

func (yl *yielding) Gather(x net.Tensor, labels net.IntTensor, recs net.Records, index []int32, crop []net.Crop, pad int, norm net.Normalize) {
	yl.maybeYield()
	yl.b.Gather(x, labels, recs, index, crop, pad, norm)
}

func (yl *yielding) Conv2D(y, x, w, b net.Tensor, g net.ConvGeom) {
	yl.maybeYield()
	yl.b.Conv2D(y, x, w, b, g)
}

func (yl *yielding) Conv2DBackwardData(dx, dy, w net.Tensor, g net.ConvGeom) {
	yl.maybeYield()
	yl.b.Conv2DBackwardData(dx, dy, w, g)
}

func (yl *yielding) Conv2DBackwardParams(dw, db, dy, x net.Tensor, g net.ConvGeom) {
	yl.maybeYield()
	yl.b.Conv2DBackwardParams(dw, db, dy, x, g)
}

func (yl *yielding) Linear(y, x, w, b net.Tensor) {
	yl.maybeYield()
	yl.b.Linear(y, x, w, b)
}

func (yl *yielding) LinearBackwardData(dx, dy, w net.Tensor) {
	yl.maybeYield()
	yl.b.LinearBackwardData(dx, dy, w)
}

func (yl *yielding) LinearBackwardParams(dw, db, dy, x net.Tensor) {
	yl.maybeYield()
	yl.b.LinearBackwardParams(dw, db, dy, x)
}

func (yl *yielding) MaxPool2D(y net.Tensor, argmax net.IntTensor, x net.Tensor, g net.PoolGeom) {
	yl.maybeYield()
	yl.b.MaxPool2D(y, argmax, x, g)
}

func (yl *yielding) MaxPool2DBackward(dx, dy net.Tensor, argmax net.IntTensor, g net.PoolGeom) {
	yl.maybeYield()
	yl.b.MaxPool2DBackward(dx, dy, argmax, g)
}

func (yl *yielding) GlobalAvgPool2D(y, x net.Tensor) {
	yl.b.GlobalAvgPool2D(y, x)
}

func (yl *yielding) GlobalAvgPool2DBackward(dx, dy net.Tensor) {
	yl.b.GlobalAvgPool2DBackward(dx, dy)
}

func (yl *yielding) BatchNorm2DTrain(y, mean, invstd, x, gamma, beta, runMean, runVar net.Tensor, momentum, eps float32) {
	yl.maybeYield()
	yl.b.BatchNorm2DTrain(y, mean, invstd, x, gamma, beta, runMean, runVar, momentum, eps)
}

func (yl *yielding) BatchNorm2DEval(y, x, gamma, beta, runMean, runVar net.Tensor, eps float32) {
	yl.maybeYield()
	yl.b.BatchNorm2DEval(y, x, gamma, beta, runMean, runVar, eps)
}

func (yl *yielding) BatchNorm2DBackward(dx, dgamma, dbeta, dy, x, mean, invstd, gamma net.Tensor) {
	yl.maybeYield()
	yl.b.BatchNorm2DBackward(dx, dgamma, dbeta, dy, x, mean, invstd, gamma)
}

func (yl *yielding) ReLU(y, x net.Tensor) {
	yl.b.ReLU(y, x)
}

func (yl *yielding) ReLUBackward(dx, dy, y net.Tensor) {
	yl.b.ReLUBackward(dx, dy, y)
}

func (yl *yielding) Add(y, a, b net.Tensor) {
	yl.b.Add(y, a, b)
}

func (yl *yielding) SoftmaxCrossEntropy(dlogits, stats net.Tensor, slot int, logits net.Tensor, labels net.IntTensor) {
	yl.maybeYield()
	yl.b.SoftmaxCrossEntropy(dlogits, stats, slot, logits, labels)
}

func (yl *yielding) SumSquares(stats net.Tensor, slot int, x net.Tensor) {
	yl.b.SumSquares(stats, slot, x)
}

func (yl *yielding) Adam(param, grad, m, v net.Tensor, p net.AdamParams) {
	yl.maybeYield()
	yl.b.Adam(param, grad, m, v, p)
}
