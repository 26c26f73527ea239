// 2-D convolutions (NCHW, weights [co, ci, k, k], zero padding, one stride
// for both directions) as implicit matrix products C[M,N] = A[M,K]·B[K,N]:
// the unrolled input (im2col) is never stored, each staged block of it is
// gathered from x or dy on the fly.
//
//   forward          y = w ⋆ x + b     C[co, n·ho·wo] = w[co, taps] · col[taps, n·ho·wo]
//   backward_data    dx from dy        per phase (py, px) of the stride, one product
//                                      C[ci, pixels of the phase] = wᵀ · dy gathered
//   backward_params  dw and db         C[co, taps + 1] = dy[co, n·ho·wo] · [col; 1]ᵀ
//   reduce, reduce_params              the sum of the partial products of a split
//                                      reduction, into y or dx, or into dw and db
//
// Taps. Only the live kernel offsets take part: rows ky0 … ky0+nky−1 and
// columns kx0 … kx0+nkx−1 of the kernel touch the image for some output
// (the others only ever see padding, as in the 3×3 convolutions of a 1×1
// map). A reduction index t < ci·nky·nkx is the tap (c, ky0 + r / nkx,
// kx0 + r mod nkx) with c = t / (nky·nkx), r = t mod (nky·nkx).
//
// Backward data gathers instead of scattering (no atomics): input pixel
// (iy, ix) receives dy at oy = (iy + pad − ky) / stride wherever that
// division is exact, so the pixels with iy ≡ py (mod stride) see exactly
// the kernel rows ky ≡ py + pad (mod stride). Each phase (py, px) is one
// product over the channels and those taps, with its own workgroups.
//
// Backward params appends a column of ones to col, so that the last column
// of C is db, the row sums of dy.
//
// Tiling. A workgroup computes a tile of C of BM rows × 64 columns with a
// reduction step of 16; invocation lid owns rows 4·(lid / 16) + i and
// columns 4·(lid mod 16) + j (i, j < 4), 16 outputs in 4 vec4 registers.
// Each step stages the A block [16][BM] and the B block [16][64] in
// workgroup memory as vec4 rows (8 KiB for the two); every invocation reads
// one vec4 of each per reduction index. Two sizes, as distinct entry points:
//
//   *       256 invocations, BM = 64   (most layers)
//   *_thin   64 invocations, BM = 16   (M ≤ 16: LeNet's 6 and 16 channels)
//
// Split reduction. A long reduction (dw over the batch, or few tiles) is
// split: workgroup t handles split t / (tiles_m·tiles_n) over reduction range
// [split·chunk, min(gk, (split+1)·chunk)) and stores its partial C at
// out[split·out_len …]; reduce or reduce_params then adds the splits in a
// fixed order. Results depend on the shapes only: they are deterministic.
//
// Every invocation of a workgroup reaches every barrier: early returns
// depend on the workgroup id and params only, and loads outside the
// matrices are guarded (they read 0).

