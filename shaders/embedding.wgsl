// Embedding lookup and its gradient. The backward pass has no float
// atomics to lean on: `link_repeats` chains the positions that hold the same
// id (each to the next one), then the first position of each chain sums the
// gradients along it. Deterministic, and each gradient value is read once.

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
// [count] the next position with the same id (or NONE), then [count] 1 where
// an earlier position has the same id. The second half must be zeroed first.
@group(0) @binding(7) var<storage, read_write> links: array<u32>;

const NONE: u32 = 0xffffffffu;

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

@compute @workgroup_size(256)
fn link_repeats(@builtin(global_invocation_id) id: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let i = flat_index(id, groups);
    if (i >= p.count) {
        return;
    }
    var next = NONE;
    for (var j = i + 1u; j < p.count; j++) {
        if (ids[j] == ids[i]) {
            next = j;
            break;
        }
    }
    links[i] = next;
    if (next != NONE) {
        // Only position i links to `next`, so no other invocation writes here.
        links[p.count + next] = 1u;
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
    if (row < 0 || links[p.count + i] != 0u) {
        return;
    }
    var sum = 0.0;
    for (var j = i; j != NONE; j = links[j]) {
        sum += grad_out[j * p.dim + d];
    }
    grad_table[u32(row) * p.dim + d] = sum;
}
