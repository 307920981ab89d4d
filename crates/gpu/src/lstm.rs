//! LSTM forward and backpropagation through time: the same plan as the CPU
//! backend (one large multiply for the input projections, then one fused
//! cell dispatch per step; backward one dispatch per step too), all recorded
//! into the step's command buffer. Units in multiples of 4 take the block
//! kernels of `lstm.wgsl` (or of `lstm_quad.wgsl`, where the device runs
//! quad kernels); other sizes the scalar ones, with the recurrent
//! gradient of the backward pass as a separate matrix product.

use neuroglow_core::backend::{LstmBackward, LstmDims, LstmForward, MatmulSpec};

use crate::backend::GpuBuffer;
use crate::kernels::Kernel;
use crate::layout::{column_sums, fill, swap_leading_axes};
use crate::matmul;
use crate::recorder::Recorder;

/// Invocations per workgroup of the block kernels.
const BLOCK_WORKGROUP: usize = 64;

/// Batches from which the quad kernels pay: a quad covers sixteen examples,
/// and below this most of its invocations would only help load.
const MIN_QUAD_BATCH: usize = 9;

/// The block kernels for a step, forward and backward, with their
/// workgroups: one invocation per four examples × four units. The quad
/// kernels group them sixteen examples to a quad (so batches round up to 16).
fn block_kernels(gpu: &Recorder, d: LstmDims) -> (Kernel, Kernel, [u32; 2]) {
    let (forward, backward, examples) = match gpu.quad_kernels && d.batch >= MIN_QUAD_BATCH {
        true => (Kernel::CellForwardQuad, Kernel::CellBackwardQuad, d.batch.next_multiple_of(16)),
        false => (Kernel::CellForwardBlock, Kernel::CellBackwardBlock, d.batch.next_multiple_of(4)),
    };
    let invocations = examples / 4 * d.units / 4;
    (forward, backward, [invocations.div_ceil(BLOCK_WORKGROUP) as u32, 1])
}

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
        (&bufs.gates.buffer, 1, 13),
        (&op.weights.recurrent_kernel.buffer, 2, 14),
        (&op.weights.bias.buffer, 3, 15),
        (&bufs.cells.buffer, 4, 16),
        (&bufs.hidden.buffer, 5, 17),
        (mask, 6, 6),
        (&op.output.buffer, 7, 18),
    ];
    let (block_forward, _, groups) = block_kernels(gpu, d);
    for step in 0..d.time {
        let params = step_params(d, step, op.mask.is_some(), op.return_sequences);
        if d.units.is_multiple_of(4) {
            let vectors = buffers.map(|(buffer, _, vector)| (vector, buffer));
            gpu.dispatch(block_forward, &params, &vectors, groups);
        } else {
            let scalars = buffers.map(|(buffer, scalar, _)| (scalar, buffer));
            gpu.run(Kernel::CellForward, &params, &scalars, state);
        }
    }
    if !op.return_sequences {
        let last = (d.time * state * 4) as u64;
        gpu.encoder().copy_buffer_to_buffer(&bufs.hidden.buffer, last, &op.output.buffer, 0, (state * 4) as u64);
    }
}

pub fn backward(gpu: &mut Recorder, placeholder: &wgpu::Buffer, op: LstmBackward<'_, GpuBuffer>) {
    let state = op.dims.batch * op.dims.units;
    for buffer in [&op.buffers.grad_hidden_masked, &op.buffers.grad_cell] {
        fill(gpu, &buffer.buffer, state, 0.0);
    }
    let mask = op.mask.map_or(placeholder, |m| &m.buffer);
    if op.dims.units.is_multiple_of(4) {
        block_cell_backward(gpu, mask, &op);
    } else {
        scalar_cell_backward(gpu, mask, &op);
    }
    weight_and_input_gradients(gpu, op);
}

/// The backward steps for units a multiple of 4: one block dispatch each,
/// which also computes the recurrent gradient.
fn block_cell_backward(gpu: &mut Recorder, mask: &wgpu::Buffer, op: &LstmBackward<'_, GpuBuffer>) {
    let d = op.dims;
    let bufs = &op.buffers;
    let block = [
        (13, &bufs.gates.buffer),
        (14, &op.weights.recurrent_kernel.buffer),
        (16, &bufs.cells.buffer),
        (6, mask),
        (19, &op.grad_output.buffer),
        (20, &bufs.grad_gates.buffer),
        (21, &bufs.grad_hidden_masked.buffer),
        (22, &bufs.grad_cell.buffer),
    ];
    let (_, block_backward, groups) = block_kernels(gpu, d);
    for step in (0..d.time).rev() {
        let params = step_params(d, step, op.mask.is_some(), op.return_sequences);
        gpu.dispatch(block_backward, &params, &block, groups);
    }
}

/// The backward steps for units not a multiple of 4: the cell kernel, then
/// dh for the step before, dz · Uᵀ, as a matrix product like any other.
fn scalar_cell_backward(gpu: &mut Recorder, mask: &wgpu::Buffer, op: &LstmBackward<'_, GpuBuffer>) {
    let d = op.dims;
    let (g4, state) = (4 * d.units, d.batch * d.units);
    let bufs = &op.buffers;
    fill(gpu, &bufs.grad_hidden.buffer, state, 0.0);
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
    let to_hidden = MatmulSpec::new(d.batch, g4, d.units).transpose_b();
    let recurrent = (&op.weights.recurrent_kernel.buffer, 0);
    for step in (0..d.time).rev() {
        let params = step_params(d, step, op.mask.is_some(), op.return_sequences);
        gpu.run(Kernel::CellBackward, &params, &cell, state);
        let step_gates = (&bufs.grad_gates.buffer, step * d.batch * g4);
        matmul::record(gpu, step_gates, recurrent, (&bufs.grad_hidden.buffer, 0), to_hidden);
    }
}

/// With every step's gate gradients known: the weight gradients, and the
/// gradient of the input sequence.
fn weight_and_input_gradients(gpu: &mut Recorder, op: LstmBackward<'_, GpuBuffer>) {
    let d = op.dims;
    let (g4, rows) = (4 * d.units, d.time * d.batch);
    let bufs = op.buffers;
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
