//! Data: datasets, splits, CSV parsing, normalization and synthetic sets.

pub mod csv;
mod normalize;
pub mod synthetic;

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

    /// Shuffles with `seed`, then splits off `fraction` as a test set.
    pub fn shuffle_split(&self, fraction: f32, seed: u64) -> Result<(Dataset, Dataset)> {
        let mut order: Vec<usize> = (0..self.len()).collect();
        Rng::new(seed).shuffle(&mut order);
        self.select(&order).split_tail(fraction)
    }
}
