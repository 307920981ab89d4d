// Shared by the kernels that exchange numbers within quads
// (matmul_quad.wgsl, lstm_quad.wgsl): prepended to their files, after
// common.wgsl, on devices that passed quad_probe.wgsl's check.

// The 4 × 4 matrix whose column i is `part` of the quad's invocation i.
fn quad_columns(part: vec4<f32>) -> mat4x4<f32> {
    return mat4x4<f32>(quadBroadcast(part, 0u), quadBroadcast(part, 1u), quadBroadcast(part, 2u), quadBroadcast(part, 3u));
}
