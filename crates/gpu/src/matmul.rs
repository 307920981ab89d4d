//! The tiled matrix multiply, on whole buffers or on slices of them.

use neuroglow_core::backend::MatmulSpec;

use crate::kernels::Kernel;
use crate::recorder::Recorder;

/// The side of the square tile of `c` one workgroup computes (both kernels).
const TILE: usize = 64;

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
    let groups = [spec.n.div_ceil(TILE) as u32, spec.m.div_ceil(TILE) as u32];
    let kernel = if fits_vec4(&spec, [a.1, b.1, c.1]) { Kernel::MatmulVec4 } else { Kernel::Matmul };
    gpu.dispatch(kernel, &params, &[(1, a.0), (2, b.0), (3, c.0)], groups);
}

/// Whether every row `matmul_vec4.wgsl` reads or writes is whole vec4s.
fn fits_vec4(spec: &MatmulSpec, offsets: [usize; 3]) -> bool {
    let whole = |d: usize| d.is_multiple_of(4);
    whole(spec.k) && whole(spec.n) && (!spec.transpose_a || whole(spec.m)) && offsets.into_iter().all(whole)
}
