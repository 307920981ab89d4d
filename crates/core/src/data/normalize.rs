use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::tensor::Tensor;

/// A transform fitted on training data and stored with the model, so that
/// inference applies exactly the same one.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum Preprocessor {
    /// `(x − mean) / std` per feature.
    ZScore { mean: Vec<f32>, std: Vec<f32> },
    /// `(x − min) / (max − min)` per feature.
    MinMax { min: Vec<f32>, max: Vec<f32> },
}

impl Preprocessor {
    /// Per-feature mean and standard deviation of `x` (`[examples, features]`).
    /// Constant features get std 1, so they pass through centred.
    pub fn fit_z_score(x: &Tensor) -> Self {
        let (n, f) = (x.rows().max(1) as f64, x.row_len());
        let mut mean = vec![0.0f64; f];
        let mut var = vec![0.0f64; f];
        for r in 0..x.rows() {
            x.row(r).iter().zip(&mut mean).for_each(|(&v, m)| *m += v as f64 / n);
        }
        for r in 0..x.rows() {
            x.row(r).iter().zip(&mean).zip(&mut var).for_each(|((&v, m), s)| *s += (v as f64 - m).powi(2) / n);
        }
        let std = var.iter().map(|v| if *v > 1e-12 { v.sqrt() as f32 } else { 1.0 }).collect();
        Preprocessor::ZScore { mean: mean.into_iter().map(|m| m as f32).collect(), std }
    }

    /// Per-feature minimum and maximum of `x`, mapping the training range to `[0, 1]`.
    pub fn fit_min_max(x: &Tensor) -> Self {
        let f = x.row_len();
        let (mut min, mut max) = (vec![f32::INFINITY; f], vec![f32::NEG_INFINITY; f]);
        for r in 0..x.rows() {
            for (j, &v) in x.row(r).iter().enumerate() {
                min[j] = min[j].min(v);
                max[j] = max[j].max(v);
            }
        }
        Preprocessor::MinMax { min, max }
    }

    /// Applies the transform to every example of `x` in place.
    pub fn apply(&self, x: &mut Tensor) -> Result<()> {
        let (offset, scale): (&[f32], Vec<f32>) = match self {
            Preprocessor::ZScore { mean, std } => (mean, std.clone()),
            Preprocessor::MinMax { min, max } => {
                (min, min.iter().zip(max).map(|(a, b)| if b > a { b - a } else { 1.0 }).collect())
            }
        };
        if offset.len() != x.row_len() {
            return Err(Error::Data(format!(
                "the normalizer was fitted on {} features, the data has {}",
                offset.len(),
                x.row_len()
            )));
        }
        for row in x.data.chunks_exact_mut(offset.len()) {
            row.iter_mut().zip(offset).zip(&scale).for_each(|((v, o), s)| *v = (*v - o) / s);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn z_score_centres_and_scales() {
        let mut x = Tensor::new(vec![4, 2], vec![1.0, 5.0, 2.0, 5.0, 3.0, 5.0, 4.0, 5.0]).unwrap();
        let p = Preprocessor::fit_z_score(&x);
        p.apply(&mut x).unwrap();
        let col0: Vec<f32> = (0..4).map(|r| x.row(r)[0]).collect();
        assert!(col0.iter().sum::<f32>().abs() < 1e-6);
        assert!((col0.iter().map(|v| v * v).sum::<f32>() / 4.0 - 1.0).abs() < 1e-5);
        assert!((0..4).all(|r| x.row(r)[1] == 0.0), "a constant feature becomes 0");
        let mut y = Tensor::new(vec![3, 1], vec![2.0, 4.0, 3.0]).unwrap();
        Preprocessor::fit_min_max(&y).apply(&mut y).unwrap();
        assert_eq!(y.data, vec![0.0, 1.0, 0.5]);
        let mut wrong = Tensor::zeros(vec![1, 3]);
        assert!(p.apply(&mut wrong).is_err());
    }
}
