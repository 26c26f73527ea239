//go:build js && wasm

package webgputest

import (
	"context"
	"os"
	"slices"
	"strings"
	"syscall/js"
	"testing"

	"cifarlab/internal/jsutil"
)

// await blocks until the promise p settles (see jsutil.Await).
func await(p js.Value) (js.Value, error) { return jsutil.Await(context.Background(), p) }

// webgpuRequired reports whether CIFARLAB_REQUIRE names webgpu: a missing
// WebGPU is then a failure, not a skip.
func webgpuRequired() bool {
	return slices.Contains(strings.Split(os.Getenv("CIFARLAB_REQUIRE"), ","), "webgpu")
}

// gpu returns navigator.gpu, skipping (or failing, when required) without it.
func gpu(t *testing.T) js.Value {
	t.Helper()
	g := js.Global().Get("navigator").Get("gpu")
	if g.IsUndefined() || g.IsNull() {
		msg := "navigator.gpu is undefined: this browser has no WebGPU (Chromium needs --enable-unsafe-webgpu and a secure context)"
		if webgpuRequired() {
			t.Fatal(msg + " (CIFARLAB_REQUIRE=webgpu makes this a failure)")
		}
		t.Skip(msg)
	}
	return g
}

// device requests an adapter and a device from navigator.gpu; the device is
// destroyed when the test ends.
func device(t *testing.T) (adapter, dev js.Value) {
	t.Helper()
	adapter, err := await(gpu(t).Call("requestAdapter"))
	if err != nil {
		t.Fatalf("requestAdapter: %v", err)
	}
	if adapter.IsNull() {
		msg := "navigator.gpu.requestAdapter() returned null: no usable GPU adapter"
		if webgpuRequired() {
			t.Fatal(msg + " (CIFARLAB_REQUIRE=webgpu makes this a failure)")
		}
		t.Skip(msg)
	}
	dev, err = await(adapter.Call("requestDevice", map[string]any{"label": t.Name()}))
	if err != nil {
		t.Fatalf("requestDevice: %v", err)
	}
	t.Cleanup(func() { dev.Call("destroy") })
	return adapter, dev
}
