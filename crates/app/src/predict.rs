//! Predictions over many examples that leave the page running.

use neuroglow_core::train::Pause;
use neuroglow_core::{CpuBackend, Model, Tensor};

use crate::runtime::{now_ms, yield_to_browser};

/// `model.predict(x, max_batch)`, letting the page paint and take input
/// between slices: on the CPU nothing inside `predict` waits, and 32
/// sentences through the classifier's LSTM take about 100 ms, so a held-out
/// set of hundreds would otherwise freeze the page while it runs.
pub async fn predict_between_frames(
    model: &mut Model<CpuBackend>,
    x: &Tensor,
    max_batch: usize,
) -> Result<Tensor, String> {
    let pause = Pause::new(yield_to_browser);
    model.predict_pausing(x, max_batch, &pause, now_ms).await.map_err(|e| e.to_string())
}
