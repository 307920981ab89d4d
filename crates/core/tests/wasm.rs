//! Runs in wasm32 (under Node.js, through `wasm-bindgen-test-runner`): the
//! seeded reference run must give the same bytes as natively. `cargo xtask
//! test` computes the native fingerprint and passes it in at compile time.
#![cfg(target_arch = "wasm32")]

use wasm_bindgen_test::wasm_bindgen_test;

#[wasm_bindgen_test]
async fn seeded_training_matches_native_bit_for_bit() {
    let native: u64 = env!("NEUROGLOW_NATIVE_FINGERPRINT").parse().unwrap();
    let wasm = neuroglow_core::determinism::reference_fingerprint().await.unwrap();
    assert_eq!(wasm, native, "wasm32 training differs from native");
}

/// The loader's checks where `usize` has 32 bits: `4 · units` of an
/// LSTM(2³⁰) wraps to 0 there, so every size must be computed checked.
#[wasm_bindgen_test]
fn hostile_model_files_are_refused_in_wasm32() {
    use neuroglow_core::{io, CpuBackend, Model, ModelSpec, Tensor};
    let refused = |layers: &str, expected: &str| {
        let json = format!(r#"{{"input_shape": [5], "loss": "mean_squared_error", "layers": [{layers}]}}"#);
        let error = ModelSpec::from_json(&json).and_then(|s| Model::new(s, CpuBackend::new())).err().unwrap();
        assert!(error.to_string().contains(expected), "{layers}: {error}");
    };
    let embedding = r#"{"type": "embedding", "input_dim": 10, "output_dim": 2}"#;
    refused(&format!(r#"{embedding}, {{"type": "lstm", "units": 1073741824}}"#), "max_parameters");
    refused(r#"{"type": "dense", "units": 2000000000}"#, "max_parameters");
    refused(r#"{"type": "embedding", "input_dim": 1000000000, "output_dim": 2}"#, "max_vocabulary");
    refused(&format!(r#"{{"type": "dense", "units": 3}}, {embedding}"#), "must be the model's first layer");
    refused(&format!(r#"{embedding}, {{"type": "lstm", "units": 2, "go_backwards": true}}"#), "does not support");

    let json = r#"{"input_shape": [2], "loss": "mean_squared_error", "layers": [{"type": "dense", "units": 1}]}"#;
    let nan = io::encode_weights(&[
        ("dense/kernel".into(), Tensor::new(vec![2, 1], vec![0.5, f32::NAN]).unwrap()),
        ("dense/bias".into(), Tensor::zeros(vec![1])),
    ])
    .unwrap();
    let error = Model::from_files(json, &nan, CpuBackend::new()).err().unwrap().to_string();
    assert!(error.contains("`dense/kernel` has NaN at index 1"), "{error}");
}
