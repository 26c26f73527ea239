// Package shaders holds the WGSL compute shaders of cifarlab's GPU backend,
// one file per kernel family with its forward and backward entry points
// together:
//
//	elementwise.wgsl   ReLU, ReLUBackward, Add; zero and copy for the backend's own use
//	gather.wgsl        batch assembly from uint8 records (crop, flip, normalise, labels)
//	softmax_xent.wgsl  softmax cross-entropy: dlogits, mean loss, correct count
//	adam.wgsl          PyTorch's Adam update
//	pool.wgsl          max and global average pooling and their backward
//	batchnorm.wgsl     batch norm: per-channel statistics, normalisation, backward
//	conv.wgsl          2-D convolutions as implicit matrix products, forward and backward
//	matmul.wgsl        tiled matrix products of the linear layers, forward and backward
//	reduce.wgsl        whole-tensor reductions into a stats element: sum of squares
//
// Conventions every file follows, which gpu/ relies on:
//
//   - @group(0) @binding(0) is `var<uniform> params: Params`, one struct per
//     file whose fields are u32, i32 or f32 only, padded with _padN fields to
//     a multiple of 16 bytes; gpu/ mirrors it with a Go struct and a test
//     compares the two layouts.
//   - Bindings 1 and up are storage buffers; a binding number means the same
//     variable for every entry point of the file (no two variables share one).
//   - Entry points over many elements use @workgroup_size(256) and a
//     dispatch flattened into x and y (WebGPU allows 65,535 workgroups per
//     dimension): the linear workgroup index is wid.y·nwg.x + wid.x, and every
//     invocation checks its element index against params.
//   - No module-scope const arrays, overrides, f16 or float atomics: gogpu's
//     compiler (naga) mistranslates or rejects them.
package shaders

import "embed"

// FS holds every .wgsl file of the package.
//
//go:embed *.wgsl
var FS embed.FS

// The WGSL source of each family.
var (
	//go:embed elementwise.wgsl
	Elementwise string
	//go:embed gather.wgsl
	Gather string
	//go:embed softmax_xent.wgsl
	SoftmaxXent string
	//go:embed adam.wgsl
	Adam string
	//go:embed pool.wgsl
	Pool string
	//go:embed batchnorm.wgsl
	BatchNorm string
	//go:embed matmul.wgsl
	Matmul string
	//go:embed conv.wgsl
	Conv string
	//go:embed reduce.wgsl
	Reduce string
)
