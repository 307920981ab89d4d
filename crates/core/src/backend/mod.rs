//! The backend interface: the few coarse operations the model code is built
//! from.
//!
//! A backend owns device memory ([`Backend::Buffer`], a flat f32 array) and
//! runs operations on it. Operations are *recorded*: a GPU backend encodes
//! them into one command buffer and sends it at [`Backend::submit`], so a whole
//! training step is one submission. The only way back to the host is
//! [`Backend::read`], which is asynchronous and the only await point in the
//! engine. Shapes are passed explicitly, as the GPU kernels need them.
//!
//! Every operation must give the same numbers as [`cpu::CpuBackend`], which is
//! the reference implementation.

pub mod cpu;

use serde::{Deserialize, Serialize};
use std::future::Future;

use crate::error::Result;
use crate::loss::LossKind;

/// An element-wise nonlinearity applied after a dense layer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Activation {
    #[default]
    Linear,
    Relu,
    Tanh,
    Sigmoid,
    /// Over the last axis.
    Softmax,
}

/// `c = op(a) · op(b)` for row-major matrices, where `op` optionally
/// transposes. `a` is stored `[m, k]` (or `[k, m]` when `transpose_a`), `b`
/// `[k, n]` (or `[n, k]`), `c` `[m, n]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MatmulSpec {
    pub m: usize,
    pub k: usize,
    pub n: usize,
    pub transpose_a: bool,
    pub transpose_b: bool,
    /// Add into `c` instead of overwriting it.
    pub accumulate: bool,
}

impl MatmulSpec {
    pub fn new(m: usize, k: usize, n: usize) -> Self {
        Self { m, k, n, transpose_a: false, transpose_b: false, accumulate: false }
    }
    pub fn transpose_a(self) -> Self {
        Self { transpose_a: true, ..self }
    }
    pub fn transpose_b(self) -> Self {
        Self { transpose_b: true, ..self }
    }
    pub fn accumulate(self) -> Self {
        Self { accumulate: true, ..self }
    }
}

/// Sizes of an LSTM layer applied to a batch of sequences.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LstmDims {
    pub batch: usize,
    pub time: usize,
    pub input: usize,
    pub units: usize,
}

/// The trainable tensors of an LSTM, in Keras layout and gate order i, f, c, o.
pub struct LstmWeights<'a, B> {
    /// `[input, 4·units]`
    pub kernel: &'a B,
    /// `[units, 4·units]`
    pub recurrent_kernel: &'a B,
    /// `[4·units]`
    pub bias: &'a B,
}

/// Gradients of [`LstmWeights`], overwritten by [`Backend::lstm_backward`].
pub struct LstmGrads<'a, B> {
    pub kernel: &'a mut B,
    pub recurrent_kernel: &'a mut B,
    pub bias: &'a mut B,
}

/// The state an LSTM keeps between its forward and backward pass, plus
/// backward scratch. Time-major inside, so that each step reads one
/// contiguous `[batch, …]` block.
pub struct LstmBuffers<B> {
    /// The input, transposed to `[time, batch, input]`.
    pub input_tm: B,
    /// Activated gates i, f, g, o per step: `[time, batch, 4·units]`.
    pub gates: B,
    /// Cell states, `c₀ = 0` first: `[time + 1, batch, units]`.
    pub cells: B,
    /// Hidden states, `h₀ = 0` first: `[time + 1, batch, units]`.
    pub hidden: B,
    /// Gate pre-activation gradients: `[time, batch, 4·units]`.
    pub grad_gates: B,
    /// Gradient flowing from step t+1 into hₜ through the recurrence: `[batch, units]`.
    pub grad_hidden: B,
    /// Gradient passed straight through masked steps: `[batch, units]`.
    pub grad_hidden_masked: B,
    /// Gradient flowing into cₜ: `[batch, units]`.
    pub grad_cell: B,
    /// Input gradient before transposing back: `[time, batch, input]`.
    pub grad_input_tm: B,
}

impl<B> LstmBuffers<B> {
    pub fn new<K: Backend<Buffer = B> + ?Sized>(backend: &mut K, d: LstmDims) -> Self {
        let (bt, g) = (d.batch * d.time, 4 * d.units);
        Self {
            input_tm: backend.alloc(bt * d.input),
            gates: backend.alloc(bt * g),
            cells: backend.alloc((d.time + 1) * d.batch * d.units),
            hidden: backend.alloc((d.time + 1) * d.batch * d.units),
            grad_gates: backend.alloc(bt * g),
            grad_hidden: backend.alloc(d.batch * d.units),
            grad_hidden_masked: backend.alloc(d.batch * d.units),
            grad_cell: backend.alloc(d.batch * d.units),
            grad_input_tm: backend.alloc(bt * d.input),
        }
    }
}

