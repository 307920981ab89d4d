//! TensorFlow Playground's input features for 2-D points.

use serde::{Deserialize, Serialize};

use crate::tensor::Tensor;

/// A feature computed from a point `(x₁, x₂)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Feature {
    X1,
    X2,
    X1Squared,
    X2Squared,
    X1TimesX2,
    SinX1,
    SinX2,
}

impl Feature {
    pub const ALL: [Feature; 7] = [
        Feature::X1,
        Feature::X2,
        Feature::X1Squared,
        Feature::X2Squared,
        Feature::X1TimesX2,
        Feature::SinX1,
        Feature::SinX2,
    ];

    pub fn of(self, x1: f32, x2: f32) -> f32 {
        match self {
            Feature::X1 => x1,
            Feature::X2 => x2,
            Feature::X1Squared => x1 * x1,
            Feature::X2Squared => x2 * x2,
            Feature::X1TimesX2 => x1 * x2,
            Feature::SinX1 => libm::sinf(x1),
            Feature::SinX2 => libm::sinf(x2),
        }
    }

    /// The label TensorFlow Playground shows.
    pub fn label(self) -> &'static str {
        match self {
            Feature::X1 => "x₁",
            Feature::X2 => "x₂",
            Feature::X1Squared => "x₁²",
            Feature::X2Squared => "x₂²",
            Feature::X1TimesX2 => "x₁x₂",
            Feature::SinX1 => "sin(x₁)",
            Feature::SinX2 => "sin(x₂)",
        }
    }
}

/// `[n, 2]` points → `[n, features.len()]` feature values.
pub fn expand(points: &Tensor, features: &[Feature]) -> Tensor {
    let data = (0..points.rows()).flat_map(|r| {
        let (x1, x2) = (points.row(r)[0], points.row(r)[1]);
        features.iter().map(move |f| f.of(x1, x2))
    });
    Tensor { shape: vec![points.rows(), features.len()], data: data.collect() }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expands_points_into_the_chosen_features() {
        let p = Tensor::new(vec![1, 2], vec![2.0, 3.0]).unwrap();
        let e = expand(&p, &[Feature::X1TimesX2, Feature::X2Squared, Feature::X1]);
        assert_eq!(e.shape, vec![1, 3]);
        assert_eq!(e.data, vec![6.0, 9.0, 2.0]);
        assert_eq!(expand(&p, &Feature::ALL).row_len(), 7);
    }
}
