// Which invocations form a quad. WebGPU leaves it to the implementation;
// matmul_quad.wgsl assumes what every known one does: in a 64-invocation
// workgroup, quad j is local indices 4j..4j+3, in order. Each invocation
// writes the local indices of its quad's four invocations, and the host
// checks them before it uses matmul_quad.

@group(0) @binding(1) var<storage, read_write> quad_members: array<u32>;

@compute @workgroup_size(64)
fn quad_probe(@builtin(workgroup_id) group: vec3<u32>, @builtin(local_invocation_index) index: u32) {
    let at = (group.x * 64u + index) * 4u;
    quad_members[at] = quadBroadcast(index, 0u);
    quad_members[at + 1u] = quadBroadcast(index, 1u);
    quad_members[at + 2u] = quadBroadcast(index, 2u);
    quad_members[at + 3u] = quadBroadcast(index, 3u);
}
