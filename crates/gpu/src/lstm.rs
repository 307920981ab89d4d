//! LSTM forward and backpropagation through time: the same plan as the CPU
//! backend (one large multiply for the input projections, then one fused
//! cell dispatch per step; backward a cell dispatch and a matrix product per
//! step), all recorded into the step's command buffer.

use neuroglow_core::backend::{LstmBackward, LstmDims, LstmForward, MatmulSpec};

use crate::backend::GpuBuffer;
use crate::kernels::Kernel;
use crate::layout::{column_sums, fill, swap_leading_axes};
use crate::matmul;
use crate::recorder::Recorder;

/// The cell kernels' parameters for one step.
fn step_params(d: LstmDims, step: usize, has_mask: bool, return_sequences: bool) -> [u32; 6] {
    [d.batch as u32, d.time as u32, d.units as u32, step as u32, has_mask as u32, return_sequences as u32]
}

pub fn forward(gpu: &mut Recorder, placeholder: &wgpu::Buffer, op: LstmForward<'_, GpuBuffer>) {
    let d = op.dims;
    let (g4, state) = (4 * d.units, d.batch * d.units);
    let bufs = op.buffers;
    swap_leading_axes(gpu, &op.input.buffer, &bufs.input_tm.buffer, d.batch, d.time, d.input);
    let projection = MatmulSpec::new(d.time * d.batch, d.input, g4);
    matmul::record(
        gpu,
        (&bufs.input_tm.buffer, 0),
        (&op.weights.kernel.buffer, 0),
        (&bufs.gates.buffer, 0),
        projection,
    );
    fill(gpu, &bufs.cells.buffer, state, 0.0);
    fill(gpu, &bufs.hidden.buffer, state, 0.0);
    let mask = op.mask.map_or(placeholder, |m| &m.buffer);
    let buffers = [
        (1, &bufs.gates.buffer),
        (2, &op.weights.recurrent_kernel.buffer),
        (3, &op.weights.bias.buffer),
        (4, &bufs.cells.buffer),
        (5, &bufs.hidden.buffer),
        (6, mask),
        (7, &op.output.buffer),
    ];
    // Whole vec4s of units when they fit (see `cell_forward4`).
    let (kernel, buffers, invocations) = if d.units.is_multiple_of(4) {
        // The same buffers at the kernel's vec4 bindings (the mask stays scalar).
        let vectors = [13, 14, 15, 16, 17, 6, 18].into_iter().zip(buffers.map(|(_, buffer)| buffer));
        (Kernel::CellForward4, vectors.collect::<Vec<_>>(), state / 4)
    } else {
        (Kernel::CellForward, buffers.to_vec(), state)
    };
    for step in 0..d.time {
        let params = step_params(d, step, op.mask.is_some(), op.return_sequences);
        gpu.run(kernel, &params, &buffers, invocations);
    }
    if !op.return_sequences {
        let last = (d.time * state * 4) as u64;
        gpu.encoder().copy_buffer_to_buffer(&bufs.hidden.buffer, last, &op.output.buffer, 0, (state * 4) as u64);
    }
}

pub fn backward(gpu: &mut Recorder, placeholder: &wgpu::Buffer, op: LstmBackward<'_, GpuBuffer>) {
    let d = op.dims;
    let (g4, state, rows) = (4 * d.units, d.batch * d.units, d.time * d.batch);
    let bufs = op.buffers;
    for buffer in [&bufs.grad_hidden, &bufs.grad_hidden_masked, &bufs.grad_cell] {
        fill(gpu, &buffer.buffer, state, 0.0);
    }
    let mask = op.mask.map_or(placeholder, |m| &m.buffer);
    let cell = [
        (1, &bufs.gates.buffer),
        (4, &bufs.cells.buffer),
        (6, mask),
        (8, &op.grad_output.buffer),
        (9, &bufs.grad_gates.buffer),
        (10, &bufs.grad_hidden.buffer),
        (11, &bufs.grad_hidden_masked.buffer),
        (12, &bufs.grad_cell.buffer),
    ];
    // dh for the step before, dz · Uᵀ, is a matrix product like any other.
    let to_hidden = MatmulSpec::new(d.batch, g4, d.units).transpose_b();
    let recurrent = (&op.weights.recurrent_kernel.buffer, 0);
    for step in (0..d.time).rev() {
        let params = step_params(d, step, op.mask.is_some(), op.return_sequences);
        gpu.run(Kernel::CellBackward, &params, &cell, state);
        let step_gates = (&bufs.grad_gates.buffer, step * d.batch * g4);
        matmul::record(gpu, step_gates, recurrent, (&bufs.grad_hidden.buffer, 0), to_hidden);
    }
    let grad_gates = (&bufs.grad_gates.buffer, 0);
    if let Some(grads) = op.grads {
        let kernel = MatmulSpec::new(d.input, rows, g4).transpose_a();
        matmul::record(gpu, (&bufs.input_tm.buffer, 0), grad_gates, (&grads.kernel.buffer, 0), kernel);
        let recurrent = MatmulSpec::new(d.units, rows, g4).transpose_a();
        matmul::record(gpu, (&bufs.hidden.buffer, 0), grad_gates, (&grads.recurrent_kernel.buffer, 0), recurrent);
        column_sums(gpu, &bufs.grad_gates.buffer, &grads.bias.buffer, rows, g4);
    }
    if let Some(grad_input) = op.grad_input {
        let input = MatmulSpec::new(rows, g4, d.input).transpose_b();
        matmul::record(gpu, grad_gates, (&op.weights.kernel.buffer, 0), (&bufs.grad_input_tm.buffer, 0), input);
        swap_leading_axes(gpu, &bufs.grad_input_tm.buffer, &grad_input.buffer, d.time, d.batch, d.input);
    }
}
