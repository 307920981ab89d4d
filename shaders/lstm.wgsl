// The fused LSTM cell, one dispatch per time step (Keras semantics, gates
// i, f, c, o; see neuroglow_core::backend::LstmBuffers for the layouts).
// The input projections x·W for all steps come from one matrix multiply
// before the loop; each step adds h·U, the bias, the nonlinearities and the
// state update here, one invocation per (example, unit).

struct Params {
    batch: u32,
    time: u32,
    units: u32,
    step: u32,
    has_mask: u32,
    return_sequences: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
// [time, batch, 4·units]: x·W in, activated gates out (forward).
@group(0) @binding(1) var<storage, read_write> gates: array<f32>;
// [units, 4·units]
@group(0) @binding(2) var<storage, read> recurrent: array<f32>;
@group(0) @binding(3) var<storage, read> bias: array<f32>;
// [time + 1, batch, units], state 0 first.
@group(0) @binding(4) var<storage, read_write> cells: array<f32>;
@group(0) @binding(5) var<storage, read_write> hidden: array<f32>;
// [batch, time]
@group(0) @binding(6) var<storage, read> mask: array<f32>;
@group(0) @binding(7) var<storage, read_write> output: array<f32>;
@group(0) @binding(8) var<storage, read> grad_output: array<f32>;
@group(0) @binding(9) var<storage, read_write> grad_gates: array<f32>;
// [batch, units] each.
@group(0) @binding(10) var<storage, read_write> grad_hidden: array<f32>;
@group(0) @binding(11) var<storage, read_write> grad_hidden_masked: array<f32>;
@group(0) @binding(12) var<storage, read_write> grad_cell: array<f32>;

// Where this step's four gates of example `row` start in the [time, batch, 4·units] buffers.
fn gate_row(row: u32) -> u32 {
    return (p.step * p.batch + row) * 4u * p.units;
}

fn is_masked(row: u32) -> bool {
    return p.has_mask != 0u && mask[row * p.time + p.step] == 0.0;
}

// Four units' gates (pre-activations, activations or gradients).
struct Gates4 {
    i: vec4<f32>,
    f: vec4<f32>,
    g: vec4<f32>,
    o: vec4<f32>,
}

fn sigmoid4(x: vec4<f32>) -> vec4<f32> {
    return vec4<f32>(sigmoid(x.x), sigmoid(x.y), sigmoid(x.z), sigmoid(x.w));
}

fn tanh4(x: vec4<f32>) -> vec4<f32> {
    return vec4<f32>(tanh_stable(x.x), tanh_stable(x.y), tanh_stable(x.z), tanh_stable(x.w));
}

// One step of four units: the activated gates and the new state.
struct CellStep {
    gates: Gates4,
    c: vec4<f32>,
    h: vec4<f32>,
}

fn cell_step(z: Gates4, c_prev: vec4<f32>) -> CellStep {
    let gates = Gates4(sigmoid4(z.i), sigmoid4(z.f), tanh4(z.g), sigmoid4(z.o));
    let c = gates.f * c_prev + gates.i * gates.g;
    return CellStep(gates, c, gates.o * tanh4(c));
}

// The same step backward: the gate pre-activation gradients, and the
// gradient of c_{t-1}, given dh_t and the cell gradient from step t + 1.
struct CellStepGradients {
    gates: Gates4,
    c_prev: vec4<f32>,
}

fn cell_step_backward(a: Gates4, c_prev: vec4<f32>, c: vec4<f32>, dh: vec4<f32>, dc_next: vec4<f32>) -> CellStepGradients {
    let tanh_c = tanh4(c);
    let dc = dc_next + dh * a.o * (1.0 - tanh_c * tanh_c);
    let dz = Gates4(
        dc * a.g * a.i * (1.0 - a.i),
        dc * c_prev * a.f * (1.0 - a.f),
        dc * a.i * (1.0 - a.g * a.g),
        dh * tanh_c * a.o * (1.0 - a.o),
    );
    return CellStepGradients(dz, dc * a.f);
}

@compute @workgroup_size(256)
fn cell_forward(@builtin(global_invocation_id) id: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let s = flat_index(id, groups);
    let u = p.units;
    let state = p.batch * u;
    if (s >= state) {
        return;
    }
    let row = s / u;
    let j = s % u;
    let g4 = 4u * u;
    let z = gate_row(row);
    let h_prev = p.step * state + row * u;
    var zi = gates[z + j];
    var zf = gates[z + u + j];
    var zg = gates[z + 2u * u + j];
    var zo = gates[z + 3u * u + j];
    for (var k = 0u; k < u; k++) {
        let h = hidden[h_prev + k];
        let w = k * g4 + j;
        zi += h * recurrent[w];
        zf += h * recurrent[w + u];
        zg += h * recurrent[w + 2u * u];
        zo += h * recurrent[w + 3u * u];
    }
    // The cell's arithmetic is written once, for four units (see cell_step);
    // here it runs on one, in the vectors' first lane.
    let z4 = Gates4(vec4(zi + bias[j]), vec4(zf + bias[u + j]), vec4(zg + bias[2u * u + j]), vec4(zo + bias[3u * u + j]));
    let c_prev = cells[p.step * state + s];
    let next = cell_step(z4, vec4(c_prev));
    gates[z + j] = next.gates.i.x;
    gates[z + u + j] = next.gates.f.x;
    gates[z + 2u * u + j] = next.gates.g.x;
    gates[z + 3u * u + j] = next.gates.o.x;
    var c = next.c.x;
    var h = next.h.x;
    if (is_masked(row)) {
        // A padding step carries the state through unchanged.
        c = c_prev;
        h = hidden[p.step * state + s];
    }
    cells[(p.step + 1u) * state + s] = c;
    hidden[(p.step + 1u) * state + s] = h;
    if (p.return_sequences != 0u) {
        output[(row * p.time + p.step) * u + j] = h;
    }
}

// The same buffers seen four numbers at a time, for the block kernels below.
@group(0) @binding(13) var<storage, read_write> gates4: array<vec4<f32>>;
@group(0) @binding(14) var<storage, read> recurrent4: array<vec4<f32>>;
@group(0) @binding(15) var<storage, read> bias4: array<vec4<f32>>;
@group(0) @binding(16) var<storage, read_write> cells4: array<vec4<f32>>;
@group(0) @binding(17) var<storage, read_write> hidden4: array<vec4<f32>>;
@group(0) @binding(18) var<storage, read_write> output4: array<vec4<f32>>;
@group(0) @binding(19) var<storage, read> grad_output4: array<vec4<f32>>;
@group(0) @binding(20) var<storage, read_write> grad_gates4: array<vec4<f32>>;
@group(0) @binding(21) var<storage, read_write> grad_hidden_masked4: array<vec4<f32>>;
@group(0) @binding(22) var<storage, read_write> grad_cell4: array<vec4<f32>>;

// The block kernels, for units a multiple of 4, give each invocation four
// examples × four units and multiply 4 × 4 blocks held in registers: every
// number loaded serves four multiply-adds. CPU emulations of WebGPU
// (SwiftShader, lavapipe) load each invocation's numbers one by one, so
// loads, not arithmetic, set their speed; GPUs lose nothing.

// Where block `v`'s four examples and four units start (in vec4s of units).
struct Block {
    row: u32,
    unit4: u32,
}

fn block_of(v: u32) -> Block {
    let u4 = p.units / 4u;
    return Block(v / u4 * 4u, v % u4);
}

fn block_count() -> u32 {
    return (p.batch + 3u) / 4u * (p.units / 4u);
}

// The block's four examples; past the batch (when it is not a multiple of
// 4) the last one again, whose repeated columns are never stored.
fn block_rows(row: u32) -> vec4<u32> {
    return min(vec4<u32>(row) + vec4<u32>(0u, 1u, 2u, 3u), vec4<u32>(p.batch - 1u));
}

// h_{t-1}·U for a block, one matrix per gate whose column i is example row + i.
struct GateBlock {
    i: mat4x4<f32>,
    f: mat4x4<f32>,
    g: mat4x4<f32>,
    o: mat4x4<f32>,
}

// Rows k..k+3 of U for one gate's four units starting at vec4 `at` (a row
// of U is `units` vec4s), as columns: the matrix maps four h values to
// four gate values.
fn recurrent_block(at: u32) -> mat4x4<f32> {
    let u = p.units;
    return mat4x4<f32>(recurrent4[at], recurrent4[at + u], recurrent4[at + 2u * u], recurrent4[at + 3u * u]);
}

// The rest of cell_forward for four units of one example, given h_{t-1}·U.
fn forward_units(row: u32, unit4: u32, recurrent_part: Gates4) {
    if (row >= p.batch) {
        return;
    }
    let u4 = p.units / 4u;
    let state4 = p.batch * u4;
    let s = row * u4 + unit4;
    let z = gate_row(row) / 4u + unit4;
    let z4 = Gates4(
        gates4[z] + recurrent_part.i + bias4[unit4],
        gates4[z + u4] + recurrent_part.f + bias4[u4 + unit4],
        gates4[z + 2u * u4] + recurrent_part.g + bias4[2u * u4 + unit4],
        gates4[z + 3u * u4] + recurrent_part.o + bias4[3u * u4 + unit4],
    );
    let c_prev = cells4[p.step * state4 + s];
    let next = cell_step(z4, c_prev);
    gates4[z] = next.gates.i;
    gates4[z + u4] = next.gates.f;
    gates4[z + 2u * u4] = next.gates.g;
    gates4[z + 3u * u4] = next.gates.o;
    var c = next.c;
    var h = next.h;
    if (is_masked(row)) {
        c = c_prev;
        h = hidden4[p.step * state4 + s];
    }
    cells4[(p.step + 1u) * state4 + s] = c;
    hidden4[(p.step + 1u) * state4 + s] = h;
    if (p.return_sequences != 0u) {
        output4[(row * p.time + p.step) * u4 + unit4] = h;
    }
}

// cell_forward for a block of four examples × four units.
@compute @workgroup_size(64)
fn cell_forward_block(@builtin(global_invocation_id) id: vec3<u32>) {
    if (id.x >= block_count()) {
        return;
    }
    let b = block_of(id.x);
    let u4 = p.units / 4u;
    // Where the four examples' h_{t-1} start, in vec4s.
    let h_prev = (p.step * p.batch + block_rows(b.row)) * u4;
    var z = GateBlock(mat4x4<f32>(), mat4x4<f32>(), mat4x4<f32>(), mat4x4<f32>());
    for (var k4 = 0u; k4 < u4; k4++) {
        let h = mat4x4<f32>(hidden4[h_prev.x + k4], hidden4[h_prev.y + k4], hidden4[h_prev.z + k4], hidden4[h_prev.w + k4]);
        // Row 4·k4 of U, where this block's units start in each gate.
        let w = 4u * k4 * p.units + b.unit4;
        z.i += recurrent_block(w) * h;
        z.f += recurrent_block(w + u4) * h;
        z.g += recurrent_block(w + 2u * u4) * h;
        z.o += recurrent_block(w + 3u * u4) * h;
    }
    forward_units(b.row, b.unit4, Gates4(z.i[0], z.f[0], z.g[0], z.o[0]));
    forward_units(b.row + 1u, b.unit4, Gates4(z.i[1], z.f[1], z.g[1], z.o[1]));
    forward_units(b.row + 2u, b.unit4, Gates4(z.i[2], z.f[2], z.g[2], z.o[2]));
    forward_units(b.row + 3u, b.unit4, Gates4(z.i[3], z.f[3], z.g[3], z.o[3]));
}

// The rest of cell_backward for four units of one example, given the
// gradient reaching h_t through the recurrence.
fn backward_units(row: u32, unit4: u32, recurrent_part: vec4<f32>) {
    if (row >= p.batch) {
        return;
    }
    let u4 = p.units / 4u;
    let state4 = p.batch * u4;
    let s = row * u4 + unit4;
    let z = gate_row(row) / 4u + unit4;
    var dh = recurrent_part + grad_hidden_masked4[s];
    if (p.return_sequences != 0u) {
        dh += grad_output4[(row * p.time + p.step) * u4 + unit4];
    } else if (p.step == p.time - 1u) {
        dh += grad_output4[s];
    }
    if (is_masked(row)) {
        grad_hidden_masked4[s] = dh;
        for (var gate = 0u; gate < 4u; gate++) {
            grad_gates4[z + gate * u4] = vec4<f32>(0.0);
        }
        return;
    }
    grad_hidden_masked4[s] = vec4<f32>(0.0);
    let activated = Gates4(gates4[z], gates4[z + u4], gates4[z + 2u * u4], gates4[z + 3u * u4]);
    let c_prev = cells4[p.step * state4 + s];
    let back = cell_step_backward(activated, c_prev, cells4[(p.step + 1u) * state4 + s], dh, grad_cell4[s]);
    grad_gates4[z] = back.gates.i;
    grad_gates4[z + u4] = back.gates.f;
    grad_gates4[z + 2u * u4] = back.gates.g;
    grad_gates4[z + 3u * u4] = back.gates.o;
    grad_cell4[s] = back.c_prev;
}

// cell_backward for a block of four examples × four units, with the
// recurrent gradient dz_{t+1}·Uᵀ computed here rather than by a separate
// matrix product (one dispatch per step instead of two).
@compute @workgroup_size(64)
fn cell_backward_block(@builtin(global_invocation_id) id: vec3<u32>) {
    if (id.x >= block_count()) {
        return;
    }
    let b = block_of(id.x);
    let u = p.units;
    var dh = mat4x4<f32>();
    if (p.step + 1u < p.time) {
        // Where the four examples' dz_{t+1} start (a row of 4·units is `units` vec4s).
        let dz_next = ((p.step + 1u) * p.batch + block_rows(b.row)) * u;
        // Where U's rows for this block's four units start, in vec4s.
        let w = 4u * b.unit4 * u;
        for (var d4 = 0u; d4 < u; d4++) {
            let dz = mat4x4<f32>(grad_gates4[dz_next.x + d4], grad_gates4[dz_next.y + d4], grad_gates4[dz_next.z + d4], grad_gates4[dz_next.w + d4]);
            // Columns: the four units' weights at four gate positions;
            // transposed, it maps four dz values to four units.
            let weights = mat4x4<f32>(recurrent4[w + d4], recurrent4[w + u + d4], recurrent4[w + 2u * u + d4], recurrent4[w + 3u * u + d4]);
            dh += transpose(weights) * dz;
        }
    }
    backward_units(b.row, b.unit4, dh[0]);
    backward_units(b.row + 1u, b.unit4, dh[1]);
    backward_units(b.row + 2u, b.unit4, dh[2]);
    backward_units(b.row + 3u, b.unit4, dh[3]);
}

// Gate pre-activation gradients of this step, and the cell gradient for the
// step before. grad_hidden holds dh from step + 1 through the recurrence.
@compute @workgroup_size(256)
fn cell_backward(@builtin(global_invocation_id) id: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let s = flat_index(id, groups);
    let u = p.units;
    let state = p.batch * u;
    if (s >= state) {
        return;
    }
    let row = s / u;
    let j = s % u;
    let z = gate_row(row);
    var dh = grad_hidden[s] + grad_hidden_masked[s];
    if (p.return_sequences != 0u) {
        dh += grad_output[(row * p.time + p.step) * u + j];
    } else if (p.step == p.time - 1u) {
        dh += grad_output[s];
    }
    if (is_masked(row)) {
        // The identity on (h, c): both gradients pass straight through.
        grad_hidden_masked[s] = dh;
        for (var gate = 0u; gate < 4u; gate++) {
            grad_gates[z + gate * u + j] = 0.0;
        }
        return;
    }
    grad_hidden_masked[s] = 0.0;
    // As in cell_forward, the arithmetic of four units run on one.
    let activated = Gates4(vec4(gates[z + j]), vec4(gates[z + u + j]), vec4(gates[z + 2u * u + j]), vec4(gates[z + 3u * u + j]));
    let c_prev = cells[p.step * state + s];
    let back = cell_step_backward(activated, vec4(c_prev), vec4(cells[(p.step + 1u) * state + s]), vec4(dh), vec4(grad_cell[s]));
    grad_gates[z + j] = back.gates.i.x;
    grad_gates[z + u + j] = back.gates.f.x;
    grad_gates[z + 2u * u + j] = back.gates.g.x;
    grad_gates[z + 3u * u + j] = back.gates.o.x;
    grad_cell[s] = back.c_prev.x;
}
