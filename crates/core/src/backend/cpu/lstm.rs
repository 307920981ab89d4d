//! LSTM over whole sequences: input projections for all steps in one matrix
//! multiply, then per step one recurrent multiply and a fused cell update.
//! Backward is backpropagation through time with the weight gradients again
//! gathered into single large multiplies after the loop.

use super::activation::{column_sums, swap_leading_axes};
use super::matmul::matmul;
use crate::backend::{LstmBackward, LstmForward, MatmulSpec};
use crate::math::{sigmoid, tanh};

pub fn lstm_forward(op: LstmForward<'_, Vec<f32>>) {
    let d = op.dims;
    let (b, t, u) = (d.batch, d.time, d.units);
    let (g4, state) = (4 * u, d.batch * d.units);
    let bufs = op.buffers;
    let first = first_real_step(op.mask, b, t);
    swap_leading_axes(op.input, &mut bufs.input_tm, b, t, d.input);
    let (projected, real_rows) = (first * b, (t - first) * b);
    matmul(
        &bufs.input_tm[projected * d.input..],
        op.weights.kernel,
        &mut bufs.gates[projected * g4..],
        MatmulSpec::new(real_rows, d.input, g4),
    );
    // Before the first real step the state stays zero.
    bufs.cells[..(first + 1) * state].fill(0.0);
    bufs.hidden[..(first + 1) * state].fill(0.0);
    if op.return_sequences {
        for row in 0..b {
            op.output[row * t * u..(row * t + first) * u].fill(0.0);
        }
    }
    for step in first..t {
        let gates = &mut bufs.gates[step * b * g4..(step + 1) * b * g4];
        let (h_prev, h_next) = bufs.hidden.split_at_mut((step + 1) * state);
        let (c_prev, c_next) = bufs.cells.split_at_mut((step + 1) * state);
        let (h_prev, c_prev) = (&h_prev[step * state..], &c_prev[step * state..]);
        let (h_next, c_next) = (&mut h_next[..state], &mut c_next[..state]);
        matmul(h_prev, op.weights.recurrent_kernel, gates, MatmulSpec::new(b, u, g4).accumulate());
        for row in 0..b {
            let masked = op.mask.is_some_and(|m| m[row * t + step] == 0.0);
            let z = &mut gates[row * g4..(row + 1) * g4];
            let s = row * u..(row + 1) * u;
            cell_forward(z, op.weights.bias, &c_prev[s.clone()], &mut c_next[s.clone()], &mut h_next[s.clone()], u);
            if masked {
                c_next[s.clone()].copy_from_slice(&c_prev[s.clone()]);
                h_next[s.clone()].copy_from_slice(&h_prev[s.clone()]);
            }
            if op.return_sequences {
                let at = (row * t + step) * u;
                op.output[at..at + u].copy_from_slice(&h_next[s]);
            }
        }
    }
    if !op.return_sequences {
        op.output[..state].copy_from_slice(&bufs.hidden[t * state..(t + 1) * state]);
    }
}

/// The first step at which some row of the batch is not padding (`time`
/// when all of it is). The steps before it leave the state at zero and get
/// no gradient, so both passes skip them: a batch of short sentences padded
/// in front to 32 words costs its longest sentence's length, not 32. The
/// numbers are the same to the bit: every sum the skipped steps took part in
/// only added zeros first.
fn first_real_step(mask: Option<&Vec<f32>>, batch: usize, time: usize) -> usize {
    let Some(mask) = mask else { return 0 };
    (0..time).find(|&step| (0..batch).any(|row| mask[row * time + step] != 0.0)).unwrap_or(time)
}

/// Turns one row's gate pre-activations `z` (i, f, c, o; bias not yet added)
/// into activated gates in place and computes the new cell and hidden state.
pub(super) fn cell_forward(z: &mut [f32], bias: &[f32], c_prev: &[f32], c: &mut [f32], h: &mut [f32], u: usize) {
    for j in 0..u {
        let i = sigmoid(z[j] + bias[j]);
        let f = sigmoid(z[u + j] + bias[u + j]);
        let g = tanh(z[2 * u + j] + bias[2 * u + j]);
        let o = sigmoid(z[3 * u + j] + bias[3 * u + j]);
        (z[j], z[u + j], z[2 * u + j], z[3 * u + j]) = (i, f, g, o);
        c[j] = f * c_prev[j] + i * g;
        h[j] = o * tanh(c[j]);
    }
}

