// Shared by every kernel (prepended to each file when its pipelines are built).
//
// Bindings: group 0, binding 0 is the kernel's `Params` uniform; the storage
// buffers follow from binding 1. One-dimensional kernels run 256 invocations
// per workgroup and may spread over a second grid axis when there are more
// than 65,535 workgroups.

const WORKGROUP: u32 = 256u;

// The flat invocation index of a 1-D kernel dispatched on a 2-D grid.
fn flat_index(id: vec3<u32>, groups: vec3<u32>) -> u32 {
    return id.x + id.y * groups.x * WORKGROUP;
}

fn sigmoid(x: f32) -> f32 {
    // Written so that neither branch overflows.
    if (x >= 0.0) {
        return 1.0 / (1.0 + exp(-x));
    }
    let e = exp(x);
    return e / (1.0 + e);
}

fn tanh_stable(x: f32) -> f32 {
    // WGSL's tanh may return NaN for large |x| on some drivers.
    let e = exp(-2.0 * abs(x));
    return sign(x) * (1.0 - e) / (1.0 + e);
}

// PCG-RXS-M-XS, as `neuroglow_core::rng::pcg_hash`: dropout masks match the CPU.
fn pcg_hash(input: u32) -> u32 {
    let state = input * 747796405u + 2891336453u;
    let word = ((state >> ((state >> 28u) + 4u)) ^ state) * 277803737u;
    return (word >> 22u) ^ word;
}

fn hash_uniform(seed: u32, index: u32) -> f32 {
    return f32(pcg_hash(seed ^ pcg_hash(index)) >> 8u) / 16777216.0;
}
