// Batch assembly: x[b] is record index[b]'s pixels, cropped from the image
// zero-padded by params.pad (pixel byte 0, before normalisation) and flipped
// when asked, then normalised through a per-channel table of the 256 byte
// values; labels[b] is the record's label byte. One invocation per element
// of x = [n, c, h, w].
//
// A dataset larger than one storage binding is split into several record
// buffers of whole records; the backend dispatches once per buffer, and each
// dispatch writes only the samples whose record lies in its buffer
// (records first .. first+count−1).
//
// Records are bytes (a label byte, then c·h·w pixel bytes, planes of h×w),
// read as little-endian u32 words. lists holds, at word offsets given in
// params: the n record indices, the crops (dx, dy, flip per sample; only
// when params.crop is 1) and the table (256·c f32 values as bits).

struct Params {
    n: u32,           // samples
    c: u32,           // channels
    h: u32,           // rows
    w: u32,           // columns
    rec_len: u32,     // bytes per record: 1 + c·h·w
    first: u32,       // first record in this dispatch's record buffer
    count: u32,       // records in it
    pad: i32,         // zero padding of the crop
    crop: u32,        // 1 when lists holds crops
    crop_off: u32,    // word offset of the crops in lists
    table_off: u32,   // word offset of the normalisation table in lists
    _pad0: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> records: array<u32>;
@group(0) @binding(2) var<storage, read> lists: array<u32>;
@group(0) @binding(3) var<storage, read_write> x: array<f32>;
@group(0) @binding(4) var<storage, read_write> labels: array<i32>;

// record_byte is byte o of the record buffer.
fn record_byte(o: u32) -> u32 {
    return (records[o >> 2u] >> ((o & 3u) * 8u)) & 255u;
}

@compute @workgroup_size(256)
fn gather(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
          @builtin(local_invocation_id) lid: vec3<u32>) {
    let i = (wid.y * nwg.x + wid.x) * 256u + lid.x;
    let plane = params.h * params.w;
    let img = params.c * plane;
    if (i >= params.n * img) {
        return;
    }
    let b = i / img;
    let r = lists[b];
    if (r < params.first || r - params.first >= params.count) {
        return;
    }
    let base = (r - params.first) * params.rec_len;
    let within = i - b * img;
    let ch = within / plane;
    let yx = within - ch * plane;
    let y = i32(yx / params.w);
    let xx = i32(yx - (yx / params.w) * params.w);

    var sy = y;
    var sx = xx;
    if (params.crop == 1u) {
        let dx = bitcast<i32>(lists[params.crop_off + 3u * b]);
        let dy = bitcast<i32>(lists[params.crop_off + 3u * b + 1u]);
        let flip = lists[params.crop_off + 3u * b + 2u];
        if (flip != 0u) {
            sx = i32(params.w) - 1 - xx;
        }
        sy = sy + dy - params.pad;
        sx = sx + dx - params.pad;
    }
    var v = 0u;
    if (sy >= 0 && sy < i32(params.h) && sx >= 0 && sx < i32(params.w)) {
        v = record_byte(base + 1u + ch * plane + u32(sy) * params.w + u32(sx));
    }
    x[i] = bitcast<f32>(lists[params.table_off + ch * 256u + v]);
    if (within == 0u) {
        labels[b] = i32(record_byte(base));
    }
}