/// One LSTM layer's forward pass over whole sequences.
pub struct LstmForward<'a, B> {
    pub dims: LstmDims,
    pub return_sequences: bool,
    /// `[batch, time, input]`
    pub input: &'a B,
    /// `[batch, time]`, 1 for real steps and 0 for padding; masked steps carry
    /// the previous state through (Keras `mask_zero` semantics).
    pub mask: Option<&'a B>,
    pub weights: LstmWeights<'a, B>,
    pub buffers: &'a mut LstmBuffers<B>,
    /// `[batch, time, units]` with `return_sequences`, else `[batch, units]`.
    pub output: &'a mut B,
}

/// Backpropagation through time for the pass recorded in `buffers`.
pub struct LstmBackward<'a, B> {
    pub dims: LstmDims,
    pub return_sequences: bool,
    pub mask: Option<&'a B>,
    pub weights: LstmWeights<'a, B>,
    pub buffers: &'a mut LstmBuffers<B>,
    /// Same shape as the forward output.
    pub grad_output: &'a B,
    /// `[batch, time, input]`, or `None` when nothing upstream needs it.
    pub grad_input: Option<&'a mut B>,
    /// `None` for a frozen layer.
    pub grads: Option<LstmGrads<'a, B>>,
}

/// Loss, its gradient, and running metrics for one batch.
pub struct LossOp<'a, B> {
    pub kind: LossKind,
    /// The output layer's activation. With sigmoid + binary cross-entropy or
    /// softmax + categorical cross-entropy the loss is computed from `logits`
    /// and the gradient is with respect to the logits ("fused"); otherwise it
    /// is with respect to `output`.
    pub activation: Activation,
    /// Pre-activation outputs `[rows, cols]`.
    pub logits: &'a B,
    /// Activated outputs `[rows, cols]`.
    pub output: &'a B,
    /// `[rows, cols]`, or `[rows]` class indices for sparse categorical.
    pub target: &'a B,
    pub grad: &'a mut B,
    /// Running sums: see [`Metrics`](crate::Metrics).
    pub metrics: &'a mut B,
    pub rows: usize,
    pub cols: usize,
    /// `[rows]`: 1 where a row counts, 0 where it is padding, for sequence
    /// outputs that carry the padding mask; `None` when every row counts.
    /// As in Keras, the batch's loss is the mean over the rows that count.
    pub mask: Option<&'a B>,
    /// Examples in the batch (sequences, for sequence outputs): the epoch's
    /// loss is the mean of the batches' losses weighted by this, as Keras's.
    pub examples: usize,
}

/// Slots of the metrics buffer that [`Backend::loss`] accumulates into.
pub mod metric_slot {
    /// Σ over batches of the batch's mean loss × its examples (plus the
    /// regularization penalty × examples).
    pub const LOSS_SUM: usize = 0;
    /// Σ correct predictions (padding positions excluded).
    pub const CORRECT: usize = 1;
    /// Number of examples seen.
    pub const EXAMPLES: usize = 2;
    /// Number of predictions judged for accuracy (padding positions excluded).
    pub const JUDGED: usize = 3;
    pub const LEN: usize = 4;
}

/// L1 and L2 weight penalties, as Keras's `L1L2` regularizer:
/// `l1·Σ|w| + l2·Σw²`.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Regularizer {
    pub l1: f32,
    pub l2: f32,
}

/// One Adam step; `step_size` already folds in the bias correction
/// `lr · sqrt(1 − β₂ᵗ) / (1 − β₁ᵗ)`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AdamStep {
    pub step_size: f32,
    pub beta_1: f32,
    pub beta_2: f32,
    pub epsilon: f32,
}

/// A device that stores f32 buffers and runs the engine's operations on them.
pub trait Backend {
    /// A flat f32 array in device memory.
    type Buffer;

    /// A short human-readable name, e.g. `"CPU"` or the GPU adapter name.
    fn name(&self) -> String;

    /// A zero-filled buffer of `len` floats.
    fn alloc(&mut self, len: usize) -> Self::Buffer;
    /// Copies host data into the start of `buffer`.
    fn write(&mut self, buffer: &mut Self::Buffer, data: &[f32]);
    /// Reads the first `len` floats of a buffer back to the host, after all recorded work.
    fn read(&mut self, buffer: &Self::Buffer, len: usize) -> impl Future<Output = Result<Vec<f32>>>;
    /// Sends recorded work to the device. A no-op on the CPU.
    fn submit(&mut self) {}

