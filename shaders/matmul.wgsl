// c = op(a) · op(b) (+ c when accumulating), row-major, where op optionally
// transposes. Element offsets let the LSTM multiply slices of larger buffers.
//
// Each invocation computes a 4 × 4 block of c in registers, one depth at a
// time, from bounds-checked scalar loads: any shape works. Shapes of whole
// vec4 rows with more work go to matmul_vec4.wgsl instead. There is no
// workgroup memory and no barrier on purpose: on the CPU emulations of
// WebGPU (SwiftShader, lavapipe) a tiled kernel with both took ten times as
// long to compile (0.65 s on SwiftShader) and about twenty times as long to
// run on the small products of the 2-D lab; on GPUs the few odd-shaped
// products this kernel serves are served from cache.

// `p`, the product's shape and flags, comes from matmul_params.wgsl.
@group(0) @binding(1) var<storage, read> a: array<f32>;
@group(0) @binding(2) var<storage, read> b: array<f32>;
@group(0) @binding(3) var<storage, read_write> c: array<f32>;

// op(a)[row, depth], zero below the last row.
fn load_a(row: u32, depth: u32) -> f32 {
    if (row >= p.m) {
        return 0.0;
    }
    if ((p.flags & 1u) != 0u) {
        return a[p.offset_a + depth * p.m + row];
    }
    return a[p.offset_a + row * p.k + depth];
}

// op(b)[depth, col], zero past the last column.
fn load_b(depth: u32, col: u32) -> f32 {
    if (col >= p.n) {
        return 0.0;
    }
    if ((p.flags & 2u) != 0u) {
        return b[p.offset_b + col * p.k + depth];
    }
    return b[p.offset_b + depth * p.n + col];
}

// Writes one row of an invocation's block: columns col..col+3.
fn store_row(row: u32, col: u32, values: vec4<f32>) {
    if (row >= p.m) {
        return;
    }
    for (var j = 0u; j < 4u && col + j < p.n; j++) {
        let at = p.offset_c + row * p.n + col + j;
        if ((p.flags & 4u) != 0u) {
            c[at] += values[j];
        } else {
            c[at] = values[j];
        }
    }
}

@compute @workgroup_size(8, 8)
fn matmul(@builtin(global_invocation_id) id: vec3<u32>) {
    let row = id.y * 4u;
    let col = id.x * 4u;
    if (row >= p.m || col >= p.n) {
        return;
    }
    // The block's four rows, each a vector of its four columns. Named
    // vectors, not an indexed array: CPU emulations keep those in registers.
    var acc0 = vec4<f32>(0.0);
    var acc1 = vec4<f32>(0.0);
    var acc2 = vec4<f32>(0.0);
    var acc3 = vec4<f32>(0.0);
    for (var d = 0u; d < p.k; d++) {
        let column = vec4<f32>(load_a(row, d), load_a(row + 1u, d), load_a(row + 2u, d), load_a(row + 3u, d));
        let line = vec4<f32>(load_b(d, col), load_b(d, col + 1u), load_b(d, col + 2u), load_b(d, col + 3u));
        acc0 += column.x * line;
        acc1 += column.y * line;
        acc2 += column.z * line;
        acc3 += column.w * line;
    }
    store_row(row, col, acc0);
    store_row(row + 1u, col, acc1);
    store_row(row + 2u, col, acc2);
    store_row(row + 3u, col, acc3);
}
