//! Optimizers: how gradients become weight updates.

use serde::{Deserialize, Serialize};

use crate::backend::{AdamStep, Backend};
use crate::layers::Param;

/// The optimizer as written in `model.json`, with Keras's defaults. Read
/// strictly: an unknown field is an error (see [`crate::schema`]).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OptimizerConfig {
    #[serde(flatten)]
    pub kind: OptimizerKind,
    /// Scale all gradients down when their joint L2 norm exceeds this.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub global_clipnorm: Option<f32>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum OptimizerKind {
    Sgd {
        #[serde(default = "sgd_learning_rate")]
        learning_rate: f32,
        #[serde(default)]
        momentum: f32,
    },
    Adam {
        #[serde(default = "adam_learning_rate")]
        learning_rate: f32,
        #[serde(default = "beta_1")]
        beta_1: f32,
        #[serde(default = "beta_2")]
        beta_2: f32,
        #[serde(default = "adam_epsilon")]
        epsilon: f32,
    },
}

fn sgd_learning_rate() -> f32 {
    0.01
}
fn adam_learning_rate() -> f32 {
    1e-3
}
fn beta_1() -> f32 {
    0.9
}
fn beta_2() -> f32 {
    0.999
}
fn adam_epsilon() -> f32 {
    1e-7
}

impl Default for OptimizerConfig {
    fn default() -> Self {
        Self::adam(adam_learning_rate())
    }
}

impl OptimizerConfig {
    pub fn adam(learning_rate: f32) -> Self {
        let kind = OptimizerKind::Adam { learning_rate, beta_1: beta_1(), beta_2: beta_2(), epsilon: adam_epsilon() };
        Self { kind, global_clipnorm: None }
    }

    pub fn sgd(learning_rate: f32, momentum: f32) -> Self {
        Self { kind: OptimizerKind::Sgd { learning_rate, momentum }, global_clipnorm: None }
    }

    pub fn learning_rate(&self) -> f32 {
        match self.kind {
            OptimizerKind::Sgd { learning_rate, .. } | OptimizerKind::Adam { learning_rate, .. } => learning_rate,
        }
    }

    pub fn set_learning_rate(&mut self, value: f32) {
        match &mut self.kind {
            OptimizerKind::Sgd { learning_rate, .. } | OptimizerKind::Adam { learning_rate, .. } => {
                *learning_rate = value
            }
        }
    }

    /// State buffers each parameter needs.
    pub fn slots_per_param(&self) -> usize {
        self.slot_names().len()
    }

    /// What each state buffer holds, as named in `model.safetensors`
    /// (`optimizer/<layer>/<param>/<slot>`): SGD's velocity, Adam's first
    /// and second moments.
    pub fn slot_names(&self) -> &'static [&'static str] {
        match self.kind {
            OptimizerKind::Sgd { momentum, .. } if momentum != 0.0 => &["momentum"],
            OptimizerKind::Sgd { .. } => &[],
            OptimizerKind::Adam { .. } => &["m", "v"],
        }
    }

    /// `sgd` or `adam`, as in `model.json`.
    pub fn type_name(&self) -> &'static str {
        match self.kind {
            OptimizerKind::Sgd { .. } => "sgd",
            OptimizerKind::Adam { .. } => "adam",
        }
    }
}

/// An optimizer with its step count.
#[derive(Debug, Clone)]
pub struct Optimizer {
    pub config: OptimizerConfig,
    /// Updates applied so far.
    pub iterations: u64,
    /// β₁ᵗ and β₂ᵗ, kept by repeated multiplication so every platform agrees.
    beta_powers: (f64, f64),
}

impl Optimizer {
    pub fn new(config: OptimizerConfig) -> Self {
        Self { config, iterations: 0, beta_powers: (1.0, 1.0) }
    }

    /// An optimizer that has taken `iterations` steps, with Adam's β₁ᵗ and
    /// β₂ᵗ as it kept them.
    pub fn resumed(config: OptimizerConfig, iterations: u64, beta_powers: (f64, f64)) -> Self {
        Self { config, iterations, beta_powers }
    }

    /// β₁ᵗ and β₂ᵗ so far (1 for SGD).
    pub fn beta_powers(&self) -> (f64, f64) {
        self.beta_powers
    }

    /// Gives each parameter zeroed state buffers.
    pub fn init_slots<B: Backend>(&self, backend: &mut B, param: &mut Param<B>) {
        param.slots = (0..self.config.slots_per_param()).map(|_| backend.alloc(param.len())).collect();
    }

    /// Clips and applies the gradients of `params`.
    pub fn apply<B: Backend>(&mut self, backend: &mut B, params: &mut [&mut Param<B>]) {
        if let Some(max_norm) = self.config.global_clipnorm {
            let mut grads: Vec<(&mut B::Buffer, usize)> = params
                .iter_mut()
                .map(|p| {
                    let len = p.len();
                    (&mut p.grad, len)
                })
                .collect();
            backend.clip_by_global_norm(&mut grads, max_norm);
        }
        self.iterations += 1;
        match self.config.kind {
            OptimizerKind::Sgd { learning_rate, momentum } => {
                for p in params.iter_mut() {
                    let len = p.len();
                    backend.sgd_update(&mut p.value, &p.grad, p.slots.first_mut(), len, learning_rate, momentum);
                }
            }
            OptimizerKind::Adam { learning_rate, beta_1, beta_2, epsilon } => {
                self.beta_powers.0 *= beta_1 as f64;
                self.beta_powers.1 *= beta_2 as f64;
                let (p1, p2) = self.beta_powers;
                let step_size = (learning_rate as f64 * (1.0 - p2).sqrt() / (1.0 - p1)) as f32;
                let step = AdamStep { step_size, beta_1, beta_2, epsilon };
                for p in params.iter_mut() {
                    let len = p.len();
                    let [m, v] = &mut p.slots[..] else { unreachable!("Adam has two slots") };
                    backend.adam_update(&mut p.value, &p.grad, m, v, len, step);
                }
            }
        }
    }
}
