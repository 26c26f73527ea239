package gpu

import (
	"fmt"
	"reflect"

	"github.com/gogpu/gputypes"
	"github.com/gogpu/wgpu"

	"cifarlab/shaders"
)

// access is how an entry point uses a storage binding.
type access uint8

const (
	read      access = iota // var<storage, read>
	readWrite               // var<storage, read_write>
)

// slot is one storage binding of a kernel: its @binding number (≥ 1; 0 is
// always the Params uniform) and how the entry point uses it.
type slot struct {
	binding uint32
	access  access
}

// kernel is one compute entry point of a shader family. Kernels are
// package-level values made by newKernel and used as typed keys of the
// pipeline cache; dispatch takes the storage buffers in the order of slots.
type kernel struct {
	file   string       // shaders file, e.g. "elementwise.wgsl"
	source string       // its WGSL
	entry  string       // entry point
	params reflect.Type // the Go mirror of the file's Params struct
	slots  []slot       // storage bindings, in dispatch order
	// workgroup is the entry point's @workgroup_size(x); 0 marks a kernel
	// dispatched as a single workgroup whatever its work.
	workgroup uint32
	// unstaged is the entry point "<entry>_unstaged" of a kernel that
	// stages blocks in workgroup memory: the same results from the same
	// dispatch without workgroup memory or barriers, which dispatch runs
	// instead on a CPU emulation (nil: the kernel has none).
	unstaged *kernel
}

// name is "file:entry", for labels and errors.
func (k *kernel) name() string { return k.file + ":" + k.entry }

// kernels is every registered kernel, for the tests that compare them with
// their WGSL.
var kernels []*kernel

// sources maps each shader file to its embedded WGSL.
var sources = map[string]string{
	"elementwise.wgsl":  shaders.Elementwise,
	"gather.wgsl":       shaders.Gather,
	"softmax_xent.wgsl": shaders.SoftmaxXent,
	"adam.wgsl":         shaders.Adam,
	"pool.wgsl":         shaders.Pool,
	"batchnorm.wgsl":    shaders.BatchNorm,
	"matmul.wgsl":       shaders.Matmul,
	"conv.wgsl":         shaders.Conv,
	"reduce.wgsl":       shaders.Reduce,
}

// newKernel registers entry point entry of a shader file whose Params
// struct is mirrored by P.
func newKernel[P any](file, entry string, workgroup uint32, slots ...slot) *kernel {
	src, ok := sources[file]
	if !ok {
		panic("gpu: no shader file " + file)
	}
	k := &kernel{file: file, source: src, entry: entry, params: reflect.TypeFor[P](), slots: slots, workgroup: workgroup}
	kernels = append(kernels, k)
	return k
}

// newStagedKernel registers a kernel and its unstaged variant, entry point
// entry+"_unstaged" with the same Params, bindings and workgroup size.
func newStagedKernel[P any](file, entry string, workgroup uint32, slots ...slot) *kernel {
	k := newKernel[P](file, entry, workgroup, slots...)
	k.unstaged = newKernel[P](file, entry+"_unstaged", workgroup, slots...)
	return k
}

// variant is the kernel b runs for k: its unstaged variant where b uses
// those.
func (b *Backend) variant(k *kernel) *kernel {
	if b.unstaged && k.unstaged != nil {
		return k.unstaged
	}
	return k
}

// pipeline is a compiled kernel with its layouts.
type pipeline struct {
	k        *kernel
	bgl      *wgpu.BindGroupLayout
	layout   *wgpu.PipelineLayout
	pipe     *wgpu.ComputePipeline
	paramLen uint64 // bytes of Params
}

func (p *pipeline) release() {
	p.pipe.Release()
	p.layout.Release()
	p.bgl.Release()
}

