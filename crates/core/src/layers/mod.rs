//! Layers: what a model is stacked from.
//!
//! [`LayerConfig`] is the serializable description (as in `model.json`);
//! [`Layer`] is the runtime object holding parameters on a backend. Each
//! layer keeps the scratch buffers it needs between its forward and backward
//! pass, one set per batch size, created on first use and reused after.

mod dense;
mod dropout;
mod embedding;
mod lstm;

use serde::{Deserialize, Serialize};

use std::collections::HashMap;

use crate::backend::{Activation, Backend, Regularizer};
use crate::plan::LayerPlan;
use crate::rng::Rng;
use crate::tensor::Tensor;

pub use dense::Dense;
pub use dropout::Dropout;
pub use embedding::Embedding;
pub use lstm::Lstm;

/// One layer as written in `model.json`. Read strictly: an unknown field
/// is an error (see [`crate::schema`]).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LayerConfig {
    /// Unique within the model; names the weight tensors (`<name>/kernel`).
    /// Left empty, it is filled in Keras style: `dense`, `dense_1`, …
    #[serde(default)]
    pub name: String,
    /// `false` freezes the layer's weights (fine-tuning).
    #[serde(default = "default_true")]
    pub trainable: bool,
    #[serde(flatten)]
    pub kind: LayerKind,
}

fn default_true() -> bool {
    true
}

/// The layer types and their settings, with Keras's names and defaults.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum LayerKind {
    Dense {
        units: usize,
        #[serde(default)]
        activation: Activation,
        #[serde(default = "default_true")]
        use_bias: bool,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        kernel_regularizer: Option<Regularizer>,
    },
    Embedding {
        input_dim: usize,
        output_dim: usize,
        /// Treat id 0 as padding: later LSTMs skip those steps.
        #[serde(default)]
        mask_zero: bool,
    },
    Lstm {
        units: usize,
        #[serde(default)]
        return_sequences: bool,
    },
    Dropout {
        rate: f32,
    },
}

impl LayerKind {
    /// The Keras-style base name for automatic naming.
    pub fn type_name(&self) -> &'static str {
        match self {
            LayerKind::Dense { .. } => "dense",
            LayerKind::Embedding { .. } => "embedding",
            LayerKind::Lstm { .. } => "lstm",
            LayerKind::Dropout { .. } => "dropout",
        }
    }
}

/// A trainable tensor with its gradient and optimizer state.
pub struct Param<B: Backend> {
    /// `kernel`, `recurrent_kernel`, `bias` or `embeddings`.
    pub name: &'static str,
    /// Keras layout.
    pub shape: Vec<usize>,
    pub value: B::Buffer,
    pub grad: B::Buffer,
    pub regularizer: Option<Regularizer>,
    /// Optimizer state (momentum, Adam moments), allocated by the optimizer.
    pub slots: Vec<B::Buffer>,
}

impl<B: Backend> Param<B> {
    pub fn new(backend: &mut B, name: &'static str, shape: Vec<usize>, init: &[f32]) -> Self {
        let len = shape.iter().product();
        debug_assert_eq!(init.len(), len);
        let mut value = backend.alloc(len);
        backend.write(&mut value, init);
        Self { name, shape, value, grad: backend.alloc(len), regularizer: None, slots: Vec::new() }
    }

    pub fn len(&self) -> usize {
        self.shape.iter().product()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The value and optimizer slots, each with its length.
    pub fn state(&self) -> impl Iterator<Item = (&B::Buffer, usize)> {
        let len = self.len();
        std::iter::once(&self.value).chain(&self.slots).map(move |b| (b, len))
    }

    pub fn state_mut(&mut self) -> impl Iterator<Item = (&mut B::Buffer, usize)> {
        let len = self.len();
        std::iter::once(&mut self.value).chain(&mut self.slots).map(move |b| (b, len))
    }
}

/// Inputs and outputs of one layer's forward pass.
pub struct Forward<'a, B: Backend> {
    pub batch: usize,
    pub training: bool,
    /// Seed for this layer in this step (dropout).
    pub seed: u32,
    pub input: &'a B::Buffer,
    pub output: &'a mut B::Buffer,
    /// The model's padding mask `[batch, time]`; valid where `mask_active`.
    pub mask: &'a mut B::Buffer,
    pub mask_active: bool,
}