struct Params {
    n: u32,         // images
    ci: u32,        // input channels
    h: u32,         // input rows
    w: u32,         // input columns
    co: u32,        // output channels
    k: u32,         // kernel size (k×k)
    ho: u32,        // output rows
    wo: u32,        // output columns
    stride: u32,
    pad: u32,
    ky0: u32,       // first live kernel row
    kx0: u32,       // first live kernel column
    nky: u32,       // live kernel rows
    nkx: u32,       // live kernel columns
    gn: u32,        // columns of C (backward_data: of its largest phase)
    gk: u32,        // reduction length (backward_data: of its longest phase)
    tiles_m: u32,   // tiles across the rows of C
    tiles_n: u32,   // tiles across its columns
    splits: u32,    // splits of the reduction; 1 for none
    chunk: u32,     // reduction length of one split, a multiple of 16
    out_len: u32,   // elements of one partial result in out
    add_bias: u32,  // 1: add bias[channel] to what is stored
    direct: u32,    // backward_params: 1 stores dw and db, 0 partials
    lanes: u32,     // reduce: invocations per output, a power of two ≤ 64
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> weight: array<f32>;
@group(0) @binding(3) var<storage, read> bias: array<f32>;
@group(0) @binding(4) var<storage, read> dy: array<f32>;
@group(0) @binding(5) var<storage, read_write> out: array<f32>;
@group(0) @binding(6) var<storage, read_write> out2: array<f32>;
@group(0) @binding(7) var<storage, read> part: array<f32>;

const STEP: u32 = 16u;  // reduction step
const BN: u32 = 64u;    // tile columns

// The staged blocks, [step][tile width / 4] vec4 each: A is [16][BM/4], B
// [16][16].
var<workgroup> tile_a: array<vec4<f32>, 256>;
var<workgroup> tile_b: array<vec4<f32>, 256>;
// The lanes of reduce.
var<workgroup> lane_sums: array<f32, 256>;

// An invocation's outputs: row 4·(lid / 16) + i in acc_i, column
// 4·(lid mod 16) + j in component j.
var<private> acc0: vec4<f32>;
var<private> acc1: vec4<f32>;
var<private> acc2: vec4<f32>;
var<private> acc3: vec4<f32>;

fn flat_group(wid: vec3<u32>, nwg: vec3<u32>) -> u32 {
    return wid.y * nwg.x + wid.x;
}

fn clear_acc() {
    acc0 = vec4<f32>(0.0);
    acc1 = vec4<f32>(0.0);
    acc2 = vec4<f32>(0.0);
    acc3 = vec4<f32>(0.0);
}

fn acc_row(i: u32) -> vec4<f32> {
    return select(select(select(acc3, acc2, i == 2u), acc1, i == 1u), acc0, i == 0u);
}

// multiply adds the staged blocks' product to the outputs; bm4 is BM / 4.
fn multiply(lid: u32, bm4: u32) {
    let tm = lid / 16u;
    let tn = lid % 16u;
    for (var kk = 0u; kk < STEP; kk++) {
        let a = tile_a[kk * bm4 + tm];
        let b = tile_b[kk * 16u + tn];
        acc0 += a.x * b;
        acc1 += a.y * b;
        acc2 += a.z * b;
        acc3 += a.w * b;
    }
}

// Tile is a workgroup's share of a product.
struct Tile {
    m0: u32,     // first row of C
    n0: u32,     // first column of C
    k0: u32,     // reduction range [k0, k1) before the per-phase limit
    k1: u32,
    split: u32,
    phase: u32,  // backward_data's phase, py·stride + px
}

// tile_of is the tile of flat workgroup index t for tiles of bm rows.
fn tile_of(t: u32, bm: u32) -> Tile {
    let tiles = params.tiles_m * params.tiles_n;
    let per_phase = tiles * params.splits;
    let phase = t / per_phase;
    let split = (t % per_phase) / tiles;
    let within = t % tiles;
    let k0 = split * params.chunk;
    return Tile((within % params.tiles_m) * bm, (within / params.tiles_m) * BN,
                k0, min(params.gk, k0 + params.chunk), split, phase);
}

// Taps are the live kernel offsets of one direction: first + j·step for
// j < count.
struct Taps {
    first: u32,
    count: u32,
}

// tap is reduction index t's kernel offsets (c, ky, kx) for taps ty × tx,
// each direction first + j·step.
fn tap(t: u32, ty: Taps, tx: Taps, step: u32) -> vec3<u32> {
    let per = ty.count * tx.count;
    let r = t % per;
    return vec3<u32>(t / per, ty.first + (r / tx.count) * step, tx.first + (r % tx.count) * step);
}

// x_at reads x[base + iy·w + ix], or 0 outside the image.
fn x_at(base: i32, iy: i32, ix: i32) -> f32 {
    if (iy < 0 || iy >= i32(params.h) || ix < 0 || ix >= i32(params.w)) {
        return 0.0;
    }
    return x[u32(base + iy * i32(params.w) + ix)];
}

// ---- forward: C[co, n·ho·wo] = w[co, taps] · col[taps, n·ho·wo] ----

fn forward_tile(t: u32, lid: u32, threads: u32) {
    let bm = threads / 4u;
    if (t >= params.tiles_m * params.tiles_n * params.splits) {
        return;
    }
    let tl = tile_of(t, bm);
    let ty = Taps(params.ky0, params.nky);
    let tx = Taps(params.kx0, params.nkx);
    let howo = params.ho * params.wo;
    let plane = params.h * params.w;
    let kk2 = params.k * params.k;

    // The invocation's 4 columns (output pixels), for B and the stores:
    // image offset in x (−1 past the last column), top-left input pixel
    // of the receptive field, and offset in y.
    let cg = lid % 16u;
    var xbase = vec4<i32>(-1);
    var iy0 = vec4<i32>(0);
    var ix0 = vec4<i32>(0);
    var ybase = vec4<u32>(0u);
    for (var j = 0u; j < 4u; j++) {
        let c = tl.n0 + 4u * cg + j;
        let img = c / howo;
        let pix = c % howo;
        if (c < params.gn) {
            xbase[j] = i32(img * params.ci * plane);
        }
        iy0[j] = i32((pix / params.wo) * params.stride) - i32(params.pad);
        ix0[j] = i32((pix % params.wo) * params.stride) - i32(params.pad);
        ybase[j] = img * params.co * howo + pix;
    }

    clear_acc();
    let ka = lid % 16u;  // A: reduction index of this invocation
    let mg = lid / 16u;  // A: rows 4·mg …
    for (var k0 = tl.k0; k0 < tl.k1; k0 += STEP) {
        // A = w[m, tap]
        var va = vec4<f32>(0.0);
        if (k0 + ka < tl.k1) {
            let tp = tap(k0 + ka, ty, tx, 1u);
            let off = (tp.x * params.k + tp.y) * params.k + tp.z;
            for (var i = 0u; i < 4u; i++) {
                let m = tl.m0 + 4u * mg + i;
                if (m < params.co) {
                    va[i] = weight[m * params.ci * kk2 + off];
                }
            }
        }
        tile_a[ka * (bm / 4u) + mg] = va;
        // B = col[tap, pixel], gathered from x
        for (var kb = lid / 16u; kb < STEP; kb += threads / 16u) {
            var vb = vec4<f32>(0.0);
            if (k0 + kb < tl.k1) {
                let tp = tap(k0 + kb, ty, tx, 1u);
                let coff = i32(tp.x * plane);
                for (var j = 0u; j < 4u; j++) {
                    if (xbase[j] >= 0) {
                        vb[j] = x_at(xbase[j] + coff, iy0[j] + i32(tp.y), ix0[j] + i32(tp.z));
                    }
                }
            }
            tile_b[kb * 16u + cg] = vb;
        }
        workgroupBarrier();
        multiply(lid, bm / 4u);
        workgroupBarrier();
    }

    let at = tl.split * params.out_len;
    for (var i = 0u; i < 4u; i++) {
        let m = tl.m0 + 4u * mg + i;
        if (m < params.co) {
            var b = 0.0;
            if (params.add_bias == 1u) {
                b = bias[m];
            }
            let v = acc_row(i);
            for (var j = 0u; j < 4u; j++) {
                if (xbase[j] >= 0) {
                    out[at + ybase[j] + m * howo] = v[j] + b;
                }
            }
        }
    }
}

@compute @workgroup_size(256)
fn forward(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
           @builtin(local_invocation_id) lid: vec3<u32>) {
    forward_tile(flat_group(wid, nwg), lid.x, 256u);
}

@compute @workgroup_size(64)
fn forward_thin(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                @builtin(local_invocation_id) lid: vec3<u32>) {
    forward_tile(flat_group(wid, nwg), lid.x, 64u);
}

// ---- backward_data: per phase, C[ci, pixels] = wᵀ[ci, (co, taps)] · dy ----

// phase_taps are the live kernel offsets of one direction that reach input
// positions ≡ p (mod stride): those ≡ p + pad, from t0 on, fewer than t0 + nt.
fn phase_taps(p: u32, t0: u32, nt: u32) -> Taps {
    let s = params.stride;
    let r = (p + params.pad) % s;
    let first = t0 + (r + s - t0 % s) % s;
    var count = 0u;
    if (first < t0 + nt) {
        count = (t0 + nt - 1u - first) / s + 1u;
    }
    return Taps(first, count);
}

// phase_len is the number of input positions ≡ p (mod stride) below n.
fn phase_len(p: u32, n: u32) -> u32 {
    if (p >= n) {
        return 0u;
    }
    return (n - 1u - p) / params.stride + 1u;
}

fn backward_data_tile(t: u32, lid: u32, threads: u32) {
    let bm = threads / 4u;
    let s = params.stride;
    if (t >= params.tiles_m * params.tiles_n * params.splits * s * s) {
        return;
    }
    let tl = tile_of(t, bm);
    let py = tl.phase / s;
    let px = tl.phase % s;
    let hq = phase_len(py, params.h);
    let wq = phase_len(px, params.w);
    let cols = params.n * hq * wq;
    if (tl.n0 >= cols) {
        return;
    }
    let ty = phase_taps(py, params.ky0, params.nky);
    let tx = phase_taps(px, params.kx0, params.nkx);
    // Output position of input row py + s·qy and kernel row ty.first + s·j:
    // qy + offy − j.
    let offy = (i32(py + params.pad) - i32(ty.first)) / i32(s);
    let offx = (i32(px + params.pad) - i32(tx.first)) / i32(s);
    let k1 = min(tl.k1, params.co * ty.count * tx.count);
    let howo = params.ho * params.wo;
    let plane = params.h * params.w;
    let kk2 = params.k * params.k;

    // The invocation's 4 columns (input pixels of the phase): image offset
    // in dy (−1 past the last column), output position of the first tap,
    // and offset in dx.
    let cg = lid % 16u;
    var dbase = vec4<i32>(-1);
    var oy0 = vec4<i32>(0);
    var ox0 = vec4<i32>(0);
    var xbase = vec4<u32>(0u);
    for (var j = 0u; j < 4u; j++) {
        let c = tl.n0 + 4u * cg + j;
        let img = c / max(hq * wq, 1u);
        let q = c % max(hq * wq, 1u);
        let qy = q / max(wq, 1u);
        let qx = q % max(wq, 1u);
        if (c < cols) {
            dbase[j] = i32(img * params.co * howo);
        }
        oy0[j] = i32(qy) + offy;
        ox0[j] = i32(qx) + offx;
        xbase[j] = img * params.ci * plane + (py + s * qy) * params.w + px + s * qx;
    }

    clear_acc();
    let ka = lid % 16u;
    let mg = lid / 16u;
    for (var k0 = tl.k0; k0 < k1; k0 += STEP) {
        // A = w[o, m, ky, kx] for reduction index (o, ky, kx)
        var va = vec4<f32>(0.0);
        if (k0 + ka < k1) {
            let tp = tap(k0 + ka, ty, tx, s);
            let off = tp.x * params.ci * kk2 + tp.y * params.k + tp.z;
            for (var i = 0u; i < 4u; i++) {
                let m = tl.m0 + 4u * mg + i;
                if (m < params.ci) {
                    va[i] = weight[off + m * kk2];
                }
            }
        }
        tile_a[ka * (bm / 4u) + mg] = va;
        // B = dy[o, oy, ox], gathered
        for (var kb = lid / 16u; kb < STEP; kb += threads / 16u) {
            var vb = vec4<f32>(0.0);
            if (k0 + kb < k1) {
                let per = ty.count * tx.count;
                let o = (k0 + kb) / per;
                let r = (k0 + kb) % per;
                let jy = i32(r / tx.count);
                let jx = i32(r % tx.count);
                for (var j = 0u; j < 4u; j++) {
                    let oy = oy0[j] - jy;
                    let ox = ox0[j] - jx;
                    if (dbase[j] >= 0 && oy >= 0 && oy < i32(params.ho) && ox >= 0 && ox < i32(params.wo)) {
                        vb[j] = dy[u32(dbase[j]) + o * howo + u32(oy) * params.wo + u32(ox)];
                    }
                }
            }
            tile_b[kb * 16u + cg] = vb;
        }
        workgroupBarrier();
        multiply(lid, bm / 4u);
        workgroupBarrier();
    }

    let at = tl.split * params.out_len;
    for (var i = 0u; i < 4u; i++) {
        let m = tl.m0 + 4u * mg + i;
        if (m < params.ci) {
            let v = acc_row(i);
            for (var j = 0u; j < 4u; j++) {
                if (dbase[j] >= 0) {
                    out[at + xbase[j] + m * plane] = v[j];
                }
            }
        }
    }
}

@compute @workgroup_size(256)
fn backward_data(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                 @builtin(local_invocation_id) lid: vec3<u32>) {
    backward_data_tile(flat_group(wid, nwg), lid.x, 256u);
}

@compute @workgroup_size(64)
fn backward_data_thin(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                      @builtin(local_invocation_id) lid: vec3<u32>) {
    backward_data_tile(flat_group(wid, nwg), lid.x, 64u);
}

// ---- backward_params: C[co, taps + 1] = dy[co, n·ho·wo] · [col; 1]ᵀ ----

fn backward_params_tile(t: u32, lid: u32, threads: u32) {
    let bm = threads / 4u;
    if (t >= params.tiles_m * params.tiles_n * params.splits) {
        return;
    }
    let tl = tile_of(t, bm);
    let ty = Taps(params.ky0, params.nky);
    let tx = Taps(params.kx0, params.nkx);
    let howo = params.ho * params.wo;
    let plane = params.h * params.w;
    let taps = params.gn - 1u;  // the last column is db's

    // The invocation's 4 columns (taps): channel offset in an image of x,
    // and kernel offsets; ky is −1 for the column of ones, −2 past it.
    let cg = lid % 16u;
    var coff = vec4<i32>(0);
    var cky = vec4<i32>(-2);
    var ckx = vec4<i32>(0);
    for (var j = 0u; j < 4u; j++) {
        let c = tl.n0 + 4u * cg + j;
        if (c < taps) {
            let tp = tap(c, ty, tx, 1u);
            coff[j] = i32(tp.x * plane);
            cky[j] = i32(tp.y);
            ckx[j] = i32(tp.z);
        } else if (c == taps) {
            cky[j] = -1;
        }
    }

    clear_acc();
    let ka = lid % 16u;
    let mg = lid / 16u;
    for (var k0 = tl.k0; k0 < tl.k1; k0 += STEP) {
        // A = dy[img, m, pixel] for reduction index (img, pixel)
        var va = vec4<f32>(0.0);
        if (k0 + ka < tl.k1) {
            let p = k0 + ka;
            let base = (p / howo) * params.co * howo + p % howo;
            for (var i = 0u; i < 4u; i++) {
                let m = tl.m0 + 4u * mg + i;
                if (m < params.co) {
                    va[i] = dy[base + m * howo];
                }
            }
        }
        tile_a[ka * (bm / 4u) + mg] = va;
        // B = [col; 1]ᵀ[(img, pixel), tap], gathered from x
        for (var kb = lid / 16u; kb < STEP; kb += threads / 16u) {
            var vb = vec4<f32>(0.0);
            if (k0 + kb < tl.k1) {
                let p = k0 + kb;
                let pix = p % howo;
                let xb = i32((p / howo) * params.ci * plane);
                let iy = i32((pix / params.wo) * params.stride) - i32(params.pad);
                let ix = i32((pix % params.wo) * params.stride) - i32(params.pad);
                for (var j = 0u; j < 4u; j++) {
                    if (cky[j] >= 0) {
                        vb[j] = x_at(xb + coff[j], iy + cky[j], ix + ckx[j]);
                    } else if (cky[j] == -1) {
                        vb[j] = 1.0;
                    }
                }
            }
            tile_b[kb * 16u + cg] = vb;
        }
        workgroupBarrier();
        multiply(lid, bm / 4u);
        workgroupBarrier();
    }

    let at = tl.split * params.out_len;
    for (var i = 0u; i < 4u; i++) {
        let m = tl.m0 + 4u * mg + i;
        if (m < params.co) {
            let v = acc_row(i);
            for (var j = 0u; j < 4u; j++) {
                let c = tl.n0 + 4u * cg + j;
                if (params.direct == 0u) {
                    if (c < params.gn) {
                        out[at + m * params.gn + c] = v[j];
                    }
                } else if (c < taps) {
                    out[m * taps + c] = v[j];
                } else if (c == taps) {
                    out2[m] = v[j];
                }
            }
        }
    }
}

@compute @workgroup_size(256)
fn backward_params(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                   @builtin(local_invocation_id) lid: vec3<u32>) {
    backward_params_tile(flat_group(wid, nwg), lid.x, 256u);
}

@compute @workgroup_size(64)
fn backward_params_thin(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                        @builtin(local_invocation_id) lid: vec3<u32>) {
    backward_params_tile(flat_group(wid, nwg), lid.x, 64u);
}

// ---- sums of split reductions ----
//
// params.lanes invocations share an output: lane l adds splits l, l + lanes,
// …, then the lanes are added pairwise in workgroup memory.

// split_sum is lane l's share of the sum of part[s·out_len + src] over the
// splits s (0 when src < 0).
fn split_sum(src: i32, lane: u32) -> f32 {
    var sum = 0.0;
    if (src >= 0) {
        for (var s = lane; s < params.splits; s += params.lanes) {
            sum += part[s * params.out_len + u32(src)];
        }
    }
    return sum;
}

// lane_total adds the lanes' values v; every invocation must call it.
fn lane_total(lid: u32, lane: u32, v: f32) -> f32 {
    lane_sums[lid] = v;
    for (var half = params.lanes / 2u; half > 0u; half /= 2u) {
        workgroupBarrier();
        if (lane < half) {
            lane_sums[lid] = lane_sums[lid] + lane_sums[lid + half];
        }
    }
    workgroupBarrier();
    return lane_sums[lid - lane];
}

// reduce: out[i] = Σ_s part[s·out_len + i] (+ bias of i's channel), for the
// out_len elements of y (forward, channels co) or dx (backward data).
@compute @workgroup_size(256)
fn reduce(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
          @builtin(local_invocation_id) lid: vec3<u32>) {
    let g = flat_group(wid, nwg) * 256u + lid.x;
    let i = g / params.lanes;
    let lane = g % params.lanes;
    var src = -1;
    if (i < params.out_len) {
        src = i32(i);
    }
    let v = lane_total(lid.x, lane, split_sum(src, lane));
    if (src >= 0 && lane == 0u) {
        var b = 0.0;
        if (params.add_bias == 1u) {
            b = bias[(i / (params.ho * params.wo)) % params.co];
        }
        out[i] = v + b;
    }
}

// reduce_params: dw (out) and db (out2) from the partial C[co, gn] of
// backward_params: a dead tap's weight gets 0.
@compute @workgroup_size(256)
fn reduce_params(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                 @builtin(local_invocation_id) lid: vec3<u32>) {
    let g = flat_group(wid, nwg) * 256u + lid.x;
    let i = g / params.lanes;
    let lane = g % params.lanes;
    let kk2 = params.k * params.k;
    let nw = params.co * params.ci * kk2;
    var src = -1;
    if (i < nw) {
        let m = i / (params.ci * kk2);
        let r = i % (params.ci * kk2);
        let c = r / kk2;
        let ky = (r % kk2) / params.k;
        let kx = r % params.k;
        if (ky >= params.ky0 && ky < params.ky0 + params.nky && kx >= params.kx0 && kx < params.kx0 + params.nkx) {
            src = i32(m * params.gn + (c * params.nky + ky - params.ky0) * params.nkx + kx - params.kx0);
        }
    } else if (i < nw + params.co) {
        src = i32((i - nw) * params.gn + params.gn - 1u);
    }
    let v = lane_total(lid.x, lane, split_sum(src, lane));
    if (lane == 0u) {
        if (i < nw) {
            out[i] = v;
        } else if (i < nw + params.co) {
            out2[i - nw] = v;
        }
    }
}
