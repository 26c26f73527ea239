package cpu

import (
	"testing"

	"cifarlab/net"
	"cifarlab/net/backendtest"
)

func TestConformance(t *testing.T) {
	b := New()
	defer b.Close()
	backendtest.RunAll(t, b)
}

// TestConformanceBlocking runs the checks of the ops that split their work
// with other thread counts and convolution chunkings, so that workers
// handle several chunks (dw accumulated across chunks), single-image chunks
// (y and dy used in place), chunks of many images and uneven splits.
func TestConformanceBlocking(t *testing.T) {
	for _, c := range []struct {
		name              string
		threads           int
		colTarget, colMax int
	}{
		{"1thread_1image", 1, 1, 1 << 21},
		{"3threads_1image", 3, 1, 1 << 21},
		{"2threads_wide", 2, 1 << 16, 1 << 24},
		{"5threads_smallcol", 5, 256, 1 << 12},
	} {
		t.Run(c.name, func(t *testing.T) {
			b := NewWithThreads(c.threads)
			b.colTarget, b.colMax = c.colTarget, c.colMax
			for _, check := range []func(*testing.T, net.Backend, backendtest.Profile){
				backendtest.CheckGather, backendtest.CheckConv2D, backendtest.CheckLinear,
				backendtest.CheckMaxPool2D, backendtest.CheckBatchNorm2D, backendtest.CheckElementwise,
				backendtest.CheckAdam,
			} {
				check(t, b, backendtest.Standard)
			}
		})
	}
}
