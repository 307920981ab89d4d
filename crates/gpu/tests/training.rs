//! Whole models on the GPU (natively; lavapipe in CI): the same seeded
//! training run gives the CPU's loss curve and weights, GPU memory stays flat
//! over ten thousand steps, and a lost device is a clear error, not a panic.

mod common;

use neuroglow_core::determinism::{reference_data, REFERENCE_SPEC};

use neuroglow_core::data::{synthetic, Dataset};
use std::ops::ControlFlow;

use neuroglow_core::{Backend, CpuBackend, FitOptions, Model, ModelSpec, Progress};
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

const MLP_SPEC: &str = r#"{"input_shape": [2], "seed": 5, "loss": "sparse_categorical_crossentropy",
    "optimizer": {"type": "sgd", "learning_rate": 0.1, "momentum": 0.9},
    "layers": [
        {"type": "dense", "units": 16, "activation": "relu"},
        {"type": "dense", "units": 16, "activation": "tanh"},
        {"type": "dense", "units": 2, "activation": "softmax"}]}"#;

#[test]
fn mlp_with_softmax_and_momentum_trains_as_on_the_cpu() {
    let data = synthetic::xor(200, 0.1, 4);
    let cpu = block_on(common::train(MLP_SPEC, &data, CpuBackend::new()));
    let gpu = block_on(common::train(MLP_SPEC, &data, gpu()));
    common::assert_same_training(&cpu, &gpu);
}

/// The GPU objects wgpu holds alive and the device memory they take, as wgpu
/// counts them once the queue is idle (so what it frees after a submission
/// is gone). Backends without an allocator report (GL) give no bytes.
#[derive(Debug, PartialEq)]
struct LiveGpuObjects {
    buffers: isize,
    bind_groups: isize,
    allocated_bytes: Option<u64>,
}

fn live_gpu_objects(device: &wgpu::Device) -> LiveGpuObjects {
    device.poll(wgpu::PollType::wait_indefinitely()).expect("the device is alive");
    let hal = device.get_internal_counters().hal;
    LiveGpuObjects {
        buffers: hal.buffers.read(),
        bind_groups: hal.bind_groups.read(),
        allocated_bytes: device.generate_allocator_report().map(|report| report.total_allocated_bytes),
    }
}

/// Trains a model for one epoch, which creates all its steps need, then for
/// ten thousand steps more, and checks that those left no GPU object behind.
fn assert_gpu_memory_flat(spec: &str, data: &Dataset, batch_size: usize) {
    const STEPS: usize = 10_000;
    let mut model = Model::new(ModelSpec::from_json(spec).unwrap(), gpu()).unwrap();
    // Metrics read once an epoch, as the playground's lab does: steps queue up.
    let options = |epochs| FitOptions {
        epochs,
        batch_size,
        validation_split: 0.25,
        readback_every: usize::MAX,
        ..FitOptions::default()
    };
    let mut steps_per_epoch = 0;
    block_on(model.fit(data, None, &options(1), &mut |progress| {
        if let Progress::Batch(batch) = progress {
            steps_per_epoch = batch.batches;
        }
        ControlFlow::Continue(())
    }))
    .unwrap();
    let (buffers, bind_groups) = (model.backend().allocations(), model.backend().bind_groups_created());
    let live = live_gpu_objects(model.backend().device());
    assert!(live.buffers > 0, "wgpu counts no buffers: is its `counters` feature on? {live:?}");

    let mut steps_done = 0;
    block_on(model.fit(data, None, &options(STEPS.div_ceil(steps_per_epoch)), &mut |progress| {
        steps_done += matches!(progress, Progress::Batch(_)) as usize;
        ControlFlow::Continue(())
    }))
    .unwrap();
    assert!(steps_done >= STEPS, "{steps_done} steps");
    assert_eq!(model.backend().allocations(), buffers, "{steps_done} training steps created GPU buffers");
    assert_eq!(model.backend().bind_groups_created(), bind_groups, "{steps_done} training steps created bind groups");
    let device = model.backend().device();
    assert_eq!(live_gpu_objects(device), live, "wgpu holds more GPU objects after {steps_done} steps");
    // wgpu pools command encoders: as many as submissions were ever in flight
    // at once, which the readback after each epoch bounds.
    let encoders = device.get_internal_counters().hal.command_encoders.read();
    assert!(encoders <= steps_per_epoch as isize + 4, "{encoders} command encoders after {steps_done} steps");
}

#[test]
fn mlp_gpu_memory_stays_flat_over_ten_thousand_steps() {
    assert_gpu_memory_flat(MLP_SPEC, &synthetic::xor(200, 0.1, 4), 10);
}

#[test]
fn lstm_gpu_memory_stays_flat_over_ten_thousand_steps() {
    assert_gpu_memory_flat(REFERENCE_SPEC, &reference_data(), 4);
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
