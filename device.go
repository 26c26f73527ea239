package main

import (
	"errors"
	"fmt"
	"io"

	"cifarlab/cpu"
	"cifarlab/net"
)

var devices = []string{"auto", "cpu", "gpu"}

// openBackend returns the backend for -device.
func openBackend(device string, stderr io.Writer) (net.Backend, error) {
	switch device {
	case "cpu", "auto":
		b := cpu.New()
		fmt.Fprintf(stderr, "device: %s\n", b.Name())
		return b, nil
	case "gpu":
		return nil, errors.New("-device gpu: this build of cifarlab has no GPU backend; use -device cpu or -device auto")
	}
	return nil, fmt.Errorf("unknown device %q (valid: auto, cpu, gpu)", device)
}
