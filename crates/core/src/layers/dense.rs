use super::{Backward, Forward, Layer, Param, ScratchCache, WeightSource};
use crate::backend::{Activation, Backend, MatmulSpec, Regularizer};
use crate::init::glorot_uniform;

/// `y = act(x · kernel + bias)` over the last axis; leading axes are rows.
pub struct Dense<B: Backend> {
    /// Rows per example (product of the leading axes).
    rows_per_example: usize,
    features: usize,
    units: usize,
    activation: Activation,
    params: Vec<Param<B>>,
    /// Pre-activation values (logits) per batch size.
    pre: ScratchCache<B::Buffer>,
}

impl<B: Backend> Dense<B> {
    #[allow(clippy::too_many_arguments)]
    pub(super) fn new(
        backend: &mut B,
        input_shape: &[usize],
        features: usize,
        units: usize,
        activation: Activation,
        use_bias: bool,
        regularizer: Option<Regularizer>,
        source: &mut WeightSource<'_>,
    ) -> Self {
        let init = source.take("kernel", features * units, |rng| glorot_uniform(rng, features, units));
        let mut kernel = Param::new(backend, "kernel", vec![features, units], &init);
        kernel.regularizer = regularizer;
        let mut params = vec![kernel];
        if use_bias {
            let init = source.take("bias", units, |_| vec![0.0; units]);
            params.push(Param::new(backend, "bias", vec![units], &init));
        }
        Self {
            rows_per_example: input_shape[..input_shape.len() - 1].iter().product(),
            features,
            units,
            activation,
            params,
            pre: ScratchCache::default(),
        }
    }
}

impl<B: Backend> Layer<B> for Dense<B> {
    fn params(&self) -> &[Param<B>] {
        &self.params
    }
    fn params_mut(&mut self) -> &mut [Param<B>] {
        &mut self.params
    }
    fn activation(&self) -> Activation {
        self.activation
    }
    fn logits(&self, batch: usize) -> Option<&B::Buffer> {
        self.pre.get(batch)
    }

    fn forward(&mut self, backend: &mut B, io: Forward<'_, B>) {
        let rows = io.batch * self.rows_per_example;
        let pre = self.pre.get_or_insert_with(io.batch, || backend.alloc(rows * self.units));
        backend.matmul(io.input, &self.params[0].value, pre, MatmulSpec::new(rows, self.features, self.units));
        let bias = self.params.get(1).map(|p| &p.value);
        backend.bias_activation(pre, bias, io.output, rows, self.units, self.activation);
    }

    fn backward(&mut self, backend: &mut B, io: Backward<'_, B>) {
        let rows = io.batch * self.rows_per_example;
        if !io.grad_is_logits {
            backend.activation_backward(io.output, io.grad_output, rows, self.units, self.activation);
        }
        let grad = &*io.grad_output;
        if io.param_grads {
            let spec = MatmulSpec::new(self.features, rows, self.units).transpose_a();
            backend.matmul(io.input, grad, &mut self.params[0].grad, spec);
            if let Some(bias) = self.params.get_mut(1) {
                backend.column_sums(grad, &mut bias.grad, rows, self.units);
            }
        }
        if let Some(grad_input) = io.grad_input {
            let spec = MatmulSpec::new(rows, self.units, self.features).transpose_b();
            backend.matmul(grad, &self.params[0].value, grad_input, spec);
        }
    }
}
