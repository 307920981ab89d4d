//! Runs in headless Chromium with WebGPU on SwiftShader (through
//! `wasm-bindgen-test-runner` and chromedriver; `cargo xtask test` sets it
//! up): the WGSL kernels train an LSTM in the browser exactly as the CPU
//! does, and the fastest matmul kernel is available.
#![cfg(target_arch = "wasm32")]

mod common;

use neuroglow_core::determinism::{reference_data, REFERENCE_SPEC};

use neuroglow_core::{Backend, CpuBackend};
use neuroglow_gpu::GpuBackend;
use wasm_bindgen_test::{wasm_bindgen_test, wasm_bindgen_test_configure};

wasm_bindgen_test_configure!(run_in_browser);

#[wasm_bindgen_test]
async fn webgpu_trains_an_lstm_as_the_cpu_does() {
    let gpu = GpuBackend::new().await.expect("Chromium started with --enable-unsafe-webgpu offers an adapter");
    let data = reference_data();
    let cpu = common::train(REFERENCE_SPEC, &data, CpuBackend::new()).await;
    let gpu = common::train(REFERENCE_SPEC, &data, gpu).await;
    common::assert_same_training(&cpu, &gpu);
}

/// The benchmark's speed on Chromium rests on this: its WebGPU offers
/// subgroups, `enable subgroups;` reaches its compiler, and its quads are
/// the invocations `matmul_quad.wgsl` assumes (the probe at device open).
/// The parity suite then checks the quad kernels' results.
#[wasm_bindgen_test]
async fn chromium_webgpu_runs_the_quad_kernels() {
    let gpu = GpuBackend::new().await.expect("Chromium started with --enable-unsafe-webgpu offers an adapter");
    assert!(gpu.quad_kernels(), "the quad probe failed on {}", gpu.name());
}
