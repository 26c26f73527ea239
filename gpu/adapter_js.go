//go:build js

package gpu

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"sync/atomic"
	"syscall/js"
	"unsafe"

	"github.com/gogpu/gputypes"
	"github.com/gogpu/wgpu"

	"cifarlab/internal/jsutil"
)

// requestAdapter asks the page's WebGPU for an adapter (navigator.gpu).
// It waits on JavaScript promises, so it must not run inside a JavaScript
// callback.
func requestAdapter(gputypes.Backends) (*wgpu.Instance, *wgpu.Adapter, error) {
	inst, err := wgpu.CreateInstance(nil)
	if err != nil {
		return nil, nil, fmt.Errorf("gpu: this browser offers no WebGPU (navigator.gpu): %w", err)
	}
	a, err := inst.RequestAdapter(&wgpu.RequestAdapterOptions{PowerPreference: gputypes.PowerPreferenceHighPerformance})
	if err != nil {
		inst.Release()
		return nil, nil, fmt.Errorf("gpu: the browser's WebGPU offers no adapter: %w", err)
	}
	return inst, a, nil
}

// adapterInfo describes the browser's adapter from GPUAdapter.info (gogpu
// reports only "WebGPU Adapter"): vendor, architecture and description,
// and a fallback adapter (SwiftShader) as a CPU emulation.
func adapterInfo(a *wgpu.Adapter) gputypes.AdapterInfo {
	info := a.Info()
	info.Backend = gputypes.BackendBrowserWebGPU
	ref, ok := jsRef(a)
	if !ok {
		return info
	}
	ji := ref.Get("info")
	if ji.IsUndefined() || ji.IsNull() {
		return info
	}
	var parts []string
	for _, k := range []string{"vendor", "architecture", "description"} {
		if v := ji.Get(k); v.Type() == js.TypeString && v.String() != "" {
			parts = append(parts, v.String())
		}
	}
	if len(parts) > 0 {
		info.Name = strings.Join(parts, " ")
	}
	fallback := ji.Get("isFallbackAdapter")
	if fallback.Type() != js.TypeBoolean {
		fallback = ref.Get("isFallbackAdapter") // older browsers
	}
	if fallback.Type() == js.TypeBoolean && fallback.Bool() {
		info.DeviceType = gputypes.DeviceTypeCPU
	}
	return info
}

// requiredLimits asks for the adapter's largest storage binding and
// buffer; gogpu's browser backend leaves every zero limit at its default.
func requiredLimits(adapter gputypes.Limits) gputypes.Limits {
	return gputypes.Limits{
		MaxStorageBufferBindingSize: adapter.MaxStorageBufferBindingSize,
		MaxBufferSize:               adapter.MaxBufferSize,
	}
}

// deviceLimits are the limits the device got, with WebGPU's defaults
// where the browser reported none.
func deviceLimits(d *wgpu.Device, _ gputypes.Limits) gputypes.Limits {
	l := d.Limits()
	def := gputypes.DefaultLimits()
	if l.MaxComputeWorkgroupsPerDimension == 0 {
		l.MaxComputeWorkgroupsPerDimension = def.MaxComputeWorkgroupsPerDimension
	}
	if l.MaxStorageBufferBindingSize == 0 {
		l.MaxStorageBufferBindingSize = def.MaxStorageBufferBindingSize
	}
	if l.MaxBufferSize == 0 {
		l.MaxBufferSize = def.MaxBufferSize
	}
	return l
}

