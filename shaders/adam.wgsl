// PyTorch's Adam step (torch.optim.Adam, no weight decay, no amsgrad), one
// parameter per invocation, with the bias corrections computed on the host
// in float64:
//
//	m = m + (1−β1)·(g − m);  v = β2·v + (1−β2)·g²
//	p −= step_size · m / (√v / bc2_sqrt + eps)
//
// where step_size = lr/(1−β1ᵗ) and bc2_sqrt = √(1−β2ᵗ).

struct Params {
    n: u32,            // parameters
    step_size: f32,    // lr / (1 − β1^t)
    bc2_sqrt: f32,     // √(1 − β2^t)
    one_minus_beta1: f32,
    beta2: f32,
    one_minus_beta2: f32,
    eps: f32,
    _pad0: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> grad: array<f32>;
@group(0) @binding(2) var<storage, read_write> param: array<f32>;
@group(0) @binding(3) var<storage, read_write> m: array<f32>;
@group(0) @binding(4) var<storage, read_write> v: array<f32>;

@compute @workgroup_size(256)
fn adam(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_id) lid: vec3<u32>) {
    let i = (wid.y * nwg.x + wid.x) * 256u + lid.x;
    if (i >= params.n) {
        return;
    }
    let g = grad[i];
    let mi = m[i] + params.one_minus_beta1 * (g - m[i]);
    let vi = params.beta2 * v[i] + params.one_minus_beta2 * g * g;
    m[i] = mi;
    v[i] = vi;
    let denom = sqrt(vi) / params.bc2_sqrt + params.eps;
    param[i] = param[i] - params.step_size * mi / denom;
}
