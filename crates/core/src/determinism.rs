//! Fingerprints that must be the same on every platform: a fixed, seeded
//! training run (the engine's promise of reproducibility) and tokenization
//! with a HuggingFace tokenizer, checked natively and in wasm32 by the tests.

use std::ops::ControlFlow;

use crate::data::Dataset;
use crate::error::Result;
use crate::rng::Rng;
use crate::{CpuBackend, FitOptions, Model, ModelSpec, Tensor};

/// A small model that exercises every layer type, masking, dropout,
/// regularization and Adam.
pub const REFERENCE_SPEC: &str = r#"{"input_shape": [10], "seed": 2024, "loss": "binary_crossentropy",
    "layers": [
        {"type": "embedding", "input_dim": 30, "output_dim": 6, "mask_zero": true},
        {"type": "lstm", "units": 8, "return_sequences": true},
        {"type": "dropout", "rate": 0.25},
        {"type": "lstm", "units": 8},
        {"type": "dense", "units": 4, "activation": "tanh", "kernel_regularizer": {"l2": 0.001}},
        {"type": "dense", "units": 1, "activation": "sigmoid"}]}"#;

/// The reference run's data: sequences of ids with three padding steps in
/// front, labelled by their last id.
pub fn reference_data() -> Dataset {
    let mut rng = Rng::new(7);
    let (n, time) = (64, 10);
    let x: Vec<f32> = (0..n * time).map(|i| if i % time < 3 { 0.0 } else { rng.below(30) as f32 }).collect();
    let y: Vec<f32> = (0..n).map(|i| (x[i * time + time - 1] > 15.0) as u8 as f32).collect();
    let tensor = |shape, data| Tensor::new(shape, data).expect("shapes match");
    Dataset::new(tensor(vec![n, time], x), tensor(vec![n, 1], y)).expect("as many targets as inputs")
}

/// FNV-1a over the losses and final weights of a 3-epoch run of
/// [`REFERENCE_SPEC`] on [`reference_data`].
pub async fn reference_fingerprint() -> Result<u64> {
    let data = reference_data();
    let spec: ModelSpec = serde_json::from_str(REFERENCE_SPEC).expect("the reference spec is valid");
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

/// FNV-1a over the token ids a `tokenizer.json` gives each text (with a
/// separator between texts): the browser must tokenize exactly as natively.
pub fn token_fingerprint(tokenizer_json: &[u8], texts: &[&str]) -> Result<u64> {
    let tokenizer = crate::data::HfTokenizer::from_bytes(tokenizer_json)?;
    let mut hash = Fnv::default();
    for text in texts {
        tokenizer.encode(text)?.iter().for_each(|&id| hash.bytes(&(id as u32).to_le_bytes()));
        hash.bytes(&u32::MAX.to_le_bytes());
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
        self.bytes(&v.to_bits().to_le_bytes());
    }

    fn bytes(&mut self, bytes: &[u8]) {
        for &byte in bytes {
            self.0 = (self.0 ^ byte as u64).wrapping_mul(0x0100_0000_01b3);
        }
    }
}
