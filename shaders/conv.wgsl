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
// kx0 + r mod nkx) with c = t / (nky·nkx), r = t mod (nky·nkx). No loop
// divides: each fetch splits its first index once per tile (quot, a
// multiplication by a reciprocal) and then steps it along by additions
// with carries (advance), as backward params does with its index
// (image, output pixel).
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
// Bias. A convolution without bias (PyTorch's bias=False) runs with
// params.bias = 0: forward and reduce add nothing to y, backward params'
// C has no column of ones (gn = taps) and nothing writes db. The host then
// binds a placeholder at bias and out2, which no entry point touches.
//
// Tiling. A workgroup computes a tile of C of BM rows × 64 columns with a
// reduction step of 16; invocation lid owns rows 4·(lid / 16) + i and
// columns 4·(lid mod 16) + j (i, j < 4), 16 outputs in 4 vec4 registers.
// Each step stages the A block [16][BM] and the B block [16][64] in
// workgroup memory as vec4 (8.25 KiB for the two); every invocation reads
// one vec4 of each per reduction index. Global loads (weights, and the
// gathers of x or dy with their bounds checks) for the next step are issued
// before the current step's product, so that their latency overlaps it.
// Two sizes, as distinct entry points:
//
//   *       256 invocations, BM = 64   (most layers)
//   *_thin   64 invocations, BM = 16   (M ≤ 16: LeNet's 6 and 16 channels)
//
// Unstaged entry points (*_thin_unstaged) compute the same thin tiles with
// the same invocation layout and summation order, each invocation
// gathering its own A and B values straight from storage: no workgroup
// memory and no barrier. They are for GPUs emulated on the CPU
// (SwiftShader, lavapipe), where a barrier costs each invocation a
// coroutine switch and makes a pipeline take about a second to compile,
// ten times an unstaged one. (Wide tiles have none: there each invocation
// would gather 16 times what it stages.)
//
// Split reduction. A long reduction (dw over the batch, or few tiles) is
// split: workgroup t handles split (t / (tiles_m·tiles_n)) mod splits (of
// phase t / (tiles_m·tiles_n·splits)), tile t mod (tiles_m·tiles_n) with the
// rows fastest, over reduction range [split·chunk, min(gk, (split+1)·chunk)),
// and stores its partial C at
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
    bias: u32,      // forward, reduce: 1 adds bias[channel] to what is stored;
                    // backward_params, reduce_params: 1 when C's last column is db
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
const A_ROW: u32 = 17u; // vec4 per row of the staged A block: 16, and 1 of padding

// The staged blocks, vec4 rows of 4 rows or columns: A is [16][BM/4] at
// a row stride of 17 (so that the stores along the reduction, 16 rows
// apart, fall in different banks), B is [16][16].
var<workgroup> tile_a: array<vec4<f32>, 272>;
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

// Block is an invocation's share of one step's staged blocks, fetched from
// global memory a step ahead: a holds A's rows 4·(lid / 16) … at reduction
// index lid mod 16; b0 … b3 hold B's columns 4·(lid mod 16) … at reduction
// indices lid / 16 + 4r, of which a wide workgroup (256 invocations)
// fetches b0 only.
struct Block {
    a: vec4<f32>,
    b0: vec4<f32>,
    b1: vec4<f32>,
    b2: vec4<f32>,
    b3: vec4<f32>,
}

// stage stores an invocation's block in workgroup memory.
fn stage(blk: Block, lid: u32, threads: u32) {
    tile_a[((lid & 15u)) * A_ROW + (lid >> 4u)] = blk.a;
    let at = ((lid >> 4u)) * 16u + (lid & 15u);
    tile_b[at] = blk.b0;
    if (threads == 64u) {
        tile_b[at + 64u] = blk.b1;
        tile_b[at + 128u] = blk.b2;
        tile_b[at + 192u] = blk.b3;
    }
}

// accumulate adds the outer product of an invocation's 4 values of A (one
// per row) and 4 of B (one per column), at one reduction index.
fn accumulate(a: vec4<f32>, b: vec4<f32>) {
    acc0 += a.x * b;
    acc1 += a.y * b;
    acc2 += a.z * b;
    acc3 += a.w * b;
}

