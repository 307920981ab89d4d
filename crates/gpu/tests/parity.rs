//! Every GPU kernel against the CPU backend (the reference, whose gradients
//! are checked against finite differences in neuroglow-core), on odd shapes
//! that straddle the kernels' tile and workgroup sizes. Natively this runs
//! on whatever adapter wgpu finds (Mesa's lavapipe in CI); compiled to wasm32
//! the same suite runs in headless Chromium on its WebGPU (SwiftShader).

#[cfg(target_arch = "wasm32")]
wasm_bindgen_test::wasm_bindgen_test_configure!(run_in_browser);

/// Each test is an `async fn`: a `#[test]` natively (blocking on it) and a
/// `#[wasm_bindgen_test]` in the browser (awaited, never blocking the page).
macro_rules! tests {
    ($(async fn $name:ident() $body:block)*) => {$(
        #[cfg(not(target_arch = "wasm32"))]
        #[test]
        fn $name() {
            pollster::block_on(async $body)
        }

        #[cfg(target_arch = "wasm32")]
        #[wasm_bindgen_test::wasm_bindgen_test]
        async fn $name() $body
    )*};
}

use neuroglow_core::backend::{
    metric_slot, AdamStep, LossOp, LstmBackward, LstmBuffers, LstmDims, LstmForward, LstmGrads, LstmWeights,
    MatmulSpec, Regularizer,
};
use neuroglow_core::rng::Rng;
use neuroglow_core::{Activation, Backend, CpuBackend, LossKind};
use neuroglow_gpu::GpuBackend;

/// The kernels to check: where the device runs the quad kernels, the plain
/// ones as well.
async fn quad_settings() -> Vec<bool> {
    if gpu().await.quad_kernels() {
        vec![true, false]
    } else {
        vec![false]
    }
}

async fn gpu() -> GpuBackend {
    GpuBackend::new()
        .await
        .unwrap_or_else(|e| panic!("{e}; install Mesa's Vulkan drivers (`apt-get install mesa-vulkan-drivers`)"))
}

fn random(len: usize, seed: u64) -> Vec<f32> {
    let mut rng = Rng::new(seed);
    (0..len).map(|_| rng.uniform_in(-1.0, 1.0)).collect()
}

/// Writes `inputs` into fresh buffers, adds zeroed buffers of `outputs`
/// lengths, runs `op` on all of them, and reads every buffer back.
async fn run<B: Backend>(
    backend: &mut B,
    inputs: &[Vec<f32>],
    outputs: &[usize],
    op: impl FnOnce(&mut B, &mut [B::Buffer]),
) -> Vec<Vec<f32>> {
    let mut buffers = Vec::new();
    for data in inputs {
        let mut buffer = backend.alloc(data.len());
        backend.write(&mut buffer, data);
        buffers.push(buffer);
    }
    buffers.extend(outputs.iter().map(|&len| backend.alloc(len)));
    op(backend, &mut buffers);
    backend.submit();
    let lens: Vec<usize> = inputs.iter().map(Vec::len).chain(outputs.iter().copied()).collect();
    let mut values = Vec::new();
    for (buffer, len) in buffers.iter().zip(lens) {
        values.push(backend.read(buffer, len).await.unwrap());
    }
    values
}

/// Runs the same operation on the CPU and the GPU and compares every buffer.
async fn same_on_both(
    gpu: &mut GpuBackend,
    what: &str,
    inputs: &[Vec<f32>],
    outputs: &[usize],
    tolerance: f32,
    op_cpu: impl FnOnce(&mut CpuBackend, &mut [Vec<f32>]),
    op_gpu: impl FnOnce(&mut GpuBackend, &mut [neuroglow_gpu::GpuBuffer]),
) {
    let expected = run(&mut CpuBackend::new(), inputs, outputs, op_cpu).await;
    let found = run(gpu, inputs, outputs, op_gpu).await;
    for (i, (e, f)) in expected.iter().zip(&found).enumerate() {
        assert_close(&format!("{what}, buffer {i}"), e, f, tolerance);
    }
}