pub fn lstm_backward(op: LstmBackward<'_, Vec<f32>>) {
    let d = op.dims;
    let (b, t, u) = (d.batch, d.time, d.units);
    let (g4, state) = (4 * u, d.batch * d.units);
    let bufs = op.buffers;
    bufs.grad_hidden[..state].fill(0.0);
    bufs.grad_hidden_masked[..state].fill(0.0);
    bufs.grad_cell[..state].fill(0.0);
    let first = first_real_step(op.mask, b, t);
    for step in (first..t).rev() {
        let gates = &bufs.gates[step * b * g4..(step + 1) * b * g4];
        let grad_gates = &mut bufs.grad_gates[step * b * g4..(step + 1) * b * g4];
        for row in 0..b {
            let masked = op.mask.is_some_and(|m| m[row * t + step] == 0.0);
            let s = row * u..(row + 1) * u;
            let grad_out = if op.return_sequences {
                Some(&op.grad_output[(row * t + step) * u..(row * t + step + 1) * u])
            } else {
                (step == t - 1).then(|| &op.grad_output[s.clone()])
            };
            let dz = &mut grad_gates[row * g4..(row + 1) * g4];
            let dh_masked = &mut bufs.grad_hidden_masked[s.clone()];
            for j in 0..u {
                let dh = bufs.grad_hidden[s.start + j] + dh_masked[j] + grad_out.map_or(0.0, |g| g[j]);
                if masked {
                    // A padding step is the identity on (h, c): pass both gradients through.
                    dh_masked[j] = dh;
                    for gate in 0..4 {
                        dz[gate * u + j] = 0.0;
                    }
                    continue;
                }
                dh_masked[j] = 0.0;
                let z = &gates[row * g4..(row + 1) * g4];
                let (i, f, g, o) = (z[j], z[u + j], z[2 * u + j], z[3 * u + j]);
                let c_prev = bufs.cells[step * state + s.start + j];
                let tanh_c = tanh(bufs.cells[(step + 1) * state + s.start + j]);
                let dc = bufs.grad_cell[s.start + j] + dh * o * (1.0 - tanh_c * tanh_c);
                dz[j] = dc * g * i * (1.0 - i);
                dz[u + j] = dc * c_prev * f * (1.0 - f);
                dz[2 * u + j] = dc * i * (1.0 - g * g);
                dz[3 * u + j] = dh * tanh_c * o * (1.0 - o);
                bufs.grad_cell[s.start + j] = dc * f;
            }
        }
        // dh_{t-1} = dz_t · Uᵀ
        matmul(grad_gates, op.weights.recurrent_kernel, &mut bufs.grad_hidden, MatmulSpec::new(b, g4, u).transpose_b());
    }
    // The weight gradients sum over the real steps' rows only.
    let (skipped, rows) = (first * b, (t - first) * b);
    let grad_gates = &bufs.grad_gates[skipped * g4..];
    if let Some(grads) = op.grads {
        let (input_tm, h_prev) = (&bufs.input_tm[skipped * d.input..], &bufs.hidden[first * state..]);
        matmul(input_tm, grad_gates, grads.kernel, MatmulSpec::new(d.input, rows, g4).transpose_a());
        matmul(h_prev, grad_gates, grads.recurrent_kernel, MatmulSpec::new(u, rows, g4).transpose_a());
        column_sums(grad_gates, grads.bias, rows, g4);
    }
    if let Some(grad_input) = op.grad_input {
        bufs.grad_input_tm[..skipped * d.input].fill(0.0);
        matmul(
            grad_gates,
            op.weights.kernel,
            &mut bufs.grad_input_tm[skipped * d.input..],
            MatmulSpec::new(rows, g4, d.input).transpose_b(),
        );
        swap_leading_axes(&bufs.grad_input_tm, grad_input, t, b, d.input);
    }
}
