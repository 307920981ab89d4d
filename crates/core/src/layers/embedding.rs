use super::{Backward, Forward, Layer, Param, WeightSource};
use crate::backend::Backend;
use crate::init::uniform;

/// Maps token ids `[time]` to vectors `[time, dim]`.
pub struct Embedding<B: Backend> {
    time: usize,
    vocab: usize,
    dim: usize,
    mask_zero: bool,
    params: Vec<Param<B>>,
}

impl<B: Backend> Embedding<B> {
    pub(super) fn new(
        backend: &mut B,
        time: usize,
        vocab: usize,
        dim: usize,
        mask_zero: bool,
        source: &mut WeightSource<'_>,
    ) -> Self {
        let init = source.take("embeddings", vocab * dim, |rng| uniform(rng, vocab * dim, 0.05));
        let table = Param::new(backend, "embeddings", vec![vocab, dim], &init);
        Self { time, vocab, dim, mask_zero, params: vec![table] }
    }

    /// Size of the vocabulary: valid ids are `0..vocab`.
    pub fn vocab(&self) -> usize {
        self.vocab
    }
}

impl<B: Backend> Layer<B> for Embedding<B> {
    fn params(&self) -> &[Param<B>] {
        &self.params
    }
    fn params_mut(&mut self) -> &mut [Param<B>] {
        &mut self.params
    }
    fn forward(&mut self, backend: &mut B, io: Forward<'_, B>) {
        let mask = self.mask_zero.then_some(io.mask);
        let count = io.batch * self.time;
        backend.embedding_forward(io.input, &self.params[0].value, io.output, mask, count, self.vocab, self.dim);
    }

    fn backward(&mut self, backend: &mut B, io: Backward<'_, B>) {
        if io.param_grads {
            let count = io.batch * self.time;
            backend.embedding_backward(io.input, io.grad_output, &mut self.params[0].grad, count, self.vocab, self.dim);
        }
    }
}
