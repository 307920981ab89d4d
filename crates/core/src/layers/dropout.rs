use super::{Backward, Forward, Layer, Param};
use crate::backend::Backend;

/// Zeroes a random `rate` of its inputs while training; the identity otherwise.
pub struct Dropout {
    shape: Vec<usize>,
    rate: f32,
}

impl Dropout {
    pub(super) fn new(input_shape: &[usize], rate: f32) -> Self {
        Self { shape: input_shape.to_vec(), rate }
    }

    fn len(&self, batch: usize) -> usize {
        batch * self.shape.iter().product::<usize>()
    }
}

impl<B: Backend> Layer<B> for Dropout {
    fn params(&self) -> &[Param<B>] {
        &[]
    }
    fn params_mut(&mut self) -> &mut [Param<B>] {
        &mut []
    }

    fn forward(&mut self, backend: &mut B, io: Forward<'_, B>) {
        let len = self.len(io.batch);
        if io.training && self.rate > 0.0 {
            backend.dropout(io.input, io.output, len, self.rate, io.seed);
        } else {
            backend.copy(io.input, io.output, len);
        }
    }

    fn backward(&mut self, backend: &mut B, io: Backward<'_, B>) {
        if let Some(grad_input) = io.grad_input {
            // The same seed draws the same mask, so this multiplies by mask / (1 − rate).
            backend.dropout(io.grad_output, grad_input, self.len(io.batch), self.rate, io.seed);
        }
    }
}