    fn fill(&mut self, buffer: &mut Self::Buffer, len: usize, value: f32);
    fn copy(&mut self, src: &Self::Buffer, dst: &mut Self::Buffer, len: usize);

    fn matmul(&mut self, a: &Self::Buffer, b: &Self::Buffer, c: &mut Self::Buffer, spec: MatmulSpec);
    /// `out = act(pre + bias)` row-wise; `pre` becomes `pre + bias` (the logits).
    fn bias_activation(
        &mut self,
        pre: &mut Self::Buffer,
        bias: Option<&Self::Buffer>,
        out: &mut Self::Buffer,
        rows: usize,
        cols: usize,
        activation: Activation,
    );
    /// Turns `grad` (with respect to `out = act(z)`) into the gradient with
    /// respect to `z`, in place.
    fn activation_backward(
        &mut self,
        out: &Self::Buffer,
        grad: &mut Self::Buffer,
        rows: usize,
        cols: usize,
        activation: Activation,
    );
    /// `out[j] = Σᵢ x[i, j]` (bias gradients).
    fn column_sums(&mut self, x: &Self::Buffer, out: &mut Self::Buffer, rows: usize, cols: usize);
    /// `[a, b, features] → [b, a, features]`.
    fn swap_leading_axes(&mut self, src: &Self::Buffer, dst: &mut Self::Buffer, a: usize, b: usize, features: usize);

    /// Looks up rows of `table` (`[vocab, dim]`) for `count` ids. Ids outside
    /// the vocabulary give zero vectors. With `mask`, writes 1 where the id is
    /// non-zero and 0 for padding id 0.
    fn embedding_forward(
        &mut self,
        ids: &Self::Buffer,
        table: &Self::Buffer,
        out: &mut Self::Buffer,
        mask: Option<&mut Self::Buffer>,
        count: usize,
        vocab: usize,
        dim: usize,
    );
    /// `grad_table = Σ` of `grad_out` rows scattered to their ids (overwrites).
    fn embedding_backward(
        &mut self,
        ids: &Self::Buffer,
        grad_out: &Self::Buffer,
        grad_table: &mut Self::Buffer,
        count: usize,
        vocab: usize,
        dim: usize,
    );

    fn lstm_forward(&mut self, op: LstmForward<'_, Self::Buffer>);
    fn lstm_backward(&mut self, op: LstmBackward<'_, Self::Buffer>);

    /// Inverted dropout: zeroes each element with probability `rate`
    /// (decided by [`crate::rng::hash_uniform`]`(seed, i)`) and scales the rest
    /// by `1 / (1 − rate)`. Used for the forward pass and, with the same seed,
    /// for the backward pass.
    fn dropout(&mut self, input: &Self::Buffer, output: &mut Self::Buffer, len: usize, rate: f32, seed: u32);

    /// Writes the loss gradient and accumulates loss and accuracy into `metrics`.
    fn loss(&mut self, op: LossOp<'_, Self::Buffer>);

    /// Adds the regularization gradient to `grad` and `penalty × examples` to
    /// the metrics' loss sum.
    fn regularize(
        &mut self,
        weights: &Self::Buffer,
        grad: &mut Self::Buffer,
        metrics: &mut Self::Buffer,
        len: usize,
        regularizer: Regularizer,
        examples: usize,
    );
    /// Scales all gradients so their joint L2 norm is at most `max_norm`.
    fn clip_by_global_norm(&mut self, grads: &mut [(&mut Self::Buffer, usize)], max_norm: f32);

    /// Keras SGD: `v = momentum·v − lr·g; w += v` (plain `w −= lr·g` without velocity).
    fn sgd_update(
        &mut self,
        param: &mut Self::Buffer,
        grad: &Self::Buffer,
        velocity: Option<&mut Self::Buffer>,
        len: usize,
        learning_rate: f32,
        momentum: f32,
    );
    /// Keras Adam: `m += (g − m)(1 − β₁); v += (g² − v)(1 − β₂); w −= step·m / (√v + ε)`.
    #[allow(clippy::too_many_arguments)]
    fn adam_update(
        &mut self,
        param: &mut Self::Buffer,
        grad: &Self::Buffer,
        m: &mut Self::Buffer,
        v: &mut Self::Buffer,
        len: usize,
        step: AdamStep,
    );
}
