//! Predictions over many examples that leave the page running.

use neuroglow_core::{CpuBackend, Model, Tensor};

use crate::runtime::yield_to_browser;

/// `model.predict(x, batch_size)`, letting the page paint and take input
/// between batches: on the CPU nothing inside `predict` waits, so a held-out
/// set of hundreds of sentences would otherwise freeze the page while it runs.
pub async fn predict_in_batches(
    model: &mut Model<CpuBackend>,
    x: &Tensor,
    batch_size: usize,
) -> Result<Tensor, String> {
    let batch_size = batch_size.max(1);
    let mut data = Vec::new();
    for start in (0..x.rows()).step_by(batch_size) {
        yield_to_browser().await;
        let rows: Vec<usize> = (start..(start + batch_size).min(x.rows())).collect();
        data.extend(model.predict(&x.select_rows(&rows), batch_size).await.map_err(|e| e.to_string())?.data);
    }
    let mut shape = vec![x.rows()];
    shape.extend_from_slice(model.output_shape());
    Tensor::new(shape, data).map_err(|e| e.to_string())
}
