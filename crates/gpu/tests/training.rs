//! Whole models on the GPU (natively; lavapipe in CI): the same seeded
//! training run gives the CPU's loss curve and weights, and a lost device is
//! a clear error, not a panic.

mod common;

use neuroglow_core::determinism::{reference_data, REFERENCE_SPEC};

use neuroglow_core::data::synthetic;
use std::ops::ControlFlow;

use neuroglow_core::{Backend, CpuBackend, FitOptions, Model, ModelSpec};
use neuroglow_gpu::GpuBackend;
use pollster::block_on;

fn gpu() -> GpuBackend {
    block_on(GpuBackend::new())
        .unwrap_or_else(|e| panic!("{e}; install Mesa's Vulkan drivers (`apt-get install mesa-vulkan-drivers`)"))
}

#[test]
fn lstm_with_masking_dropout_and_regularization_trains_as_on_the_cpu() {
    let data = reference_data();
    let cpu = block_on(common::train(REFERENCE_SPEC, &data, CpuBackend::new()));
    let gpu = block_on(common::train(REFERENCE_SPEC, &data, gpu()));
    common::assert_same_training(&cpu, &gpu);
}

#[test]
fn mlp_with_softmax_and_momentum_trains_as_on_the_cpu() {
    let spec = r#"{"input_shape": [2], "seed": 5, "loss": "sparse_categorical_crossentropy",
        "optimizer": {"type": "sgd", "learning_rate": 0.1, "momentum": 0.9},
        "layers": [
            {"type": "dense", "units": 16, "activation": "relu"},
            {"type": "dense", "units": 16, "activation": "tanh"},
            {"type": "dense", "units": 2, "activation": "softmax"}]}"#;
    let data = synthetic::xor(200, 0.1, 4);
    let cpu = block_on(common::train(spec, &data, CpuBackend::new()));
    let gpu = block_on(common::train(spec, &data, gpu()));
    common::assert_same_training(&cpu, &gpu);
}

#[test]
fn gpu_memory_stays_flat_over_many_steps() {
    let mut model = Model::new(ModelSpec::from_json(REFERENCE_SPEC).unwrap(), gpu()).unwrap();
    let data = reference_data();
    let options = |epochs| FitOptions { epochs, batch_size: 16, validation_split: 0.25, ..FitOptions::default() };
    block_on(model.fit(&data, None, &options(1), &mut |_| ControlFlow::Continue(()))).unwrap();
    let (buffers, bind_groups) = (model.backend().allocations(), model.backend().bind_groups_created());
    block_on(model.fit(&data, None, &options(40), &mut |_| ControlFlow::Continue(()))).unwrap();
    assert_eq!(model.backend().allocations(), buffers, "120 more training steps created GPU buffers");
    assert_eq!(model.backend().bind_groups_created(), bind_groups, "120 more training steps created bind groups");
}

#[test]
fn pipelines_are_compiled_once_per_device() {
    let data = reference_data();
    let options = FitOptions { epochs: 1, batch_size: 16, ..FitOptions::default() };
    let train = |backend: GpuBackend| {
        let mut model = Model::new(ModelSpec::from_json(REFERENCE_SPEC).unwrap(), backend).unwrap();
        block_on(model.fit(&data, None, &options, &mut |_| ControlFlow::Continue(()))).unwrap();
        model.backend().compiled_kernels()
    };
    let first = train(gpu());
    assert!(first > 0);
    assert_eq!(train(gpu()), first, "training the same model on a second backend compiled pipelines again");
    neuroglow_gpu::forget_compiled_kernels();
    let cold = gpu();
    assert_eq!(cold.compiled_kernels(), 0, "forgotten pipelines were handed out");
    assert_eq!(train(cold), first);
}

#[test]
fn a_lost_device_is_reported_at_the_next_read() {
    let mut backend = gpu();
    let buffer = backend.alloc(4);
    backend.device().destroy();
    let error = block_on(backend.read(&buffer, 4)).unwrap_err().to_string();
    assert!(error.contains("lost"), "{error}");
}

#[test]
fn backends_share_one_device_and_a_lost_one_is_replaced() {
    let (mut first, second) = (gpu(), gpu());
    assert!(first.device() == second.device(), "the second backend opened a device of its own");
    let buffer = first.alloc(4);
    first.device().destroy();
    assert!(block_on(first.read(&buffer, 4)).is_err());
    // The lost device is not handed out again: a fresh one works.
    let mut fresh = gpu();
    let mut buffer = fresh.alloc(2);
    fresh.write(&mut buffer, &[1.5, -2.0]);
    assert_eq!(block_on(fresh.read(&buffer, 2)).unwrap(), [1.5, -2.0]);
}
