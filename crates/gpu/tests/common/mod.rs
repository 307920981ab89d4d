//! Seeded training runs shared by the native and the browser tests.
#![allow(dead_code)] // each test binary uses its own part of this module

use std::ops::ControlFlow;

use neuroglow_core::data::Dataset;
use neuroglow_core::{Backend, FitOptions, History, Model, ModelSpec};

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
