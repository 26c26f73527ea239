// Reductions of a whole tensor to one number, stored into one element of a
// stats tensor that stays on the device.
//
// sum_squares: stats[slot] = Σ x[i]² over the n elements of x (the squared
// L2 norm of a gradient), overwriting that element only.
//
// One workgroup of 256 invocations, so that one dispatch makes the whole
// sum: invocation t takes the elements i ≡ t (mod 256), so that each load
// of the workgroup is contiguous. Its share is summed in blocks, so that
// no float32 sum runs long: a round loads 4 elements (t + 256·q for q < 4)
// into 4 lanes; a block is 16 rounds, its lanes added pairwise; a group is
// 16 blocks (1,024 elements per invocation) and the groups are added in
// turn. The workgroup then adds the 256 shares pairwise in workgroup
// memory. A value passes through at most 16 + 2 + 16 + ⌈n / 2¹⁸⌉ + 8
// roundings (51 for ResNet18's largest gradient, 2.36M values): a relative
// error of a few 1e-6 at worst, where one running sum per invocation would
// pass through n / 256. The bound needs only IEEE rounding: no
// compensation a compiler could reassociate away.

struct Params {
    n: u32,      // elements of x
    slot: u32,   // element of stats to write
    _pad0: u32,
    _pad1: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> stats: array<f32>;

const THREADS: u32 = 256u;
const ROUND: u32 = 1024u;  // elements a round of the workgroup loads: 4 per invocation
const RUN: u32 = 16u;      // rounds of a block, and blocks of a group

var<workgroup> shares: array<f32, 256>;

// square is x[i]², or 0 past the end.
fn square(i: u32) -> f32 {
    if (i >= params.n) {
        return 0.0;
    }
    let v = x[i];
    return v * v;
}

// invocation_sum is invocation t's sum of squares, blocked as above.
fn invocation_sum(t: u32) -> f32 {
    var total = 0.0;
    var i = t;
    while (i < params.n) {
        var blocks = 0.0;
        for (var b = 0u; b < RUN && i < params.n; b++) {
            var lanes = vec4<f32>(0.0);
            for (var r = 0u; r < RUN; r++) {
                lanes += vec4<f32>(square(i), square(i + THREADS), square(i + 2u * THREADS), square(i + 3u * THREADS));
                i += ROUND;
            }
            blocks += (lanes.x + lanes.y) + (lanes.z + lanes.w);
        }
        total += blocks;
    }
    return total;
}

@compute @workgroup_size(256)
fn sum_squares(@builtin(local_invocation_index) t: u32) {
    shares[t] = invocation_sum(t);
    workgroupBarrier();
    for (var s = THREADS / 2u; s > 0u; s = s >> 1u) {
        if (t < s) {
            shares[t] = shares[t] + shares[t + s];
        }
        workgroupBarrier();
    }
    if (t == 0u) {
        stats[params.slot] = shares[0];
    }
}
