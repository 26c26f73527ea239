// Softmax cross-entropy of logits [n, k] against int32 labels [n]:
// dlogits = (softmax(logits) − onehot(labels)) / n, and the mean loss and the
// number of correct predictions (argmax equal to the label, first maximum on
// ties) stored into stats[slot, 0] and stats[slot, 1].
//
// One workgroup of 256 invocations: invocation t handles rows t, t+256, …,
// then the workgroup sums the per-invocation loss and count. A label outside
// [0, k) makes the loss NaN (the host cannot check labels that live on the
// device), so training stops with a clear message instead of reading out of
// bounds.

struct Params {
    n: u32,      // rows (batch)
    k: u32,      // classes
    slot: u32,   // row of stats to write
    _pad0: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> logits: array<f32>;
@group(0) @binding(2) var<storage, read> labels: array<i32>;
@group(0) @binding(3) var<storage, read_write> dlogits: array<f32>;
@group(0) @binding(4) var<storage, read_write> stats: array<f32>;

var<workgroup> part_loss: array<f32, 256>;
var<workgroup> part_correct: array<u32, 256>;

@compute @workgroup_size(256)
fn softmax_xent(@builtin(local_invocation_index) t: u32) {
    let n = params.n;
    let k = params.k;
    let inv_n = 1.0 / f32(n);
    var loss = 0.0;
    var correct = 0u;
    // NaN as a run-time value: a constant NaN is a shader-creation error.
    var nan_bits = 0x7fc00000u;
    for (var r = t; r < n; r = r + 256u) {
        let row = r * k;
        var best = 0u;
        var top = logits[row];
        for (var j = 1u; j < k; j = j + 1u) {
            let v = logits[row + j];
            if (v > top) {
                top = v;
                best = j;
            }
        }
        let label = labels[r];
        if (label < 0 || u32(label) >= k) {
            loss = bitcast<f32>(nan_bits);
            continue;
        }
        let l = u32(label);
        var sum = 0.0;
        for (var j = 0u; j < k; j = j + 1u) {
            sum = sum + exp(logits[row + j] - top);
        }
        loss = loss + (log(sum) - (logits[row + l] - top));
        if (best == l) {
            correct = correct + 1u;
        }
        let scale = 1.0 / (sum * f32(n));
        for (var j = 0u; j < k; j = j + 1u) {
            var d = exp(logits[row + j] - top) * scale;
            if (j == l) {
                d = d - inv_n;
            }
            dlogits[row + j] = d;
        }
    }
    part_loss[t] = loss;
    part_correct[t] = correct;
    workgroupBarrier();
    for (var s = 128u; s > 0u; s = s >> 1u) {
        if (t < s) {
            part_loss[t] = part_loss[t] + part_loss[t + s];
            part_correct[t] = part_correct[t] + part_correct[t + s];
        }
        workgroupBarrier();
    }
    if (t == 0u) {
        stats[2u * params.slot] = part_loss[0] / f32(n);
        stats[2u * params.slot + 1u] = f32(part_correct[0]);
    }
}