fn assert_close(what: &str, expected: &[f32], found: &[f32], tolerance: f32) {
    assert_eq!(expected.len(), found.len(), "{what}: lengths");
    for (j, (e, f)) in expected.iter().zip(found).enumerate() {
        assert!((e - f).abs() <= tolerance * (1.0 + e.abs()), "{what}[{j}]: CPU {e}, GPU {f}");
    }
}

/// Both backends run one generic operation; `$op` is a closure taking
/// `(backend, buffers)` and is instantiated for each backend type. The GPU
/// backend is a fresh one unless given with `on` (a `&mut GpuBackend`).
macro_rules! parity {
    (on $gpu:expr; $what:expr, $inputs:expr, $outputs:expr, $tolerance:expr, |$b:ident, $bufs:ident| $body:block) => {
        same_on_both($gpu, $what, &$inputs, &$outputs, $tolerance, |$b, $bufs| $body, |$b, $bufs| $body).await
    };
    ($what:expr, $inputs:expr, $outputs:expr, $tolerance:expr, |$b:ident, $bufs:ident| $body:block) => {
        parity!(on &mut gpu().await; $what, $inputs, $outputs, $tolerance, |$b, $bufs| $body)
    };
}

tests! {
async fn matmul_with_every_transpose_and_accumulation() {
    // General kernel: (37, 70, 65), (130, 3, 2), and (1, 128, 512) for too
    // few outputs. Vec4 kernels (whole vec4 rows, 1,024 outputs or more):
    // the rest, with partial 64 × 64 tiles and partial 16 × 16 quad squares.
    let shapes = [(37, 70, 65), (1, 128, 512), (130, 3, 2), (36, 20, 44), (68, 12, 36), (132, 132, 72)];
    for quad in quad_settings().await {
        // One backend per kind of kernel: its pipelines are compiled once.
        let mut gpu = gpu().await;
        gpu.set_quad_kernels(quad);
        for (m, k, n) in shapes {
            for (ta, tb, acc) in [(false, false, false), (true, false, false), (false, true, true), (true, true, true)] {
                let mut spec = MatmulSpec::new(m, k, n);
                (spec.transpose_a, spec.transpose_b, spec.accumulate) = (ta, tb, acc);
                let inputs = [random(m * k, 1), random(k * n, 2), random(m * n, 3)];
                parity!(on &mut gpu; &format!("matmul {spec:?}, quad {quad}"), inputs, [], 1e-4, |b, x| {
                    let [a, bm, c] = x else { unreachable!() };
                    b.matmul(a, bm, c, spec);
                });
            }
        }
    }
}

async fn dense_activations_forward_and_backward() {
    let (rows, cols) = (67, 13);
    for activation in [Activation::Linear, Activation::Relu, Activation::Tanh, Activation::Sigmoid, Activation::Softmax]
    {
        let inputs =
            [random(rows * cols, 4).iter().map(|v| v * 6.0).collect(), random(cols, 5), random(rows * cols, 6)];
        parity!(&format!("{activation:?}"), inputs, [rows * cols], 1e-5, |b, x| {
            let [pre, bias, grad, out] = x else { unreachable!() };
            b.bias_activation(pre, Some(bias), out, rows, cols, activation);
            b.activation_backward(out, grad, rows, cols, activation);
        });
    }
    let inputs = [random(rows * cols, 7)];
    parity!("no bias", inputs, [rows * cols], 1e-5, |b, x| {
        let [pre, out] = x else { unreachable!() };
        b.bias_activation(pre, None, out, rows, cols, Activation::Tanh);
    });
}

async fn reductions_transposes_and_fills() {
    let (a, bb, f) = (9, 70, 5);
    parity!(
        "column sums, swap, fill, copy",
        [random(a * bb * f, 8)],
        [f * a, a * bb * f, 300, a * bb * f],
        1e-5,
        |b, x| {
            let [src, sums, swapped, filled, copied] = x else { unreachable!() };
            b.column_sums(src, sums, a * bb, f);
            b.swap_leading_axes(src, swapped, a, bb, f);
            b.fill(filled, 299, 2.5);
            b.copy(src, copied, a * bb * f);
        }
    );
}

async fn embedding_lookup_mask_and_scatter() {
    let (count, vocab, dim) = (300, 23, 7);
    let mut rng = Rng::new(9);
    // Repeated ids, padding 0, and ids outside the vocabulary.
    let ids: Vec<f32> = (0..count).map(|i| if i % 17 == 0 { 40.0 } else { rng.below(vocab) as f32 }).collect();
    let inputs = [ids, random(vocab * dim, 10), random(count * dim, 11)];
    parity!("embedding", inputs, [count * dim, count, vocab * dim], 1e-5, |b, x| {
        let [ids, table, grad_out, out, mask, grad_table] = x else { unreachable!() };
        b.embedding_forward(ids, table, out, Some(mask), count, vocab, dim);
        b.embedding_backward(ids, grad_out, grad_table, count, vocab, dim);
    });
}

async fn dropout_draws_the_same_mask() {
    let len = 1000;
    parity!("dropout", [random(len, 12)], [len], 1e-6, |b, x| {
        let [input, output] = x else { unreachable!() };
        b.dropout(input, output, len, 0.3, 77);
    });
}

async fn losses_gradients_and_metrics() {
    let (rows, cols) = (300, 5);
    let cases = [
        (LossKind::BinaryCrossentropy, Activation::Sigmoid),
        (LossKind::BinaryCrossentropy, Activation::Linear),
        (LossKind::CategoricalCrossentropy, Activation::Softmax),
        (LossKind::CategoricalCrossentropy, Activation::Relu),
        (LossKind::SparseCategoricalCrossentropy, Activation::Softmax),
        (LossKind::MeanSquaredError, Activation::Linear),
    ];
    for (kind, activation) in cases {
        let logits: Vec<f32> = random(rows * cols, 13).iter().map(|v| v * 4.0).collect();
        let mut cpu = CpuBackend::new();
        let mut output = cpu.alloc(rows * cols);
        cpu.bias_activation(&mut logits.clone(), None, &mut output, rows, cols, activation);
        let output: Vec<f32> = output.iter().map(|v| v.clamp(0.01, 0.99)).collect();
        let mut rng = Rng::new(14);
        let target: Vec<f32> = match kind {
            LossKind::SparseCategoricalCrossentropy => (0..rows).map(|_| rng.below(cols) as f32).collect(),
            LossKind::CategoricalCrossentropy => {
                (0..rows * cols).map(|i| (i % cols == (i / cols) % cols) as u8 as f32).collect()
            }
            _ => (0..rows * cols).map(|_| rng.below(2) as f32).collect(),
        };
        // Unmasked, then as 60 sequences of 5 steps with about a third of the
        // steps padding (and one whole sequence of it).
        let padding: Vec<f32> = (0..rows).map(|r| (r >= 5 && rng.below(3) != 0) as u8 as f32).collect();
        for (mask, examples) in [(None, rows), (Some(padding), rows / 5)] {
            let masked = mask.is_some();
            let inputs = [logits.clone(), output.clone(), target.clone(), vec![0.5, 1.0, 2.0, 3.0], mask.unwrap_or(vec![1.0; rows])];
            let name = format!("{kind:?} after {activation:?}, masked: {masked}");
            parity!(&name, inputs, [rows * cols], 1e-4, |b, x| {
                let [logits, output, target, metrics, mask, grad] = x else { unreachable!() };
                let mask = masked.then_some(&*mask);
                // Twice, to check that metrics accumulate.
                for _ in 0..2 {
                    b.loss(LossOp { kind, activation, logits, output, target, grad, metrics, rows, cols, mask, examples });
                }
            });
        }
    }
}

async fn regularization_clipping_and_optimizers() {
    let len = 1500;
    let inputs = [random(len, 15), random(len, 16), random(len, 17), random(len, 18).iter().map(|v| v.abs()).collect()];
    let regularizer = Regularizer { l1: 0.01, l2: 0.02 };
    let adam = AdamStep { step_size: 0.01, beta_1: 0.9, beta_2: 0.999, epsilon: 1e-7 };
    parity!("optimizers", inputs, [metric_slot::LEN, 70], 1e-5, |b, x| {
        let [weights, grad, m, v, metrics, small] = x else { unreachable!() };
        b.regularize(weights, grad, metrics, len, regularizer, 32);
        b.fill(small, 70, 0.01);
        b.clip_by_global_norm(&mut [(&mut *grad, len), (&mut *small, 70)], 1.0);
        b.sgd_update(weights, grad, None, len, 0.1, 0.0);
        b.sgd_update(weights, grad, Some(m), len, 0.1, 0.9);
        b.adam_update(weights, grad, m, v, len, adam);
    });
}

async fn lstm_forward_and_backward_through_time() {
    // Odd sizes, the degenerate batch 1 of one step, blocks of four
    // examples × four units with a partial last block, and quads of
    // sixteen examples with a partial last quad.
    let cases = [(5, 7, 6, 9), (1, 1, 3, 4), (3, 6, 5, 8), (6, 4, 4, 12), (18, 3, 4, 8)]
        .map(|(batch, time, input, units)| LstmDims { batch, time, input, units });
    let flags = [(false, true), (true, false), (true, true)];
    for quad in quad_settings().await {
        // One backend per kind of kernel: its pipelines are compiled once.
        let mut gpu = gpu().await;
        gpu.set_quad_kernels(quad);
        for (d, (return_sequences, masked)) in cases.iter().flat_map(|&d| flags.map(|f| (d, f))) {
            let g4 = 4 * d.units;
            let out_len = if return_sequences { d.batch * d.time * d.units } else { d.batch * d.units };
            // Padding at the start of some sequences and in the middle of one.
            let mask: Vec<f32> =
                (0..d.batch * d.time).map(|i| (i % d.time >= i / d.time % 3 && i != 12) as u8 as f32).collect();
            let inputs = [
                random(d.batch * d.time * d.input, 19),
                random(d.input * g4, 20),
                random(d.units * g4, 21),
                random(g4, 22),
                mask,
                random(out_len, 23),
            ];
            let outputs = [out_len, d.input * g4, d.units * g4, g4, d.batch * d.time * d.input];
            let what = format!("lstm {d:?}, return_sequences {return_sequences}, masked {masked}, quad {quad}");
            parity!(on &mut gpu; &what, inputs, outputs, 1e-4, |b, x| {
                let [input, kernel, recurrent, bias, mask, grad_output, output, gk, gr, gb, grad_input] = x else {
                    unreachable!()
                };
                let mut buffers = LstmBuffers::new(b, d);
                let mask = masked.then_some(&*mask);
                let weights = || LstmWeights { kernel: &*kernel, recurrent_kernel: &*recurrent, bias: &*bias };
                b.lstm_forward(LstmForward {
                    dims: d,
                    return_sequences,
                    input,
                    mask,
                    weights: weights(),
                    buffers: &mut buffers,
                    output,
                });
                b.lstm_backward(LstmBackward {
                    dims: d,
                    return_sequences,
                    mask,
                    weights: weights(),
                    buffers: &mut buffers,
                    grad_output,
                    grad_input: Some(grad_input),
                    grads: Some(LstmGrads { kernel: gk, recurrent_kernel: gr, bias: gb }),
                });
            });
        }
    }
}
}
