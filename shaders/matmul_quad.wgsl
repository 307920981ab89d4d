// matmul_vec4.wgsl's product, for devices with subgroup operations: the
// four invocations of a quad share the numbers they load. Built after
// matmul_vec4.wgsl (whose bindings and helpers it uses), and only on a
// device that offers WebGPU's `subgroups` feature and passed
// quad_probe.wgsl's check that a quad is four consecutive local indices.
//
// A quad computes a 16 × 16 square of c, each invocation an 8 × 8 quarter
// of it. For four depths, the square needs 16 rows of op(a) and 16 columns
// of op(b), 32 vec4s: each invocation loads eight of them and receives the
// rest through `quadBroadcast`. Alone (matmul_vec4) it loads sixteen, and
// on CPU emulations of WebGPU a load costs more than a multiply-add: this
// runs large products about 1.5× faster on SwiftShader.

// Where a quad invocation finds its part of a 4 × 4 block of one operand.
// For line r (a row of op(a) or a column of op(b)) and depth d, the part
// of invocation `lane` is the vec4 at r * along + d * deep, where lane
// moves the line (`lane_moves_line`) or the depth. Working this out once
// per kernel instead of branching on the transpose flags at every load
// ran 1.25× faster on SwiftShader, which runs both sides of a branch.
struct Walk {
    along: u32,
    deep: u32,
    lane_moves_line: bool,
    // Lines past the end read this one instead; their results are never
    // stored, and every load stays inside the matrix.
    last: u32,
}

fn a_walk() -> Walk {
    if ((p.flags & 1u) != 0u) {
        // Stored [k, m]: a vec4 holds four rows at one depth, lane = depth.
        return Walk(1u, p.m, false, p.m - 4u);
    }
    // Stored [m, k]: a vec4 holds one row at four depths, lane = row.
    return Walk(p.k, 1u, true, p.m - 1u);
}

fn b_walk() -> Walk {
    if ((p.flags & 2u) != 0u) {
        // Stored [n, k]: one column at four depths, lane = column.
        return Walk(p.k, 1u, true, p.n - 1u);
    }
    // Stored [k, n]: four columns at one depth, lane = depth.
    return Walk(1u, p.n, false, p.n - 4u);
}

// Element index of invocation `lane`'s part of the block at (line, depth).
fn part_at(w: Walk, line: u32, depth: u32, lane: u32) -> u32 {
    let r = min(line + select(0u, lane, w.lane_moves_line), w.last);
    let d = depth + select(lane, 0u, w.lane_moves_line);
    return r * w.along + d * w.deep;
}

fn pick(first: mat4x4<f32>, second: mat4x4<f32>, take_second: bool) -> mat4x4<f32> {
    if (take_second) {
        return second;
    }
    return first;
}

// 16 quads per workgroup, as 4 × 4 squares: a 64 × 64 tile of c, as
// matmul_vec4. No invocation returns early: a quad operation needs all four.
@compute @workgroup_size(64)
fn matmul_quad(@builtin(workgroup_id) group: vec3<u32>, @builtin(local_invocation_index) index: u32) {
    let quad = index / 4u;
    let lane = index % 4u;
    let square_row = (group.y * 4u + quad / 4u) * 16u;
    let square_col = (group.x * 4u + quad % 4u) * 16u;
    // This invocation's quarter: lanes 0 and 1 the top, 0 and 2 the left.
    let lower = lane >= 2u;
    let right_half = lane % 2u == 1u;
    let row = square_row + select(0u, 8u, lower);
    let col = square_col + select(0u, 8u, right_half);
    let rows_walk = a_walk();
    let cols_walk = b_walk();
    // `quad_columns` makes each lane's vec4 a column. The products below
    // take blocks laid out as matmul_vec4.wgsl's `a_block` (a column per
    // row of op(a)) and `b_block` (a column per depth): transpose where the
    // lanes hold the other kind.
    let transpose_rows = !rows_walk.lane_moves_line;
    let transpose_cols = cols_walk.lane_moves_line;
    var block = Block8(mat4x4<f32>(), mat4x4<f32>(), mat4x4<f32>(), mat4x4<f32>());
    for (var d = 0u; d < p.k; d += 4u) {
        // Every invocation takes part in all eight exchanges, then keeps
        // the rows and columns of its quarter.
        let rows0 = quad_columns(a4(part_at(rows_walk, square_row, d, lane)));
        let rows4 = quad_columns(a4(part_at(rows_walk, square_row + 4u, d, lane)));
        let rows8 = quad_columns(a4(part_at(rows_walk, square_row + 8u, d, lane)));
        let rows12 = quad_columns(a4(part_at(rows_walk, square_row + 12u, d, lane)));
        let cols0 = quad_columns(b4(part_at(cols_walk, square_col, d, lane)));
        let cols4 = quad_columns(b4(part_at(cols_walk, square_col + 4u, d, lane)));
        let cols8 = quad_columns(b4(part_at(cols_walk, square_col + 8u, d, lane)));
        let cols12 = quad_columns(b4(part_at(cols_walk, square_col + 12u, d, lane)));
        var top = pick(rows0, rows8, lower);
        var bottom = pick(rows4, rows12, lower);
        var left = pick(cols0, cols8, right_half);
        var right = pick(cols4, cols12, right_half);
        if (transpose_rows) {
            top = transpose(top);
            bottom = transpose(bottom);
        }
        if (transpose_cols) {
            left = transpose(left);
            right = transpose(right);
        }
        block = add_product(block, top, bottom, left, right);
    }
    store_block8(row, col, block);
}
