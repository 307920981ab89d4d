//! Loss functions.

use serde::{Deserialize, Serialize};

use crate::backend::Activation;

/// The training objective, named as in Keras.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LossKind {
    /// Targets 0/1, one or more independent outputs; accuracy at threshold 0.5.
    BinaryCrossentropy,
    /// One-hot targets over the last axis; accuracy by arg-max.
    CategoricalCrossentropy,
    /// Integer class targets, one per example; accuracy by arg-max.
    SparseCategoricalCrossentropy,
    /// Regression; no accuracy.
    MeanSquaredError,
}

impl LossKind {
    /// Whether the loss is computed from logits together with this output
    /// activation (stable, and the gradient is simply `output − target`).
    pub fn fuses_with(self, activation: Activation) -> bool {
        matches!(
            (self, activation),
            (LossKind::BinaryCrossentropy, Activation::Sigmoid)
                | (LossKind::CategoricalCrossentropy | LossKind::SparseCategoricalCrossentropy, Activation::Softmax)
        )
    }

    /// Whether the loss reports an accuracy.
    pub fn has_accuracy(self) -> bool {
        self != LossKind::MeanSquaredError
    }

    /// Target values per example, given the model's output width.
    pub fn target_width(self, output_width: usize) -> usize {
        match self {
            LossKind::SparseCategoricalCrossentropy => 1,
            _ => output_width,
        }
    }
}
