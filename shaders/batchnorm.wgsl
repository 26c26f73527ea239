// Batch normalisation of x [n, c, h, w] over each channel's n·h·w values
// (hw = h·w), PyTorch's BatchNorm2d: training forward, evaluation forward
// and the training backward.
//
// Reductions. A channel's values are n segments of hw contiguous values,
// c·hw apart. A reduction workgroup takes cpg consecutive channels (cpg =
// 256 / seg, seg = min(hw, 256) invocations per channel) and a chunk of
// per_chunk images, so that its invocations read the contiguous cpg·hw
// values of one image at a time (coalesced even for 1×1 planes); invocation
// lane s of a channel reads plane positions s, s + 256, … of each image of
// the chunk. The host picks per_chunk (bnPlan in gpu/batchnorm.go): about
// a thousand workgroups on a GPU, one chunk on a CPU-emulated device, where
// every workgroup barrier is dear. A two-level sum over the seg lanes in
// workgroup memory (seg_sum) ends the workgroup's part, written to the
// partials in `scratch`; a second kernel, one invocation per channel,
// merges the chunks in chunk order. Every sum runs in a fixed order:
// results do not vary from run to run. No float atomics.
//
//   bn_stats          per chunk: the mean (shifted by the channel's first
//                     value, so exact for a constant channel) and M2 =
//                     Σ(x − chunk mean)², two passes over the chunk (the
//                     second from cache), so a channel far from 0 with a
//                     small spread keeps its variance (no E[x²] − E[x]²)
//   bn_finalize       per channel: Chan's merge of the chunks' (count, mean,
//                     M2) → mean, invstd = 1/sqrt(M2/m + eps), and the
//                     running statistics updated in place with momentum,
//                     run_var from the unbiased M2/(m − 1)
//   bn_normalize      per element: y = (x − mean)·(invstd·gamma) + beta, with
//                     residual set y + res (a residual block's sum, fused),
//                     and with relu set max(y, 0) (a ReLU after the batch
//                     norm or the sum, fused: one pass over the values where
//                     the ops make two or three)
//   bn_eval           per element: y = (x − run_mean)·gamma/sqrt(run_var + eps) + beta
//   bn_backward_sums  per chunk: Σdy and Σdy·(x − mean); with relu set, dy is
//                     taken as 0 where the fused forward's output yrelu is not
//                     positive (the ReLU's backward, fused), here and in
//                     bn_backward_dx
//   bn_backward_finalize
//                     per channel: dbeta = Σdy, dgamma = invstd·Σdy·(x − mean),
//                     and the coefficients of dx into scratch
//   bn_backward_dx    per element: dx = kdy·dy + kx·(x − mean) + k0 with
//                     kdy = gamma·invstd, kx = −kdy·invstd²·Σdy·(x − mean)/m,
//                     k0 = −kdy·Σdy/m, that is
//                     gamma·invstd/m·(m·dy − dbeta − x̂·dgamma)
//
// scratch holds the partials [chunks, c, 2] (mean and M2, or Σdy and
// Σdy·(x − mean)), then from coef_off the backward's coefficients [c, 4].

