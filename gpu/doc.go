// Package gpu is cifarlab's GPU backend: net.Backend over WebGPU through
// github.com/gogpu/wgpu (Vulkan, Metal or DX12 natively; the browser's
// WebGPU under GOOS=js), with the WGSL kernels of cifarlab/shaders.
//
// # Structure
//
//	backend.go      Open, Options, Backend, Submit, Close, the first-failure record
//	adapter_*.go    adapter choice, limits and (browser) error listeners per platform
//	memory.go       buffers, the size-class pool, tensors, Reshape, Free
//	transfer.go     Upload, Download, ReadLater, UploadRecords
//	record.go       the command encoder of a step, the per-submit arena, dispatch
//	kernel.go       the kernel registry and the pipeline and bind-group caches
//	elementwise.go  one file per kernel family, beside shaders/FAMILY.wgsl
//	gather.go, xent.go, adam.go, reduce.go, …
//
// # How a step runs
//
// Every op between two Submits is recorded into one command encoder, as
// dispatches of one compute pass (closed only around the copies of
// ReadLater and Download); Submit writes the step's arena (the Params of
// every dispatch, at 256-byte aligned slots, and Gather's index lists) with
// the queue and submits once. Pipelines are compiled once per kernel, and
// bind groups are cached by pipeline, arena buffer and storage regions
// (Params come at a dynamic offset), so a steady-state training step
// creates no GPU object. Tensors live in pooled buffers by size class;
// Free returns a buffer to the pool, and NewTensor zeroes a buffer with a
// dispatch, in stream order.
//
// # Staged and unstaged kernels
//
// The matrix products (linear layers, and convolutions as implicit
// products) stage blocks of their operands in workgroup memory between
// barriers, which is what makes them fast on a GPU. On a CPU emulation of
// a GPU (SwiftShader in the browser, Mesa's lavapipe) a barrier costs every
// invocation a coroutine switch, and a pipeline with one takes about a
// second to compile in SwiftShader. There the backend runs the unstaged
// variants ("<entry>_unstaged", made by newStagedKernel; dispatch picks
// them): the same tiles, invocation layout and summation order, each
// invocation reading its operands straight from storage. The linear
// layers' tiles and the thin convolution tiles have one; the wide
// convolution tiles stay staged, since unstaged each of their invocations
// would gather 16 times what it stages. TestLinearTiles and TestConvTiles
// run both variants; BenchmarkTrainStep times whole steps with each.
//
// # Adding a kernel family
//
//  1. Write shaders/FAMILY.wgsl: `struct Params` of u32/i32/f32 fields padded
//     with _padN fields to a multiple of 16 bytes at @binding(0) as
//     var<uniform>; storage buffers at bindings 1 and up, each number used
//     by one variable only; forward and backward entry points together,
//     @workgroup_size(256) with the flattened index (wid.y·nwg.x + wid.x)·256
//     + lid.x checked against the element count. Add it to shaders.go (a
//     string with //go:embed) and to TestEmbedded.
//  2. Write gpu/FAMILY.go: the Go mirror of Params with a `wgsl:"name"` tag on
//     every field, one newKernel[Params](file, entry, workgroup, slots…) per
//     entry point (slots list the storage bindings with read or readWrite, in
//     the order the op passes regions), and the ops: check shapes as the CPU
//     backend does (panicf), then dispatch(b, op, kernel, invocations,
//     &params, regions…) with t.st.region() of each tensor. Add the file to
//     sources in kernel.go.
//  3. Write backendtest.CheckFAMILY against the CPU reference and add it to
//     backendtest.Run, which TestConformance runs. TestKernels then checks
//     the Params layout, bindings and workgroup size of every kernel
//     against its WGSL.
//
// # Errors
//
// Ops do not return errors. The first failure — a shader that does not
// compile, a pipeline, bind group or buffer the device cannot make, a read
// back that does not finish within Options.Timeout (a lost or hung device)
// — is recorded with the op that met it; later ops record nothing, and
// Submit, Download and ReadLater's function return it. Natively gogpu
// returns these errors from the calls that meet them (its error scopes
// capture nothing); in the browser the device's uncapturederror and lost
// events feed the same record, so a WGSL or validation error there shows at
// the next Submit or read back. Shape misuse panics.
//
// In the browser, Open, Download and ReadLater's function wait on
// JavaScript promises: call them from a goroutine, never inside a
// JavaScript callback.
package gpu