/// Inputs and outputs of one layer's backward pass.
pub struct Backward<'a, B: Backend> {
    pub batch: usize,
    pub seed: u32,
    pub input: &'a B::Buffer,
    pub output: &'a B::Buffer,
    /// Gradient with respect to the output; layers may overwrite it.
    pub grad_output: &'a mut B::Buffer,
    /// Where to write the gradient with respect to the input, if anything upstream needs it.
    pub grad_input: Option<&'a mut B::Buffer>,
    pub mask: Option<&'a B::Buffer>,
    /// `grad_output` is already with respect to the pre-activation (fused loss).
    pub grad_is_logits: bool,
    /// Compute parameter gradients (false for frozen layers).
    pub param_grads: bool,
}

/// A layer on a backend.
/// Its shapes, and whether the padding mask applies to its output, are in
/// the model's [`LayerPlan`].
pub trait Layer<B: Backend> {
    fn params(&self) -> &[Param<B>];
    fn params_mut(&mut self) -> &mut [Param<B>];
    fn forward(&mut self, backend: &mut B, io: Forward<'_, B>);
    fn backward(&mut self, backend: &mut B, io: Backward<'_, B>);
    /// The output layer's pre-activation values for a batch size used before.
    fn logits(&self, _batch: usize) -> Option<&B::Buffer> {
        None
    }
    fn activation(&self) -> Activation {
        Activation::Linear
    }
}

/// Where a new layer's starting weights come from.
pub enum WeightSource<'a> {
    /// Keras's initializers, drawn from the layer's own seeded generator.
    Drawn(Rng),
    /// A file's tensors by `<layer>/<param>` name, already checked against
    /// the plan: no initializer runs (an LSTM(2048)'s orthogonal one takes
    /// a minute), and nothing is allocated that the file did not hold.
    Given { layer: &'a str, tensors: &'a mut HashMap<String, Tensor> },
}

impl WeightSource<'_> {
    /// The starting values of parameter `name`: the given tensor, or `draw`
    /// run on the layer's generator (parameters draw in a fixed order, so a
    /// seed always gives the same weights).
    pub fn take(&mut self, name: &str, len: usize, draw: impl FnOnce(&mut Rng) -> Vec<f32>) -> Vec<f32> {
        match self {
            WeightSource::Drawn(rng) => draw(rng),
            WeightSource::Given { layer, tensors } => {
                let tensor = tensors.remove(&format!("{layer}/{name}")).expect("the plan checked every tensor");
                debug_assert_eq!(tensor.data.len(), len);
                tensor.data
            }
        }
    }
}

/// Builds the layer that `plan` describes, with weights from `source`.
pub fn build<B: Backend + 'static>(
    backend: &mut B,
    config: &LayerConfig,
    plan: &LayerPlan,
    source: &mut WeightSource<'_>,
) -> Box<dyn Layer<B>> {
    let input_shape = &plan.input_shape;
    match config.kind.clone() {
        LayerKind::Dense { units, activation, use_bias, kernel_regularizer } => {
            let features = *input_shape.last().expect("checked by the plan");
            Box::new(Dense::new(
                backend,
                input_shape,
                features,
                units,
                activation,
                use_bias,
                kernel_regularizer,
                source,
            ))
        }
        LayerKind::Embedding { input_dim, output_dim, mask_zero } => {
            Box::new(Embedding::new(backend, input_shape[0], input_dim, output_dim, mask_zero, source))
        }
        LayerKind::Lstm { units, return_sequences } => {
            Box::new(Lstm::new(backend, input_shape[0], input_shape[1], units, return_sequences, source))
        }
        LayerKind::Dropout { rate } => Box::new(Dropout::new(input_shape, rate)),
    }
}

/// Per-batch-size scratch buffers.
pub struct ScratchCache<T> {
    entries: Vec<(usize, T)>,
}

impl<T> Default for ScratchCache<T> {
    fn default() -> Self {
        Self { entries: Vec::new() }
    }
}

impl<T> ScratchCache<T> {
    pub fn get_or_insert_with(&mut self, batch: usize, make: impl FnOnce() -> T) -> &mut T {
        let index = match self.entries.iter().position(|(b, _)| *b == batch) {
            Some(i) => i,
            None => {
                self.entries.push((batch, make()));
                self.entries.len() - 1
            }
        };
        &mut self.entries[index].1
    }

    pub fn get(&self, batch: usize) -> Option<&T> {
        self.entries.iter().find(|(b, _)| *b == batch).map(|(_, t)| t)
    }

    pub fn get_mut(&mut self, batch: usize) -> Option<&mut T> {
        self.entries.iter_mut().find(|(b, _)| *b == batch).map(|(_, t)| t)
    }
}