// multiply adds the staged blocks' product to the outputs.
fn multiply(lid: u32) {
    let tm = (lid >> 4u);
    let tn = (lid & 15u);
    for (var kk = 0u; kk < STEP; kk++) {
        accumulate(tile_a[kk * A_ROW + tm], tile_b[kk * 16u + tn]);
    }
}

// Tile is a workgroup's share of a product.
struct Tile {
    m0: u32,     // first row of C
    n0: u32,     // first column of C
    k0: u32,     // reduction range [k0, k1)
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

// Div is a divisor d ≥ 1 with its reciprocal, so that the gathers split
// an index by it without a runtime integer division (tens of instructions
// on a GPU, and the loops below split one or two for every value they
// gather).
struct Div {
    d: u32,
    inv: f32,
}

fn div_by(d: u32) -> Div {
    let dd = max(d, 1u);
    return Div(dd, 1.0 / f32(dd));
}

// quot is a / dv.d rounded down, exact for a < 2^22 (the host keeps every
// index below that, convMaxIndex in gpu/conv.go): the float estimate
// (a + ½)·(1/d) is then off by at most two (WGSL lets 1/d be 2.5 ULP
// off), which the comparisons mend.
fn quot(a: u32, dv: Div) -> u32 {
    var q = u32((f32(a) + 0.5) * dv.inv);
    q = select(q, q - 1u, q * dv.d > a);
    q = select(q, q - 1u, q * dv.d > a);
    q = select(q, q + 1u, (q + 1u) * dv.d <= a);
    q = select(q, q + 1u, (q + 1u) * dv.d <= a);
    return q;
}

// Taps are the live kernel offsets of one direction: first + j·step for
// j < count.
struct Taps {
    first: u32,
    count: u32,
}

// Grid is the live taps of a product, ty × tx, each direction first +
// j·step, with the divisors that split a reduction index into them.
struct Grid {
    ty: Taps,
    tx: Taps,
    step: u32,
    per: Div, // ty.count·tx.count
    nx: Div,  // tx.count
}

fn grid(ty: Taps, tx: Taps, step: u32) -> Grid {
    return Grid(ty, tx, step, div_by(ty.count * tx.count), div_by(tx.count));
}

// At is reduction index t of grid g split as (c, j, i): channel c, tap j
// of ty and i of tx (or, for backward params' pixels, image c, row j and
// column i). A fetch splits its first index once per tile and then steps
// it along (advance): the loops gather without a division.
struct At {
    t: u32,
    c: u32,
    j: u32,
    i: u32,
}

fn at_index(t: u32, g: Grid) -> At {
    let c = quot(t, g.per);
    let r = t - c * g.per.d;
    let j = quot(r, g.nx);
    return At(t, c, j, r - j * g.nx.d);
}

// advance is p moved on by the index that st is the split of (st.t), with
// one carry from i into j and one from j into c (st.i < nx, st.j < ny).
fn advance(p: At, st: At, g: Grid) -> At {
    var q = At(p.t + st.t, p.c + st.c, p.j + st.j, p.i + st.i);
    let ci = q.i >= g.nx.d;
    q.i = select(q.i, q.i - g.nx.d, ci);
    q.j = select(q.j, q.j + 1u, ci);
    let cj = q.j >= g.ty.count;
    q.j = select(q.j, q.j - g.ty.count, cj);
    q.c = select(q.c, q.c + 1u, cj);
    return q;
}

// ky and kx are the kernel offsets of p.
fn ky(p: At, g: Grid) -> u32 {
    return g.ty.first + p.j * g.step;
}

fn kx(p: At, g: Grid) -> u32 {
    return g.tx.first + p.i * g.step;
}

// Cursor is where an invocation's next fetch reads: A's reduction index
// and B's (four of them in a thin workgroup, 4 apart; one in a wide one).
struct Cursor {
    a: At,
    b0: At,
    b1: At,
    b2: At,
    b3: At,
}

fn cursor(k0: u32, lid: u32, threads: u32, g: Grid) -> Cursor {
    var cu: Cursor;
    cu.a = at_index(k0 + (lid & 15u), g);
    cu.b0 = at_index(k0 + (lid >> 4u), g);
    if (threads == 64u) {
        let four = at_index(4u, g);
        cu.b1 = advance(cu.b0, four, g);
        cu.b2 = advance(cu.b1, four, g);
        cu.b3 = advance(cu.b2, four, g);
    }
    return cu;
}

// step_cursor moves a cursor on by st (the split of STEP).
fn step_cursor(cu: Cursor, st: At, threads: u32, g: Grid) -> Cursor {
    var n = cu;
    n.a = advance(cu.a, st, g);
    n.b0 = advance(cu.b0, st, g);
    if (threads == 64u) {
        n.b1 = advance(cu.b1, st, g);
        n.b2 = advance(cu.b2, st, g);
        n.b3 = advance(cu.b3, st, g);
    }
    return n;
}

// forward_grid is the taps of forward and backward params: every live one.
fn forward_grid() -> Grid {
    return grid(Taps(params.ky0, params.nky), Taps(params.kx0, params.nkx), 1u);
}

// Cols are an invocation's 4 columns of C (component j: column
// 4·(lid mod 16) + j of the tile) and what gathering B needs of them.
//   forward:         base = image offset in x (−1 past the last column),
//                    row, col = top-left input pixel of the receptive field,
//                    dst = offset in y
//   backward_data:   base = image offset in dy (−1 past the last column),
//                    row, col = output pixel of the first taps, dst = offset in dx
//   backward_params: base = channel offset in an image of x, row, col =
//                    kernel offsets (row −1: db's column of ones; −2: past C)
struct Cols {
    base: vec4<i32>,
    row: vec4<i32>,
    col: vec4<i32>,
    dst: vec4<u32>,
}

// x_at reads x[base + iy·w + ix], or 0 outside the image (a negative
// row or column is, as a u32, past the last).
fn x_at(base: i32, iy: i32, ix: i32) -> f32 {
    if (u32(iy) >= params.h || u32(ix) >= params.w) {
        return 0.0;
    }
    return x[u32(base + iy * i32(params.w) + ix)];
}

// ---- forward: C[co, n·ho·wo] = w[co, taps] · col[taps, n·ho·wo] ----

fn forward_cols(n0: u32, lid: u32) -> Cols {
    let howo = params.ho * params.wo;
    var cols = Cols(vec4<i32>(-1), vec4<i32>(0), vec4<i32>(0), vec4<u32>(0u));
    for (var j = 0u; j < 4u; j++) {
        let c = n0 + 4u * ((lid & 15u)) + j;
        let img = c / howo;
        let pix = c % howo;
        if (c < params.gn) {
            cols.base[j] = i32(img * params.ci * params.h * params.w);
        }
        cols.row[j] = i32((pix / params.wo) * params.stride) - i32(params.pad);
        cols.col[j] = i32((pix % params.wo) * params.stride) - i32(params.pad);
        cols.dst[j] = img * params.co * howo + pix;
    }
    return cols;
}

// forward_a is w at rows m0 + 4·mg … and tap p.
fn forward_a(tl: Tile, g: Grid, p: At, mg: u32) -> vec4<f32> {
    var v = vec4<f32>(0.0);
    if (p.t < tl.k1) {
        let off = (p.c * params.k + ky(p, g)) * params.k + kx(p, g);
        for (var i = 0u; i < 4u; i++) {
            let m = tl.m0 + 4u * mg + i;
            if (m < params.co) {
                v[i] = weight[m * params.ci * params.k * params.k + off];
            }
        }
    }
    return v;
}

// forward_b is col at tap p and the invocation's columns, gathered from x.
fn forward_b(tl: Tile, g: Grid, cols: Cols, p: At) -> vec4<f32> {
    var v = vec4<f32>(0.0);
    if (p.t < tl.k1) {
        let coff = i32(p.c * params.h * params.w);
        let dy = i32(ky(p, g));
        let dx = i32(kx(p, g));
        for (var j = 0u; j < 4u; j++) {
            if (cols.base[j] >= 0) {
                v[j] = x_at(cols.base[j] + coff, cols.row[j] + dy, cols.col[j] + dx);
            }
        }
    }
    return v;
}

fn forward_fetch(tl: Tile, g: Grid, cols: Cols, cu: Cursor, lid: u32, threads: u32) -> Block {
    var blk: Block;
    blk.a = forward_a(tl, g, cu.a, (lid >> 4u));
    blk.b0 = forward_b(tl, g, cols, cu.b0);
    if (threads == 64u) {
        blk.b1 = forward_b(tl, g, cols, cu.b1);
        blk.b2 = forward_b(tl, g, cols, cu.b2);
        blk.b3 = forward_b(tl, g, cols, cu.b3);
    }
    return blk;
}

fn forward_tile(t: u32, lid: u32, threads: u32) {
    if (t >= params.tiles_m * params.tiles_n * params.splits) {
        return;
    }
    let tl = tile_of(t, threads / 4u);
    let g = forward_grid();
    let st = at_index(STEP, g);
    let cols = forward_cols(tl.n0, lid);
    clear_acc();
    var cu = cursor(tl.k0, lid, threads, g);
    var blk = forward_fetch(tl, g, cols, cu, lid, threads);
    for (var k0 = tl.k0; k0 < tl.k1; k0 += STEP) {
        stage(blk, lid, threads);
        workgroupBarrier();
        if (k0 + STEP < tl.k1) {
            cu = step_cursor(cu, st, threads, g);
            blk = forward_fetch(tl, g, cols, cu, lid, threads);
        }
        multiply(lid);
        workgroupBarrier();
    }
    forward_store(tl, cols, lid);
}

// forward_tile_unstaged is a thin tile, unstaged.
fn forward_tile_unstaged(t: u32, lid: u32) {
    if (t >= params.tiles_m * params.tiles_n * params.splits) {
        return;
    }
    let tl = tile_of(t, 16u);
    let g = forward_grid();
    let one = at_index(1u, g);
    let cols = forward_cols(tl.n0, lid);
    clear_acc();
    var p = at_index(tl.k0, g);
    for (var k = tl.k0; k < tl.k1; k++) {
        accumulate(forward_a(tl, g, p, (lid >> 4u)), forward_b(tl, g, cols, p));
        p = advance(p, one, g);
    }
    forward_store(tl, cols, lid);
}

// forward_store writes an invocation's outputs, plus the bias when asked
// (never in a split: reduce adds it).
fn forward_store(tl: Tile, cols: Cols, lid: u32) {
    let at = tl.split * params.out_len;
    let howo = params.ho * params.wo;
    for (var i = 0u; i < 4u; i++) {
        let m = tl.m0 + 4u * ((lid >> 4u)) + i;
        if (m < params.co) {
            var b = 0.0;
            if (params.bias == 1u) {
                b = bias[m];
            }
            let v = acc_row(i);
            for (var j = 0u; j < 4u; j++) {
                if (cols.base[j] >= 0) {
                    out[at + cols.dst[j] + m * howo] = v[j] + b;
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

// Phase is one phase (py, px) of backward data: its input pixels
// (py + stride·qy, px + stride·qx) for qy < hq, qx < wq, and its kernel taps.
struct Phase {
    py: u32,
    px: u32,
    hq: u32,
    wq: u32,
    g: Grid, // its taps, step stride
}

// phase_taps are the live kernel offsets of one direction that reach input
// positions ≡ p (mod stride): those ≡ p + pad, from t0 on, below t0 + nt.
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

fn phase_of(i: u32) -> Phase {
    let py = i / params.stride;
    let px = i % params.stride;
    return Phase(py, px, phase_len(py, params.h), phase_len(px, params.w),
                 grid(phase_taps(py, params.ky0, params.nky), phase_taps(px, params.kx0, params.nkx), params.stride));
}

fn data_cols(ph: Phase, n0: u32, lid: u32) -> Cols {
    let s = params.stride;
    let per = max(ph.hq * ph.wq, 1u);
    // Output position of input row py + s·qy and kernel row ty.first + s·j:
    // qy + offy − j.
    let offy = (i32(ph.py + params.pad) - i32(ph.g.ty.first)) / i32(s);
    let offx = (i32(ph.px + params.pad) - i32(ph.g.tx.first)) / i32(s);
    var cols = Cols(vec4<i32>(-1), vec4<i32>(0), vec4<i32>(0), vec4<u32>(0u));
    for (var j = 0u; j < 4u; j++) {
        let c = n0 + 4u * ((lid & 15u)) + j;
        let img = c / per;
        let qy = (c % per) / max(ph.wq, 1u);
        let qx = (c % per) % max(ph.wq, 1u);
        if (c < params.n * ph.hq * ph.wq) {
            cols.base[j] = i32(img * params.co * params.ho * params.wo);
        }
        cols.row[j] = i32(qy) + offy;
        cols.col[j] = i32(qx) + offx;
        cols.dst[j] = img * params.ci * params.h * params.w + (ph.py + s * qy) * params.w + ph.px + s * qx;
    }
    return cols;
}

// data_a is w[o, m, ky, kx] at rows (input channels) m0 + 4·mg … and
// reduction index p = (o, ky, kx).
fn data_a(tl: Tile, ph: Phase, p: At, mg: u32) -> vec4<f32> {
    var v = vec4<f32>(0.0);
    if (p.t < tl.k1) {
        let kk2 = params.k * params.k;
        let off = p.c * params.ci * kk2 + ky(p, ph.g) * params.k + kx(p, ph.g);
        for (var i = 0u; i < 4u; i++) {
            let m = tl.m0 + 4u * mg + i;
            if (m < params.ci) {
                v[i] = weight[off + m * kk2];
            }
        }
    }
    return v;
}

// data_b is dy at reduction index p = (o, ky, kx) for the invocation's
// columns: dy[o, row − jy, col − jx] for tap (jy, jx) of the phase.
fn data_b(tl: Tile, ph: Phase, cols: Cols, p: At) -> vec4<f32> {
    var v = vec4<f32>(0.0);
    if (p.t < tl.k1) {
        let o = p.c;
        let jy = i32(p.j);
        let jx = i32(p.i);
        for (var j = 0u; j < 4u; j++) {
            let oy = u32(cols.row[j] - jy); // a negative one is past the last
            let ox = u32(cols.col[j] - jx);
            if (cols.base[j] >= 0 && oy < params.ho && ox < params.wo) {
                v[j] = dy[u32(cols.base[j]) + (o * params.ho + oy) * params.wo + ox];
            }
        }
    }
    return v;
}

fn data_fetch(tl: Tile, ph: Phase, cols: Cols, cu: Cursor, lid: u32, threads: u32) -> Block {
    var blk: Block;
    blk.a = data_a(tl, ph, cu.a, (lid >> 4u));
    blk.b0 = data_b(tl, ph, cols, cu.b0);
    if (threads == 64u) {
        blk.b1 = data_b(tl, ph, cols, cu.b1);
        blk.b2 = data_b(tl, ph, cols, cu.b2);
        blk.b3 = data_b(tl, ph, cols, cu.b3);
    }
    return blk;
}

fn backward_data_tile(t: u32, lid: u32, threads: u32) {
    if (t >= params.tiles_m * params.tiles_n * params.splits * params.stride * params.stride) {
        return;
    }
    var tl = tile_of(t, threads / 4u);
    let ph = phase_of(tl.phase);
    if (tl.n0 >= params.n * ph.hq * ph.wq) {
        return;
    }
    tl.k1 = min(tl.k1, params.co * ph.g.ty.count * ph.g.tx.count);
    let cols = data_cols(ph, tl.n0, lid);
    let st = at_index(STEP, ph.g);
    clear_acc();
    var cu = cursor(tl.k0, lid, threads, ph.g);
    var blk = data_fetch(tl, ph, cols, cu, lid, threads);
    for (var k0 = tl.k0; k0 < tl.k1; k0 += STEP) {
        stage(blk, lid, threads);
        workgroupBarrier();
        if (k0 + STEP < tl.k1) {
            cu = step_cursor(cu, st, threads, ph.g);
            blk = data_fetch(tl, ph, cols, cu, lid, threads);
        }
        multiply(lid);
        workgroupBarrier();
    }
    data_store(tl, cols, lid);
}

// backward_data_tile_unstaged is a thin tile, unstaged.
fn backward_data_tile_unstaged(t: u32, lid: u32) {
    if (t >= params.tiles_m * params.tiles_n * params.splits * params.stride * params.stride) {
        return;
    }
    var tl = tile_of(t, 16u);
    let ph = phase_of(tl.phase);
    if (tl.n0 >= params.n * ph.hq * ph.wq) {
        return;
    }
    tl.k1 = min(tl.k1, params.co * ph.g.ty.count * ph.g.tx.count);
    let cols = data_cols(ph, tl.n0, lid);
    let one = at_index(1u, ph.g);
    clear_acc();
    var p = at_index(tl.k0, ph.g);
    for (var k = tl.k0; k < tl.k1; k++) {
        accumulate(data_a(tl, ph, p, (lid >> 4u)), data_b(tl, ph, cols, p));
        p = advance(p, one, ph.g);
    }
    data_store(tl, cols, lid);
}

// data_store writes an invocation's outputs of dx.
fn data_store(tl: Tile, cols: Cols, lid: u32) {
    let at = tl.split * params.out_len;
    let plane = params.h * params.w;
    for (var i = 0u; i < 4u; i++) {
        let m = tl.m0 + 4u * ((lid >> 4u)) + i;
        if (m < params.ci) {
            let v = acc_row(i);
            for (var j = 0u; j < 4u; j++) {
                if (cols.base[j] >= 0) {
                    out[at + cols.dst[j] + m * plane] = v[j];
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
//
// Without bias C is [co, taps] = dy · colᵀ: gn = taps + params.bias.

fn params_cols(n0: u32, lid: u32) -> Cols {
    let taps = params.gn - params.bias;  // db's column, if any, is the last
    var cols = Cols(vec4<i32>(0), vec4<i32>(-2), vec4<i32>(0), vec4<u32>(0u));
    for (var j = 0u; j < 4u; j++) {
        let c = n0 + 4u * ((lid & 15u)) + j;
        if (c < taps) {
            let g = forward_grid();
            let p = at_index(c, g);
            cols.base[j] = i32(p.c * params.h * params.w);
            cols.row[j] = i32(ky(p, g));
            cols.col[j] = i32(kx(p, g));
        } else if (c < params.gn) {
            cols.row[j] = -1;
        }
    }
    return cols;
}

// pixel_grid splits backward params' reduction index p into (image c,
// output row j, output column i).
fn pixel_grid() -> Grid {
    return grid(Taps(0u, params.ho), Taps(0u, params.wo), 1u);
}

// params_a is dy at rows (output channels) m0 + 4·mg … and reduction index
// p = (image, output pixel).
fn params_a(tl: Tile, p: At, mg: u32) -> vec4<f32> {
    var v = vec4<f32>(0.0);
    if (p.t < tl.k1) {
        let howo = params.ho * params.wo;
        let base = p.c * params.co * howo + p.j * params.wo + p.i;
        for (var i = 0u; i < 4u; i++) {
            let m = tl.m0 + 4u * mg + i;
            if (m < params.co) {
                v[i] = dy[base + m * howo];
            }
        }
    }
    return v;
}

// params_b is [col; 1]ᵀ at reduction index p = (image, output pixel) and
// the invocation's columns, gathered from x.
fn params_b(tl: Tile, cols: Cols, p: At) -> vec4<f32> {
    var v = vec4<f32>(0.0);
    if (p.t < tl.k1) {
        let xb = i32(p.c * params.ci * params.h * params.w);
        let iy = i32(p.j * params.stride) - i32(params.pad);
        let ix = i32(p.i * params.stride) - i32(params.pad);
        for (var j = 0u; j < 4u; j++) {
            if (cols.row[j] >= 0) {
                v[j] = x_at(xb + cols.base[j], iy + cols.row[j], ix + cols.col[j]);
            } else if (cols.row[j] == -1) {
                v[j] = 1.0;
            }
        }
    }
    return v;
}

fn params_fetch(tl: Tile, cols: Cols, cu: Cursor, lid: u32, threads: u32) -> Block {
    var blk: Block;
    blk.a = params_a(tl, cu.a, (lid >> 4u));
    blk.b0 = params_b(tl, cols, cu.b0);
    if (threads == 64u) {
        blk.b1 = params_b(tl, cols, cu.b1);
        blk.b2 = params_b(tl, cols, cu.b2);
        blk.b3 = params_b(tl, cols, cu.b3);
    }
    return blk;
}

fn backward_params_tile(t: u32, lid: u32, threads: u32) {
    if (t >= params.tiles_m * params.tiles_n * params.splits) {
        return;
    }
    let tl = tile_of(t, threads / 4u);
    let g = pixel_grid();
    let st = at_index(STEP, g);
    let cols = params_cols(tl.n0, lid);
    clear_acc();
    var cu = cursor(tl.k0, lid, threads, g);
    var blk = params_fetch(tl, cols, cu, lid, threads);
    for (var k0 = tl.k0; k0 < tl.k1; k0 += STEP) {
        stage(blk, lid, threads);
        workgroupBarrier();
        if (k0 + STEP < tl.k1) {
            cu = step_cursor(cu, st, threads, g);
            blk = params_fetch(tl, cols, cu, lid, threads);
        }
        multiply(lid);
        workgroupBarrier();
    }
    params_store(tl, lid);
}

// backward_params_tile_unstaged is a thin tile, unstaged.
fn backward_params_tile_unstaged(t: u32, lid: u32) {
    if (t >= params.tiles_m * params.tiles_n * params.splits) {
        return;
    }
    let tl = tile_of(t, 16u);
    let g = pixel_grid();
    let one = at_index(1u, g);
    let cols = params_cols(tl.n0, lid);
    clear_acc();
    var p = at_index(tl.k0, g);
    for (var k = tl.k0; k < tl.k1; k++) {
        accumulate(params_a(tl, p, (lid >> 4u)), params_b(tl, cols, p));
        p = advance(p, one, g);
    }
    params_store(tl, lid);
}

// params_store writes an invocation's outputs: of dw and db, or partial.
fn params_store(tl: Tile, lid: u32) {
    let at = tl.split * params.out_len;
    let taps = params.gn - params.bias;
    for (var i = 0u; i < 4u; i++) {
        let m = tl.m0 + 4u * ((lid >> 4u)) + i;
        if (m < params.co) {
            let v = acc_row(i);
            for (var j = 0u; j < 4u; j++) {
                let c = tl.n0 + 4u * ((lid & 15u)) + j;
                if (params.direct == 0u) {
                    if (c < params.gn) {
                        out[at + m * params.gn + c] = v[j];
                    }
                } else if (c < taps) {
                    out[m * taps + c] = v[j];
                } else if (c < params.gn) {
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

// ---- the unstaged entry points ----

@compute @workgroup_size(64)
fn forward_thin_unstaged(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                         @builtin(local_invocation_id) lid: vec3<u32>) {
    forward_tile_unstaged(flat_group(wid, nwg), lid.x);
}

@compute @workgroup_size(64)
fn backward_data_thin_unstaged(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                               @builtin(local_invocation_id) lid: vec3<u32>) {
    backward_data_tile_unstaged(flat_group(wid, nwg), lid.x);
}

@compute @workgroup_size(64)
fn backward_params_thin_unstaged(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                                 @builtin(local_invocation_id) lid: vec3<u32>) {
    backward_params_tile_unstaged(flat_group(wid, nwg), lid.x);
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
// With one lane it is v, and no barrier runs.
fn lane_total(lid: u32, lane: u32, v: f32) -> f32 {
    if (params.lanes == 1u) {
        return v;
    }
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
        if (params.bias == 1u) {
            b = bias[(i / (params.ho * params.wo)) % params.co];
        }
        out[i] = v + b;
    }
}

// reduce_params: dw (out) and db (out2, with a bias) from the partial
// C[co, gn] of backward_params: a dead tap's weight gets 0.
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
    } else if (params.bias == 1u && i < nw + params.co) {
        src = i32((i - nw) * params.gn + params.gn - 1u);
    }
    let v = lane_total(lid.x, lane, split_sum(src, lane));
    if (lane == 0u) {
        if (i < nw) {
            out[i] = v;
        } else if (params.bias == 1u && i < nw + params.co) {
            out2[i - nw] = v;
        }
    }
}
