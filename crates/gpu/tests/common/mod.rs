//! Seeded training runs shared by the native and the browser tests.

use std::ops::ControlFlow;

use neuroglow_core::data::Dataset;
use neuroglow_core::rng::Rng;
use neuroglow_core::{Backend, FitOptions, History, Model, ModelSpec, Tensor};

/// Embedding with padding → two LSTMs with dropout between → a regularized
/// dense layer → sigmoid; Adam with clipping. Every kernel takes part.
pub const LSTM_SPEC: &str = r#"{"input_shape": [10], "seed": 3, "loss": "binary_crossentropy",
    "optimizer": {"type": "adam", "learning_rate": 0.01, "global_clipnorm": 1.0},
    "layers": [
        {"type": "embedding", "input_dim": 30, "output_dim": 6, "mask_zero": true},
        {"type": "lstm", "units": 8, "return_sequences": true},
        {"type": "dropout", "rate": 0.25},
        {"type": "lstm", "units": 8},
        {"type": "dense", "units": 4, "activation": "tanh", "kernel_regularizer": {"l2": 0.001}},
        {"type": "dense", "units": 1, "activation": "sigmoid"}]}"#;

/// Sequences with three padding steps in front; the label depends on the last id.
pub fn padded_sequences() -> Dataset {
    let mut rng = Rng::new(7);
    let (n, time) = (64, 10);
    let x: Vec<f32> = (0..n * time).map(|i| if i % time < 3 { 0.0 } else { rng.below(30) as f32 }).collect();
    let y: Vec<f32> = (0..n).map(|i| (x[i * time + time - 1] > 15.0) as u8 as f32).collect();
    Dataset::new(Tensor::new(vec![n, time], x).unwrap(), Tensor::new(vec![n, 1], y).unwrap()).unwrap()
}

/// Three epochs with a validation split; the history and all final weights.
pub async fn train<B: Backend + 'static>(spec: &str, data: &Dataset, backend: B) -> (History, Vec<f32>) {
    let mut model = Model::new(ModelSpec::from_json(spec).unwrap(), backend).unwrap();
    let options = FitOptions { epochs: 3, batch_size: 16, validation_split: 0.25, ..FitOptions::default() };
    let history = model.fit(data, None, &options, &mut |_| ControlFlow::Continue(())).await.unwrap();
    let weights = model.weights().await.unwrap();
    (history, weights.into_iter().flat_map(|(_, t)| t.data).collect())
}

/// The GPU run must follow the CPU run's loss curve and end at its weights.
pub fn assert_same_training(cpu: &(History, Vec<f32>), gpu: &(History, Vec<f32>)) {
    for (c, g) in cpu.0.epochs.iter().zip(&gpu.0.epochs) {
        assert!((c.loss - g.loss).abs() < 1e-3 * (1.0 + c.loss), "loss: CPU {} GPU {}", c.loss, g.loss);
        let (cv, gv) = (c.val_loss.unwrap(), g.val_loss.unwrap());
        assert!((cv - gv).abs() < 1e-3 * (1.0 + cv), "val_loss: CPU {cv} GPU {gv}");
        assert_eq!(c.accuracy.is_some(), g.accuracy.is_some());
    }
    assert!(cpu.0.epochs.last().unwrap().loss < cpu.0.epochs[0].loss, "the model learns");
    let worst = cpu.1.iter().zip(&gpu.1).map(|(c, g)| (c - g).abs()).fold(0.0, f32::max);
    assert!(worst < 1e-3, "weights drift apart by {worst}");
}
