//! The reference workloads and a runner that times them on a backend. The
//! same code runs natively (`src/main.rs`) and in the browser (the exported
//! `bench` function, driven by `tests/bench/run.mjs`).

use neuroglow_core::{rng::Rng, Backend, Model, ModelSpec};

/// A model and the shape of the batches it trains on.
pub struct Workload {
    pub name: &'static str,
    pub spec: &'static str,
    pub batch: usize,
}

pub const WORKLOADS: [Workload; 4] = [
    Workload {
        name: "lstm_clf",
        batch: 32,
        spec: r#"{"input_shape": [100], "seed": 1, "loss": "binary_crossentropy", "optimizer": {"type": "adam"},
            "layers": [{"type": "embedding", "input_dim": 10000, "output_dim": 16},
                       {"type": "lstm", "units": 128},
                       {"type": "dense", "units": 1, "activation": "sigmoid"}]}"#,
    },
    Workload {
        name: "lstm_stack",
        batch: 32,
        spec: r#"{"input_shape": [64], "seed": 1, "loss": "categorical_crossentropy", "optimizer": {"type": "adam"},
            "layers": [{"type": "embedding", "input_dim": 96, "output_dim": 32},
                       {"type": "lstm", "units": 128, "return_sequences": true},
                       {"type": "lstm", "units": 128, "return_sequences": true},
                       {"type": "lstm", "units": 128},
                       {"type": "dense", "units": 96, "activation": "softmax"}]}"#,
    },
    Workload {
        name: "mlp_small",
        batch: 32,
        spec: r#"{"input_shape": [2], "seed": 1, "loss": "binary_crossentropy",
            "optimizer": {"type": "sgd", "learning_rate": 0.03},
            "layers": [{"type": "dense", "units": 8, "activation": "tanh"},
                       {"type": "dense", "units": 8, "activation": "tanh"},
                       {"type": "dense", "units": 1, "activation": "sigmoid"}]}"#,
    },
    Workload {
        name: "mlp_mnist",
        batch: 128,
        spec: r#"{"input_shape": [784], "seed": 1, "loss": "categorical_crossentropy", "optimizer": {"type": "adam"},
            "layers": [{"type": "dense", "units": 256, "activation": "relu"},
                       {"type": "dense", "units": 128, "activation": "relu"},
                       {"type": "dense", "units": 10, "activation": "softmax"}]}"#,
    },
];

/// Timings of one workload, in milliseconds.
#[derive(Debug, Clone, PartialEq)]
pub struct Timing {
    pub workload: &'static str,
    /// The first training step: buffer allocation (and, on a GPU, pipeline creation).
    pub first_step_ms: f64,
    /// Median of the timed steps after warm-up.
    pub step_ms: f64,
    /// Of those steps, the median time the host spent recording and
    /// sending the step before waiting for it: on a GPU, the floor of a step
    /// however fast the card (on the CPU backend, the whole step).
    pub record_ms: f64,
    /// Median latency of predicting one example.
    pub inference_ms: f64,
    pub steps: usize,
}

impl Timing {
    pub fn to_json(&self) -> String {
        serde_json::json!({
            "workload": self.workload,
            "first_step_ms": self.first_step_ms,
            "step_ms": self.step_ms,
            "record_ms": self.record_ms,
            "inference_ms": self.inference_ms,
            "steps": self.steps,
        })
        .to_string()
    }
}

/// Random inputs and one-hot (or 0/1) targets of the workload's shapes.
pub fn batch_data<B: Backend + 'static>(model: &Model<B>, batch: usize) -> (Vec<f32>, Vec<f32>) {
    let mut rng = Rng::new(42);
    let spec = model.spec();
    let vocab = spec.layers[0].kind.clone();
    let x_len = batch * model.input_shape().iter().product::<usize>();
    let x = match vocab {
        neuroglow_core::layers::LayerKind::Embedding { input_dim, .. } => {
            (0..x_len).map(|_| rng.below(input_dim) as f32).collect()
        }
        _ => (0..x_len).map(|_| rng.normal()).collect(),
    };
    let classes = *model.output_shape().last().expect("an output");
    let y = (0..batch)
        .flat_map(|_| {
            let hot = rng.below(classes.max(2));
            (0..classes).map(move |c| if classes == 1 { (hot == 1) as u8 as f32 } else { (c == hot) as u8 as f32 })
        })
        .collect();
    (x, y)
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// Times `steps` training steps (after `warmup`) and single-example inference.
pub async fn run<B: Backend + 'static>(
    workload: &Workload,
    backend: B,
    warmup: usize,
    steps: usize,
    now_ms: fn() -> f64,
) -> Result<Timing, String> {
    let spec = ModelSpec::from_json(workload.spec).map_err(|e| e.to_string())?;
    let mut model = Model::new(spec, backend).map_err(|e| e.to_string())?;
    let (x, y) = batch_data(&model, workload.batch);
    // A step's total time, and how much of it came before the wait.
    let step = async |model: &mut Model<B>| -> Result<(f64, f64), String> {
        let start = now_ms();
        model.train_on_batch(&x, &y, workload.batch);
        let recorded = now_ms();
        // Reading a metric waits until the step has really finished.
        model.read_metrics().await.map_err(|e| e.to_string())?;
        Ok((now_ms() - start, recorded - start))
    };
    let (first_step_ms, _) = step(&mut model).await?;
    for _ in 0..warmup {
        step(&mut model).await?;
    }
    let (mut times, mut recording) = (Vec::with_capacity(steps), Vec::with_capacity(steps));
    for _ in 0..steps {
        let (total, recorded) = step(&mut model).await?;
        times.push(total);
        recording.push(recorded);
    }
    let one = neuroglow_core::Tensor::new(
        std::iter::once(1).chain(model.input_shape().iter().copied()).collect(),
        x[..model.input_shape().iter().product()].to_vec(),
    )
    .map_err(|e| e.to_string())?;
    let mut latencies = Vec::new();
    for _ in 0..steps.max(5) {
        let start = now_ms();
        model.predict(&one, 1).await.map_err(|e| e.to_string())?;
        latencies.push(now_ms() - start);
    }
    Ok(Timing {
        workload: workload.name,
        first_step_ms,
        step_ms: median(times),
        record_ms: median(recording),
        inference_ms: median(latencies),
        steps,
    })
}

#[cfg(target_arch = "wasm32")]
mod browser {
    use wasm_bindgen::prelude::*;

    fn now_ms() -> f64 {
        web_sys::window().and_then(|w| w.performance()).map_or(0.0, |p| p.now())
    }

    /// Times workload `name` in this browser on `backend` ("cpu" or "webgpu");
    /// resolves to a JSON string.
    #[wasm_bindgen]
    pub async fn bench(name: String, backend: String, warmup: usize, steps: usize) -> Result<String, JsValue> {
        let workload =
            super::WORKLOADS.iter().find(|w| w.name == name).ok_or_else(|| JsValue::from_str("unknown workload"))?;
        let timing = match backend.as_str() {
            "cpu" => super::run(workload, neuroglow_core::CpuBackend::new(), warmup, steps, now_ms).await,
            "webgpu" => {
                // The first step is timed as on a fresh page, compiling every pipeline.
                neuroglow_gpu::forget_compiled_kernels();
                let gpu = neuroglow_gpu::GpuBackend::new().await.map_err(|e| JsValue::from_str(&e.to_string()))?;
                super::run(workload, gpu, warmup, steps, now_ms).await
            }
            other => return Err(JsValue::from_str(&format!("unknown backend {other}"))),
        };
        Ok(timing.map_err(|e| JsValue::from_str(&e))?.to_json())
    }
}
