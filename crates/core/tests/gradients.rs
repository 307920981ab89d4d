//! Every layer and loss checked against central finite differences, as
//! micrograd does: nudge each weight both ways, re-measure the loss, and
//! compare the slope with the backward pass.

mod common;

use common::{block, model, needle_sequences, random_tensor};
use neuroglow_core::{rng::Rng, CpuBackend, Model, Tensor};

fn check_gradients(model: &mut Model<CpuBackend>, x: &Tensor, y: &Tensor, samples: usize) {
    check_gradients_with_step(model, x, y, samples, 1e-2);
}

/// Compares analytic gradients with `(L(w+ε) − L(w−ε)) / 2ε` for up to
/// `samples` elements of every weight tensor. A smaller `eps` keeps the nudge
/// from crossing a ReLU kink; a larger one keeps f32 rounding out of the slope.
fn check_gradients_with_step(model: &mut Model<CpuBackend>, x: &Tensor, y: &Tensor, samples: usize, eps: f32) {
    let analytic = block(model.gradients(x, y)).unwrap();
    let original = block(model.weights()).unwrap();
    let loss_at = |model: &mut Model<CpuBackend>, weights: &[(String, Tensor)]| -> f64 {
        model.set_weights(weights).unwrap();
        let data = neuroglow_core::data::Dataset::new(x.clone(), y.clone()).unwrap();
        // Evaluate in one batch, exactly as the gradient saw it.
        block(model.evaluate(&data, x.rows())).unwrap().loss as f64
    };
    let mut rng = Rng::new(99);
    let mut checked = 0;
    for (name, grad) in &analytic {
        let index = original.iter().position(|(n, _)| n == name).unwrap();
        let len = grad.data.len();
        let picks: Vec<usize> =
            if len <= samples { (0..len).collect() } else { (0..samples).map(|_| rng.below(len)).collect() };
        for i in picks {
            let mut plus = original.clone();
            plus[index].1.data[i] += eps;
            let mut minus = original.clone();
            minus[index].1.data[i] -= eps;
            let numeric = (loss_at(model, &plus) - loss_at(model, &minus)) / (2.0 * eps as f64);
            let a = grad.data[i] as f64;
            let tolerance = 2e-5 + 2e-2 * a.abs().max(numeric.abs());
            assert!((a - numeric).abs() <= tolerance, "{name}[{i}]: backward {a:.6} vs finite difference {numeric:.6}");
            checked += 1;
        }
    }
    model.set_weights(&original).unwrap();
    assert!(checked > 0, "no gradient was checked");
}

fn mlp(activation: &str, output: &str, units: usize, loss: &str) -> String {
    format!(
        r#"{{"input_shape": [3], "seed": 5, "loss": "{loss}", "layers": [
            {{"type": "dense", "units": 4, "activation": "{activation}", "kernel_regularizer": {{"l1": 0.01, "l2": 0.02}}}},
            {{"type": "dense", "units": {units}, "activation": "{output}"}}]}}"#
    )
}

#[test]
fn dense_every_activation() {
    let x = random_tensor(vec![5, 3], 1);
    let y = Tensor::new(vec![5, 1], vec![1.0, 0.0, 1.0, 1.0, 0.0]).unwrap();
    for activation in ["linear", "relu", "tanh", "sigmoid"] {
        check_gradients(&mut model(&mlp(activation, "sigmoid", 1, "binary_crossentropy")), &x, &y, 20);
    }
}

#[test]
fn binary_crossentropy_fused_and_on_probabilities() {
    let x = random_tensor(vec![6, 3], 2);
    let y = Tensor::new(vec![6, 2], vec![1.0, 0.0, 0.0, 0.0, 1.0, 1.0, 0.0, 1.0, 1.0, 0.0, 0.0, 1.0]).unwrap();
    check_gradients(&mut model(&mlp("tanh", "sigmoid", 2, "binary_crossentropy")), &x, &y, 20);
    // Softmax outputs are probabilities but not fused with BCE.
    check_gradients(&mut model(&mlp("tanh", "softmax", 2, "binary_crossentropy")), &x, &y, 20);
}

