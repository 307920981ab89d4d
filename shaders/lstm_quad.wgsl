// lstm.wgsl's block kernels for devices with subgroup operations, built
// after lstm.wgsl (whose bindings and helpers they use) on the same terms
// as matmul_quad.wgsl. A quad is four blocks of the same four units for
// sixteen consecutive examples: they need the same rows of U, so each
// invocation loads a quarter of them and receives the rest through
// `quadBroadcast`.

// Invocation `index`'s block: quad index / 4 takes unit block quad % u4
// and examples 16·(quad / u4) on, four per lane. Past the batch, a
// lane's (or a whole quad's) rows are never stored, but it still takes
// part in the exchanges: a quad operation needs all four invocations.
fn quad_block(index: u32) -> Block {
    let u4 = p.units / 4u;
    let quad = index / 4u;
    return Block(((quad / u4) * 4u + index % 4u) * 4u, quad % u4);
}

@compute @workgroup_size(64)
fn cell_forward_quad(@builtin(global_invocation_id) id: vec3<u32>) {
    let b = quad_block(id.x);
    let lane = id.x % 4u;
    let u4 = p.units / 4u;
    let h_prev = (p.step * p.batch + block_rows(b.row)) * u4;
    var z = GateBlock(mat4x4<f32>(), mat4x4<f32>(), mat4x4<f32>(), mat4x4<f32>());
    for (var k4 = 0u; k4 < u4; k4++) {
        let h = mat4x4<f32>(hidden4[h_prev.x + k4], hidden4[h_prev.y + k4], hidden4[h_prev.z + k4], hidden4[h_prev.w + k4]);
        // Row 4·k4 + lane of U, where the quad's units start in each gate;
        // shared, the rows 4·k4.. as `recurrent_block` gives them.
        let w = (4u * k4 + lane) * p.units + b.unit4;
        z.i += quad_columns(recurrent4[w]) * h;
        z.f += quad_columns(recurrent4[w + u4]) * h;
        z.g += quad_columns(recurrent4[w + 2u * u4]) * h;
        z.o += quad_columns(recurrent4[w + 3u * u4]) * h;
    }
    forward_units(b.row, b.unit4, Gates4(z.i[0], z.f[0], z.g[0], z.o[0]));
    forward_units(b.row + 1u, b.unit4, Gates4(z.i[1], z.f[1], z.g[1], z.o[1]));
    forward_units(b.row + 2u, b.unit4, Gates4(z.i[2], z.f[2], z.g[2], z.o[2]));
    forward_units(b.row + 3u, b.unit4, Gates4(z.i[3], z.f[3], z.g[3], z.o[3]));
}

@compute @workgroup_size(64)
fn cell_backward_quad(@builtin(global_invocation_id) id: vec3<u32>) {
    let b = quad_block(id.x);
    let lane = id.x % 4u;
    let u = p.units;
    var dh = mat4x4<f32>();
    if (p.step + 1u < p.time) {
        let dz_next = ((p.step + 1u) * p.batch + block_rows(b.row)) * u;
        // This lane's row of U: unit 4·unit4 + lane.
        let w = (4u * b.unit4 + lane) * u;
        for (var d4 = 0u; d4 < u; d4++) {
            let dz = mat4x4<f32>(grad_gates4[dz_next.x + d4], grad_gates4[dz_next.y + d4], grad_gates4[dz_next.z + d4], grad_gates4[dz_next.w + d4]);
            dh += transpose(quad_columns(recurrent4[w + d4])) * dz;
        }
    }
    backward_units(b.row, b.unit4, dh[0]);
    backward_units(b.row + 1u, b.unit4, dh[1]);
    backward_units(b.row + 2u, b.unit4, dh[2]);
    backward_units(b.row + 3u, b.unit4, dh[3]);
}
