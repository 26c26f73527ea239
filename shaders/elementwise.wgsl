// Elementwise ops over flat arrays of params.n values, one value per
// invocation: ReLU, its backward and Add (in0, in1 → out), the input
// gradient through a residual block's ReLU and identity shortcut (in0, in1,
// in2 → out), and the backend's
// own zero fill and bit-exact copy (src_bits → dst_bits, 32-bit words of any
// type). Each entry point uses the subset of bindings it needs.

struct Params {
    n: u32,       // elements
    _pad0: u32,
    _pad1: u32,
    _pad2: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> in0: array<f32>;
@group(0) @binding(2) var<storage, read> in1: array<f32>;
@group(0) @binding(3) var<storage, read_write> out: array<f32>;
@group(0) @binding(4) var<storage, read> src_bits: array<u32>;
@group(0) @binding(5) var<storage, read_write> dst_bits: array<u32>;
@group(0) @binding(6) var<storage, read> in2: array<f32>;

// element is the flat index of an invocation in a dispatch of 256-wide
// workgroups flattened into x and y.
fn element(wid: vec3<u32>, nwg: vec3<u32>, lid: vec3<u32>) -> u32 {
    return (wid.y * nwg.x + wid.x) * 256u + lid.x;
}

// relu: out = max(in0, 0); NaN stays NaN and −0 becomes 0.
@compute @workgroup_size(256)
fn relu(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_id) lid: vec3<u32>) {
    let i = element(wid, nwg, lid);
    if (i >= params.n) {
        return;
    }
    let x = in0[i];
    out[i] = select(x, 0.0, x <= 0.0);
}

// relu_backward: out = in0 (dy) where in1 (the forward output y) > 0, else 0.
@compute @workgroup_size(256)
fn relu_backward(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                 @builtin(local_invocation_id) lid: vec3<u32>) {
    let i = element(wid, nwg, lid);
    if (i >= params.n) {
        return;
    }
    out[i] = select(0.0, in0[i], in1[i] > 0.0);
}

// add: out = in0 + in1.
@compute @workgroup_size(256)
fn add(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
       @builtin(local_invocation_id) lid: vec3<u32>) {
    let i = element(wid, nwg, lid);
    if (i >= params.n) {
        return;
    }
    out[i] = in0[i] + in1[i];
}

// add_relu_backward: out = in0 (a) + (in1 (dy) where in2 (the forward
// output y) > 0, else 0): relu_backward, then add.
@compute @workgroup_size(256)
fn add_relu_backward(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                     @builtin(local_invocation_id) lid: vec3<u32>) {
    let i = element(wid, nwg, lid);
    if (i >= params.n) {
        return;
    }
    out[i] = in0[i] + select(0.0, in1[i], in2[i] > 0.0);
}

// zero_bits: dst_bits = 0 (0.0 for f32 tensors, 0 for int32 ones).
@compute @workgroup_size(256)
fn zero_bits(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_id) lid: vec3<u32>) {
    let i = element(wid, nwg, lid);
    if (i >= params.n) {
        return;
    }
    dst_bits[i] = 0u;
}

// copy_bits: dst_bits = src_bits, for an op whose input is also its destination.
@compute @workgroup_size(256)
fn copy_bits(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_id) lid: vec3<u32>) {
    let i = element(wid, nwg, lid);
    if (i >= params.n) {
        return;
    }
    dst_bits[i] = src_bits[i];
}