#[test]
fn categorical_losses() {
    let x = random_tensor(vec![6, 3], 3);
    let classes = [0.0, 2.0, 1.0, 2.0, 0.0, 1.0];
    let sparse = Tensor::new(vec![6, 1], classes.to_vec()).unwrap();
    let one_hot = neuroglow_core::data::csv::one_hot(&sparse, 3).unwrap();
    check_gradients(&mut model(&mlp("relu", "softmax", 3, "sparse_categorical_crossentropy")), &x, &sparse, 20);
    check_gradients(&mut model(&mlp("tanh", "softmax", 3, "categorical_crossentropy")), &x, &one_hot, 20);
    // Categorical cross-entropy on sigmoid outputs is not fused.
    check_gradients(&mut model(&mlp("tanh", "sigmoid", 3, "categorical_crossentropy")), &x, &one_hot, 20);
}

#[test]
fn mean_squared_error_through_each_output_activation() {
    let x = random_tensor(vec![5, 3], 4);
    let y = random_tensor(vec![5, 2], 5);
    for output in ["linear", "tanh", "sigmoid", "softmax"] {
        check_gradients(&mut model(&mlp("tanh", output, 2, "mean_squared_error")), &x, &y, 20);
    }
    check_gradients_with_step(&mut model(&mlp("tanh", "relu", 2, "mean_squared_error")), &x, &y, 20, 1e-3);
}

#[test]
fn embedding_with_masked_stacked_lstms() {
    let data = needle_sequences(4, 6, 9, 3, 7);
    let mut m = model(
        r#"{"input_shape": [6], "seed": 11, "loss": "binary_crossentropy", "layers": [
            {"type": "embedding", "input_dim": 9, "output_dim": 3, "mask_zero": true},
            {"type": "lstm", "units": 4, "return_sequences": true},
            {"type": "lstm", "units": 3},
            {"type": "dense", "units": 1, "activation": "sigmoid"}]}"#,
    );
    assert!(data.x.data.contains(&0.0), "the batch has padding to mask");
    check_gradients(&mut m, &data.x, &data.y, 500);
}

#[test]
fn dense_on_sequences_after_unmasked_lstm() {
    let x = random_tensor(vec![3, 4, 2], 8);
    let y = random_tensor(vec![3, 4, 2], 9);
    let mut m = model(
        r#"{"input_shape": [4, 2], "seed": 3, "loss": "mean_squared_error", "layers": [
            {"type": "lstm", "units": 5, "return_sequences": true},
            {"type": "dense", "units": 2, "activation": "tanh"}]}"#,
    );
    check_gradients(&mut m, &x, &y, 500);
}

#[test]
fn reference_sentiment_shape() {
    // Embedding → LSTM → Dense(1, sigmoid), scaled down.
    let data = needle_sequences(3, 7, 30, 4, 2);
    let mut m = model(
        r#"{"input_shape": [7], "seed": 1, "loss": "binary_crossentropy", "layers": [
            {"type": "embedding", "input_dim": 30, "output_dim": 4},
            {"type": "lstm", "units": 6},
            {"type": "dense", "units": 1, "activation": "sigmoid"}]}"#,
    );
    check_gradients(&mut m, &data.x, &data.y, 500);
}

#[test]
fn reference_char_generator_shape() {
    // Embedding → 3 × LSTM → Dense(vocab, softmax), scaled down.
    let data = needle_sequences(3, 5, 7, 2, 4);
    let y = Tensor::new(vec![3, 1], vec![1.0, 6.0, 3.0]).unwrap();
    let mut m = model(
        r#"{"input_shape": [5], "seed": 2, "loss": "sparse_categorical_crossentropy", "layers": [
            {"type": "embedding", "input_dim": 7, "output_dim": 3},
            {"type": "lstm", "units": 4, "return_sequences": true},
            {"type": "lstm", "units": 4, "return_sequences": true},
            {"type": "lstm", "units": 4},
            {"type": "dense", "units": 7, "activation": "softmax"}]}"#,
    );
    check_gradients(&mut m, &data.x, &y, 500);
}

