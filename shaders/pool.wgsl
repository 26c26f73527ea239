// Max pooling without padding of x [n, c, h, w] over kh×kw windows at
// strides sh, sw, and its backward; global average pooling of each h×w
// plane, and its backward.
//
// max_pool: one invocation per output [n, c, ho, wo]. It scans its window in
// row-major order and keeps the first maximum, as PyTorch does on ties; a
// NaN wins over every number and over the NaNs before it (PyTorch's
// `val > maxval || isnan(val)`), so a window holding a NaN outputs NaN with
// the argmax of its last NaN. argmax is the flat index into the h×w plane.
//
// max_pool_backward: one invocation per input element [n, c, h, w]. It
// gathers dy over exactly the windows that contain the element, in row-major
// window order, where the window's argmax is the element; so overlapping
// windows sum without atomics in a fixed order (the CPU backend's, bit for
// bit), and elements no window chose get 0. The op is given the forward's
// geometry: window oy spans rows [oy·sh, oy·sh + kh), so the element at row
// iy is in windows oy from ceil((iy + 1 − kh) / sh) (0 when iy + 1 < kh) to
// min(floor(iy / sh), ho − 1), and likewise in x: one window for 2×2 windows
// at stride 2 (LeNet5), global pooling and 1×1 planes (ResNet18), none for
// the rows and columns past the last window.
//
// An argmax outside its own window (MaxPool2D never writes one) reaches no
// element.
//
// global_avg_pool: one invocation per plane [n, c] (total planes): y is the
// mean of its h·w values, summed in 4 interleaved partial sums added
// pairwise. The planes at the end of a network are small (4×4 to 8×8) and
// many (batch × channels), so one invocation each fills the GPU.
//
// global_avg_pool_backward: one invocation per element of dx [n, c, h, w]
// (total elements): dx = dy[n, c] / (h·w), the CPU backend's float32
// division.
//
// The global pool is the window of the whole plane: kh = sh = h and
// kw = sw = w, so ho = wo = 1 and y, dy are [n, c] planes of one value.

struct Params {
    total: u32,   // outputs or planes (forward), inputs (backward)
    h: u32,       // input plane
    w: u32,
    ho: u32,      // output plane
    wo: u32,
    kh: u32,      // window
    kw: u32,
    sh: u32,      // strides
    sw: u32,
    _pad0: u32,
    _pad1: u32,
    _pad2: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;                // [n, c, h, w]
@group(0) @binding(2) var<storage, read_write> y: array<f32>;          // [n, c, ho, wo]
@group(0) @binding(3) var<storage, read_write> argmax_out: array<i32>; // [n, c, ho, wo]
@group(0) @binding(4) var<storage, read> dy: array<f32>;               // [n, c, ho, wo]
@group(0) @binding(5) var<storage, read> argmax: array<i32>;           // [n, c, ho, wo]
@group(0) @binding(6) var<storage, read_write> dx: array<f32>;         // [n, c, h, w]

// element is the flat index of an invocation in a dispatch of 256-wide
// workgroups flattened into x and y.
fn element(wid: vec3<u32>, nwg: vec3<u32>, lid: vec3<u32>) -> u32 {
    return (wid.y * nwg.x + wid.x) * 256u + lid.x;
}

// is_nan tests the bits, which no fast-math assumption can fold away.
fn is_nan(v: f32) -> bool {
    return (bitcast<u32>(v) & 0x7fffffffu) > 0x7f800000u;
}

@compute @workgroup_size(256)
fn max_pool(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
            @builtin(local_invocation_id) lid: vec3<u32>) {
    let o = element(wid, nwg, lid);
    if (o >= params.total) {
        return;
    }
    let howo = params.ho * params.wo;
    let p = o / howo;
    let r = o - p * howo;
    let oy = r / params.wo;
    let ox = r - oy * params.wo;
    let plane = p * params.h * params.w;
    let first = oy * params.sh * params.w + ox * params.sw;
    var best: u32 = first;
    var top: f32 = x[plane + first];
    for (var ky: u32 = 0u; ky < params.kh; ky = ky + 1u) {
        let row = first + ky * params.w;
        for (var kx: u32 = 0u; kx < params.kw; kx = kx + 1u) {
            let v = x[plane + row + kx];
            if (v > top || is_nan(v)) {
                top = v;
                best = row + kx;
            }
        }
    }
    y[o] = top;
    argmax_out[o] = i32(best);
}

@compute @workgroup_size(256)
fn max_pool_backward(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                     @builtin(local_invocation_id) lid: vec3<u32>) {
    let i = element(wid, nwg, lid);
    if (i >= params.total) {
        return;
    }
    let hw = params.h * params.w;
    let p = i / hw;
    let r = i - p * hw;
    let iy = r / params.w;
    let ix = r - iy * params.w;
    // Windows [oy0, oy1) × [ox0, ox1): those whose rows [oy·sh, oy·sh + kh)
    // hold iy and whose columns hold ix. oy0 = ceil((iy + 1 − kh) / sh),
    // with iy + 1 raised to kh first so that nothing wraps.
    let ty = select(params.kh, iy + 1u, iy + 1u > params.kh) - params.kh;
    let tx = select(params.kw, ix + 1u, ix + 1u > params.kw) - params.kw;
    let oy0 = (ty + params.sh - 1u) / params.sh;
    let oy1 = min(iy / params.sh + 1u, params.ho);
    let ox0 = (tx + params.sw - 1u) / params.sw;
    let ox1 = min(ix / params.sw + 1u, params.wo);
    let me = i32(r);
    let out_plane = p * params.ho * params.wo;
    var sum: f32 = 0.0;
    for (var oy: u32 = oy0; oy < oy1; oy = oy + 1u) {
        for (var ox: u32 = ox0; ox < ox1; ox = ox + 1u) {
            let o = out_plane + oy * params.wo + ox;
            if (argmax[o] == me) {
                sum = sum + dy[o];
            }
        }
    }
    dx[i] = sum;
}

@compute @workgroup_size(256)
fn global_avg_pool(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                   @builtin(local_invocation_id) lid: vec3<u32>) {
    let p = element(wid, nwg, lid);
    if (p >= params.total) {
        return;
    }
    let hw = params.h * params.w;
    let plane = p * hw;
    var acc = vec4<f32>(0.0);
    var i = 0u;
    for (; i + 4u <= hw; i = i + 4u) {
        acc = acc + vec4<f32>(x[plane + i], x[plane + i + 1u], x[plane + i + 2u], x[plane + i + 3u]);
    }
    // The last hw mod 4 values.
    if (i < hw) {
        acc.x = acc.x + x[plane + i];
    }
    if (i + 1u < hw) {
        acc.y = acc.y + x[plane + i + 1u];
    }
    if (i + 2u < hw) {
        acc.z = acc.z + x[plane + i + 2u];
    }
    y[p] = ((acc.x + acc.y) + (acc.z + acc.w)) / f32(hw);
}

@compute @workgroup_size(256)
fn global_avg_pool_backward(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                            @builtin(local_invocation_id) lid: vec3<u32>) {
    let i = element(wid, nwg, lid);
    if (i >= params.total) {
        return;
    }
    let hw = params.h * params.w;
    dx[i] = dy[i / hw] / f32(hw);
}
