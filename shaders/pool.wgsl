// Max pooling without padding of x [n, c, h, w] over kh×kw windows at
// strides sh, sw, and its backward.
//
// max_pool: one invocation per output [n, c, ho, wo]. It scans its window in
// row-major order and keeps the first maximum, as PyTorch does on ties; a
// NaN wins over every number and over the NaNs before it (PyTorch's
// `val > maxval || isnan(val)`), so a window holding a NaN outputs NaN with
// the argmax of its last NaN. argmax is the flat index into the h×w plane.
//
// max_pool_backward: one invocation per input element [n, c, h, w]. It
// gathers dy over the windows that can contain the element, in row-major
// window order, where the window's argmax is the element; so overlapping
// windows sum without atomics in a fixed order (the CPU backend's, bit for
// bit), and elements no window chose get 0. The op is not given the window
// geometry (net.Backend's MaxPool2DBackward takes dx, dy and argmax), so the
// windows are bounded from the shapes alone, for every geometry that maps an
// h×w plane to ho×wo: window oy starts at oy·sh ≥ oy, and the ho − 1 − oy
// windows after it fit below it at strides ≥ 1, so it lies within rows
// [oy, oy + h − ho]; the element at row iy looks at oy ∈ [iy − (h − ho), iy]
// ∩ [0, ho), and likewise in x. That is its one window for global pooling
// and 1×1 planes (ResNet18), but about ho/2 × wo/2 windows on average for
// 2×2 windows at stride 2 (LeNet5: 56 for 28×28 planes).
//
// max_pool_backward_rows: the same gather for a segment of up to ROW
// elements of one row per invocation, for the shapes where the bound above
// leaves many windows per element. The segment's windows (rows of windows
// [iy − (h − ho), iy], columns up to the segment's end) are read once, in
// row-major order, and each dy is added to a private accumulator of the
// segment at its argmax: the same sums in the same order, for about ho/2
// × wo loads per row of LeNet5 instead of ho/2 × wo/2 per element.
//
// An argmax that no window of its output could hold (MaxPool2D never
// writes one) reaches no element.

struct Params {
    total: u32,   // outputs (max_pool), inputs (max_pool_backward) or row segments (max_pool_backward_rows)
    h: u32,       // input plane
    w: u32,
    ho: u32,      // output plane
    wo: u32,
    kh: u32,      // window (max_pool only)
    kw: u32,
    sh: u32,      // strides (max_pool only)
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

// ROW is the longest row segment of max_pool_backward_rows.
const ROW: u32 = 64u;

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
    // Windows [oy0, oy1) × [ox0, ox1): the bound at the top.
    let dh = params.h - params.ho;
    let dw = params.w - params.wo;
    let oy0 = select(0u, iy - dh, iy > dh);
    let oy1 = min(iy + 1u, params.ho);
    let ox0 = select(0u, ix - dw, ix > dw);
    let ox1 = min(ix + 1u, params.wo);
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
fn max_pool_backward_rows(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                          @builtin(local_invocation_id) lid: vec3<u32>) {
    let r = element(wid, nwg, lid); // (plane·h + iy)·segments + segment
    if (r >= params.total) {
        return;
    }
    let segments = (params.w + ROW - 1u) / ROW;
    let row = r / segments; // plane·h + iy
    let x0 = (r - row * segments) * ROW;
    let len = min(ROW, params.w - x0);
    let p = row / params.h;
    let iy = row - p * params.h;
    let dh = params.h - params.ho;
    let dw = params.w - params.wo;
    let oy0 = select(0u, iy - dh, iy > dh);
    let oy1 = min(iy + 1u, params.ho);
    let ox0 = select(0u, x0 - dw, x0 > dw);
    let ox1 = min(x0 + len, params.wo);
    let first = i32(iy * params.w + x0); // the segment's first element in the plane
    let out_plane = p * params.ho * params.wo;
    var acc: array<f32, 64>;
    for (var oy: u32 = oy0; oy < oy1; oy = oy + 1u) {
        for (var ox: u32 = ox0; ox < ox1; ox = ox + 1u) {
            let o = out_plane + oy * params.wo + ox;
            let j = argmax[o] - first;
            if (j >= 0 && j < i32(len)) {
                acc[j] = acc[j] + dy[o];
            }
        }
    }
    let base = row * params.w + x0;
    for (var j: u32 = 0u; j < len; j = j + 1u) {
        dx[base + j] = acc[j];
    }
}