#[test]
fn frozen_layers_get_no_gradient_but_pass_one_through() {
    let x = random_tensor(vec![4, 3], 6);
    let y = Tensor::new(vec![4, 1], vec![1.0, 0.0, 0.0, 1.0]).unwrap();
    let mut m = model(&mlp("tanh", "sigmoid", 1, "binary_crossentropy"));
    m.set_trainable("dense_1", false).unwrap();
    let grads = block(m.gradients(&x, &y)).unwrap();
    let names: Vec<&str> = grads.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["dense/kernel", "dense/bias"]);
    check_gradients(&mut m, &x, &y, 20);
}

#[test]
fn dropout_backward_uses_the_forward_mask() {
    use neuroglow_core::Backend;
    let mut cpu = CpuBackend::new();
    let input = vec![1.0f32; 1000];
    let mut out = vec![0.0; 1000];
    cpu.dropout(&input, &mut out, 1000, 0.3, 42);
    let dropped = out.iter().filter(|&&v| v == 0.0).count();
    assert!((250..350).contains(&dropped), "{dropped} of 1000 dropped at rate 0.3");
    assert!(out.iter().all(|&v| v == 0.0 || (v - 1.0 / 0.7).abs() < 1e-6));
    let grad = vec![2.0f32; 1000];
    let mut grad_in = vec![0.0; 1000];
    cpu.dropout(&grad, &mut grad_in, 1000, 0.3, 42);
    assert!(grad_in.iter().zip(&out).all(|(g, o)| *g == 2.0 * o));
}

#[test]
fn sequence_outputs_with_padding_masked_out_of_the_loss() {
    // A loss at every step, padding excluded (Keras's masked mean).
    let data = needle_sequences(4, 6, 9, 3, 12);
    assert!(data.x.data.contains(&0.0), "the batch has padding to mask");
    let classes = Tensor::new(vec![4, 6], (0..24).map(|i| (i * 5 % 7) as f32).collect()).unwrap();
    let binary = Tensor::new(vec![4, 6, 2], (0..48).map(|i| (i % 3 == 0) as u8 as f32).collect()).unwrap();
    let cases = [
        (13, "sparse_categorical_crossentropy", 7, "softmax", &classes),
        (14, "binary_crossentropy", 2, "sigmoid", &binary),
    ];
    for (seed, loss, units, activation, y) in cases {
        let mut m = model(&format!(
            r#"{{"input_shape": [6], "seed": {seed}, "loss": "{loss}", "layers": [
                {{"type": "embedding", "input_dim": 9, "output_dim": 3, "mask_zero": true}},
                {{"type": "lstm", "units": 4, "return_sequences": true}},
                {{"type": "dense", "units": {units}, "activation": "{activation}"}}]}}"#
        ));
        check_gradients(&mut m, &data.x, y, 500);
    }
}

#[test]
fn steps_that_are_padding_in_every_row_get_no_gradient() {
    // Every row starts with three padding steps, which the CPU's LSTM skips
    // in both passes; the embedding below it still gets its gradient.
    let ids = [0, 0, 0, 4, 2, 7, 1, 0, 0, 0, 0, 5, 3, 3, 0, 0, 0, 0, 0, 0, 8];
    let x = Tensor::new(vec![3, 7], ids.map(|id| id as f32).to_vec()).unwrap();
    for (return_sequences, y) in [(false, random_tensor(vec![3, 2], 21)), (true, random_tensor(vec![3, 7, 2], 22))] {
        let mut m = model(&format!(
            r#"{{"input_shape": [7], "seed": 23, "loss": "mean_squared_error", "layers": [
                {{"type": "embedding", "input_dim": 9, "output_dim": 3, "mask_zero": true}},
                {{"type": "lstm", "units": 4, "return_sequences": {return_sequences}}},
                {{"type": "dense", "units": 2}}]}}"#
        ));
        check_gradients(&mut m, &x, &y, 500);
    }
}