// listen turns the device's uncaptured errors (WGSL and validation errors,
// which the browser reports asynchronously) and its loss into failures of
// the backend. gogpu attaches no listener, and its error scopes panic in
// the browser. The callbacks only store the error: they never block.
func (b *Backend) listen() func() {
	dev, ok := jsRef(b.device)
	if !ok {
		return nil
	}
	var first atomic.Bool
	record := func(what string, err error) {
		if first.CompareAndSwap(false, true) {
			b.fail(what, err)
		}
	}
	onError := js.FuncOf(func(_ js.Value, args []js.Value) any {
		msg := "unknown error"
		if len(args) > 0 {
			if e := args[0].Get("error"); !e.IsUndefined() && !e.IsNull() {
				msg = e.Get("message").String()
				if c := e.Get("constructor"); !c.IsUndefined() {
					msg = c.Get("name").String() + ": " + msg
				}
			}
		}
		record("device error (after the last submit)", errors.New(msg))
		return nil
	})
	dev.Call("addEventListener", "uncapturederror", onError)
	onLost := js.FuncOf(func(_ js.Value, args []js.Value) any {
		msg := "no reason given"
		if len(args) > 0 && !args[0].IsUndefined() {
			msg = args[0].Get("reason").String() + ": " + args[0].Get("message").String()
		}
		if !b.closed {
			record("device lost", fmt.Errorf("%s: %w", msg, errDeviceLost))
			b.markLost(msg)
		}
		return nil
	})
	if lost := dev.Get("lost"); lost.Type() == js.TypeObject {
		lost.Call("then", onLost)
		b.lostSignal = true
	}
	return func() {
		dev.Call("removeEventListener", "uncapturederror", onError)
		onError.Release()
		// onLost stays alive: destroying the device resolves the promise.
	}
}

// jsRef returns the JavaScript object behind a gogpu browser object
// (the Ref of its unexported `browser` field), which gogpu does not
// export.
func jsRef(obj any) (js.Value, bool) {
	v := reflect.ValueOf(obj)
	if v.Kind() != reflect.Pointer || v.IsNil() {
		return js.Value{}, false
	}
	f := v.Elem().FieldByName("browser")
	if !f.IsValid() || f.Kind() != reflect.Pointer || f.IsNil() {
		return js.Value{}, false
	}
	f = reflect.NewAt(f.Type(), unsafe.Pointer(f.UnsafeAddr())).Elem()
	m := f.MethodByName("Ref")
	if !m.IsValid() || m.Type().NumIn() != 0 || m.Type().NumOut() != 1 {
		return js.Value{}, false
	}
	ref, ok := m.Call(nil)[0].Interface().(js.Value)
	return ref, ok && ref.Type() == js.TypeObject
}

// validated runs f, which creates a GPU object, inside validation and
// out-of-memory error scopes of the browser's device and waits for them,
// so that a pipeline the browser refuses is an error of the op that made
// it rather than an uncaptured error later. Only first uses of a kernel
// pay for the wait.
func (b *Backend) validated(f func() error) error {
	dev, ok := jsRef(b.device)
	if !ok {
		return f()
	}
	dev.Call("pushErrorScope", "out-of-memory")
	dev.Call("pushErrorScope", "validation")
	err := f()
	var scoped []string
	for i := 0; i < 2; i++ {
		v, perr := b.await(dev.Call("popErrorScope"))
		if perr != nil {
			return errors.Join(err, perr)
		}
		if v.Type() == js.TypeObject {
			scoped = append(scoped, v.Get("message").String())
		}
	}
	if len(scoped) > 0 {
		return errors.Join(err, errors.New(strings.Join(scoped, "; ")))
	}
	return err
}

// compilationErrors waits for the browser's compilation of a shader module
// and returns its error messages, with their lines and columns.
func (b *Backend) compilationErrors(m *wgpu.ShaderModule) error {
	ref, ok := jsRef(m)
	if !ok || ref.Get("getCompilationInfo").Type() != js.TypeFunction {
		return nil
	}
	info, err := b.await(ref.Call("getCompilationInfo"))
	if err != nil {
		return fmt.Errorf("shader compilation info: %w", err)
	}
	msgs := info.Get("messages")
	var out []string
	for i := 0; i < msgs.Length(); i++ {
		msg := msgs.Index(i)
		if msg.Get("type").String() != "error" {
			continue
		}
		out = append(out, fmt.Sprintf("%d:%d: %s", msg.Get("lineNum").Int(), msg.Get("linePos").Int(), msg.Get("message").String()))
	}
	if len(out) > 0 {
		return errors.New(strings.Join(out, "; "))
	}
	return nil
}

// await waits for a JavaScript promise, at most the backend's timeout. It
// blocks the calling goroutine, which must not be a JavaScript callback.
func (b *Backend) await(p js.Value) (js.Value, error) {
	ctx, cancel := context.WithTimeout(context.Background(), b.opts.Timeout)
	defer cancel()
	v, err := jsutil.Await(ctx, p)
	if errors.Is(err, context.DeadlineExceeded) {
		return v, fmt.Errorf("no answer within %v: %w", b.opts.Timeout, errDeviceLost)
	}
	return v, err
}
