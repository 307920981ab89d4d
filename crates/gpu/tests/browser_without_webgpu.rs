//! Runs in headless Chromium started *without* `--enable-unsafe-webgpu`, so
//! `navigator.gpu` offers no adapter: the model must say so and train on the
//! CPU instead. `cargo xtask test` runs it with that browser.
#![cfg(target_arch = "wasm32")]

use std::ops::ControlFlow;

use neuroglow_core::determinism::{reference_data, REFERENCE_SPEC};
use neuroglow_core::{CpuBackend, FitOptions, Model, ModelSpec};
use neuroglow_gpu::{AutoModel, Engine};
use wasm_bindgen_test::{wasm_bindgen_test, wasm_bindgen_test_configure};

wasm_bindgen_test_configure!(run_in_browser);

#[wasm_bindgen_test]
async fn without_webgpu_the_model_trains_on_the_cpu_and_says_why() {
    let model = Model::new(ModelSpec::from_json(REFERENCE_SPEC).unwrap(), CpuBackend::new()).unwrap();
    let mut auto = AutoModel::new(model).await.unwrap();
    assert!(matches!(auto.engine(), Engine::Cpu(_)));
    let why = auto.fallback().expect("a reason");
    assert!(why.contains("no usable GPU"), "{why}");
    let options = FitOptions { epochs: 3, batch_size: 16, ..FitOptions::default() };
    let history = auto.fit(&reference_data(), None, &options, &mut |_| ControlFlow::Continue(())).await.unwrap();
    assert!(history.epochs[2].loss < history.epochs[0].loss);
}
