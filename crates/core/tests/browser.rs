//! Runs in headless Chromium (through `wasm-bindgen-test-runner` and
//! chromedriver): the shipped BERT `tokenizer.json` must give the browser the
//! same ids as natively for every sentence of the shipped sentiment data.
//! `cargo xtask test` computes the native fingerprint and passes it in at
//! compile time.
#![cfg(target_arch = "wasm32")]

use wasm_bindgen_test::{wasm_bindgen_test, wasm_bindgen_test_configure};

wasm_bindgen_test_configure!(run_in_browser);

const TOKENIZER: &[u8] = include_bytes!("../../../web/data/bert-uncased-tokenizer.json");
const SENTENCES: &str = include_str!("../../../web/data/sentiment.tsv");

#[wasm_bindgen_test]
fn hugging_face_tokenizer_matches_native_in_the_browser() {
    let rows = neuroglow_core::data::text::parse_labelled_lines(SENTENCES).unwrap();
    let texts: Vec<&str> = rows.iter().map(|(_, text)| text.as_str()).collect();
    assert_eq!(texts.len(), 3000);
    let native: u64 = env!("NEUROGLOW_NATIVE_TOKEN_FINGERPRINT").parse().unwrap();
    let browser = neuroglow_core::determinism::token_fingerprint(TOKENIZER, &texts).unwrap();
    assert_eq!(browser, native, "the browser tokenizes differently from native");
}
