//! Losses with their gradients and running metrics.

use crate::backend::{metric_slot, LossOp};
use crate::loss::LossKind;
use crate::math::{ln, softplus};

/// Keras's clipping for losses computed from probabilities.
const EPSILON: f32 = 1e-7;

pub fn loss(op: LossOp<'_, Vec<f32>>) {
    let LossOp { kind, activation, rows, cols, .. } = op;
    let fused = kind.fuses_with(activation);
    let target_width = kind.target_width(cols);
    let (mut loss_sum, mut correct, mut judged) = (0.0f32, 0.0f32, 0usize);
    for r in 0..rows {
        let z = &op.logits[r * cols..(r + 1) * cols];
        let y = &op.output[r * cols..(r + 1) * cols];
        let t = &op.target[r * target_width..(r + 1) * target_width];
        let g = &mut op.grad[r * cols..(r + 1) * cols];
        loss_sum += match kind {
            LossKind::BinaryCrossentropy => {
                judged += cols;
                correct += y.iter().zip(t).filter(|(y, t)| (**y > 0.5) == (**t > 0.5)).count() as f32;
                binary_crossentropy(z, y, t, g, fused, (rows * cols) as f32)
            }
            LossKind::CategoricalCrossentropy => {
                judged += 1;
                correct += (argmax(y) == argmax(t)) as u8 as f32;
                categorical_crossentropy(z, y, |j| t[j], g, fused, rows as f32)
            }
            LossKind::SparseCategoricalCrossentropy => {
                let class = t[0] as usize;
                judged += 1;
                correct += (argmax(y) == class) as u8 as f32;
                categorical_crossentropy(z, y, |j| (j == class) as u8 as f32, g, fused, rows as f32)
            }
            LossKind::MeanSquaredError => mean_squared_error(y, t, g, (rows * cols) as f32),
        };
    }
    let metrics = op.metrics;
    metrics[metric_slot::LOSS_SUM] += loss_sum;
    metrics[metric_slot::CORRECT] += correct;
    metrics[metric_slot::EXAMPLES] += rows as f32;
    metrics[metric_slot::JUDGED] += judged as f32;
}

/// Mean over the row's outputs; the gradient is divided by `scale` (all
/// outputs in the batch).
fn binary_crossentropy(z: &[f32], y: &[f32], t: &[f32], g: &mut [f32], fused: bool, scale: f32) -> f32 {
    let mut sum = 0.0;
    for j in 0..y.len() {
        if fused {
            // -[t·ln σ(z) + (1−t)·ln(1−σ(z))] = softplus(z) − t·z
            sum += softplus(z[j]) - t[j] * z[j];
            g[j] = (y[j] - t[j]) / scale;
        } else {
            let p = y[j].clamp(EPSILON, 1.0 - EPSILON);
            sum -= t[j] * ln(p) + (1.0 - t[j]) * ln(1.0 - p);
            g[j] = (p - t[j]) / (p * (1.0 - p)) / scale;
        }
    }
    sum / y.len() as f32
}

fn categorical_crossentropy(
    z: &[f32],
    y: &[f32],
    t: impl Fn(usize) -> f32,
    g: &mut [f32],
    fused: bool,
    scale: f32,
) -> f32 {
    let mut sum = 0.0;
    if fused {
        let max = z.iter().copied().fold(f32::NEG_INFINITY, f32::max);
        let log_sum_exp = max + ln(z.iter().map(|&z| crate::math::exp(z - max)).sum());
        for j in 0..y.len() {
            sum += t(j) * (log_sum_exp - z[j]);
            g[j] = (y[j] - t(j)) / scale;
        }
    } else {
        for j in 0..y.len() {
            let p = y[j].clamp(EPSILON, 1.0);
            sum -= t(j) * ln(p);
            g[j] = -t(j) / p / scale;
        }
    }
    sum
}

fn mean_squared_error(y: &[f32], t: &[f32], g: &mut [f32], scale: f32) -> f32 {
    let mut sum = 0.0;
    for j in 0..y.len() {
        let d = y[j] - t[j];
        sum += d * d;
        g[j] = 2.0 * d / scale;
    }
    sum / y.len() as f32
}

/// Index of the first largest value.
pub fn argmax(x: &[f32]) -> usize {
    let mut best = 0;
    for (i, &v) in x.iter().enumerate() {
        if v > x[best] {
            best = i;
        }
    }
    best
}
