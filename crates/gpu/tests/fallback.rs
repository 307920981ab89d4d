//! Automatic fallback to the CPU: a device lost mid-training (forced with
//! `device.destroy()`) moves the run to the CPU, which finishes it from the
//! last completed epoch with nothing lost.

mod common;

use std::ops::ControlFlow;

use neuroglow_core::determinism::{reference_data, REFERENCE_SPEC};
use neuroglow_core::{CpuBackend, FitOptions, Model, ModelSpec, Progress};
use neuroglow_gpu::{AutoModel, Engine};
use pollster::block_on;

fn cpu_model() -> Model<CpuBackend> {
    Model::new(ModelSpec::from_json(REFERENCE_SPEC).unwrap(), CpuBackend::new()).unwrap()
}

#[test]
fn a_device_lost_mid_training_finishes_on_the_cpu_without_losing_weights() {
    let data = reference_data();
    let options = FitOptions { epochs: 4, batch_size: 16, validation_split: 0.25, ..FitOptions::default() };

    let mut auto = block_on(AutoModel::new(cpu_model())).unwrap();
    assert_eq!(auto.fallback(), None, "lavapipe offers a GPU");
    let Engine::Gpu(model) = auto.engine() else { unreachable!() };
    let device = model.backend().device().clone();
    let mut batches = 0;
    let history = block_on(auto.fit(&data, None, &options, &mut |progress| {
        if let Progress::Batch(_) = progress {
            batches += 1;
            // Three batches per epoch: this is in the middle of the second.
            if batches == 5 {
                device.destroy();
            }
        }
        ControlFlow::Continue(())
    }))
    .unwrap();
    assert!(matches!(auto.engine(), Engine::Cpu(_)));
    let why = auto.fallback().unwrap();
    assert!(why.contains("lost") && why.ends_with("training on CPU"), "{why}");
    assert_eq!(history.epochs.iter().map(|e| e.epoch).collect::<Vec<_>>(), [1, 2, 3, 4]);

    // The same four epochs entirely on the CPU end at the same weights.
    let mut reference = block_on(AutoModel::on_cpu(cpu_model(), "chosen")).unwrap();
    let expected = block_on(reference.fit(&data, None, &options, &mut |_| ControlFlow::Continue(()))).unwrap();
    let flat = |w: Vec<(String, neuroglow_core::Tensor)>| w.into_iter().flat_map(|(_, t)| t.data).collect::<Vec<_>>();
    let found = (history, flat(block_on(auto.weights()).unwrap()));
    common::assert_same_training(&(expected, flat(block_on(reference.weights()).unwrap())), &found);
}
