//! The reference backend: plain Rust on the CPU, native or wasm32.
//!
//! Buffers are `Vec<f32>`; every operation runs immediately, so `read` is
//! ready at once. Each kernel family lives in its own module.

mod activation;
mod embedding;
mod loss;
mod lstm;
mod matmul;
mod optim;
mod stepper;

use std::future::{ready, Future};

use super::{Activation, AdamStep, Backend, LossOp, LstmBackward, LstmForward, MatmulSpec, Regularizer};
use crate::error::Result;

pub use loss::argmax;
pub use stepper::Stepper;

/// Runs the engine on the CPU. Stateless; create as many as you like.
#[derive(Debug, Default, Clone)]
pub struct CpuBackend;

impl CpuBackend {
    pub fn new() -> Self {
        Self
    }
}

impl Backend for CpuBackend {
    type Buffer = Vec<f32>;

    fn name(&self) -> String {
        "CPU".into()
    }

    fn alloc(&mut self, len: usize) -> Vec<f32> {
        vec![0.0; len]
    }

    fn write(&mut self, buffer: &mut Vec<f32>, data: &[f32]) {
        buffer[..data.len()].copy_from_slice(data);
    }

    fn read(&mut self, buffer: &Vec<f32>, len: usize) -> impl Future<Output = Result<Vec<f32>>> {
        ready(Ok(buffer[..len].to_vec()))
    }

    fn fill(&mut self, buffer: &mut Vec<f32>, len: usize, value: f32) {
        buffer[..len].fill(value);
    }

    fn copy(&mut self, src: &Vec<f32>, dst: &mut Vec<f32>, len: usize) {
        dst[..len].copy_from_slice(&src[..len]);
    }

    fn matmul(&mut self, a: &Vec<f32>, b: &Vec<f32>, c: &mut Vec<f32>, spec: MatmulSpec) {
        matmul::matmul(a, b, c, spec);
    }

    fn bias_activation(
        &mut self,
        pre: &mut Vec<f32>,
        bias: Option<&Vec<f32>>,
        out: &mut Vec<f32>,
        rows: usize,
        cols: usize,
        activation: Activation,
    ) {
        activation::bias_activation(pre, bias.map(Vec::as_slice), out, rows, cols, activation);
    }

    fn activation_backward(
        &mut self,
        out: &Vec<f32>,
        grad: &mut Vec<f32>,
        rows: usize,
        cols: usize,
        activation: Activation,
    ) {
        activation::activation_backward(out, grad, rows, cols, activation);
    }

    fn column_sums(&mut self, x: &Vec<f32>, out: &mut Vec<f32>, rows: usize, cols: usize) {
        activation::column_sums(x, out, rows, cols);
    }

    fn swap_leading_axes(&mut self, src: &Vec<f32>, dst: &mut Vec<f32>, a: usize, b: usize, features: usize) {
        activation::swap_leading_axes(src, dst, a, b, features);
    }

    fn embedding_forward(
        &mut self,
        ids: &Vec<f32>,
        table: &Vec<f32>,
        out: &mut Vec<f32>,
        mask: Option<&mut Vec<f32>>,
        count: usize,
        vocab: usize,
        dim: usize,
    ) {
        embedding::embedding_forward(&ids[..count], table, out, mask.map(Vec::as_mut_slice), vocab, dim);
    }

    fn embedding_backward(
        &mut self,
        ids: &Vec<f32>,
        grad_out: &Vec<f32>,
        grad_table: &mut Vec<f32>,
        count: usize,
        vocab: usize,
        dim: usize,
    ) {
        embedding::embedding_backward(&ids[..count], grad_out, grad_table, vocab, dim);
    }

    fn lstm_forward(&mut self, op: LstmForward<'_, Vec<f32>>) {
        lstm::lstm_forward(op);
    }

    fn lstm_backward(&mut self, op: LstmBackward<'_, Vec<f32>>) {
        lstm::lstm_backward(op);
    }

    fn dropout(&mut self, input: &Vec<f32>, output: &mut Vec<f32>, len: usize, rate: f32, seed: u32) {
        activation::dropout(&input[..len], &mut output[..len], rate, seed);
    }

    fn loss(&mut self, op: LossOp<'_, Vec<f32>>) {
        loss::loss(op);
    }

    fn regularize(
        &mut self,
        weights: &Vec<f32>,
        grad: &mut Vec<f32>,
        metrics: &mut Vec<f32>,
        len: usize,
        regularizer: Regularizer,
        examples: usize,
    ) {
        optim::regularize(&weights[..len], &mut grad[..len], metrics, regularizer, examples);
    }

    fn clip_by_global_norm(&mut self, grads: &mut [(&mut Vec<f32>, usize)], max_norm: f32) {
        optim::clip_by_global_norm(grads, max_norm);
    }

    fn sgd_update(
        &mut self,
        param: &mut Vec<f32>,
        grad: &Vec<f32>,
        velocity: Option<&mut Vec<f32>>,
        len: usize,
        learning_rate: f32,
        momentum: f32,
    ) {
        optim::sgd_update(&mut param[..len], &grad[..len], velocity.map(|v| &mut v[..len]), learning_rate, momentum);
    }

    fn adam_update(
        &mut self,
        param: &mut Vec<f32>,
        grad: &Vec<f32>,
        m: &mut Vec<f32>,
        v: &mut Vec<f32>,
        len: usize,
        step: AdamStep,
    ) {
        optim::adam_update(&mut param[..len], &grad[..len], &mut m[..len], &mut v[..len], step);
    }
}
