// c = op(a) · op(b) (+ c when accumulating), as matmul.wgsl, for matrices
// whose rows are whole vec4s: k and n multiples of 4 (and m when a is
// transposed), offsets too. Each invocation computes an 8 × 8 block of c
// straight from memory, four depths at a time as 4 × 4 matrix products, with
// no workgroup memory and no barriers. CPU emulations of WebGPU (SwiftShader,
// lavapipe) load every number of every invocation one by one and make
// barriers expensive, so what sets their speed is how many multiply-adds
// each loaded number serves: eight here (four with 4 × 4 blocks, which ran
// 1.75× slower on SwiftShader; 8 × 16 compiled three times slower for 20 %
// more speed). GPUs lose nothing.

// `p`, the product's shape and flags, comes from matmul_params.wgsl.
@group(0) @binding(1) var<storage, read> a: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> b: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read_write> c: array<vec4<f32>>;

// The vec4 of `a` starting at element `at` (a multiple of 4).
fn a4(at: u32) -> vec4<f32> {
    return a[(p.offset_a + at) / 4u];
}

fn b4(at: u32) -> vec4<f32> {
    return b[(p.offset_b + at) / 4u];
}

// Row `row` of op(a) at depths d..d+3; zero below the last row.
fn a_row(row: u32, d: u32) -> vec4<f32> {
    if (row >= p.m) {
        return vec4<f32>(0.0);
    }
    return a4(row * p.k + d);
}

// op(a)[r..r+3][d..d+3], as the rows of a matrix's columns (so that
// `block[i]` is row r + i over the four depths).
fn a_block(r: u32, d: u32) -> mat4x4<f32> {
    if ((p.flags & 1u) != 0u) {
        // Stored [k, m]: each load is one depth of four rows.
        return transpose(mat4x4<f32>(a4(d * p.m + r), a4((d + 1u) * p.m + r), a4((d + 2u) * p.m + r), a4((d + 3u) * p.m + r)));
    }
    return mat4x4<f32>(a_row(r, d), a_row(r + 1u, d), a_row(r + 2u, d), a_row(r + 3u, d));
}

// op(b)[d..d+3][col..col+3] with depth t in column t: `block * v` sums the
// four rows of b weighted by v. Zero past the last column.
fn b_block(d: u32, col: u32) -> mat4x4<f32> {
    if (col >= p.n) {
        return mat4x4<f32>();
    }
    if ((p.flags & 2u) != 0u) {
        // Stored [n, k]: each load is four depths of one column.
        return transpose(mat4x4<f32>(b4(col * p.k + d), b4((col + 1u) * p.k + d), b4((col + 2u) * p.k + d), b4((col + 3u) * p.k + d)));
    }
    return mat4x4<f32>(b4(d * p.n + col), b4((d + 1u) * p.n + col), b4((d + 2u) * p.n + col), b4((d + 3u) * p.n + col));
}

fn store(row: u32, col: u32, value: vec4<f32>) {
    if (row >= p.m || col >= p.n) {
        return;
    }
    let at = (p.offset_c + row * p.n + col) / 4u;
    if ((p.flags & 4u) != 0u) {
        c[at] += value;
    } else {
        c[at] = value;
    }
}

// A 4 × 4 block of c whose column i is row + i.
fn store_block(row: u32, col: u32, block: mat4x4<f32>) {
    store(row, col, block[0]);
    store(row + 1u, col, block[1]);
    store(row + 2u, col, block[2]);
    store(row + 3u, col, block[3]);
}

// An 8 × 8 block of c as its four 4 × 4 quarters, each as `store_block`
// takes it.
struct Block8 {
    top_left: mat4x4<f32>,
    top_right: mat4x4<f32>,
    bottom_left: mat4x4<f32>,
    bottom_right: mat4x4<f32>,
}

// `block` plus four depths of the product, from op(a)'s eight rows (`top`,
// `bottom`, as `a_block` lays them out) and op(b)'s eight columns (`left`,
// `right`, as `b_block` does).
fn add_product(block: Block8, top: mat4x4<f32>, bottom: mat4x4<f32>, left: mat4x4<f32>, right: mat4x4<f32>) -> Block8 {
    return Block8(
        block.top_left + left * top,
        block.top_right + right * top,
        block.bottom_left + left * bottom,
        block.bottom_right + right * bottom,
    );
}

fn store_block8(row: u32, col: u32, block: Block8) {
    store_block(row, col, block.top_left);
    store_block(row, col + 4u, block.top_right);
    store_block(row + 4u, col, block.bottom_left);
    store_block(row + 4u, col + 4u, block.bottom_right);
}

@compute @workgroup_size(8, 8)
fn matmul_vec4(@builtin(global_invocation_id) id: vec3<u32>) {
    let row = id.y * 8u;
    let col = id.x * 8u;
    if (row >= p.m || col >= p.n) {
        return;
    }
    var block = Block8(mat4x4<f32>(), mat4x4<f32>(), mat4x4<f32>(), mat4x4<f32>());
    for (var d = 0u; d < p.k; d += 4u) {
        block = add_product(block, a_block(row, d), a_block(row + 4u, d), b_block(d, col), b_block(d, col + 4u));
    }
    store_block8(row, col, block);
}
