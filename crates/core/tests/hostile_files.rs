//! Model files and inputs written by someone else: every size, structure and
//! number is checked before it reaches an allocator or a kernel, and each
//! refusal says what is wrong, where, and what to do.

mod common;

use std::ops::ControlFlow;

use common::{block, model};
use neuroglow_core::data::text::{CharVocab, TextEncoder};
use neuroglow_core::data::Dataset;
use neuroglow_core::generate::{Generation, Sampling};
use neuroglow_core::{io, CpuBackend, Error, FitOptions, Model, ModelSpec, Tensor};

fn load_error(json: &str) -> String {
    match ModelSpec::from_json(json).and_then(|spec| Model::new(spec, CpuBackend::new())) {
        Ok(_) => panic!("{json} loaded"),
        Err(e) => e.to_string(),
    }
}

fn spec(input_shape: &str, layers: &str, loss: &str) -> String {
    format!(r#"{{"input_shape": {input_shape}, "loss": "{loss}", "layers": [{layers}]}}"#)
}

#[test]
fn an_embedding_after_another_layer_is_refused_at_load() {
    // This stack used to load and then panic on its first prediction.
    let json = spec(
        "[4]",
        r#"{"type": "dense", "units": 6}, {"type": "embedding", "input_dim": 9, "output_dim": 3, "mask_zero": true},
           {"type": "lstm", "units": 2}, {"type": "dense", "units": 1, "activation": "sigmoid"}"#,
        "binary_crossentropy",
    );
    let error = load_error(&json);
    assert!(error.contains("layer 1 (`embedding`)") && error.contains("must be the model's first layer"), "{error}");
}

#[test]
fn sizes_that_would_exhaust_memory_are_refused_before_allocating() {
    let cases = [
        (spec("[2]", r#"{"type": "dense", "units": 2000000000}"#, "mean_squared_error"), "max_parameters"),
        (
            spec("[5]", r#"{"type": "embedding", "input_dim": 1000000000, "output_dim": 2}"#, "mean_squared_error"),
            "max_vocabulary",
        ),
        (
            spec("[5]", r#"{"type": "embedding", "input_dim": 10, "output_dim": 1000000000}"#, "mean_squared_error"),
            "max_parameters",
        ),
        (
            spec("[100000000]", r#"{"type": "embedding", "input_dim": 10, "output_dim": 2}"#, "mean_squared_error"),
            "max_sequence_length",
        ),
        (spec("[100000000]", r#"{"type": "dropout", "rate": 0.5}"#, "mean_squared_error"), "max_batch_activations"),
        (
            spec(
                "[5]",
                r#"{"type": "embedding", "input_dim": 10, "output_dim": 2}, {"type": "lstm", "units": 1073741824}"#,
                "mean_squared_error",
            ),
            "max_parameters",
        ),
        (spec("[4611686018427387904, 8]", r#"{"type": "dense", "units": 1}"#, "mean_squared_error"), "overflows"),
    ];
    for (json, limit) in cases {
        let error = load_error(&json);
        assert!(error.contains(limit), "{json}: {error}");
    }
}

#[test]
fn a_wrong_weights_file_for_a_large_lstm_is_reported_without_initializing() {
    // LSTM(2048): Keras's orthogonal initializer takes about a minute here.
    let json = spec(
        "[8]",
        r#"{"type": "embedding", "input_dim": 10, "output_dim": 4}, {"type": "lstm", "units": 2048}"#,
        "mean_squared_error",
    );
    let wrong = io::encode_weights(&[("lstm/kernel".into(), Tensor::zeros(vec![4, 8]))]).unwrap();
    let started = std::time::Instant::now();
    let error = Model::from_files(&json, &wrong, CpuBackend::new()).err().unwrap();
    assert!(matches!(error, Error::ShapeMismatch { .. } | Error::MissingTensor { .. }), "{error}");
    assert!(started.elapsed().as_secs() < 5, "took {:?}", started.elapsed());
}

#[test]
fn non_finite_weights_name_the_tensor_and_index() {
    let json = spec("[2]", r#"{"type": "dense", "units": 3}"#, "mean_squared_error");
    let mut original = model(&json);
    let mut weights = block(original.weights()).unwrap();
    weights[0].1.data[4] = f32::NAN;
    let bytes = io::encode_weights(&weights).unwrap();
    let error = Model::from_files(&json, &bytes, CpuBackend::new()).err().unwrap();
    assert!(
        matches!(&error, Error::NonFiniteWeight { name, index: 4, value } if name == "dense/kernel" && value.is_nan())
    );
    assert!(error.to_string().contains("`dense/kernel` has NaN at index 4"), "{error}");
    weights[0].1.data[4] = f32::INFINITY;
    assert!(matches!(original.set_weights(&weights), Err(Error::NonFiniteWeight { index: 4, .. })));
}

#[test]
fn settings_must_be_finite_and_in_range() {
    let adam = |rate: &str| {
        format!(
            r#"{{"input_shape": [2], "loss": "mean_squared_error", "layers": [{{"type": "dense", "units": 1}}],
                "optimizer": {{"type": "adam", "learning_rate": {rate}}}}}"#
        )
    };
    assert!(load_error(&adam("1e39")).contains("`learning_rate` is inf"), "{}", load_error(&adam("1e39")));
    assert!(load_error(&adam("-0.1")).contains("greater than 0"));
    let mut m = model(&adam("0.01"));
    for bad in [f32::NAN, f32::INFINITY, 0.0, -1.0] {
        assert!(m.set_learning_rate(bad).is_err(), "{bad} accepted");
    }
    assert_eq!(m.learning_rate(), 0.01);
    let json = m.spec().to_json();
    assert!(!json.contains("null"), "{json}");
    let dropout =
        spec("[2]", r#"{"type": "dropout", "rate": 1e39}, {"type": "dense", "units": 1}"#, "mean_squared_error");
    assert!(load_error(&dropout).contains("dropout rate must be in [0, 1)"));
    let normalizer = r#"{"input_shape": [2], "loss": "mean_squared_error", "layers": [{"type": "dense", "units": 1}],
        "preprocessing": [{"type": "z_score", "mean": [0, 1], "std": [1, 0]}]}"#;
    assert!(load_error(normalizer).contains("preprocessing[0].std[1] is 0"), "{}", load_error(normalizer));
}

#[test]
fn divergence_in_the_last_update_of_an_epoch_restores_the_last_good_weights() {
    // One batch per epoch: the loss is measured before the update, so only
    // a check of the weights after it can catch an update that overflows.
    let json = r#"{"input_shape": [2], "loss": "mean_squared_error", "seed": 3,
        "optimizer": {"type": "sgd", "learning_rate": 3e38}, "layers": [{"type": "dense", "units": 1}]}"#;
    let mut m = model(json);
    let before = block(m.weights()).unwrap();
    let x = Tensor::new(vec![4, 2], vec![3.0, -2.0, 1.0, 4.0, -3.0, 2.0, 5.0, 1.0]).unwrap();
    let data = Dataset::new(x, Tensor::new(vec![4, 1], vec![10.0, -9.0, 8.0, -7.0]).unwrap()).unwrap();
    let options = FitOptions { epochs: 3, batch_size: 4, shuffle: false, ..FitOptions::default() };
    let result = block(m.fit(&data, None, &options, &mut |_| ControlFlow::Continue(())));
    assert!(matches!(result, Err(Error::NonFiniteLoss { epoch: 1, .. })), "{result:?}");
    assert_eq!(block(m.weights()).unwrap(), before, "the weights before the bad update are back");
}

#[test]
fn labels_the_loss_cannot_take_name_the_row() {
    let json = spec("[1]", r#"{"type": "dense", "units": 1, "activation": "sigmoid"}"#, "binary_crossentropy");
    let mut m = model(&json);
    let data = Dataset::new(
        Tensor::new(vec![3, 1], vec![0.5, 1.0, 2.0]).unwrap(),
        Tensor::new(vec![3, 1], vec![1.0, 5.0, -3.0]).unwrap(),
    )
    .unwrap();
    let error = block(m.fit(&data, None, &FitOptions::default(), &mut |_| ControlFlow::Continue(()))).unwrap_err();
    assert!(error.to_string().contains("row 2) is 5") && error.to_string().contains("from 0 to 1"), "{error}");
}

#[test]
fn a_validation_split_outside_zero_to_one_is_an_error() {
    let json = spec("[1]", r#"{"type": "dense", "units": 1}"#, "mean_squared_error");
    let mut m = model(&json);
    let data = Dataset::new(Tensor::zeros(vec![4, 1]), Tensor::zeros(vec![4, 1])).unwrap();
    for split in [-0.5, f32::NAN, 1.0, 3.0] {
        let options = FitOptions { validation_split: split, ..FitOptions::default() };
        let error = block(m.fit(&data, None, &options, &mut |_| ControlFlow::Continue(()))).unwrap_err();
        assert!(error.to_string().contains("validation split"), "{split}: {error}");
    }
}

fn char_model(chars: &str, units: usize) -> String {
    let chars: Vec<String> = chars.chars().map(|c| format!("{:?}", c.to_string())).collect();
    format!(
        r#"{{"input_shape": [4], "loss": "sparse_categorical_crossentropy",
            "layers": [{{"type": "embedding", "input_dim": 4, "output_dim": 2, "mask_zero": true}},
                       {{"type": "lstm", "units": 2}}, {{"type": "dense", "units": {units}, "activation": "softmax"}}],
            "text_encoder": {{"type": "chars", "vocab": {{"chars": [{}]}}, "maxlen": 4}}}}"#,
        chars.join(", ")
    )
}

#[test]
fn a_character_vocabulary_must_be_sorted_unique_and_match_the_output() {
    assert!(ModelSpec::from_json(&char_model("abc", 4)).and_then(|s| Model::new(s, CpuBackend::new())).is_ok());
    assert!(load_error(&char_model("bac", 4)).contains("out of order"), "{}", load_error(&char_model("bac", 4)));
    assert!(load_error(&char_model("aab", 4)).contains("repeats"));
    assert!(load_error(&char_model("abc", 3)).contains("one unit per id"), "{}", load_error(&char_model("abc", 3)));
    let long_maxlen = char_model("abc", 4).replace("\"maxlen\": 4", "\"maxlen\": 100000000");
    assert!(load_error(&long_maxlen).contains("maxlen"), "{}", load_error(&long_maxlen));
}

#[test]
fn generation_refuses_a_temperature_that_is_not_a_number() {
    let m = model(&char_model("abc", 4));
    for temperature in [f32::NAN, f32::INFINITY, -1.0] {
        let error = Generation::start(&m, "ab", Sampling { temperature, ..Sampling::default() }).err().unwrap();
        assert!(error.to_string().contains("temperature"), "{error}");
    }
    assert!(
        matches!(&m.spec().text_encoder, Some(TextEncoder::Chars { vocab, .. }) if *vocab == CharVocab::fit("cab").unwrap())
    );
}

#[test]
fn a_model_whose_outputs_overflow_fails_its_trial_prediction() {
    let json = spec("[2]", r#"{"type": "dense", "units": 1}, {"type": "dense", "units": 1}"#, "mean_squared_error");
    let mut m = model(&json);
    block(m.trial_prediction()).unwrap();
    let mut weights = block(m.weights()).unwrap();
    weights.iter_mut().find(|(n, _)| n == "dense/bias").unwrap().1.data[0] = 3e38;
    weights.iter_mut().find(|(n, _)| n == "dense_1/kernel").unwrap().1.data[0] = 10.0;
    m.set_weights(&weights).unwrap();
    let error = block(m.trial_prediction()).unwrap_err().to_string();
    assert!(error.contains("trial prediction gave inf"), "{error}");
}
