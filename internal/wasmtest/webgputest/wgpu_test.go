//go:build js && wasm

package webgputest

import (
	"context"
	"encoding/binary"
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/gogpu/gputypes"
	"github.com/gogpu/wgpu"
)

// TestWGPUDoubleCompute doubles 1,000 floats through gogpu/wgpu's browser
// backend, the path of cifarlab's gpu package under GOOS=js.
func TestWGPUDoubleCompute(t *testing.T) {
	gpu(t) // skips without navigator.gpu
	const n = 1000
	rng := rand.New(rand.NewPCG(3, 4))
	in := make([]float32, n)
	for i := range in {
		in[i] = float32(rng.NormFloat64() * 10)
	}
	in[0], in[1], in[2], in[n-1] = 0, -1e30, 1e-30, 3e37

	g, err := newWGPUDoubler()
	if err != nil {
		t.Fatal(err)
	}
	defer g.release()
	t.Logf("adapter: %+v", g.adapter.Info())
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	out, err := g.double(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	for i := range in {
		if want := 2 * in[i]; out[i] != want {
			t.Errorf("out[%d] = %g, want 2 × %g = %g", i, out[i], in[i], want)
		}
	}
}

// wgpuDoubler holds the device and the pipeline of doubleWGSL.
type wgpuDoubler struct {
	instance *wgpu.Instance
	adapter  *wgpu.Adapter
	device   *wgpu.Device
	layout   *wgpu.BindGroupLayout
	pipeline *wgpu.ComputePipeline
}

func newWGPUDoubler() (*wgpuDoubler, error) {
	g := &wgpuDoubler{}
	if err := g.initDevice(); err != nil {
		g.release()
		return nil, err
	}
	if err := g.createPipeline(); err != nil {
		g.release()
		return nil, err
	}
	return g, nil
}

func (g *wgpuDoubler) initDevice() error {
	var err error
	if g.instance, err = wgpu.CreateInstance(nil); err != nil {
		return fmt.Errorf("create instance: %w", err)
	}
	if g.adapter, err = g.instance.RequestAdapter(nil); err != nil {
		return fmt.Errorf("request adapter: %w", err)
	}
	if g.device, err = g.adapter.RequestDevice(nil); err != nil {
		return fmt.Errorf("request device: %w", err)
	}
	return nil
}

func (g *wgpuDoubler) createPipeline() error {
	shader, err := g.device.CreateShaderModule(&wgpu.ShaderModuleDescriptor{Label: "double", WGSL: doubleWGSL})
	if err != nil {
		return fmt.Errorf("create double shader: %w", err)
	}
	g.layout, err = g.device.CreateBindGroupLayout(&wgpu.BindGroupLayoutDescriptor{
		Label: "double",
		Entries: []gputypes.BindGroupLayoutEntry{
			{Binding: 0, Visibility: wgpu.ShaderStageCompute, Buffer: &gputypes.BufferBindingLayout{Type: gputypes.BufferBindingTypeReadOnlyStorage}},
			{Binding: 1, Visibility: wgpu.ShaderStageCompute, Buffer: &gputypes.BufferBindingLayout{Type: gputypes.BufferBindingTypeStorage}},
		},
	})
	if err != nil {
		return fmt.Errorf("create double bind group layout: %w", err)
	}
	pipelineLayout, err := g.device.CreatePipelineLayout(&wgpu.PipelineLayoutDescriptor{
		Label:            "double",
		BindGroupLayouts: []*wgpu.BindGroupLayout{g.layout},
	})
	if err != nil {
		return fmt.Errorf("create double pipeline layout: %w", err)
	}
	g.pipeline, err = g.device.CreateComputePipeline(&wgpu.ComputePipelineDescriptor{
		Label:      "double",
		Layout:     pipelineLayout,
		Module:     shader,
		EntryPoint: "double",
	})
	if err != nil {
		return fmt.Errorf("create double pipeline: %w", err)
	}
	return nil
}

// double uploads in, dispatches the pipeline and reads the result back.
func (g *wgpuDoubler) double(ctx context.Context, in []float32) ([]float32, error) {
	size := uint64(4 * len(in))
	newBuffer := func(label string, usage gputypes.BufferUsage) (*wgpu.Buffer, error) {
		b, err := g.device.CreateBuffer(&wgpu.BufferDescriptor{Label: label, Size: size, Usage: usage})
		if err != nil {
			return nil, fmt.Errorf("create %s buffer: %w", label, err)
		}
		return b, nil
	}
	input, err := newBuffer("input", wgpu.BufferUsageStorage|wgpu.BufferUsageCopyDst)
	if err != nil {
		return nil, err
	}
	defer input.Release()
	output, err := newBuffer("output", wgpu.BufferUsageStorage|wgpu.BufferUsageCopySrc)
	if err != nil {
		return nil, err
	}
	defer output.Release()
	readback, err := newBuffer("readback", wgpu.BufferUsageMapRead|wgpu.BufferUsageCopyDst)
	if err != nil {
		return nil, err
	}
	defer readback.Release()

	bindGroup, err := g.device.CreateBindGroup(&wgpu.BindGroupDescriptor{
		Label:  "double",
		Layout: g.layout,
		Entries: []wgpu.BindGroupEntry{
			{Binding: 0, Buffer: input, Size: size},
			{Binding: 1, Buffer: output, Size: size},
		},
	})
	if err != nil {
		return nil, fmt.Errorf("create double bind group: %w", err)
	}

	data := make([]byte, size)
	for i, v := range in {
		binary.LittleEndian.PutUint32(data[4*i:], math.Float32bits(v))
	}
	if err := g.device.Queue().WriteBuffer(input, 0, data); err != nil {
		return nil, fmt.Errorf("write input: %w", err)
	}
	encoder, err := g.device.CreateCommandEncoder(&wgpu.CommandEncoderDescriptor{Label: "double"})
	if err != nil {
		return nil, fmt.Errorf("create double encoder: %w", err)
	}
	pass, err := encoder.BeginComputePass(nil)
	if err != nil {
		return nil, fmt.Errorf("begin double pass: %w", err)
	}
	pass.SetPipeline(g.pipeline)
	pass.SetBindGroup(0, bindGroup, nil)
	pass.Dispatch(uint32(len(in)+63)/64, 1, 1)
	if err := pass.End(); err != nil {
		return nil, fmt.Errorf("end double pass: %w", err)
	}
	encoder.CopyBufferToBuffer(output, 0, readback, 0, size)
	commands, err := encoder.Finish()
	if err != nil {
		return nil, fmt.Errorf("finish double encoder: %w", err)
	}
	if _, err := g.device.Queue().Submit(commands); err != nil {
		return nil, fmt.Errorf("submit double: %w", err)
	}

	if err := readback.Map(ctx, wgpu.MapModeRead, 0, size); err != nil {
		return nil, fmt.Errorf("map readback: %w", err)
	}
	defer readback.Unmap()
	mapped, err := readback.MappedRange(0, size)
	if err != nil {
		return nil, fmt.Errorf("readback range: %w", err)
	}
	bytes := mapped.Bytes()
	out := make([]float32, len(in))
	for i := range out {
		out[i] = math.Float32frombits(binary.LittleEndian.Uint32(bytes[4*i:]))
	}
	return out, nil
}

func (g *wgpuDoubler) release() {
	if g.device != nil {
		g.device.Release()
	}
	if g.adapter != nil {
		g.adapter.Release()
	}
	if g.instance != nil {
		g.instance.Release()
	}
}
