//! Fills, transposes and column sums, shared by the backend and the LSTM.

use crate::kernels::Kernel;
use crate::recorder::Recorder;

/// `[a, b, features] → [b, a, features]`.
pub fn swap_leading_axes(gpu: &mut Recorder, src: &wgpu::Buffer, dst: &wgpu::Buffer, a: usize, b: usize, f: usize) {
    let params = [a as u32, b as u32, f as u32, 0];
    gpu.run(Kernel::SwapLeadingAxes, &params, &[(1, src), (2, dst)], a * b * f);
}

/// `dst[j] = Σᵢ src[i, j]`.
pub fn column_sums(gpu: &mut Recorder, src: &wgpu::Buffer, dst: &wgpu::Buffer, rows: usize, cols: usize) {
    let params = [rows as u32, cols as u32, 0, 0];
    gpu.run(Kernel::ColumnSums, &params, &[(1, src), (2, dst)], cols);
}

/// Sets the first `len` values of `dst` to `value`.
pub fn fill(gpu: &mut Recorder, dst: &wgpu::Buffer, len: usize, value: f32) {
    gpu.run(Kernel::Fill, &[len as u32, 0, 0, value.to_bits()], &[(2, dst)], len);
}