struct Params {
    n: u32,          // images
    c: u32,          // channels
    hw: u32,         // values per plane
    total: u32,      // n·c·hw
    seg: u32,        // invocations per channel in a reduction workgroup: min(hw, 256)
    cpg: u32,        // channels per reduction workgroup: 256 / seg
    groups: u32,     // channel groups: ceil(c / cpg)
    chunks: u32,     // image chunks: ceil(n / per_chunk)
    per_chunk: u32,  // images per chunk
    coef_off: u32,   // index of the backward coefficients in scratch
    momentum: f32,
    eps: f32,
    relu: u32,       // 1: a ReLU fused after the batch norm
    residual: u32,   // 1: bn_normalize adds res (a residual block's shortcut) before the ReLU
    _pad1: u32,
    _pad2: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;                  // [n, c, h, w]
@group(0) @binding(2) var<storage, read> dy: array<f32>;                 // [n, c, h, w]
@group(0) @binding(3) var<storage, read> gamma: array<f32>;              // [c]
@group(0) @binding(4) var<storage, read> beta: array<f32>;               // [c]
@group(0) @binding(5) var<storage, read> mean: array<f32>;               // [c] batch mean
@group(0) @binding(6) var<storage, read> invstd: array<f32>;             // [c] batch 1/sqrt(var + eps)
@group(0) @binding(7) var<storage, read> run_mean: array<f32>;           // [c]
@group(0) @binding(8) var<storage, read> run_var: array<f32>;            // [c]
@group(0) @binding(9) var<storage, read_write> scratch: array<f32>;      // partials, coefficients
@group(0) @binding(10) var<storage, read> coef: array<f32>;              // scratch, read by bn_backward_dx
@group(0) @binding(11) var<storage, read_write> out: array<f32>;         // [n, c, h, w] y or dx
@group(0) @binding(12) var<storage, read_write> mean_out: array<f32>;    // [c]
@group(0) @binding(13) var<storage, read_write> invstd_out: array<f32>;  // [c]
@group(0) @binding(14) var<storage, read_write> run_mean_io: array<f32>; // [c] updated in place
@group(0) @binding(15) var<storage, read_write> run_var_io: array<f32>;  // [c] updated in place
@group(0) @binding(16) var<storage, read_write> dgamma: array<f32>;      // [c]
@group(0) @binding(17) var<storage, read_write> dbeta: array<f32>;       // [c]
@group(0) @binding(18) var<storage, read> yrelu: array<f32>;             // [n, c, h, w] the fused forward's y (dy itself without relu)
@group(0) @binding(19) var<storage, read> res: array<f32>;               // [n, c, h, w] added by bn_normalize with residual (x itself without)

// Workgroup memory of the reductions (2 KiB): one pair of sums per
// invocation.
var<workgroup> red: array<vec2<f32>, 256>;

// FAN is the lanes of a channel that sum the others' values in seg_sum.
const FAN: u32 = 16u;

// element is the flat index of an invocation in a dispatch of 256-wide
// workgroups flattened into x and y.
fn element(wid: vec3<u32>, nwg: vec3<u32>, lid: vec3<u32>) -> u32 {
    return (wid.y * nwg.x + wid.x) * 256u + lid.x;
}

// grad_at is the gradient the batch norm gets at element i: dy, masked by
// the fused ReLU's output when relu is set.
fn grad_at(i: u32) -> f32 {
    let g = dy[i];
    if (params.relu != 0u) {
        return select(0.0, g, yrelu[i] > 0.0);
    }
    return g;
}

// channel_of is the channel of flat element i.
fn channel_of(i: u32) -> u32 {
    return (i / params.hw) % params.c;
}

// seg_sum returns to invocation t (lane s of its channel) the sums of v
// over the seg lanes of the channel, in a fixed order: lanes s < FAN each
// add lanes s, s + FAN, s + 2·FAN, …, then lane 0 adds those FAN sums. Four
// barriers whatever seg is (a CPU-emulated device pays dearly for each).
// Every invocation of the workgroup must call it.
fn seg_sum(t: u32, s: u32, v: vec2<f32>) -> vec2<f32> {
    workgroupBarrier(); // red is free: earlier results have been read
    red[t] = v;
    workgroupBarrier();
    let base = t - s;
    if (s < FAN) {
        // Lane s reads lanes s + FAN·k and writes lane s only: no other
        // lane below FAN reads it.
        var acc = vec2<f32>(0.0, 0.0);
        for (var j: u32 = s; j < params.seg; j = j + FAN) {
            acc = acc + red[base + j];
        }
        red[t] = acc;
    }
    workgroupBarrier();
    if (s == 0u) {
        var acc = vec2<f32>(0.0, 0.0);
        for (var j: u32 = 0u; j < min(FAN, params.seg); j = j + 1u) {
            acc = acc + red[base + j];
        }
        red[t] = acc;
    }
    workgroupBarrier();
    return red[base];
}

// A reduction invocation: its channel and lane, whether it has values, and
// the chunk's images [i0, i1).
struct Lane {
    ch: u32,
    s: u32,
    live: bool,
    chunk: u32,
    i0: u32,
    i1: u32,
}

fn lane(wid: vec3<u32>, nwg: vec3<u32>, t: u32) -> Lane {
    let g = wid.y * nwg.x + wid.x; // chunk·groups + group
    var l: Lane;
    l.chunk = g / params.groups;
    l.s = t % params.seg;
    l.ch = (g % params.groups) * params.cpg + t / params.seg;
    l.live = l.chunk < params.chunks && t / params.seg < params.cpg && l.ch < params.c;
    l.i0 = min(l.chunk * params.per_chunk, params.n);
    l.i1 = min(l.i0 + params.per_chunk, params.n);
    return l;
}

@compute @workgroup_size(256)
fn bn_stats(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
            @builtin(local_invocation_index) t: u32) {
    let l = lane(wid, nwg, t);
    let hw = params.hw;
    // Sums of x − shift, shift being the channel's first value: exact for
    // a constant channel (its mean is that value and x − mean is 0), and
    // small for a channel far from 0.
    var shift: f32 = 0.0;
    if (l.live) {
        shift = x[l.ch * hw];
    }
    var sum: f32 = 0.0;
    if (l.live) {
        for (var i: u32 = l.i0; i < l.i1; i = i + 1u) {
            let base = (i * params.c + l.ch) * hw;
            for (var p: u32 = l.s; p < hw; p = p + 256u) {
                sum = sum + (x[base + p] - shift);
            }
        }
    }
    let count = f32((l.i1 - l.i0) * hw);
    let m = shift + seg_sum(t, l.s, vec2<f32>(sum, 0.0)).x / count;
    var m2: f32 = 0.0;
    if (l.live) {
        for (var i: u32 = l.i0; i < l.i1; i = i + 1u) {
            let base = (i * params.c + l.ch) * hw;
            for (var p: u32 = l.s; p < hw; p = p + 256u) {
                let d = x[base + p] - m;
                m2 = m2 + d * d;
            }
        }
    }
    let q = seg_sum(t, l.s, vec2<f32>(m2, 0.0)).x;
    if (l.live && l.s == 0u) {
        let at = 2u * (l.chunk * params.c + l.ch);
        scratch[at] = m;
        scratch[at + 1u] = q;
    }
}

@compute @workgroup_size(256)
fn bn_finalize(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
               @builtin(local_invocation_id) lid: vec3<u32>) {
    let ch = element(wid, nwg, lid);
    if (ch >= params.c) {
        return;
    }
    var count: f32 = 0.0;
    var m: f32 = 0.0;
    var m2: f32 = 0.0;
    for (var k: u32 = 0u; k < params.chunks; k = k + 1u) {
        let i0 = k * params.per_chunk;
        let nb = f32((min(i0 + params.per_chunk, params.n) - i0) * params.hw);
        let at = 2u * (k * params.c + ch);
        let mb = scratch[at];
        let tot = count + nb;
        let delta = mb - m;
        m = m + delta * (nb / tot);
        m2 = m2 + scratch[at + 1u] + delta * delta * (count * (nb / tot));
        count = tot;
    }
    let inv = 1.0 / sqrt(m2 / count + params.eps);
    mean_out[ch] = m;
    invstd_out[ch] = inv;
    let mom = params.momentum;
    run_mean_io[ch] = (1.0 - mom) * run_mean_io[ch] + mom * m;
    run_var_io[ch] = (1.0 - mom) * run_var_io[ch] + mom * (m2 / (count - 1.0));
}

@compute @workgroup_size(256)
fn bn_normalize(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                @builtin(local_invocation_id) lid: vec3<u32>) {
    let i = element(wid, nwg, lid);
    if (i >= params.total) {
        return;
    }
    let ch = channel_of(i);
    var v = (x[i] - mean[ch]) * (invstd[ch] * gamma[ch]) + beta[ch];
    if (params.residual != 0u) {
        v = v + res[i]; // as add: the shortcut's value and this one, summed
    }
    out[i] = select(v, 0.0, params.relu != 0u && v <= 0.0); // as relu: NaN stays NaN
}

@compute @workgroup_size(256)
fn bn_eval(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
           @builtin(local_invocation_id) lid: vec3<u32>) {
    let i = element(wid, nwg, lid);
    if (i >= params.total) {
        return;
    }
    let ch = channel_of(i);
    let scale = gamma[ch] / sqrt(run_var[ch] + params.eps);
    out[i] = (x[i] - run_mean[ch]) * scale + beta[ch];
}

@compute @workgroup_size(256)
fn bn_backward_sums(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                    @builtin(local_invocation_index) t: u32) {
    let l = lane(wid, nwg, t);
    let hw = params.hw;
    var sdy: f32 = 0.0;
    var sdyx: f32 = 0.0;
    if (l.live) {
        let m = mean[l.ch];
        for (var i: u32 = l.i0; i < l.i1; i = i + 1u) {
            let base = (i * params.c + l.ch) * hw;
            for (var p: u32 = l.s; p < hw; p = p + 256u) {
                let g = grad_at(base + p);
                sdy = sdy + g;
                sdyx = sdyx + g * (x[base + p] - m);
            }
        }
    }
    let sums = seg_sum(t, l.s, vec2<f32>(sdy, sdyx));
    if (l.live && l.s == 0u) {
        let at = 2u * (l.chunk * params.c + l.ch);
        scratch[at] = sums.x;
        scratch[at + 1u] = sums.y;
    }
}

@compute @workgroup_size(256)
fn bn_backward_finalize(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                        @builtin(local_invocation_id) lid: vec3<u32>) {
    let ch = element(wid, nwg, lid);
    if (ch >= params.c) {
        return;
    }
    var sdy: f32 = 0.0;
    var sdyx: f32 = 0.0;
    for (var k: u32 = 0u; k < params.chunks; k = k + 1u) {
        let at = 2u * (k * params.c + ch);
        sdy = sdy + scratch[at];
        sdyx = sdyx + scratch[at + 1u];
    }
    let inv = invstd[ch];
    let m = f32(params.n * params.hw);
    dbeta[ch] = sdy;
    dgamma[ch] = sdyx * inv;
    let kdy = gamma[ch] * inv;
    let at = params.coef_off + 4u * ch;
    scratch[at] = kdy;
    scratch[at + 1u] = -kdy * inv * inv * sdyx / m;
    scratch[at + 2u] = -kdy * sdy / m;
}

@compute @workgroup_size(256)
fn bn_backward_dx(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                  @builtin(local_invocation_id) lid: vec3<u32>) {
    let i = element(wid, nwg, lid);
    if (i >= params.total) {
        return;
    }
    let ch = channel_of(i);
    let at = params.coef_off + 4u * ch;
    out[i] = coef[at] * grad_at(i) + coef[at + 1u] * (x[i] - mean[ch]) + coef[at + 2u];
}
