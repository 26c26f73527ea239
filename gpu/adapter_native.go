//go:build !js

package gpu

import (
	"fmt"
	"os"
	"strings"

	"github.com/gogpu/gputypes"
	"github.com/gogpu/wgpu"
	"github.com/gogpu/wgpu/core"
)

// nativeBackends are the backends Open tries natively. gogpu's GL backend
// needs a window, and its Software adapter (backend Empty, registered by
// hal/software or hal/allbackends) computes wrong results: arrayLength is
// 0, barriers do nothing, atomics give zeros.
const nativeBackends = gputypes.BackendsVulkan | gputypes.BackendsMetal | gputypes.BackendsDX12

// quietDeviceSelect turns Mesa's device-select Vulkan layer off where there
// is no desktop session (no XDG_RUNTIME_DIR: servers, CI, Xvfb), unless the
// user set NODEVICE_SELECT. The layer only orders the adapters, which Open
// does itself, and without a session its probe for a Wayland display makes
// libwayland print "error: XDG_RUNTIME_DIR is invalid or not set in the
// environment." on every start. The Vulkan loader reads the variable when
// the instance is created.
func quietDeviceSelect() {
	if os.Getenv("XDG_RUNTIME_DIR") == "" && os.Getenv("NODEVICE_SELECT") == "" {
		os.Setenv("NODEVICE_SELECT", "1")
	}
}

// requestAdapter picks the best adapter of the native backends (those of
// mask when not 0), refusing gogpu's Software and noop adapters.
func requestAdapter(mask gputypes.Backends) (*wgpu.Instance, *wgpu.Adapter, error) {
	if mask == 0 {
		mask = nativeBackends
	}
	quietDeviceSelect()
	inst, err := wgpu.CreateInstance(&wgpu.InstanceDescriptor{Backends: mask})
	if err != nil {
		return nil, nil, fmt.Errorf("gpu: create a WebGPU instance: %w", err)
	}
	a, err := inst.RequestAdapter(&wgpu.RequestAdapterOptions{PowerPreference: gputypes.PowerPreferenceHighPerformance})
	if err == nil && usable(a.Info()) {
		return inst, a, nil
	}
	if err == nil {
		err = fmt.Errorf("the only adapter is %s, which gogpu offers as a fallback but whose compute results are wrong", adapterString(a.Info()))
		a.Release()
	}
	inst.Release()
	return nil, nil, fmt.Errorf("gpu: no usable Vulkan, Metal or DX12 adapter (all adapters found: %s): %w", foundAdapters(), err)
}

// usable reports whether an adapter computes correctly: not gogpu's
// Software or noop adapter (backend Empty).
func usable(info gputypes.AdapterInfo) bool {
	return info.Backend != gputypes.BackendEmpty
}

func adapterString(info gputypes.AdapterInfo) string {
	return fmt.Sprintf("%q (%s, %s)", info.Name, info.Backend, info.DeviceType)
}

// foundAdapters lists every adapter any registered backend offers, for the
// error of Open.
func foundAdapters() string {
	desc := gputypes.DefaultInstanceDescriptor()
	desc.Backends = gputypes.BackendsAll
	inst := core.NewInstance(&desc)
	defer inst.Destroy()
	var names []string
	for _, id := range inst.EnumerateAdapters() {
		if info, err := core.GetAdapterInfo(id); err == nil {
			names = append(names, adapterString(info))
		}
	}
	if len(names) == 0 {
		return "none; is a Vulkan driver installed (e.g. Debian's mesa-vulkan-drivers)?"
	}
	return strings.Join(names, ", ")
}

// adapterInfo is the adapter's description.
func adapterInfo(a *wgpu.Adapter) gputypes.AdapterInfo { return a.Info() }

// requiredLimits asks for WebGPU's default limits except the largest
// storage binding and buffer, which the adapter may raise.
func requiredLimits(adapter gputypes.Limits) gputypes.Limits {
	l := gputypes.DefaultLimits()
	l.MaxStorageBufferBindingSize = max(l.MaxStorageBufferBindingSize, adapter.MaxStorageBufferBindingSize)
	l.MaxBufferSize = max(l.MaxBufferSize, adapter.MaxBufferSize)
	return l
}

// deviceLimits are the limits the device got.
func deviceLimits(d *wgpu.Device, _ gputypes.Limits) gputypes.Limits { return d.Limits() }

// validated runs f, which creates a GPU object; natively gogpu returns
// every error from the call itself.
func (b *Backend) validated(f func() error) error { return f() }

// compilationErrors is nil natively: gogpu compiles WGSL when it creates
// the module and returns the errors then.
func (b *Backend) compilationErrors(*wgpu.ShaderModule) error { return nil }

// listen attaches nothing natively: gogpu returns errors from the calls
// that meet them (its error scopes capture nothing natively).
func (b *Backend) listen() func() { return nil }