// pipeline returns k's compiled pipeline, compiling its shader file and
// building it on first use.
func (b *Backend) pipeline(k *kernel) (*pipeline, error) {
	if p, ok := b.pipelines[k]; ok {
		return p, nil
	}
	t0 := now()
	defer span("gpu pipeline "+k.name(), t0)
	mod, err := b.module(k)
	if err != nil {
		return nil, fmt.Errorf("compile %s: %w", k.file, err)
	}
	entries := []gputypes.BindGroupLayoutEntry{{
		Binding:    0,
		Visibility: gputypes.ShaderStageCompute,
		Buffer:     &gputypes.BufferBindingLayout{Type: gputypes.BufferBindingTypeUniform, HasDynamicOffset: true},
	}}
	for _, s := range k.slots {
		t := gputypes.BufferBindingTypeReadOnlyStorage
		if s.access == readWrite {
			t = gputypes.BufferBindingTypeStorage
		}
		entries = append(entries, gputypes.BindGroupLayoutEntry{
			Binding:    s.binding,
			Visibility: gputypes.ShaderStageCompute,
			Buffer:     &gputypes.BufferBindingLayout{Type: t},
		})
	}
	p := &pipeline{k: k, paramLen: uint64(k.params.Size())}
	label := "cifarlab " + k.name()
	if p.bgl, err = b.device.CreateBindGroupLayout(&wgpu.BindGroupLayoutDescriptor{Label: label, Entries: entries}); err != nil {
		return nil, fmt.Errorf("create bind group layout of %s: %w", k.name(), err)
	}
	if p.layout, err = b.device.CreatePipelineLayout(&wgpu.PipelineLayoutDescriptor{Label: label, BindGroupLayouts: []*wgpu.BindGroupLayout{p.bgl}}); err != nil {
		p.bgl.Release()
		return nil, fmt.Errorf("create pipeline layout of %s: %w", k.name(), err)
	}
	err = b.validated(func() (err error) {
		p.pipe, err = b.device.CreateComputePipeline(&wgpu.ComputePipelineDescriptor{Label: label, Layout: p.layout, Module: mod, EntryPoint: k.entry})
		return err
	})
	if err != nil {
		if p.pipe != nil {
			p.pipe.Release()
		}
		p.layout.Release()
		p.bgl.Release()
		return nil, fmt.Errorf("create pipeline %s: %w", k.name(), err)
	}
	b.pipelines[k] = p
	return p, nil
}

// module returns the compiled shader module of k's file.
func (b *Backend) module(k *kernel) (*wgpu.ShaderModule, error) {
	if m, ok := b.modules[k.file]; ok {
		return m, nil
	}
	t0 := now()
	defer span("gpu module "+k.file, t0)
	var m *wgpu.ShaderModule
	err := b.validated(func() (err error) {
		m, err = b.device.CreateShaderModule(&wgpu.ShaderModuleDescriptor{Label: "cifarlab " + k.file, WGSL: k.source})
		return err
	})
	if err != nil {
		if m != nil {
			m.Release()
		}
		return nil, err
	}
	if err := b.compilationErrors(m); err != nil {
		m.Release()
		return nil, err
	}
	b.modules[k.file] = m
	return m, nil
}

// maxSlots is the most storage bindings a kernel may have (WebGPU's
// default limit per shader stage).
const maxSlots = 8

// region is a byte range of a GPU buffer bound to one binding.
type region struct {
	buf       *buffer
	off, size uint64
}

// groupKey identifies a bind group: the pipeline, the uniform buffer its
// Params come from (at a dynamic offset) and every storage region.
type groupKey struct {
	p       *pipeline
	uniform *buffer
	regions [maxSlots]region
}

// bindGroup returns the cached bind group for key, creating it on first
// use. Bind groups are dropped when one of their buffers is destroyed.
func (b *Backend) bindGroup(key groupKey) (*wgpu.BindGroup, error) {
	if g, ok := b.groups[key]; ok {
		return g, nil
	}
	p := key.p
	entries := make([]wgpu.BindGroupEntry, 0, 1+len(p.k.slots))
	entries = append(entries, wgpu.BindGroupEntry{Binding: 0, Buffer: key.uniform.buf, Offset: 0, Size: p.paramLen})
	for i, s := range p.k.slots {
		r := key.regions[i]
		entries = append(entries, wgpu.BindGroupEntry{Binding: s.binding, Buffer: r.buf.buf, Offset: r.off, Size: r.size})
	}
	g, err := b.device.CreateBindGroup(&wgpu.BindGroupDescriptor{Label: "cifarlab " + p.k.name(), Layout: p.bgl, Entries: entries})
	if err != nil {
		return nil, fmt.Errorf("create bind group of %s: %w", p.k.name(), err)
	}
	b.groups[key] = g
	b.groupsOf[key.uniform] = append(b.groupsOf[key.uniform], key)
	for i := range p.k.slots {
		buf := key.regions[i].buf
		if n := len(b.groupsOf[buf]); n == 0 || b.groupsOf[buf][n-1] != key {
			b.groupsOf[buf] = append(b.groupsOf[buf], key)
		}
	}
	return g, nil
}

// dropGroups releases the bind groups that bind buf, before buf is
// destroyed.
func (b *Backend) dropGroups(buf *buffer) {
	for _, key := range b.groupsOf[buf] {
		if g, ok := b.groups[key]; ok {
			g.Release()
			delete(b.groups, key)
		}
	}
	delete(b.groupsOf, buf)
}
