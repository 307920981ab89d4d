//! Text models: encoders saved with the model, generation, fine-tuning a new head.

mod common;

use std::ops::ControlFlow;

use common::{block, model};
use neuroglow_core::data::text::{CharVocab, Side, TextEncoder, WordTokenizer};
use neuroglow_core::data::{synthetic, Dataset};
use neuroglow_core::generate::Sampling;
use neuroglow_core::{Activation, CpuBackend, FitOptions, LossKind, Model, Tensor};

fn fit(m: &mut Model<CpuBackend>, data: &Dataset, epochs: usize, batch_size: usize) {
    let options = FitOptions { epochs, batch_size, ..FitOptions::default() };
    block(m.fit(data, None, &options, &mut |_| ControlFlow::Continue(()))).unwrap();
}

#[test]
fn a_char_model_learns_a_pattern_and_generates_it() {
    let text = "abcd".repeat(60);
    let vocab = CharVocab::fit(&text).unwrap();
    let window = 6;
    let ids = vocab.encode(&text);
    // Every position's last 6 characters, the first ones padded in front
    // (masked), so that the model also learns to start a text.
    let n = ids.len() - 1;
    let x: Vec<f32> = (1..=n)
        .flat_map(|end| {
            let seen = &ids[end.saturating_sub(window)..end];
            std::iter::repeat_n(0.0, window - seen.len()).chain(seen.iter().map(|&id| id as f32))
        })
        .collect();
    let y: Vec<f32> = ids[1..].iter().map(|&id| id as f32).collect();
    let data = Dataset::new(Tensor::new(vec![n, window], x).unwrap(), Tensor::new(vec![n, 1], y).unwrap()).unwrap();
    let mut m = model(&format!(
        r#"{{"input_shape": [{window}], "seed": 3, "loss": "sparse_categorical_crossentropy",
            "optimizer": {{"type": "adam", "learning_rate": 0.02}},
            "layers": [{{"type": "embedding", "input_dim": {v}, "output_dim": 4, "mask_zero": true}},
                       {{"type": "lstm", "units": 12}},
                       {{"type": "dense", "units": {v}, "activation": "softmax"}}]}}"#,
        v = vocab.len()
    ));
    m.set_text_encoder(TextEncoder::Chars { vocab, maxlen: window }).unwrap();
    fit(&mut m, &data, 25, 16);
    // Within the text's first window, where the model was trained.
    let mut streamed = String::new();
    let greedy = Sampling { temperature: 0.0, ..Sampling::default() };
    let out = block(m.generate("c", 5, greedy, &mut |c| streamed.push(c))).unwrap();
    assert_eq!(out, "dabcd");
    assert_eq!(streamed, out, "every character is streamed as it is chosen");
    let saved = block(m.to_files()).unwrap();
    let mut loaded = Model::from_files(&saved.json, &saved.safetensors, CpuBackend::new()).unwrap();
    assert_eq!(
        block(loaded.generate("c", 5, greedy, &mut |_| ())).unwrap(),
        out,
        "the encoder is saved with the model"
    );
}

#[test]
fn word_models_encode_text_and_reject_empty_text() {
    let mut tokenizer = WordTokenizer::new(Some(50), Some("<OOV>"));
    tokenizer.fit(&["a wonderful film", "an awful film"]);
    let encoder = TextEncoder::Words { tokenizer, maxlen: 5, padding: Side::Pre, truncating: Side::Pre };
    let mut m = model(
        r#"{"input_shape": [5], "loss": "binary_crossentropy", "layers": [
            {"type": "embedding", "input_dim": 50, "output_dim": 3, "mask_zero": true},
            {"type": "lstm", "units": 2}, {"type": "dense", "units": 1, "activation": "sigmoid"}]}"#,
    );
    assert!(m.encode_texts(&["film"]).unwrap_err().to_string().contains("no text encoder"));
    m.set_text_encoder(encoder.clone()).unwrap();
    let x = m.encode_texts(&["A wonderful, wonderful film!", "unseen words"]).unwrap();
    assert_eq!(x.data, vec![0.0, 3.0, 4.0, 4.0, 2.0, 0.0, 0.0, 0.0, 1.0, 1.0]);
    assert_eq!(m.encode_texts(&["fine", "  "]).unwrap_err().to_string(), "text 2 is empty; type some words first");
    let TextEncoder::Words { tokenizer, .. } = encoder else { unreachable!() };
    let mismatched = TextEncoder::Words { tokenizer, maxlen: 7, padding: Side::Pre, truncating: Side::Pre };
    assert!(m.set_text_encoder(mismatched).unwrap_err().to_string().contains("sequences of 7 ids"));
}

#[test]
fn a_new_head_learns_while_the_frozen_body_stays_bit_identical() {
    let data = synthetic::circle(300, 0.0, 5);
    let mut base = model(
        r#"{"input_shape": [2], "seed": 2, "loss": "binary_crossentropy", "optimizer": {"type": "adam", "learning_rate": 0.03},
            "layers": [{"type": "dense", "units": 8, "activation": "tanh"},
                       {"type": "dense", "units": 8, "activation": "tanh"},
                       {"type": "dense", "units": 1, "activation": "sigmoid"}]}"#,
    );
    fit(&mut base, &data, 20, 16);
    let mut tuned = block(base.with_new_head(2, Activation::Softmax, LossKind::SparseCategoricalCrossentropy)).unwrap();
    assert_eq!(tuned.output_shape(), [2]);
    tuned.set_trainable("dense", false).unwrap();
    tuned.set_trainable("dense_1", false).unwrap();
    let before = block(tuned.weights()).unwrap();
    fit(&mut tuned, &data, 15, 16);
    let after = block(tuned.weights()).unwrap();
    for ((name, b), (_, a)) in before.iter().zip(&after) {
        if name.starts_with("head/") {
            assert_ne!(a, b, "{name} did not learn");
        } else {
            assert_eq!(a, b, "{name} changed while frozen");
        }
    }
    let accuracy = block(tuned.evaluate(&data, 64)).unwrap().accuracy.unwrap();
    assert!(accuracy >= 0.95, "the new head reached only {accuracy}");
}
