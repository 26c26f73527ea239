//go:build js && wasm

package webgputest

import (
	"encoding/binary"
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"syscall/js"
	"testing"
)

func TestRunsInBrowser(t *testing.T) {
	if runtime.GOOS != "js" || runtime.GOARCH != "wasm" {
		t.Fatalf("GOOS/GOARCH = %s/%s, want js/wasm", runtime.GOOS, runtime.GOARCH)
	}
	if ua := js.Global().Get("navigator").Get("userAgent"); ua.Type() != js.TypeString {
		t.Fatalf("navigator.userAgent is %v: not a browser", ua.Type())
	} else {
		t.Logf("user agent: %s", ua.String())
	}
	if !js.Global().Get("isSecureContext").Bool() {
		t.Error("the page is not a secure context; WebGPU needs one")
	}
}

func TestAdapterAndDevice(t *testing.T) {
	adapter, dev := device(t)
	info := adapter.Get("info")
	t.Logf("adapter: vendor=%q architecture=%q device=%q description=%q fallback=%v",
		info.Get("vendor").String(), info.Get("architecture").String(),
		info.Get("device").String(), info.Get("description").String(),
		info.Get("isFallbackAdapter").Truthy())
	limits := dev.Get("limits")
	if n := limits.Get("maxComputeWorkgroupSizeX").Int(); n < 64 {
		t.Errorf("maxComputeWorkgroupSizeX = %d, want at least 64", n)
	}
	t.Logf("maxStorageBufferBindingSize=%d maxBufferSize=%d",
		limits.Get("maxStorageBufferBindingSize").Int(), limits.Get("maxBufferSize").Int())
}

// doubleWGSL doubles each element; n is not a multiple of the workgroup size,
// so the bound check matters.
const doubleWGSL = `
@group(0) @binding(0) var<storage, read> input: array<f32>;
@group(0) @binding(1) var<storage, read_write> output: array<f32>;

@compute @workgroup_size(64)
fn double(@builtin(global_invocation_id) id: vec3u) {
	let i = id.x;
	if (i < arrayLength(&input)) {
		output[i] = 2.0 * input[i];
	}
}
`

// TestDoubleCompute doubles 1,000 floats (random, with outliers) on the GPU
// and checks every one against the CPU; doubling is exact in float32.
func TestDoubleCompute(t *testing.T) {
	_, dev := device(t)
	const n = 1000
	rng := rand.New(rand.NewPCG(1, 2))
	in := make([]float32, n)
	for i := range in {
		in[i] = float32(rng.NormFloat64() * 10)
	}
	in[0], in[1], in[2], in[n-1] = 0, -1e30, 1e-30, 3e37
	out, err := double(dev, in)
	if err != nil {
		t.Fatal(err)
	}
	for i := range in {
		if want := 2 * in[i]; out[i] != want {
			t.Errorf("out[%d] = %g, want 2 × %g = %g", i, out[i], in[i], want)
		}
	}
}

// double runs doubleWGSL on in and reads the result back.
func double(dev js.Value, in []float32) ([]float32, error) {
	size := 4 * len(in)
	dev.Call("pushErrorScope", "validation")
	module := dev.Call("createShaderModule", map[string]any{"label": "double", "code": doubleWGSL})
	pipeline := dev.Call("createComputePipeline", map[string]any{
		"label":   "double",
		"layout":  "auto",
		"compute": map[string]any{"module": module, "entryPoint": "double"},
	})
	usage := js.Global().Get("GPUBufferUsage")
	newBuffer := func(label string, usages ...string) js.Value {
		u := 0
		for _, name := range usages {
			u |= usage.Get(name).Int()
		}
		return dev.Call("createBuffer", map[string]any{"label": label, "size": size, "usage": u})
	}
	input := newBuffer("input", "STORAGE", "COPY_DST")
	defer input.Call("destroy")
	output := newBuffer("output", "STORAGE", "COPY_SRC")
	defer output.Call("destroy")
	readback := newBuffer("readback", "MAP_READ", "COPY_DST")
	defer readback.Call("destroy")

	bindGroup := dev.Call("createBindGroup", map[string]any{
		"label":  "double",
		"layout": pipeline.Call("getBindGroupLayout", 0),
		"entries": []any{
			map[string]any{"binding": 0, "resource": map[string]any{"buffer": input}},
			map[string]any{"binding": 1, "resource": map[string]any{"buffer": output}},
		},
	})

	data := make([]byte, size)
	for i, v := range in {
		binary.LittleEndian.PutUint32(data[4*i:], math.Float32bits(v))
	}
	staged := js.Global().Get("Uint8Array").New(size)
	js.CopyBytesToJS(staged, data)
	queue := dev.Get("queue")
	queue.Call("writeBuffer", input, 0, staged)

	encoder := dev.Call("createCommandEncoder", map[string]any{"label": "double"})
	pass := encoder.Call("beginComputePass", map[string]any{"label": "double"})
	pass.Call("setPipeline", pipeline)
	pass.Call("setBindGroup", 0, bindGroup)
	pass.Call("dispatchWorkgroups", (len(in)+63)/64)
	pass.Call("end")
	encoder.Call("copyBufferToBuffer", output, 0, readback, 0, size)
	queue.Call("submit", []any{encoder.Call("finish")})

	if gpuErr, err := await(dev.Call("popErrorScope")); err != nil {
		return nil, fmt.Errorf("pop error scope: %w", err)
	} else if !gpuErr.IsNull() {
		return nil, fmt.Errorf("validation error: %s", gpuErr.Get("message").String())
	}
	if _, err := await(readback.Call("mapAsync", js.Global().Get("GPUMapMode").Get("READ").Int())); err != nil {
		return nil, fmt.Errorf("map readback buffer: %w", err)
	}
	js.CopyBytesToGo(data, js.Global().Get("Uint8Array").New(readback.Call("getMappedRange")))
	readback.Call("unmap")
	out := make([]float32, len(in))
	for i := range out {
		out[i] = math.Float32frombits(binary.LittleEndian.Uint32(data[4*i:]))
	}
	return out, nil
}
