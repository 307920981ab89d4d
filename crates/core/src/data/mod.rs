//! Data: datasets, splits, CSV parsing, normalization and synthetic sets.

pub mod augment;
pub mod csv;
pub mod features;
mod hf;
mod normalize;
pub mod synthetic;
pub mod text;

pub use hf::HfTokenizer;
pub use normalize::Preprocessor;

use crate::error::{Error, Result};
use crate::rng::Rng;
use crate::tensor::Tensor;

/// Inputs and targets, one row per example.
#[derive(Debug, Clone, PartialEq)]
pub struct Dataset {
    pub x: Tensor,
    pub y: Tensor,
}

impl Dataset {
    pub fn new(x: Tensor, y: Tensor) -> Result<Self> {
        if x.rows() != y.rows() {
            return Err(Error::Data(format!("{} input examples but {} targets", x.rows(), y.rows())));
        }
        Ok(Self { x, y })
    }

    pub fn len(&self) -> usize {
        self.x.rows()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn select(&self, indices: &[usize]) -> Dataset {
        Dataset { x: self.x.select_rows(indices), y: self.y.select_rows(indices) }
    }

    /// Splits off the last `fraction` of the examples (Keras's `validation_split`).
    pub fn split_tail(&self, fraction: f32) -> Result<(Dataset, Dataset)> {
        if !(0.0..1.0).contains(&fraction) {
            return Err(Error::Data(format!("a split fraction must be in [0, 1), got {fraction}")));
        }
        let held = ((self.len() as f32) * fraction).round() as usize;
        let cut = self.len() - held;
        let head: Vec<usize> = (0..cut).collect();
        let tail: Vec<usize> = (cut..self.len()).collect();
        Ok((self.select(&head), self.select(&tail)))
    }

    /// Examples per class, for a class-balance report: targets are class
    /// indices (one column), one-hot rows, or 0/1 for binary labels.
    pub fn class_counts(&self) -> Vec<usize> {
        let width = self.y.row_len();
        let class_of = |r: usize| -> usize {
            let row = self.y.row(r);
            if width == 1 {
                row[0].max(0.0) as usize
            } else {
                crate::backend::cpu::argmax(row)
            }
        };
        let mut counts = vec![0; if width == 1 { 2 } else { width }];
        for r in 0..self.len() {
            let class = class_of(r);
            if class >= counts.len() {
                counts.resize(class + 1, 0);
            }
            counts[class] += 1;
        }
        counts
    }

    /// Shuffles with `seed`, then splits off `fraction` as a test set.
    pub fn shuffle_split(&self, fraction: f32, seed: u64) -> Result<(Dataset, Dataset)> {
        let mut order: Vec<usize> = (0..self.len()).collect();
        Rng::new(seed).shuffle(&mut order);
        self.select(&order).split_tail(fraction)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_are_seeded_and_complete() {
        let data = synthetic::circle(100, 0.0, 1);
        let (train, test) = data.shuffle_split(0.2, 9).unwrap();
        assert_eq!((train.len(), test.len()), (80, 20));
        assert_eq!(data.shuffle_split(0.2, 9).unwrap().1, test);
        assert_ne!(data.shuffle_split(0.2, 10).unwrap().1, test);
        assert!(data.split_tail(1.5).is_err());
    }

    #[test]
    fn class_counts_read_indices_one_hot_and_binary_labels() {
        let binary = synthetic::circle(10, 0.0, 1);
        assert_eq!(binary.class_counts(), vec![5, 5]);
        let sparse =
            Dataset::new(Tensor::zeros(vec![3, 1]), Tensor::new(vec![3, 1], vec![2.0, 0.0, 2.0]).unwrap()).unwrap();
        assert_eq!(sparse.class_counts(), vec![1, 0, 2]);
        let one_hot = Dataset::new(
            Tensor::zeros(vec![2, 1]),
            Tensor::new(vec![2, 3], vec![0.0, 1.0, 0.0, 0.0, 1.0, 0.0]).unwrap(),
        )
        .unwrap();
        assert_eq!(one_hot.class_counts(), vec![0, 2, 0]);
    }
}
