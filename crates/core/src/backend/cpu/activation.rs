//! Bias addition and activations, forward and backward.

use crate::backend::Activation;
use crate::math::{exp, sigmoid, tanh};

pub fn bias_activation(
    pre: &mut [f32],
    bias: Option<&[f32]>,
    out: &mut [f32],
    rows: usize,
    cols: usize,
    activation: Activation,
) {
    for r in 0..rows {
        let z = &mut pre[r * cols..(r + 1) * cols];
        if let Some(bias) = bias {
            z.iter_mut().zip(bias).for_each(|(z, b)| *z += b);
        }
        activate_row(z, &mut out[r * cols..(r + 1) * cols], activation);
    }
}

fn activate_row(z: &[f32], y: &mut [f32], activation: Activation) {
    match activation {
        Activation::Linear => y.copy_from_slice(z),
        Activation::Relu => y.iter_mut().zip(z).for_each(|(y, &z)| *y = z.max(0.0)),
        Activation::Tanh => y.iter_mut().zip(z).for_each(|(y, &z)| *y = tanh(z)),
        Activation::Sigmoid => y.iter_mut().zip(z).for_each(|(y, &z)| *y = sigmoid(z)),
        Activation::Softmax => softmax(z, y),
    }
}

/// Numerically stable softmax of one row.
pub fn softmax(z: &[f32], y: &mut [f32]) {
    let max = z.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let mut sum = 0.0;
    for (y, &z) in y.iter_mut().zip(z) {
        *y = exp(z - max);
        sum += *y;
    }
    y.iter_mut().for_each(|y| *y /= sum);
}

pub fn activation_backward(out: &[f32], grad: &mut [f32], rows: usize, cols: usize, activation: Activation) {
    let (out, grad) = (&out[..rows * cols], &mut grad[..rows * cols]);
    match activation {
        Activation::Linear => {}
        Activation::Relu => grad.iter_mut().zip(out).for_each(|(g, &y)| *g = if y > 0.0 { *g } else { 0.0 }),
        Activation::Tanh => grad.iter_mut().zip(out).for_each(|(g, &y)| *g *= 1.0 - y * y),
        Activation::Sigmoid => grad.iter_mut().zip(out).for_each(|(g, &y)| *g *= y * (1.0 - y)),
        Activation::Softmax => {
            for (g, y) in grad.chunks_exact_mut(cols).zip(out.chunks_exact(cols)) {
                let weighted: f32 = g.iter().zip(y).map(|(g, y)| g * y).sum();
                g.iter_mut().zip(y).for_each(|(g, &y)| *g = y * (*g - weighted));
            }
        }
    }
}

pub fn column_sums(x: &[f32], out: &mut [f32], rows: usize, cols: usize) {
    let out = &mut out[..cols];
    out.fill(0.0);
    for row in x[..rows * cols].chunks_exact(cols) {
        out.iter_mut().zip(row).for_each(|(o, x)| *o += x);
    }
}

pub fn swap_leading_axes(src: &[f32], dst: &mut [f32], a: usize, b: usize, features: usize) {
    for i in 0..a {
        for j in 0..b {
            let from = (i * b + j) * features;
            let to = (j * a + i) * features;
            dst[to..to + features].copy_from_slice(&src[from..from + features]);
        }
    }
}

pub fn dropout(input: &[f32], output: &mut [f32], rate: f32, seed: u32) {
    let scale = 1.0 / (1.0 - rate);
    for (i, (y, &x)) in output.iter_mut().zip(input).enumerate() {
        let keep = crate::rng::hash_uniform(seed, i as u32) >= rate;
        *y = if keep { x * scale } else { 0.0 };
    }
}
