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
    let i = sigmoid(zi + bias[j]);
    let f = sigmoid(zf + bias[u + j]);
    let g = tanh_stable(zg + bias[2u * u + j]);
    let o = sigmoid(zo + bias[3u * u + j]);
    gates[z + j] = i;
    gates[z + u + j] = f;
    gates[z + 2u * u + j] = g;
    gates[z + 3u * u + j] = o;
    let c_prev = cells[p.step * state + s];
    var c = f * c_prev + i * g;
    var h = o * tanh_stable(c);
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

// The same buffers seen four numbers at a time, for cell_forward4.
@group(0) @binding(13) var<storage, read_write> gates4: array<vec4<f32>>;
@group(0) @binding(14) var<storage, read> recurrent4: array<vec4<f32>>;
@group(0) @binding(15) var<storage, read> bias4: array<vec4<f32>>;
@group(0) @binding(16) var<storage, read_write> cells4: array<vec4<f32>>;
@group(0) @binding(17) var<storage, read_write> hidden4: array<vec4<f32>>;
@group(0) @binding(18) var<storage, read_write> output4: array<vec4<f32>>;

fn sigmoid4(x: vec4<f32>) -> vec4<f32> {
    return vec4<f32>(sigmoid(x.x), sigmoid(x.y), sigmoid(x.z), sigmoid(x.w));
}

fn tanh4(x: vec4<f32>) -> vec4<f32> {
    return vec4<f32>(tanh_stable(x.x), tanh_stable(x.y), tanh_stable(x.z), tanh_stable(x.w));
}

// Four units' pre-activations of the four gates.
struct Gates4 {
    i: vec4<f32>,
    f: vec4<f32>,
    g: vec4<f32>,
    o: vec4<f32>,
}

// Adds h times the row of U that starts (for these units) at vec4 `w`.
fn add_row(z: Gates4, h: f32, w: u32, u4: u32) -> Gates4 {
    return Gates4(z.i + h * recurrent4[w], z.f + h * recurrent4[w + u4], z.g + h * recurrent4[w + 2u * u4], z.o + h * recurrent4[w + 3u * u4]);
}

// cell_forward for units a multiple of 4: one invocation per (example,
// four units), every load and store a vector. CPU emulations of WebGPU
// (SwiftShader, lavapipe) run this several times faster than four scalar
// invocations, and GPUs lose nothing.
@compute @workgroup_size(256)
fn cell_forward4(@builtin(global_invocation_id) id: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let v = flat_index(id, groups);
    let u4 = p.units / 4u;
    let state4 = p.batch * u4;
    if (v >= state4) {
        return;
    }
    let row = v / u4;
    let j = v % u4;
    // In vec4s: this step's gates of `row`, and where gate blocks start.
    let z = gate_row(row) / 4u;
    var zs = Gates4(gates4[z + j], gates4[z + u4 + j], gates4[z + 2u * u4 + j], gates4[z + 3u * u4 + j]);
    // h_{t-1}·U, four of h's units a load (a row of U is `units` vec4s).
    let h_prev = (p.step * p.batch + row) * u4;
    for (var k4 = 0u; k4 < u4; k4++) {
        let h = hidden4[h_prev + k4];
        let w = 4u * k4 * p.units + j;
        zs = add_row(zs, h.x, w, u4);
        zs = add_row(zs, h.y, w + p.units, u4);
        zs = add_row(zs, h.z, w + 2u * p.units, u4);
        zs = add_row(zs, h.w, w + 3u * p.units, u4);
    }
    let i = sigmoid4(zs.i + bias4[j]);
    let f = sigmoid4(zs.f + bias4[u4 + j]);
    let g = tanh4(zs.g + bias4[2u * u4 + j]);
    let o = sigmoid4(zs.o + bias4[3u * u4 + j]);
    gates4[z + j] = i;
    gates4[z + u4 + j] = f;
    gates4[z + 2u * u4 + j] = g;
    gates4[z + 3u * u4 + j] = o;
    let c_prev = cells4[p.step * state4 + v];
    var c = f * c_prev + i * g;
    var h = o * tanh4(c);
    if (is_masked(row)) {
        c = c_prev;
        h = hidden4[p.step * state4 + v];
    }
    cells4[(p.step + 1u) * state4 + v] = c;
    hidden4[(p.step + 1u) * state4 + v] = h;
    if (p.return_sequences != 0u) {
        output4[(row * p.time + p.step) * u4 + j] = h;
    }
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
    let i = gates[z + j];
    let f = gates[z + u + j];
    let g = gates[z + 2u * u + j];
    let o = gates[z + 3u * u + j];
    let c_prev = cells[p.step * state + s];
    let tanh_c = tanh_stable(cells[(p.step + 1u) * state + s]);
    let dc = grad_cell[s] + dh * o * (1.0 - tanh_c * tanh_c);
    grad_gates[z + j] = dc * g * i * (1.0 - i);
    grad_gates[z + u + j] = dc * c_prev * f * (1.0 - f);
    grad_gates[z + 2u * u + j] = dc * i * (1.0 - g * g);
    grad_gates[z + 3u * u + j] = dh * tanh_c * o * (1.0 - o);
    grad_cell[s] = dc * f;
}
