// Dense layer outputs: bias + activation forward, and the activation's
// gradient backward. Element-wise activations run one invocation per value;
// softmax runs one per row (rows are short: class counts).

struct Params {
    rows: u32,
    cols: u32,
    // 0 linear, 1 relu, 2 tanh, 3 sigmoid, 4 softmax.
    activation: u32,
    has_bias: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read_write> pre: array<f32>;
@group(0) @binding(2) var<storage, read> bias: array<f32>;
@group(0) @binding(3) var<storage, read_write> out: array<f32>;
@group(0) @binding(4) var<storage, read_write> grad: array<f32>;

fn activate(z: f32) -> f32 {
    switch p.activation {
        case 1u: { return max(z, 0.0); }
        case 2u: { return tanh_stable(z); }
        case 3u: { return sigmoid(z); }
        default: { return z; }
    }
}

// pre += bias; out = act(pre), for element-wise activations.
@compute @workgroup_size(256)
fn bias_activation(@builtin(global_invocation_id) id: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let i = flat_index(id, groups);
    if (i >= p.rows * p.cols) {
        return;
    }
    var z = pre[i];
    if (p.has_bias != 0u) {
        z += bias[i % p.cols];
        pre[i] = z;
    }
    out[i] = activate(z);
}

// pre += bias; out = softmax(pre) over each row.
@compute @workgroup_size(256)
fn bias_softmax(@builtin(global_invocation_id) id: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let row = flat_index(id, groups);
    if (row >= p.rows) {
        return;
    }
    let start = row * p.cols;
    var peak = -3.4e38;
    for (var j = 0u; j < p.cols; j++) {
        if (p.has_bias != 0u) {
            pre[start + j] += bias[j];
        }
        peak = max(peak, pre[start + j]);
    }
    var sum = 0.0;
    for (var j = 0u; j < p.cols; j++) {
        let e = exp(pre[start + j] - peak);
        out[start + j] = e;
        sum += e;
    }
    for (var j = 0u; j < p.cols; j++) {
        out[start + j] /= sum;
    }
}

// grad (with respect to out) becomes the gradient with respect to pre.
@compute @workgroup_size(256)
fn activation_backward(@builtin(global_invocation_id) id: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let i = flat_index(id, groups);
    if (i >= p.rows * p.cols) {
        return;
    }
    let y = out[i];
    switch p.activation {
        case 1u: { if (y <= 0.0) { grad[i] = 0.0; } }
        case 2u: { grad[i] *= 1.0 - y * y; }
        case 3u: { grad[i] *= y * (1.0 - y); }
        default: {}
    }
}

@compute @workgroup_size(256)
fn softmax_backward(@builtin(global_invocation_id) id: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let row = flat_index(id, groups);
    if (row >= p.rows) {
        return;
    }
    let start = row * p.cols;
    var weighted = 0.0;
    for (var j = 0u; j < p.cols; j++) {
        weighted += grad[start + j] * out[start + j];
    }
    for (var j = 0u; j < p.cols; j++) {
        grad[start + j] = out[start + j] * (grad[start + j] - weighted);
    }
}
