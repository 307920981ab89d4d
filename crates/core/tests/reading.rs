//! Reading a text word by word in one pass gives what scoring each prefix
//! alone gives.

mod common;

use common::block;
use neuroglow_core::data::text::TextEncoder;
use neuroglow_core::reading::outputs_after_each_word;
use neuroglow_core::{CpuBackend, Model};

const JSON: &str = include_str!("../../../web/models/sentiment-lstm/model.json");
const WEIGHTS: &[u8] = include_bytes!("../../../web/models/sentiment-lstm/model.safetensors");

/// The old way: every prefix encoded and scored on its own.
fn each_prefix(model: &mut Model<CpuBackend>, words: &[String]) -> Vec<f32> {
    let prefixes: Vec<String> = (1..=words.len()).map(|k| words[..k].join(" ")).collect();
    let prefixes: Vec<&str> = prefixes.iter().map(String::as_str).collect();
    block(model.predict(&model.encode_texts(&prefixes).unwrap(), 16)).unwrap().data
}

fn words_of(model: &Model<CpuBackend>, text: &str) -> Vec<String> {
    let Some(TextEncoder::Words { tokenizer, .. }) = &model.spec().text_encoder else { unreachable!() };
    tokenizer.split(text)
}

fn check(json: &str, text: &str) {
    let mut model = Model::from_files(json, WEIGHTS, CpuBackend::new()).unwrap();
    let words = words_of(&model, text);
    let expected = each_prefix(&mut model, &words);
    let read: Vec<f32> =
        block(outputs_after_each_word(&mut model, &words)).unwrap().into_iter().map(|o| o[0]).collect();
    assert_eq!(read.len(), words.len());
    for (i, (a, b)) in read.iter().zip(&expected).enumerate() {
        assert!((a - b).abs() < 1e-6, "word {i} ({}): one pass {a}, alone {b}", words[i]);
    }
}

/// Longer than the model's 32-word window, with words it has never seen.
const TEXT: &str = "the staff were kind and the food was wonderful but the wait was long and the room was cold \
    and the zyxqwv menu was confusing; still, I would go back again for the bread, the soup and the view, \
    which were all lovely, and the blorfic prices were fair";

#[test]
fn one_pass_matches_each_prefix_read_alone() {
    check(JSON, TEXT);
}

#[test]
fn one_pass_matches_with_truncation_in_front_and_without_an_unknown_token() {
    let pre = JSON.replace("\"truncating\": \"post\"", "\"truncating\": \"pre\"");
    assert_ne!(pre, JSON);
    check(&pre, TEXT);
    let no_oov = JSON.replace("\"oov_token\": \"<OOV>\"", "\"oov_token\": null");
    assert_ne!(no_oov, JSON);
    check(&no_oov, &format!("zyxqwv {TEXT}"));
}
