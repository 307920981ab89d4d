//! A fixed, seeded training run whose result must be the same bytes on every
//! platform: the engine's promise of reproducibility, checked natively and in
//! wasm32 by the test suite.

use std::ops::ControlFlow;

use crate::data::Dataset;
use crate::error::Result;
use crate::rng::Rng;
use crate::{CpuBackend, FitOptions, Model, ModelSpec, Tensor};

const SPEC: &str = r#"{"input_shape": [10], "seed": 2024, "loss": "binary_crossentropy",
    "layers": [
        {"type": "embedding", "input_dim": 30, "output_dim": 6, "mask_zero": true},
        {"type": "lstm", "units": 8, "return_sequences": true},
        {"type": "dropout", "rate": 0.25},
        {"type": "lstm", "units": 8},
        {"type": "dense", "units": 4, "activation": "tanh", "kernel_regularizer": {"l2": 0.001}},
        {"type": "dense", "units": 1, "activation": "sigmoid"}]}"#;

/// FNV-1a over the losses and final weights of a 3-epoch run that exercises
/// every layer type, masking, dropout, regularization and Adam.
pub async fn reference_fingerprint() -> Result<u64> {
    let mut rng = Rng::new(7);
    let (n, time) = (64, 10);
    let x: Vec<f32> = (0..n * time).map(|i| if i % time < 3 { 0.0 } else { rng.below(30) as f32 }).collect();
    let y: Vec<f32> = (0..n).map(|i| (x[i * time + time - 1] > 15.0) as u8 as f32).collect();
    let data = Dataset::new(Tensor::new(vec![n, time], x)?, Tensor::new(vec![n, 1], y)?)?;
    let spec: ModelSpec = serde_json::from_str(SPEC).expect("the reference spec is valid");
    let mut model = Model::new(spec, CpuBackend::new())?;
    let options = FitOptions { epochs: 3, batch_size: 16, validation_split: 0.25, ..FitOptions::default() };
    let history = model.fit(&data, None, &options, &mut |_| ControlFlow::Continue(())).await?;
    let mut hash = Fnv::default();
    for epoch in &history.epochs {
        hash.f32(epoch.loss);
        hash.f32(epoch.val_loss.unwrap_or(f32::NAN));
    }
    for (_, tensor) in model.weights().await? {
        tensor.data.iter().for_each(|&v| hash.f32(v));
    }
    Ok(hash.0)
}

struct Fnv(u64);

impl Default for Fnv {
    fn default() -> Self {
        Self(0xcbf2_9ce4_8422_2325)
    }
}

impl Fnv {
    fn f32(&mut self, v: f32) {
        for byte in v.to_bits().to_le_bytes() {
            self.0 = (self.0 ^ byte as u64).wrapping_mul(0x0100_0000_01b3);
        }
    }
}
