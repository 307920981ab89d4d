// c = op(a) · op(b) (+ c when accumulating), row-major, where op optionally
// transposes. Element offsets let the LSTM multiply slices of larger buffers.
//
// Each workgroup computes a 64 × 64 tile of c; each of its 16 × 16
// invocations owns a 4 × 4 block spread with stride 16, so that neighbouring
// invocations touch neighbouring addresses. Depth advances 16 at a time
// through 8 KiB of workgroup memory. Shapes of whole vec4 rows go to
// matmul_vec4.wgsl instead; this kernel serves every other shape.

struct Params {
    m: u32,
    k: u32,
    n: u32,
    // 1: transpose a, 2: transpose b, 4: accumulate into c.
    flags: u32,
    offset_a: u32,
    offset_b: u32,
    offset_c: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> a: array<f32>;
@group(0) @binding(2) var<storage, read> b: array<f32>;
@group(0) @binding(3) var<storage, read_write> c: array<f32>;

const TILE: u32 = 64u;
const DEPTH: u32 = 16u;

// Both tiles are stored depth-major: [DEPTH][TILE].
var<workgroup> tile_a: array<f32, 1024>;
var<workgroup> tile_b: array<f32, 1024>;

// op(a)[row, col], zero outside the matrix.
fn load_a(row: u32, col: u32) -> f32 {
    if (row >= p.m || col >= p.k) {
        return 0.0;
    }
    if ((p.flags & 1u) != 0u) {
        return a[p.offset_a + col * p.m + row];
    }
    return a[p.offset_a + row * p.k + col];
}

// op(b)[row, col], zero outside the matrix.
fn load_b(row: u32, col: u32) -> f32 {
    if (row >= p.k || col >= p.n) {
        return 0.0;
    }
    if ((p.flags & 2u) != 0u) {
        return b[p.offset_b + col * p.k + row];
    }
    return b[p.offset_b + row * p.n + col];
}

// Writes one row of an invocation's block: columns col, col + 16, +32, +48.
fn store_row(row: u32, col: u32, values: vec4<f32>) {
    if (row >= p.m) {
        return;
    }
    for (var j = 0u; j < 4u; j++) {
        let column = col + 16u * j;
        if (column < p.n) {
            let at = p.offset_c + row * p.n + column;
            if ((p.flags & 4u) != 0u) {
                c[at] += values[j];
            } else {
                c[at] = values[j];
            }
        }
    }
}

@compute @workgroup_size(16, 16)
fn matmul(@builtin(local_invocation_id) local: vec3<u32>, @builtin(workgroup_id) group: vec3<u32>) {
    let row0 = group.y * TILE;
    let col0 = group.x * TILE;
    let thread = local.y * 16u + local.x;
    // The block's four rows, each a vector of its four columns. Named
    // vectors, not an indexed array: CPU emulations of WebGPU (SwiftShader,
    // lavapipe) keep those in registers, an indexed array in memory.
    var acc0 = vec4<f32>(0.0);
    var acc1 = vec4<f32>(0.0);
    var acc2 = vec4<f32>(0.0);
    var acc3 = vec4<f32>(0.0);
    for (var depth = 0u; depth < p.k; depth += DEPTH) {
        for (var i = 0u; i < 4u; i++) {
            let e = thread + i * 256u;
            // a: consecutive invocations walk along the depth of one row.
            let a_row = e / DEPTH;
            let a_depth = e % DEPTH;
            tile_a[a_depth * TILE + a_row] = load_a(row0 + a_row, depth + a_depth);
            // b: consecutive invocations walk along one row of columns.
            let b_depth = e / TILE;
            let b_col = e % TILE;
            tile_b[b_depth * TILE + b_col] = load_b(depth + b_depth, col0 + b_col);
        }
        workgroupBarrier();
        for (var d = 0u; d < DEPTH; d++) {
            let at = d * TILE;
            let av = vec4<f32>(tile_a[at + local.y], tile_a[at + local.y + 16u], tile_a[at + local.y + 32u], tile_a[at + local.y + 48u]);
            let bv = vec4<f32>(tile_b[at + local.x], tile_b[at + local.x + 16u], tile_b[at + local.x + 32u], tile_b[at + local.x + 48u]);
            acc0 += av.x * bv;
            acc1 += av.y * bv;
            acc2 += av.z * bv;
            acc3 += av.w * bv;
        }
        workgroupBarrier();
    }
    let col = col0 + local.x;
    store_row(row0 + local.y, col, acc0);
    store_row(row0 + local.y + 16u, col, acc1);
    store_row(row0 + local.y + 32u, col, acc2);
    store_row(row0 + local.y + 48u, col, acc3);
}
