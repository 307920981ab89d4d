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
