// Embedding lookup and its gradient. The backward pass has no float
// atomics to lean on, so the first position holding each id sums the
// gradients of every position with that id: deterministic, and cheap for
// the batch × sequence lengths of this playground.

struct Params {
    count: u32,
    vocab: u32,
    dim: u32,
    has_mask: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> ids: array<f32>;
@group(0) @binding(2) var<storage, read> table: array<f32>;
@group(0) @binding(3) var<storage, read_write> out: array<f32>;
@group(0) @binding(4) var<storage, read_write> mask: array<f32>;
@group(0) @binding(5) var<storage, read> grad_out: array<f32>;
@group(0) @binding(6) var<storage, read_write> grad_table: array<f32>;

// The table row of an id, or -1 outside the vocabulary.
fn row_of(id: f32) -> i32 {
    if (id >= 0.0 && id < f32(p.vocab)) {
        return i32(id);
    }
    return -1;
}

@compute @workgroup_size(256)
fn embedding_forward(@builtin(global_invocation_id) id: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let e = flat_index(id, groups);
    if (e >= p.count * p.dim) {
        return;
    }
    let i = e / p.dim;
    let d = e % p.dim;
    let row = row_of(ids[i]);
    var value = 0.0;
    if (row >= 0) {
        value = table[u32(row) * p.dim + d];
    }
    out[e] = value;
    if (p.has_mask != 0u && d == 0u) {
        mask[i] = select(1.0, 0.0, ids[i] == 0.0);
    }
}

// grad_table must be zeroed first.
@compute @workgroup_size(256)
fn embedding_backward(@builtin(global_invocation_id) id: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let e = flat_index(id, groups);
    if (e >= p.count * p.dim) {
        return;
    }
    let i = e / p.dim;
    let d = e % p.dim;
    let row = row_of(ids[i]);
    if (row < 0) {
        return;
    }
    for (var earlier = 0u; earlier < i; earlier++) {
        if (ids[earlier] == ids[i]) {
            return;
        }
    }
    var sum = 0.0;
    for (var j = i; j < p.count; j++) {
        if (ids[j] == ids[i]) {
            sum += grad_out[j * p.dim + d];
        }
    }
    grad_table[u32(row) * p.dim + d] = sum;
}
