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
	g, err := gpu.Open(gpu.Options{})
	if err != nil {
		// Chrome on Linux without flags, a blocklisted driver: a fallback,
		// not a failure.
		return opened{b: newCPU(), slow: true, notice: fmt.Sprintf("WebGPU is not available here (%v): %s", err, cpuNotice)}
	}
	if g.CPUEmulation() && device == "auto" {
		name := g.Adapter().Name
		if err := g.Close(); err != nil {
			return opened{b: newCPU(), slow: true, notice: fmt.Sprintf(emulatedNotice, name),
				failure: fmt.Errorf("closing the emulated WebGPU device: %w", err)}
		}
		return opened{b: newCPU(), slow: true, notice: fmt.Sprintf(emulatedNotice, name)}
	}
	o := opened{b: g, gpu: true}
	if g.CPUEmulation() {
		o.slow = true
		o.notice = "the WebGPU adapter emulates a GPU on the CPU: training is slow (?device=gpu)"
	}
	return o
}

// newCPU is the CPU backend, yielding to the page's event loop between its
// ops (see yielding).
func newCPU() net.Backend {
	return &yielding{Backend: cpu.New(), every: yieldEvery}
}

// In Go's WebAssembly, goroutines share the page's one thread and are not
// preempted: while the CPU backend computes, nothing else runs, neither
// the canvas nor the page's events. yielding lets them through: before an
// op, once yieldEvery has passed since the last time, it sleeps briefly,
// which hands the thread back to the browser's event loop.
const (
	yieldEvery = 15 * time.Millisecond
	yieldFor   = time.Millisecond
)

// yielding is a backend that yields to the event loop between the ops of
// its Backend that take long.
type yielding struct {
	net.Backend
	every time.Duration
	last  time.Time
}

// maybeYield yields when the last yield is older than every.
func (y *yielding) maybeYield() {
	if time.Since(y.last) >= y.every {
		time.Sleep(yieldFor)
		y.last = time.Now()
	}
}

func (y *yielding) Gather(x net.Tensor, labels net.IntTensor, recs net.Records, index []int32, crop []net.Crop, pad int, norm net.Normalize) {
	y.maybeYield()
	y.Backend.Gather(x, labels, recs, index, crop, pad, norm)
}

func (y *yielding) Conv2D(out, x, w, b net.Tensor, g net.ConvGeom) {
	y.maybeYield()
	y.Backend.Conv2D(out, x, w, b, g)
}

func (y *yielding) Conv2DBackwardData(dx, dy, w net.Tensor, g net.ConvGeom) {
	y.maybeYield()
	y.Backend.Conv2DBackwardData(dx, dy, w, g)
}

func (y *yielding) Conv2DBackwardParams(dw, db, dy, x net.Tensor, g net.ConvGeom) {
	y.maybeYield()
	y.Backend.Conv2DBackwardParams(dw, db, dy, x, g)
}

func (y *yielding) Linear(out, x, w, b net.Tensor) {
	y.maybeYield()
	y.Backend.Linear(out, x, w, b)
}

func (y *yielding) LinearBackwardData(dx, dy, w net.Tensor) {
	y.maybeYield()
	y.Backend.LinearBackwardData(dx, dy, w)
}

func (y *yielding) LinearBackwardParams(dw, db, dy, x net.Tensor) {
	y.maybeYield()
	y.Backend.LinearBackwardParams(dw, db, dy, x)
}

func (y *yielding) BatchNorm2DTrain(out, mean, invstd, x, gamma, beta, runMean, runVar net.Tensor, momentum, eps float32) {
	y.maybeYield()
	y.Backend.BatchNorm2DTrain(out, mean, invstd, x, gamma, beta, runMean, runVar, momentum, eps)
}

func (y *yielding) BatchNorm2DBackward(dx, dgamma, dbeta, dy, x, mean, invstd, gamma net.Tensor) {
	y.maybeYield()
	y.Backend.BatchNorm2DBackward(dx, dgamma, dbeta, dy, x, mean, invstd, gamma)
}

func (y *yielding) Adam(param, grad, m, v net.Tensor, p net.AdamParams) {
	y.maybeYield()
	y.Backend.Adam(param, grad, m, v, p)
}
