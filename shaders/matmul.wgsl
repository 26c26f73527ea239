// Matrix products of the linear layers, C[M,N] = A[M,K]·B[K,N], with each
// operand read in place in the layout its op keeps it in; a transpose is a
// choice of indexing, fixed per entry point:
//
//   linear_forward_*          y[N,O] = x[N,I]·w[O,I]ᵀ + b[O]   A = x, B = wᵀ (w is [N,K])
//   linear_backward_data_*    dx[N,I] = dy[N,O]·w[O,I]          A = dy, B = w
//   linear_backward_params_*  dw[O,I] = dy[N,O]ᵀ·x[N,I]         A = dyᵀ (dy is [K,M]), B = x
//                             and db[O] = Σₙ dy, the row sums of A, fused
//   sum_splits                C and the row sums from the partial products
//                             of a reduction split over several workgroups
//
// Tiling. One workgroup computes one tile of C: 256 invocations as 16×16,
// invocation (tx, ty) = (lid mod 16, lid / 16) owning the outputs at rows
// ty + 16i and columns tx + 16j of the tile, so that neighbouring
// invocations write neighbouring columns and read workgroup memory without
// bank conflicts. Two tilings, as distinct entry points:
//
//   *_large  64×64 tile, reduction step 16, 4×4 outputs per invocation
//   *_small  32×32 tile, reduction step 32, 2×2 outputs per invocation
//
// Unstaged entry points (*_large_unstaged, *_small_unstaged) compute the
// same tiles with the same invocation layout and summation order, reading
// A and B straight from storage: no workgroup memory and no barrier. They
// are for GPUs emulated on the CPU (SwiftShader, lavapipe), where a barrier
// costs each invocation a coroutine switch and makes a pipeline take about
// a second to compile, ten times an unstaged one.
//
// Each step stages a 1024-element block of A and one of B in workgroup
// memory, [step][tile width + padding], 4 elements per invocation, read
// from global memory with neighbouring invocations at neighbouring
// addresses (along whichever dimension the operand is contiguous in). The
// row strides 66 and 33 keep the stores along the reduction dimension free
// of bank conflicts. The next step's elements are fetched into registers
// before the current step is computed, hiding their latency.
//
// Every invocation reaches every barrier: the reduction loop's bounds come
// from params and the workgroup id only, out-of-range elements load as 0,
// and stores are guarded instead of returning early (workgroups beyond the
// last tile compute zeros and store nothing).
//
// Split reduction. With params.splits > 1 (dw over a long batch), workgroup
// t computes tile t mod tiles over the reduction range of split t / tiles,
// [split·k_split, min(k, (split+1)·k_split)), and stores its partial C at
// c[split·m·n …] and its partial row sums at rowsum[split·m …], bound to
// scratch buffers; sum_splits then adds the partials in split order. The
// summation order depends on the shapes only: results are deterministic.

