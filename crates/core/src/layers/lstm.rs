use super::{Backward, Forward, Layer, Param, ScratchCache, WeightSource};
use crate::backend::{Backend, LstmBackward, LstmBuffers, LstmDims, LstmForward, LstmGrads, LstmWeights};
use crate::init::{glorot_uniform, orthogonal};

/// Long short-term memory with Keras semantics: sigmoid gates, tanh cell,
/// gate order i, f, c, o, forget-gate bias initialized to 1.
pub struct Lstm<B: Backend> {
    time: usize,
    features: usize,
    units: usize,
    return_sequences: bool,
    params: Vec<Param<B>>,
    buffers: ScratchCache<LstmBuffers<B::Buffer>>,
}

impl<B: Backend> Lstm<B> {
    pub(super) fn new(
        backend: &mut B,
        time: usize,
        features: usize,
        units: usize,
        return_sequences: bool,
        source: &mut WeightSource<'_>,
    ) -> Self {
        let gates = 4 * units;
        let kernel = source.take("kernel", features * gates, |rng| glorot_uniform(rng, features, gates));
        let recurrent = source.take("recurrent_kernel", units * gates, |rng| orthogonal(rng, units, gates));
        let bias = source.take("bias", gates, |_| {
            let mut bias = vec![0.0; gates];
            bias[units..2 * units].fill(1.0);
            bias
        });
        let params = vec![
            Param::new(backend, "kernel", vec![features, gates], &kernel),
            Param::new(backend, "recurrent_kernel", vec![units, gates], &recurrent),
            Param::new(backend, "bias", vec![gates], &bias),
        ];
        Self { time, features, units, return_sequences, params, buffers: ScratchCache::default() }
    }

    fn dims(&self, batch: usize) -> LstmDims {
        LstmDims { batch, time: self.time, input: self.features, units: self.units }
    }
}

impl<B: Backend> Layer<B> for Lstm<B> {
    fn params(&self) -> &[Param<B>] {
        &self.params
    }
    fn params_mut(&mut self) -> &mut [Param<B>] {
        &mut self.params
    }
    fn forward(&mut self, backend: &mut B, io: Forward<'_, B>) {
        let dims = self.dims(io.batch);
        let buffers = self.buffers.get_or_insert_with(io.batch, || LstmBuffers::new(backend, dims));
        let [kernel, recurrent_kernel, bias] = &self.params[..] else { unreachable!() };
        backend.lstm_forward(LstmForward {
            dims,
            return_sequences: self.return_sequences,
            input: io.input,
            mask: io.mask_active.then_some(&*io.mask),
            weights: LstmWeights {
                kernel: &kernel.value,
                recurrent_kernel: &recurrent_kernel.value,
                bias: &bias.value,
            },
            buffers,
            output: io.output,
        });
    }

    fn backward(&mut self, backend: &mut B, io: Backward<'_, B>) {
        let dims = self.dims(io.batch);
        let buffers = self.buffers.get_mut(io.batch).expect("backward runs after forward");
        let [kernel, recurrent_kernel, bias] = &mut self.params[..] else { unreachable!() };
        let grads = io.param_grads.then_some(LstmGrads {
            kernel: &mut kernel.grad,
            recurrent_kernel: &mut recurrent_kernel.grad,
            bias: &mut bias.grad,
        });
        backend.lstm_backward(LstmBackward {
            dims,
            return_sequences: self.return_sequences,
            mask: io.mask,
            weights: LstmWeights {
                kernel: &kernel.value,
                recurrent_kernel: &recurrent_kernel.value,
                bias: &bias.value,
            },
            buffers,
            grad_output: io.grad_output,
            grad_input: io.grad_input,
            grads,
        });
    }
}
