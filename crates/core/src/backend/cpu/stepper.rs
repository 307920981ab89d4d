//! A token model run one time step at a time, each LSTM carrying its state
//! (h, c) from step to step, as Keras's `stateful=True` does. Generating a
//! character then costs one step through the layers instead of a whole
//! window: the windowed way re-reads 64 characters through every LSTM for
//! every character it writes.
//!
//! A step does exactly what the full-sequence forward pass does at that
//! position, with the same kernels summing in the same order, so stepping
//! through a window gives that window's last output to the bit.

use super::activation::bias_activation;
use super::embedding::embedding_forward;
use super::lstm::cell_forward;
use super::matmul::matmul;
use crate::backend::{Activation, MatmulSpec};
use crate::layers::{LayerConfig, LayerKind};
use crate::tensor::Tensor;

/// One layer's step, with the weights it reads and the state it carries.
enum StepLayer {
    Embedding {
        table: Vec<f32>,
        vocab: usize,
        dim: usize,
        mask_zero: bool,
    },
    Lstm {
        kernel: Vec<f32>,
        recurrent: Vec<f32>,
        bias: Vec<f32>,
        units: usize,
        h: Vec<f32>,
        c: Vec<f32>,
    },
    Dense {
        kernel: Vec<f32>,
        bias: Option<Vec<f32>>,
        units: usize,
        activation: Activation,
    },
    /// Dropout: nothing at inference.
    Identity,
}

/// A model that reads one token per step. See the module docs.
pub struct Stepper {
    layers: Vec<StepLayer>,
    /// The last step's output (the model's output at that position).
    output: Vec<f32>,
}

impl Stepper {
    /// The stepper for a model made of `layers` (with `weights`, named
    /// `layer/param`), or `None` unless it starts with an embedding (it reads
    /// tokens) and all its layers can step.
    pub fn new(layers: &[LayerConfig], weights: &[(String, Tensor)]) -> Option<Self> {
        if !matches!(layers.first()?.kind, LayerKind::Embedding { .. }) {
            return None;
        }
        let weight = |layer: &LayerConfig, param: &str| {
            let name = format!("{}/{param}", layer.name);
            weights.iter().find(|(n, _)| *n == name).map(|(_, t)| t.data.clone())
        };
        let layers = layers
            .iter()
            .map(|layer| {
                Some(match layer.kind {
                    LayerKind::Embedding { input_dim, output_dim, mask_zero } => StepLayer::Embedding {
                        table: weight(layer, "embeddings")?,
                        vocab: input_dim,
                        dim: output_dim,
                        mask_zero,
                    },
                    LayerKind::Lstm { units, .. } => StepLayer::Lstm {
                        kernel: weight(layer, "kernel")?,
                        recurrent: weight(layer, "recurrent_kernel")?,
                        bias: weight(layer, "bias")?,
                        units,
                        h: vec![0.0; units],
                        c: vec![0.0; units],
                    },
                    LayerKind::Dense { units, activation, use_bias, .. } => StepLayer::Dense {
                        kernel: weight(layer, "kernel")?,
                        bias: if use_bias { Some(weight(layer, "bias")?) } else { None },
                        units,
                        activation,
                    },
                    LayerKind::Dropout { .. } => StepLayer::Identity,
                })
            })
            .collect::<Option<Vec<_>>>()?;
        Some(Self { layers, output: Vec::new() })
    }

    /// The last step's output.
    pub fn output(&self) -> &[f32] {
        &self.output
    }

    /// Reads one token and returns the model's output at this position.
    /// Token 0 of an embedding with `mask_zero` is padding: the LSTMs keep
    /// their state, as they do over padding in a whole sequence.
    pub fn step(&mut self, token: usize) -> &[f32] {
        let mut x = vec![token as f32];
        let mut real = true;
        for layer in &mut self.layers {
            x = match layer {
                StepLayer::Embedding { table, vocab, dim, mask_zero } => {
                    let mut out = vec![0.0; *dim];
                    let mut mask = [1.0];
                    embedding_forward(&x, table, &mut out, Some(&mut mask), *vocab, *dim);
                    real = !*mask_zero || mask[0] != 0.0;
                    out
                }
                StepLayer::Lstm { kernel, recurrent, bias, units, h, c } => {
                    if real {
                        let u = *units;
                        let mut gates = vec![0.0; 4 * u];
                        matmul(&x, kernel, &mut gates, MatmulSpec::new(1, x.len(), 4 * u));
                        matmul(h, recurrent, &mut gates, MatmulSpec::new(1, u, 4 * u).accumulate());
                        let c_prev = c.clone();
                        cell_forward(&mut gates, bias, &c_prev, c, h, u);
                    }
                    h.clone()
                }
                StepLayer::Dense { kernel, bias, units, activation } => {
                    let mut pre = vec![0.0; *units];
                    matmul(&x, kernel, &mut pre, MatmulSpec::new(1, x.len(), *units));
                    let mut out = vec![0.0; *units];
                    bias_activation(&mut pre, bias.as_deref(), &mut out, 1, *units, *activation);
                    out
                }
                StepLayer::Identity => x,
            };
        }
        self.output = x;
        &self.output
    }
}
