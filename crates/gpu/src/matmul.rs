//! Matrix products, on whole buffers or on slices of them.

use neuroglow_core::backend::MatmulSpec;

use crate::kernels::Kernel;
use crate::recorder::Recorder;

/// The side of the square tile of `c` one workgroup of each kernel computes:
/// 64 invocations, each a 4 × 4 block (`matmul.wgsl`) or an 8 × 8 one
/// (`matmul_vec4.wgsl`, `matmul_quad.wgsl`).
const TILE: usize = 32;
const TILE_VEC4: usize = 64;

/// Products with fewer outputs than this take the general kernel even when
/// their rows are whole vec4s: they cost about a dispatch either way, and a
/// model made only of them (the small MLPs of the 2-D lab) then compiles one
/// matrix pipeline instead of two, which on CPU emulations of WebGPU is a
/// good part of the first step.
const MIN_VEC4_OUTPUTS: usize = 1024;

/// A buffer and the element offset where a matrix starts in it.
pub type Slice<'a> = (&'a wgpu::Buffer, usize);

/// Records `c = op(a) · op(b)` (or `c +=`) as in [`MatmulSpec`].
pub fn record(gpu: &mut Recorder, a: Slice<'_>, b: Slice<'_>, c: Slice<'_>, spec: MatmulSpec) {
    if spec.m == 0 || spec.n == 0 {
        return;
    }
    let flags = spec.transpose_a as u32 | (spec.transpose_b as u32) << 1 | (spec.accumulate as u32) << 2;
    let params = [spec.m, spec.k, spec.n].map(|d| d as u32);
    let params = [params[0], params[1], params[2], flags, a.1 as u32, b.1 as u32, c.1 as u32];
    let (kernel, tile) = match fits_vec4(&spec, [a.1, b.1, c.1]) {
        false => (Kernel::Matmul, TILE),
        true if gpu.quad_kernels => (Kernel::MatmulQuad, TILE_VEC4),
        true => (Kernel::MatmulVec4, TILE_VEC4),
    };
    let groups = [spec.n.div_ceil(tile) as u32, spec.m.div_ceil(tile) as u32];
    gpu.dispatch(kernel, &params, &[(1, a.0), (2, b.0), (3, c.0)], groups);
}

/// Whether the product is large enough for the vec4 kernels and every row
/// it reads or writes is whole vec4s.
fn fits_vec4(spec: &MatmulSpec, offsets: [usize; 3]) -> bool {
    let whole = |d: usize| d.is_multiple_of(4);
    spec.m * spec.n >= MIN_VEC4_OUTPUTS
        && whole(spec.k)
        && whole(spec.n)
        && (!spec.transpose_a || whole(spec.m))
        && offsets.into_iter().all(whole)
}
