// Parameter updates, Keras semantics (see neuroglow_core::optim), and
// inverted dropout, which shares their one-value-per-invocation shape.

struct Params {
    len: u32,
    // sgd: learning rate; adam: step size (bias correction folded in); dropout: rate.
    rate: f32,
    // sgd: momentum; adam: β₁.
    a: f32,
    // adam: β₂.
    b: f32,
    // adam: ε.
    epsilon: f32,
    // dropout: the mask's seed.
    seed: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read_write> param: array<f32>;
@group(0) @binding(2) var<storage, read> grad: array<f32>;
@group(0) @binding(3) var<storage, read_write> m: array<f32>;
@group(0) @binding(4) var<storage, read_write> v: array<f32>;

@compute @workgroup_size(256)
fn sgd(@builtin(global_invocation_id) id: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let i = flat_index(id, groups);
    if (i < p.len) {
        param[i] -= p.rate * grad[i];
    }
}

// m holds the velocity.
@compute @workgroup_size(256)
fn sgd_momentum(@builtin(global_invocation_id) id: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let i = flat_index(id, groups);
    if (i < p.len) {
        m[i] = p.a * m[i] - p.rate * grad[i];
        param[i] += m[i];
    }
}

@compute @workgroup_size(256)
fn adam(@builtin(global_invocation_id) id: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let i = flat_index(id, groups);
    if (i < p.len) {
        let g = grad[i];
        m[i] += (g - m[i]) * (1.0 - p.a);
        v[i] += (g * g - v[i]) * (1.0 - p.b);
        param[i] -= p.rate * m[i] / (sqrt(v[i]) + p.epsilon);
    }
}

// param = dropout(grad): keeps a value with probability 1 − rate, scaled up.
@compute @workgroup_size(256)
fn dropout(@builtin(global_invocation_id) id: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let i = flat_index(id, groups);
    if (i < p.len) {
        let keep = hash_uniform(p.seed, i) >= p.rate;
        param[i] = select(0.0, grad[i] * (1.0 / (1.0 - p.rate)), keep);
    }
}
