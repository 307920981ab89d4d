//! Regularization, gradient clipping and parameter updates.

use crate::backend::{metric_slot, AdamStep, Regularizer};

pub fn regularize(weights: &[f32], grad: &mut [f32], metrics: &mut [f32], r: Regularizer, examples: usize) {
    let mut penalty = 0.0f32;
    for (g, &w) in grad.iter_mut().zip(weights) {
        penalty += r.l1 * w.abs() + r.l2 * w * w;
        *g += r.l1 * w.signum() * (w != 0.0) as u8 as f32 + 2.0 * r.l2 * w;
    }
    metrics[metric_slot::LOSS_SUM] += penalty * examples as f32;
}

pub fn clip_by_global_norm(grads: &mut [(&mut Vec<f32>, usize)], max_norm: f32) {
    let sum_sq: f32 = grads.iter().map(|(g, len)| g[..*len].iter().map(|x| x * x).sum::<f32>()).sum();
    let norm = sum_sq.sqrt();
    if norm > max_norm {
        let scale = max_norm / norm;
        for (g, len) in grads.iter_mut() {
            g[..*len].iter_mut().for_each(|x| *x *= scale);
        }
    }
}

pub fn sgd_update(param: &mut [f32], grad: &[f32], velocity: Option<&mut [f32]>, learning_rate: f32, momentum: f32) {
    match velocity {
        Some(v) => {
            for ((w, &g), v) in param.iter_mut().zip(grad).zip(v) {
                *v = momentum * *v - learning_rate * g;
                *w += *v;
            }
        }
        None => param.iter_mut().zip(grad).for_each(|(w, &g)| *w -= learning_rate * g),
    }
}

pub fn adam_update(param: &mut [f32], grad: &[f32], m: &mut [f32], v: &mut [f32], s: AdamStep) {
    for (((w, &g), m), v) in param.iter_mut().zip(grad).zip(m).zip(v) {
        *m += (g - *m) * (1.0 - s.beta_1);
        *v += (g * g - *v) * (1.0 - s.beta_2);
        *w -= s.step_size * *m / (v.sqrt() + s.epsilon);
    }
}
