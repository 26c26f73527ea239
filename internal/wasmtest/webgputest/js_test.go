//go:build js && wasm

package webgputest

import (
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"syscall/js"
	"testing"
)

// await blocks until the promise p settles. It must run on a goroutine of
// its own (a test's, say), never inside a js.Func: the callbacks that settle
// p run only while Go waits here.
func await(p js.Value) (js.Value, error) {
	type result struct {
		v   js.Value
		err error
	}
	done := make(chan result, 1)
	onResolve := js.FuncOf(func(_ js.Value, args []js.Value) any {
		done <- result{v: arg0(args)}
		return nil
	})
	defer onResolve.Release()
	onReject := js.FuncOf(func(_ js.Value, args []js.Value) any {
		done <- result{err: jsError(arg0(args))}
		return nil
	})
	defer onReject.Release()
	p.Call("then", onResolve, onReject)
	r := <-done
	return r.v, r.err
}

func arg0(args []js.Value) js.Value {
	if len(args) == 0 {
		return js.Undefined()
	}
	return args[0]
}

// jsError turns a rejection reason into an error.
func jsError(v js.Value) error {
	if v.Type() == js.TypeObject && v.Get("message").Type() == js.TypeString {
		return fmt.Errorf("%s: %s", v.Get("name").String(), v.Get("message").String())
	}
	return errors.New(v.String())
}

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
