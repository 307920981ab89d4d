//! The four reference models of the benchmark (the Keras classics at full
//! size), seeded training steps on the CPU and the GPU: the loss curves and
//! final weights agree within float tolerance. 20 steps for the MLPs; the
//! LSTMs take 4–10 s per step on lavapipe (a GPU emulated on 2 CPU cores), so
//! CI runs 3 of theirs; `NEUROGLOW_PARITY_STEPS=20` runs them all in full.

use neuroglow_bench::{batch_data, WORKLOADS};
use neuroglow_core::{Backend, CpuBackend, Model, ModelSpec};
use neuroglow_gpu::GpuBackend;
use pollster::block_on;

const STEPS: usize = 20;
const LSTM_STEPS_IN_CI: usize = 3;
/// Relative tolerance on each step's loss, and absolute on every weight.
/// Float sums in another order drift a little over 20 Adam steps.
const LOSS_TOLERANCE: f32 = 2e-3;
const WEIGHT_TOLERANCE: f32 = 2e-3;

/// The loss after each of `steps` steps on one fixed batch, and the final weights.
fn train<B: Backend + 'static>(spec: &str, batch: usize, steps: usize, backend: B) -> (Vec<f32>, Vec<f32>) {
    let mut model = Model::new(ModelSpec::from_json(spec).unwrap(), backend).unwrap();
    let (x, y) = batch_data(&model, batch);
    let losses = (0..steps)
        .map(|_| {
            model.reset_metrics();
            model.train_on_batch(&x, &y, batch);
            block_on(model.read_metrics()).unwrap().loss
        })
        .collect();
    let weights = block_on(model.weights()).unwrap().into_iter().flat_map(|(_, t)| t.data).collect();
    (losses, weights)
}

#[test]
fn reference_models_train_alike_on_cpu_and_gpu() {
    let lstm_steps = std::env::var("NEUROGLOW_PARITY_STEPS").ok().and_then(|s| s.parse().ok());
    for workload in &WORKLOADS {
        let steps = if workload.name.starts_with("lstm") { lstm_steps.unwrap_or(LSTM_STEPS_IN_CI) } else { STEPS };
        let gpu = block_on(GpuBackend::new()).expect("a GPU adapter (Mesa's lavapipe in CI)");
        let (cpu_losses, cpu_weights) = train(workload.spec, workload.batch, steps, CpuBackend::new());
        let (gpu_losses, gpu_weights) = train(workload.spec, workload.batch, steps, gpu);
        for (step, (c, g)) in cpu_losses.iter().zip(&gpu_losses).enumerate() {
            let off = (c - g).abs() / c.abs().max(1e-3);
            assert!(off < LOSS_TOLERANCE, "{}: step {step} loss CPU {c} GPU {g}", workload.name);
        }
        assert!(cpu_losses[steps - 1] < cpu_losses[0], "{} learns its batch", workload.name);
        let worst = cpu_weights.iter().zip(&gpu_weights).map(|(c, g)| (c - g).abs()).fold(0.0, f32::max);
        assert!(worst < WEIGHT_TOLERANCE, "{}: weights differ by up to {worst}", workload.name);
    }
}
