// Moving values around: fill, [a, b, f] → [b, a, f] transposes, and column
// sums (a reduction over rows, for bias gradients).

struct Params {
    // fill: len; swap: a, b, features; column sums: rows, cols.
    a: u32,
    b: u32,
    features: u32,
    value: f32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> src: array<f32>;
@group(0) @binding(2) var<storage, read_write> dst: array<f32>;

@compute @workgroup_size(256)
fn fill(@builtin(global_invocation_id) id: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let i = flat_index(id, groups);
    if (i < p.a) {
        dst[i] = p.value;
    }
}

@compute @workgroup_size(256)
fn swap_leading_axes(@builtin(global_invocation_id) id: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let i = flat_index(id, groups);
    if (i >= p.a * p.b * p.features) {
        return;
    }
    let f = i % p.features;
    let ij = i / p.features;
    let outer = ij / p.b;
    let inner = ij % p.b;
    dst[(inner * p.a + outer) * p.features + f] = src[i];
}

// dst[j] = Σᵢ src[i, j] with rows = a, cols = b.
@compute @workgroup_size(256)
fn column_sums(@builtin(global_invocation_id) id: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let j = flat_index(id, groups);
    if (j >= p.b) {
        return;
    }
    var sum = 0.0;
    for (var i = 0u; i < p.a; i++) {
        sum += src[i * p.b + j];
    }
    dst[j] = sum;
}
