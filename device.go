package main

import (
	"fmt"
	"io"
	"sync/atomic"
	"time"

	"cifarlab/cpu"
	"cifarlab/gpu"
	"cifarlab/net"
)

var devices = []string{"auto", "cpu", "gpu"}

// openBackend returns the backend for -device: gpu needs a real WebGPU
// adapter (a hardware one, or a Vulkan/Metal/DX12 CPU emulation such as
// lavapipe); auto takes a hardware GPU when there is one and otherwise the
// CPU backend, which is faster than any CPU emulation of a GPU.
func openBackend(device string, stderr io.Writer) (net.Backend, error) {
	switch device {
	case "cpu":
		return useCPU(stderr, ""), nil
	case "gpu":
		g, err := gpu.Open(gpuOptions(stderr))
		if err != nil {
			return nil, fmt.Errorf("-device gpu: %w (use -device cpu or auto)", err)
		}
		fmt.Fprintf(stderr, "device: %s\n", g.Name())
		return g, nil
	case "auto":
		g, emulation, err := gpu.OpenAuto(gpuOptions(stderr))
		switch {
		case emulation != "" && err != nil:
			return nil, fmt.Errorf("-device auto: closing the CPU emulation %s: %w", emulation, err)
		case emulation != "":
			return useCPU(stderr, "the only GPU adapter, "+emulation+", is a CPU emulation"), nil
		case err != nil:
			return useCPU(stderr, fmt.Sprintf("no GPU (%v)", err)), nil
		}
		fmt.Fprintf(stderr, "device: %s\n", g.Name())
		return g, nil
	}
	return nil, fmt.Errorf("unknown device %q (valid: auto, cpu, gpu)", device)
}

// gpuOptions are the GPU backend's options for the command: a wait for the
// device that lasts says so on stderr (and in the desktop's notice, see
// gpuWaitNotice) every few seconds, long before it counts as a lost device.
func gpuOptions(stderr io.Writer) gpu.Options {
	return gpu.Options{Waiting: func(d time.Duration) {
		msg := ""
		if d > 0 {
			msg = fmt.Sprintf("the GPU has not finished its work for %v; after %v without an answer it counts as lost", d.Round(time.Second), gpu.DefaultTimeout)
			fmt.Fprintf(stderr, "\n%s\n", msg)
		}
		if f := gpuWaitNotice.Load(); f != nil {
			(*f)(msg)
		}
	}}
}

// gpuWaitNotice, when set (by the desktop, to its session's notice), also
// hears of a long wait for the GPU, and "" when it ends.
var gpuWaitNotice atomic.Pointer[func(string)]

func useCPU(stderr io.Writer, why string) net.Backend {
	b := cpu.New()
	if why != "" {
		fmt.Fprintf(stderr, "device: %s; %s\n", b.Name(), why)
	} else {
		fmt.Fprintf(stderr, "device: %s\n", b.Name())
	}
	return b
}

// statsEvery is how many training steps record their loss on the device
// before it is read back: every step on the CPU, where reading costs
// nothing; a few on a GPU, so that the host never waits for it.
// openAfterLoss opens the backend to go on with after a lost GPU: a new GPU
// device where one opens, else the CPU backend.
func openAfterLoss(stderr io.Writer) net.Backend {
	g, err := gpu.Open(gpuOptions(stderr))
	if err != nil {
		return useCPU(stderr, fmt.Sprintf("no GPU after the loss (%v)", err))
	}
	fmt.Fprintf(stderr, "device: %s\n", g.Name())
	return g
}

func statsEvery(b net.Backend) int {
	if _, ok := b.(*gpu.Backend); ok {
		return 8
	}
	return 1
}
