// Whole-buffer reductions for weight penalties and gradient clipping. Each
// sum runs in one workgroup (strided partial sums, then a tree in workgroup
// memory), so it needs no second pass and stays deterministic.

struct Params {
    len: u32,
    l1: f32,
    l2: f32,
    // regularize: examples in the batch; sum_squares: 1 to add to the running total.
    count: u32,
    max_norm: f32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> weights: array<f32>;
@group(0) @binding(2) var<storage, read_write> grad: array<f32>;
// regularize: the metrics (loss sum in slot 0); clipping: the squared norm in slot 0.
@group(0) @binding(3) var<storage, read_write> total: array<f32>;

var<workgroup> partial: array<f32, 256>;

// Sums `partial` over the workgroup; the result is in partial[0].
fn reduce_partial(thread: u32) {
    for (var half = 128u; half > 0u; half >>= 1u) {
        workgroupBarrier();
        if (thread < half) {
            partial[thread] += partial[thread + half];
        }
    }
    workgroupBarrier();
}

// grad += ∂penalty/∂w for every weight.
@compute @workgroup_size(256)
fn regularize_grad(@builtin(global_invocation_id) id: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let i = flat_index(id, groups);
    if (i < p.len) {
        let w = weights[i];
        let l1 = select(0.0, p.l1 * sign(w), w != 0.0);
        grad[i] += l1 + 2.0 * p.l2 * w;
    }
}

// total[0] += penalty × examples. One workgroup.
@compute @workgroup_size(256)
fn regularize_penalty(@builtin(local_invocation_index) thread: u32) {
    var sum = 0.0;
    for (var i = thread; i < p.len; i += 256u) {
        let w = weights[i];
        sum += p.l1 * abs(w) + p.l2 * w * w;
    }
    partial[thread] = sum;
    reduce_partial(thread);
    if (thread == 0u) {
        total[0] += partial[0] * f32(p.count);
    }
}

// total[0] (+)= Σ grad². One workgroup.
@compute @workgroup_size(256)
fn sum_squares(@builtin(local_invocation_index) thread: u32) {
    var sum = 0.0;
    for (var i = thread; i < p.len; i += 256u) {
        sum += grad[i] * grad[i];
    }
    partial[thread] = sum;
    reduce_partial(thread);
    if (thread == 0u) {
        total[0] = select(0.0, total[0], p.count != 0u) + partial[0];
    }
}

// grad *= max_norm / ‖g‖ when the global norm exceeds max_norm.
@compute @workgroup_size(256)
fn scale_to_norm(@builtin(global_invocation_id) id: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let i = flat_index(id, groups);
    let norm = sqrt(total[0]);
    if (i < p.len && norm > p.max_norm) {
        grad[i] *= p.max_norm / norm;
    }
}