struct Params {
    m: u32,        // rows of C
    n: u32,        // columns of C
    k: u32,        // length of the reduction
    tiles_n: u32,  // tiles across the columns of C
    tiles: u32,    // tiles of C, tiles_m · tiles_n
    k_split: u32,  // reduction length of one split, a multiple of the step
    splits: u32,   // splits of the reduction; 1 for none
    _pad0: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> a: array<f32>;
@group(0) @binding(2) var<storage, read> b: array<f32>;
@group(0) @binding(3) var<storage, read> bias: array<f32>;
@group(0) @binding(4) var<storage, read_write> c: array<f32>;
@group(0) @binding(5) var<storage, read_write> rowsum: array<f32>;
@group(0) @binding(6) var<storage, read> part_c: array<f32>;
@group(0) @binding(7) var<storage, read> part_sum: array<f32>;

const LARGE: u32 = 64u;        // tile width
const LARGE_STEP: u32 = 16u;   // reduction step
const LARGE_STRIDE: u32 = 66u; // row stride of the staged blocks
const SMALL: u32 = 32u;
const SMALL_STEP: u32 = 32u;
const SMALL_STRIDE: u32 = 33u;

// The staged blocks of A and B, [step][stride]: 16·66 = 32·33 = 1056
// words each, 8448 bytes for the two.
var<workgroup> tile_a: array<f32, 1056>;
var<workgroup> tile_b: array<f32, 1056>;

// Tile is a workgroup's share of the work.
struct Tile {
    m0: u32,     // first row of C
    n0: u32,     // first column of C
    k0: u32,     // reduction range [k0, k1)
    k1: u32,
    split: u32,  // which split of the reduction
}

// tile_of is the tile of flat workgroup index t for tiles of width w.
fn tile_of(t: u32, w: u32) -> Tile {
    let split = t / params.tiles;
    let within = t - split * params.tiles;
    let tm = within / params.tiles_n;
    let tn = within - tm * params.tiles_n;
    let k0 = split * params.k_split;
    // Beyond the last split, k0 ≥ k: an empty range.
    return Tile(tm * w, tn * w, k0, min(params.k, k0 + params.k_split), split);
}

// place is where element e of a staged block lies, as (position across
// the tile, position along the reduction): with across_fast (the operand is
// contiguous across the tile) neighbouring elements lie across the tile,
// else along the reduction.
fn place(e: u32, width: u32, step: u32, across_fast: bool) -> vec2<u32> {
    if (across_fast) {
        return vec2<u32>(e % width, e / width);
    }
    return vec2<u32>(e / step, e % step);
}

// a_at is A[row, kk], or 0 outside A; A is stored [K,M] when trans, else
// [M,K].
fn a_at(row: u32, kk: u32, trans: bool) -> f32 {
    if (row >= params.m || kk >= params.k) {
        return 0.0;
    }
    if (trans) {
        return a[kk * params.m + row];
    }
    return a[row * params.k + kk];
}

// b_at is B[kk, col], or 0 outside B; B is stored [N,K] when trans, else
// [K,N].
fn b_at(col: u32, kk: u32, trans: bool) -> f32 {
    if (col >= params.n || kk >= params.k) {
        return 0.0;
    }
    if (trans) {
        return b[col * params.k + kk];
    }
    return b[kk * params.n + col];
}

// load_a is element e of the A block at (m0, k0).
fn load_a(m0: u32, k0: u32, e: u32, width: u32, step: u32, trans: bool) -> f32 {
    let p = place(e, width, step, trans);
    return a_at(m0 + p.x, k0 + p.y, trans);
}

// load_b is element e of the B block at (k0, n0).
fn load_b(n0: u32, k0: u32, e: u32, width: u32, step: u32, trans: bool) -> f32 {
    let p = place(e, width, step, !trans);
    return b_at(n0 + p.x, k0 + p.y, trans);
}

// fetch_a is invocation lid's 4 elements (lid + 256r) of the A block.
fn fetch_a(m0: u32, k0: u32, lid: u32, width: u32, step: u32, trans: bool) -> vec4<f32> {
    return vec4<f32>(load_a(m0, k0, lid, width, step, trans),
                     load_a(m0, k0, lid + 256u, width, step, trans),
                     load_a(m0, k0, lid + 512u, width, step, trans),
                     load_a(m0, k0, lid + 768u, width, step, trans));
}

// fetch_b is invocation lid's 4 elements of the B block.
fn fetch_b(n0: u32, k0: u32, lid: u32, width: u32, step: u32, trans: bool) -> vec4<f32> {
    return vec4<f32>(load_b(n0, k0, lid, width, step, trans),
                     load_b(n0, k0, lid + 256u, width, step, trans),
                     load_b(n0, k0, lid + 512u, width, step, trans),
                     load_b(n0, k0, lid + 768u, width, step, trans));
}

// stash_a stores fetched A elements in tile_a.
fn stash_a(v: vec4<f32>, lid: u32, width: u32, step: u32, stride: u32, trans: bool) {
    let p0 = place(lid, width, step, trans);
    let p1 = place(lid + 256u, width, step, trans);
    let p2 = place(lid + 512u, width, step, trans);
    let p3 = place(lid + 768u, width, step, trans);
    tile_a[p0.y * stride + p0.x] = v.x;
    tile_a[p1.y * stride + p1.x] = v.y;
    tile_a[p2.y * stride + p2.x] = v.z;
    tile_a[p3.y * stride + p3.x] = v.w;
}

// stash_b stores fetched B elements in tile_b.
fn stash_b(v: vec4<f32>, lid: u32, width: u32, step: u32, stride: u32, trans: bool) {
    let p0 = place(lid, width, step, !trans);
    let p1 = place(lid + 256u, width, step, !trans);
    let p2 = place(lid + 512u, width, step, !trans);
    let p3 = place(lid + 768u, width, step, !trans);
    tile_b[p0.y * stride + p0.x] = v.x;
    tile_b[p1.y * stride + p1.x] = v.y;
    tile_b[p2.y * stride + p2.x] = v.z;
    tile_b[p3.y * stride + p3.x] = v.w;
}

// LargeAcc is an invocation's 4×4 outputs of a large tile (row i in ri,
// column j in component j) and, for the row sums, the sum of A's row
// m0 + lid over the tile's reduction range.
struct LargeAcc {
    r0: vec4<f32>,
    r1: vec4<f32>,
    r2: vec4<f32>,
    r3: vec4<f32>,
    sum: f32,
}

// product_large computes a large tile's outputs; sum_row asks for the row
// sum of A's row m0 + lid (lid < 64).
fn product_large(tl: Tile, lid: u32, a_trans: bool, b_trans: bool, sum_row: bool) -> LargeAcc {
    let tx = lid % 16u;
    let ty = lid / 16u;
    var acc = LargeAcc(vec4<f32>(0.0), vec4<f32>(0.0), vec4<f32>(0.0), vec4<f32>(0.0), 0.0);
    var next_a = fetch_a(tl.m0, tl.k0, lid, LARGE, LARGE_STEP, a_trans);
    var next_b = fetch_b(tl.n0, tl.k0, lid, LARGE, LARGE_STEP, b_trans);
    for (var k0 = tl.k0; k0 < tl.k1; k0 += LARGE_STEP) {
        stash_a(next_a, lid, LARGE, LARGE_STEP, LARGE_STRIDE, a_trans);
        stash_b(next_b, lid, LARGE, LARGE_STEP, LARGE_STRIDE, b_trans);
        workgroupBarrier();
        if (k0 + LARGE_STEP < tl.k1) {
            next_a = fetch_a(tl.m0, k0 + LARGE_STEP, lid, LARGE, LARGE_STEP, a_trans);
            next_b = fetch_b(tl.n0, k0 + LARGE_STEP, lid, LARGE, LARGE_STEP, b_trans);
        }
        for (var kk = 0u; kk < LARGE_STEP; kk += 1u) {
            let ai = kk * LARGE_STRIDE + ty;
            let bi = kk * LARGE_STRIDE + tx;
            let av = vec4<f32>(tile_a[ai], tile_a[ai + 16u], tile_a[ai + 32u], tile_a[ai + 48u]);
            let bv = vec4<f32>(tile_b[bi], tile_b[bi + 16u], tile_b[bi + 32u], tile_b[bi + 48u]);
            acc.r0 = fma(vec4<f32>(av.x), bv, acc.r0);
            acc.r1 = fma(vec4<f32>(av.y), bv, acc.r1);
            acc.r2 = fma(vec4<f32>(av.z), bv, acc.r2);
            acc.r3 = fma(vec4<f32>(av.w), bv, acc.r3);
        }
        if (sum_row) {
            for (var kk = 0u; kk < LARGE_STEP; kk += 1u) {
                acc.sum += tile_a[kk * LARGE_STRIDE + lid];
            }
        }
        workgroupBarrier();
    }
    return acc;
}

// row_sum is the sum of A's row over the tile's reduction range.
fn row_sum(tl: Tile, row: u32, a_trans: bool) -> f32 {
    var sum = 0.0;
    for (var kk = tl.k0; kk < tl.k1; kk += 1u) {
        sum += a_at(row, kk, a_trans);
    }
    return sum;
}

// product_large_unstaged is product_large reading A and B from storage.
fn product_large_unstaged(tl: Tile, lid: u32, a_trans: bool, b_trans: bool, sum_row: bool) -> LargeAcc {
    let row = tl.m0 + lid / 16u;
    let col = tl.n0 + lid % 16u;
    var acc = LargeAcc(vec4<f32>(0.0), vec4<f32>(0.0), vec4<f32>(0.0), vec4<f32>(0.0), 0.0);
    for (var kk = tl.k0; kk < tl.k1; kk += 1u) {
        let av = vec4<f32>(a_at(row, kk, a_trans), a_at(row + 16u, kk, a_trans),
                           a_at(row + 32u, kk, a_trans), a_at(row + 48u, kk, a_trans));
        let bv = vec4<f32>(b_at(col, kk, b_trans), b_at(col + 16u, kk, b_trans),
                           b_at(col + 32u, kk, b_trans), b_at(col + 48u, kk, b_trans));
        acc.r0 = fma(vec4<f32>(av.x), bv, acc.r0);
        acc.r1 = fma(vec4<f32>(av.y), bv, acc.r1);
        acc.r2 = fma(vec4<f32>(av.z), bv, acc.r2);
        acc.r3 = fma(vec4<f32>(av.w), bv, acc.r3);
    }
    if (sum_row) {
        acc.sum = row_sum(tl, tl.m0 + lid, a_trans);
    }
    return acc;
}

// SmallAcc is an invocation's 2×2 outputs of a small tile, and a row sum.
struct SmallAcc {
    r0: vec2<f32>,
    r1: vec2<f32>,
    sum: f32,
}

// product_small computes a small tile's outputs; sum_row asks for the row
// sum of A's row m0 + lid (lid < 32).
fn product_small(tl: Tile, lid: u32, a_trans: bool, b_trans: bool, sum_row: bool) -> SmallAcc {
    let tx = lid % 16u;
    let ty = lid / 16u;
    var acc = SmallAcc(vec2<f32>(0.0), vec2<f32>(0.0), 0.0);
    var next_a = fetch_a(tl.m0, tl.k0, lid, SMALL, SMALL_STEP, a_trans);
    var next_b = fetch_b(tl.n0, tl.k0, lid, SMALL, SMALL_STEP, b_trans);
    for (var k0 = tl.k0; k0 < tl.k1; k0 += SMALL_STEP) {
        stash_a(next_a, lid, SMALL, SMALL_STEP, SMALL_STRIDE, a_trans);
        stash_b(next_b, lid, SMALL, SMALL_STEP, SMALL_STRIDE, b_trans);
        workgroupBarrier();
        if (k0 + SMALL_STEP < tl.k1) {
            next_a = fetch_a(tl.m0, k0 + SMALL_STEP, lid, SMALL, SMALL_STEP, a_trans);
            next_b = fetch_b(tl.n0, k0 + SMALL_STEP, lid, SMALL, SMALL_STEP, b_trans);
        }
        for (var kk = 0u; kk < SMALL_STEP; kk += 1u) {
            let ai = kk * SMALL_STRIDE + ty;
            let bi = kk * SMALL_STRIDE + tx;
            let av = vec2<f32>(tile_a[ai], tile_a[ai + 16u]);
            let bv = vec2<f32>(tile_b[bi], tile_b[bi + 16u]);
            acc.r0 = fma(vec2<f32>(av.x), bv, acc.r0);
            acc.r1 = fma(vec2<f32>(av.y), bv, acc.r1);
        }
        if (sum_row) {
            for (var kk = 0u; kk < SMALL_STEP; kk += 1u) {
                acc.sum += tile_a[kk * SMALL_STRIDE + lid];
            }
        }
        workgroupBarrier();
    }
    return acc;
}

// product_small_unstaged is product_small reading A and B from storage.
fn product_small_unstaged(tl: Tile, lid: u32, a_trans: bool, b_trans: bool, sum_row: bool) -> SmallAcc {
    let row = tl.m0 + lid / 16u;
    let col = tl.n0 + lid % 16u;
    var acc = SmallAcc(vec2<f32>(0.0), vec2<f32>(0.0), 0.0);
    for (var kk = tl.k0; kk < tl.k1; kk += 1u) {
        let av = vec2<f32>(a_at(row, kk, a_trans), a_at(row + 16u, kk, a_trans));
        let bv = vec2<f32>(b_at(col, kk, b_trans), b_at(col + 16u, kk, b_trans));
        acc.r0 = fma(vec2<f32>(av.x), bv, acc.r0);
        acc.r1 = fma(vec2<f32>(av.y), bv, acc.r1);
    }
    if (sum_row) {
        acc.sum = row_sum(tl, tl.m0 + lid, a_trans);
    }
    return acc;
}

// store writes v at C's (row, col) of the tile's split, when inside C.
fn store(tl: Tile, row: u32, col: u32, v: f32) {
    if (tl.split < params.splits && row < params.m && col < params.n) {
        c[(tl.split * params.m + row) * params.n + col] = v;
    }
}

// store_row4 writes one row of an invocation's large-tile outputs.
fn store_row4(tl: Tile, row: u32, col: u32, v: vec4<f32>) {
    store(tl, row, col, v.x);
    store(tl, row, col + 16u, v.y);
    store(tl, row, col + 32u, v.z);
    store(tl, row, col + 48u, v.w);
}

// store_large writes an invocation's outputs plus add (per column).
fn store_large(tl: Tile, lid: u32, acc: LargeAcc, add: vec4<f32>) {
    let row = tl.m0 + lid / 16u;
    let col = tl.n0 + lid % 16u;
    store_row4(tl, row, col, acc.r0 + add);
    store_row4(tl, row + 16u, col, acc.r1 + add);
    store_row4(tl, row + 32u, col, acc.r2 + add);
    store_row4(tl, row + 48u, col, acc.r3 + add);
}

// store_small writes an invocation's outputs plus add (per column).
fn store_small(tl: Tile, lid: u32, acc: SmallAcc, add: vec2<f32>) {
    let row = tl.m0 + lid / 16u;
    let col = tl.n0 + lid % 16u;
    let r0 = acc.r0 + add;
    let r1 = acc.r1 + add;
    store(tl, row, col, r0.x);
    store(tl, row, col + 16u, r0.y);
    store(tl, row + 16u, col, r1.x);
    store(tl, row + 16u, col + 16u, r1.y);
}

// store_sum writes a row sum of A, from invocation lid < width of the
// tiles in C's first column.
fn store_sum(tl: Tile, lid: u32, width: u32, sum: f32) {
    let row = tl.m0 + lid;
    if (tl.n0 == 0u && lid < width && row < params.m && tl.split < params.splits) {
        rowsum[tl.split * params.m + row] = sum;
    }
}

// bias_at is bias[col], or 0 beyond the last column.
fn bias_at(col: u32) -> f32 {
    if (col < params.n) {
        return bias[col];
    }
    return 0.0;
}

// group_tile is the tile of workgroup wid, for tiles of width w.
fn group_tile(wid: vec3<u32>, nwg: vec3<u32>, w: u32) -> Tile {
    return tile_of(wid.y * nwg.x + wid.x, w);
}

// store_forward_large writes a large tile's outputs plus the bias.
fn store_forward_large(tl: Tile, lid: u32, acc: LargeAcc) {
    let col = tl.n0 + lid % 16u;
    store_large(tl, lid, acc, vec4<f32>(bias_at(col), bias_at(col + 16u), bias_at(col + 32u), bias_at(col + 48u)));
}

// store_forward_small writes a small tile's outputs plus the bias.
fn store_forward_small(tl: Tile, lid: u32, acc: SmallAcc) {
    let col = tl.n0 + lid % 16u;
    store_small(tl, lid, acc, vec2<f32>(bias_at(col), bias_at(col + 16u)));
}

// store_params_large writes a large tile of dw and its row sums of db.
fn store_params_large(tl: Tile, lid: u32, acc: LargeAcc) {
    store_large(tl, lid, acc, vec4<f32>(0.0));
    store_sum(tl, lid, LARGE, acc.sum);
}

// store_params_small writes a small tile of dw and its row sums of db.
fn store_params_small(tl: Tile, lid: u32, acc: SmallAcc) {
    store_small(tl, lid, acc, vec2<f32>(0.0));
    store_sum(tl, lid, SMALL, acc.sum);
}

// linear_forward_large: y = x·wᵀ + b over 64×64 tiles.
@compute @workgroup_size(256)
fn linear_forward_large(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                        @builtin(local_invocation_id) lid: vec3<u32>) {
    let tl = group_tile(wid, nwg, LARGE);
    store_forward_large(tl, lid.x, product_large(tl, lid.x, false, true, false));
}

// linear_forward_small: y = x·wᵀ + b over 32×32 tiles.
@compute @workgroup_size(256)
fn linear_forward_small(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                        @builtin(local_invocation_id) lid: vec3<u32>) {
    let tl = group_tile(wid, nwg, SMALL);
    store_forward_small(tl, lid.x, product_small(tl, lid.x, false, true, false));
}

// linear_backward_data_large: dx = dy·w over 64×64 tiles.
@compute @workgroup_size(256)
fn linear_backward_data_large(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                              @builtin(local_invocation_id) lid: vec3<u32>) {
    let tl = group_tile(wid, nwg, LARGE);
    store_large(tl, lid.x, product_large(tl, lid.x, false, false, false), vec4<f32>(0.0));
}

// linear_backward_data_small: dx = dy·w over 32×32 tiles.
@compute @workgroup_size(256)
fn linear_backward_data_small(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                              @builtin(local_invocation_id) lid: vec3<u32>) {
    let tl = group_tile(wid, nwg, SMALL);
    store_small(tl, lid.x, product_small(tl, lid.x, false, false, false), vec2<f32>(0.0));
}

// linear_backward_params_large: dw = dyᵀ·x over 64×64 tiles, and db from
// the tiles in dw's first column.
@compute @workgroup_size(256)
fn linear_backward_params_large(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                                @builtin(local_invocation_id) lid: vec3<u32>) {
    let tl = group_tile(wid, nwg, LARGE);
    store_params_large(tl, lid.x, product_large(tl, lid.x, true, false, tl.n0 == 0u && lid.x < LARGE));
}

// linear_backward_params_small: dw = dyᵀ·x over 32×32 tiles, and db.
@compute @workgroup_size(256)
fn linear_backward_params_small(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                                @builtin(local_invocation_id) lid: vec3<u32>) {
    let tl = group_tile(wid, nwg, SMALL);
    store_params_small(tl, lid.x, product_small(tl, lid.x, true, false, tl.n0 == 0u && lid.x < SMALL));
}

// The unstaged entry points, as the staged ones above.

@compute @workgroup_size(256)
fn linear_forward_large_unstaged(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                                 @builtin(local_invocation_id) lid: vec3<u32>) {
    let tl = group_tile(wid, nwg, LARGE);
    store_forward_large(tl, lid.x, product_large_unstaged(tl, lid.x, false, true, false));
}

@compute @workgroup_size(256)
fn linear_forward_small_unstaged(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                                 @builtin(local_invocation_id) lid: vec3<u32>) {
    let tl = group_tile(wid, nwg, SMALL);
    store_forward_small(tl, lid.x, product_small_unstaged(tl, lid.x, false, true, false));
}

@compute @workgroup_size(256)
fn linear_backward_data_large_unstaged(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                                       @builtin(local_invocation_id) lid: vec3<u32>) {
    let tl = group_tile(wid, nwg, LARGE);
    store_large(tl, lid.x, product_large_unstaged(tl, lid.x, false, false, false), vec4<f32>(0.0));
}

@compute @workgroup_size(256)
fn linear_backward_data_small_unstaged(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                                       @builtin(local_invocation_id) lid: vec3<u32>) {
    let tl = group_tile(wid, nwg, SMALL);
    store_small(tl, lid.x, product_small_unstaged(tl, lid.x, false, false, false), vec2<f32>(0.0));
}

@compute @workgroup_size(256)
fn linear_backward_params_large_unstaged(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                                         @builtin(local_invocation_id) lid: vec3<u32>) {
    let tl = group_tile(wid, nwg, LARGE);
    store_params_large(tl, lid.x, product_large_unstaged(tl, lid.x, true, false, tl.n0 == 0u && lid.x < LARGE));
}

@compute @workgroup_size(256)
fn linear_backward_params_small_unstaged(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                                         @builtin(local_invocation_id) lid: vec3<u32>) {
    let tl = group_tile(wid, nwg, SMALL);
    store_params_small(tl, lid.x, product_small_unstaged(tl, lid.x, true, false, tl.n0 == 0u && lid.x < SMALL));
}

// sum_splits: c = Σ_split part_c[split], rowsum = Σ_split part_sum[split],
// in split order; one invocation per element of c, then of rowsum.
@compute @workgroup_size(256)
fn sum_splits(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
              @builtin(local_invocation_id) lid: vec3<u32>) {
    let i = (wid.y * nwg.x + wid.x) * 256u + lid.x;
    let len = params.m * params.n;
    if (i < len) {
        var s: f32 = 0.0;
        for (var p = 0u; p < params.splits; p += 1u) {
            s += part_c[p * len + i];
        }
        c[i] = s;
    } else if (i < len + params.m) {
        let j = i - len;
        var s: f32 = 0.0;
        for (var p = 0u; p < params.splits; p += 1u) {
            s += part_sum[p * params.m + j];
        }
        rowsum[j] = s;
    }
}
