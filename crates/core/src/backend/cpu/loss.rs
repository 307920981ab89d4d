//! Losses with their gradients and running metrics.

use crate::backend::{metric_slot, LossOp};
use crate::loss::LossKind;
use crate::math::{ln, softplus};

/// Keras's clipping for losses computed from probabilities.
const EPSILON: f32 = 1e-7;

pub fn loss(op: LossOp<'_, Vec<f32>>) {
    let LossOp { kind, activation, rows, cols, examples, .. } = op;
    let fused = kind.fuses_with(activation);
    let target_width = kind.target_width(cols);
    // The loss is the mean over the rows that count (none counting gives 0,
    // as Keras's `divide_no_nan`).
    let counts = |r: usize| op.mask.is_none_or(|mask| mask[r] != 0.0);
    let counted: f32 = op.mask.map_or(rows as f32, |mask| mask[..rows].iter().sum());
    let divisor = counted.max(1.0);
    let (mut loss_sum, mut correct, mut judged) = (0.0f32, 0.0f32, 0.0f32);
    for r in 0..rows {
        let g = &mut op.grad[r * cols..(r + 1) * cols];
        if !counts(r) {
            // Padding: no loss, no gradient, not judged.
            g.fill(0.0);
            continue;
        }
        let z = &op.logits[r * cols..(r + 1) * cols];
        let y = &op.output[r * cols..(r + 1) * cols];
        let t = &op.target[r * target_width..(r + 1) * target_width];
        let (row_loss, row_correct, row_judged) = match kind {
            LossKind::BinaryCrossentropy => (
                binary_crossentropy(z, y, t, g, fused, divisor * cols as f32),
                y.iter().zip(t).filter(|(y, t)| (**y > 0.5) == (**t > 0.5)).count() as f32,
                cols as f32,
            ),
            LossKind::CategoricalCrossentropy => (
                categorical_crossentropy(z, y, |j| t[j], g, fused, divisor),
                (argmax(y) == argmax(t)) as u8 as f32,
                1.0,
            ),
            LossKind::SparseCategoricalCrossentropy => {
                let class = t[0] as usize;
                (
                    categorical_crossentropy(z, y, |j| (j == class) as u8 as f32, g, fused, divisor),
                    (argmax(y) == class) as u8 as f32,
                    1.0,
                )
            }
            LossKind::MeanSquaredError => (mean_squared_error(y, t, g, divisor * cols as f32), 0.0, 0.0),
        };
        loss_sum += row_loss;
        correct += row_correct;
        judged += row_judged;
    }
    let metrics = op.metrics;
    // The batch's mean loss, weighted by its examples.
    metrics[metric_slot::LOSS_SUM] += loss_sum * (examples as f32 / divisor);
    metrics[metric_slot::CORRECT] += correct;
    metrics[metric_slot::EXAMPLES] += examples as f32;
    metrics[metric_slot::JUDGED] += judged;
}

/// Mean over the row's outputs; the gradient is divided by `scale` (the
/// outputs that count in the batch).
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
