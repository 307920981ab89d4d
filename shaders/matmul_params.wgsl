// The parameters of every matrix product kernel (matmul.wgsl,
// matmul_vec4.wgsl, matmul_quad.wgsl), prepended to their files:
// c = op(a) · op(b) (+ c), c being m × n and the depth k.

struct Params {
    m: u32,
    k: u32,
    n: u32,
    // 1: transpose a, 2: transpose b, 4: accumulate into c.
    flags: u32,
    // Where each matrix starts in its buffer, in elements.
    offset_a: u32,
    offset_b: u32,
    offset_c: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
