//! Helpers shared by the integration tests.
#![allow(dead_code)]

use neuroglow_core::{data::Dataset, rng::Rng, CpuBackend, Model, ModelSpec, Tensor};

/// The shipped pretrained models, as `(model.json, model.safetensors)`.
pub const DIGITS: (&str, &[u8]) = (
    include_str!("../../../../web/models/digits-mlp/model.json"),
    include_bytes!("../../../../web/models/digits-mlp/model.safetensors"),
);
pub const SENTIMENT: (&str, &[u8]) = (
    include_str!("../../../../web/models/sentiment-lstm/model.json"),
    include_bytes!("../../../../web/models/sentiment-lstm/model.safetensors"),
);
pub const SHAKESPEARE: (&str, &[u8]) = (
    include_str!("../../../../web/models/shakespeare-char/model.json"),
    include_bytes!("../../../../web/models/shakespeare-char/model.safetensors"),
);
pub const WORDPIECE: (&str, &[u8]) = (
    include_str!("../../../../web/models/sentiment-wordpiece/model.json"),
    include_bytes!("../../../../web/models/sentiment-wordpiece/model.safetensors"),
);

pub fn block<F: std::future::Future>(f: F) -> F::Output {
    pollster::block_on(f)
}

pub fn model(json: &str) -> Model<CpuBackend> {
    let spec: ModelSpec = serde_json::from_str(json).expect("test spec parses");
    Model::new(spec, CpuBackend::new()).expect("test model builds")
}

/// Sequences of `time` token ids in `1..vocab`, pre-padded with 0 to random
/// lengths; label 1 when token `needle` occurs.
pub fn needle_sequences(n: usize, time: usize, vocab: usize, needle: usize, seed: u64) -> Dataset {
    let mut rng = Rng::new(seed);
    let mut x = Vec::with_capacity(n * time);
    let mut y = Vec::with_capacity(n);
    for i in 0..n {
        let len = 2 + rng.below(time - 1);
        let mut seq: Vec<f32> = (0..len).map(|_| (1 + rng.below(vocab - 1)) as f32).collect();
        seq.retain(|&t| t as usize != needle);
        let positive = i % 2 == 0;
        if positive {
            let at = rng.below(seq.len() + 1);
            seq.insert(at, needle as f32);
        }
        seq.truncate(time);
        if positive && !seq.contains(&(needle as f32)) {
            *seq.last_mut().unwrap() = needle as f32;
        }
        x.extend(std::iter::repeat_n(0.0, time - seq.len()));
        x.extend(seq);
        y.push(positive as u8 as f32);
    }
    Dataset::new(Tensor::new(vec![n, time], x).unwrap(), Tensor::new(vec![n, 1], y).unwrap()).unwrap()
}

pub fn random_tensor(shape: Vec<usize>, seed: u64) -> Tensor {
    let mut rng = Rng::new(seed);
    let len = shape.iter().product();
    Tensor::new(shape, (0..len).map(|_| rng.normal()).collect()).unwrap()
}
