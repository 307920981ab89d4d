//! Seeded, training-only augmentation: fresh noise each epoch makes a small
//! dataset look bigger without changing what it says.

use crate::rng::Rng;
use crate::tensor::Tensor;

/// Adds Gaussian noise with standard deviation `std` to every numeric input.
pub fn gaussian_noise(x: &Tensor, std: f32, seed: u64) -> Tensor {
    let mut rng = Rng::new(seed);
    let data = x.data.iter().map(|v| v + std * rng.normal()).collect();
    Tensor { shape: x.shape.clone(), data }
}

/// Replaces each non-padding token id with `mask_id` with probability `rate`
/// (random masking; `mask_id` 0 drops the token as padding would).
pub fn token_dropout(x: &Tensor, rate: f32, mask_id: f32, seed: u64) -> Tensor {
    let mut rng = Rng::new(seed);
    let data = x.data.iter().map(|&id| if id != 0.0 && rng.uniform() < rate { mask_id } else { id }).collect();
    Tensor { shape: x.shape.clone(), data }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn noise_is_seeded_and_has_the_asked_spread() {
        let x = Tensor::zeros(vec![1000, 2]);
        let a = gaussian_noise(&x, 0.5, 1);
        assert_eq!(a, gaussian_noise(&x, 0.5, 1));
        assert_ne!(a, gaussian_noise(&x, 0.5, 2));
        let var = a.data.iter().map(|v| v * v).sum::<f32>() / a.data.len() as f32;
        assert!((var.sqrt() - 0.5).abs() < 0.03, "std {}", var.sqrt());
    }

    #[test]
    fn token_dropout_spares_padding() {
        let x = Tensor::new(vec![1, 1000], (0..1000).map(|i| (i % 5) as f32).collect()).unwrap();
        let y = token_dropout(&x, 0.3, 1.0, 4);
        assert!(x.data.iter().zip(&y.data).all(|(a, b)| *a != 0.0 || *b == 0.0), "padding stays padding");
        let masked = x.data.iter().zip(&y.data).filter(|(a, b)| **a > 1.0 && **b == 1.0).count();
        assert!((140..220).contains(&masked), "{masked} of 600 masked at rate 0.3");
    }
}
