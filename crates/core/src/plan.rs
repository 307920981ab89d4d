//! What a model spec asks for — every layer's shapes, weights and scratch
//! memory — worked out with checked arithmetic and checked against the
//! [`Limits`] before a single buffer exists.
//!
//! [`ModelSpec::plan`] is the one gate between a `model.json` (which anyone
//! may have written) and the allocators: [`Model`](crate::Model) builds only
//! from a plan, and the weights file is read against the plan's shapes.

use crate::data::text::TextEncoder;
use crate::data::Preprocessor;
use crate::error::{Error, Result};
use crate::layers::{LayerConfig, LayerKind};
use crate::limits::{self, Limits};
use crate::loss::LossKind;
use crate::model::ModelSpec;
use crate::optim::OptimizerKind;

/// One weight tensor a layer will own.
#[derive(Debug, Clone, PartialEq)]
pub struct ParamPlan {
    /// `kernel`, `recurrent_kernel`, `bias` or `embeddings`.
    pub name: &'static str,
    /// Keras layout.
    pub shape: Vec<usize>,
}

/// One layer's shapes and memory, as the spec asks for them.
#[derive(Debug, Clone, PartialEq)]
pub struct LayerPlan {
    /// One example's input (without the batch axis).
    pub input_shape: Vec<usize>,
    pub output_shape: Vec<usize>,
    pub params: Vec<ParamPlan>,
    /// Whether the padding mask applies to this layer's output.
    pub mask_out: bool,
    /// Floats of scratch memory per example (pre-activations, LSTM states).
    pub scratch_per_example: u64,
}

/// The whole model's shapes and memory.
#[derive(Debug, Clone, PartialEq)]
pub struct ModelPlan {
    pub input_shape: Vec<usize>,
    pub layers: Vec<LayerPlan>,
    /// Weights in all layers.
    pub parameters: usize,
    /// Floats one example needs in a training pass: every layer boundary's
    /// output and gradient, the mask, the targets and every layer's scratch.
    pub activations_per_example: usize,
}

impl ModelPlan {
    /// `(name, shape)` of every weight, `<layer>/<param>`, in model order.
    pub fn weight_shapes<'a>(&'a self, configs: &'a [LayerConfig]) -> impl Iterator<Item = (String, &'a [usize])> {
        self.layers.iter().zip(configs).flat_map(|(layer, config)| {
            layer.params.iter().map(move |p| (format!("{}/{}", config.name, p.name), p.shape.as_slice()))
        })
    }

    /// One example's shape at each layer boundary: the input, then every
    /// layer's output.
    pub fn boundary_shapes(&self) -> impl Iterator<Item = &[usize]> {
        std::iter::once(self.input_shape.as_slice()).chain(self.layers.iter().map(|l| l.output_shape.as_slice()))
    }

    /// One example's shape at boundary `index` (0: the input).
    pub fn shape_at(&self, index: usize) -> &[usize] {
        match index {
            0 => &self.input_shape,
            _ => &self.layers[index - 1].output_shape,
        }
    }

    /// The model's output shape for one example.
    pub fn output_shape(&self) -> &[usize] {
        self.shape_at(self.layers.len())
    }

    /// Whether the padding mask applies to layer `index`'s input.
    pub fn mask_into(&self, index: usize) -> bool {
        index > 0 && self.layers[index - 1].mask_out
    }

    /// Whether the padding mask applies to the model's output (a sequence
    /// output after a masking Embedding), so padding positions do not count
    /// in the loss and metrics.
    pub fn output_masked(&self) -> bool {
        self.layers.last().is_some_and(|l| l.mask_out)
    }

    /// The largest batch whose pass fits `limits` (at least 1).
    pub fn max_batch(&self, limits: &Limits) -> usize {
        (limits.max_batch_activations / self.activations_per_example.max(1)).max(1)
    }

    /// An error unless a pass over `batch` examples fits `limits`.
    pub fn check_batch(&self, batch: usize, limits: &Limits) -> Result<()> {
        if batch <= self.max_batch(limits) {
            return Ok(());
        }
        Err(Error::Data(format!(
            "a batch of {batch} examples needs {} floats of working memory, over the limit of {} \
             (`max_batch_activations`); use a batch size of at most {}",
            batch.saturating_mul(self.activations_per_example),
            limits.max_batch_activations,
            self.max_batch(limits)
        )))
    }
}

impl ModelSpec {
    /// Works out and checks every shape, size and setting of the spec:
    /// nothing is allocated, and nothing that passes can overflow or exceed
    /// `limits` when the model is built.
    pub fn plan(&self, limits: &Limits) -> Result<ModelPlan> {
        if self.layers.is_empty() {
            return Err(Error::InvalidModel("the model has no layers; add at least one to `layers`".into()));
        }
        Limits::check("the number of layers", self.layers.len() as u64, limits.max_layers, "max_layers")?;
        if self.input_shape.is_empty() || self.input_shape.contains(&0) {
            return Err(Error::InvalidModel(format!(
                "input_shape {:?} must list at least one size, none of them 0",
                self.input_shape
            )));
        }
        let input_len = limits::product("input_shape", &self.input_shape)?;
        let mut layers: Vec<LayerPlan> = Vec::with_capacity(self.layers.len());
        let mut parameters = 0u64;
        // The input and its gradient, the mask (one per step) and the targets.
        let mut per_example = limits::mul("the input", input_len, 2)?;
        per_example = limits::add("the mask", per_example, self.input_shape[0] as u64)?;
        for (index, config) in self.layers.iter().enumerate() {
            let (input_shape, mask_in) =
                layers.last().map_or((&self.input_shape, false), |l| (&l.output_shape, l.mask_out));
            let layer = plan_layer(index, config, input_shape, mask_in, limits)
                .map_err(|e| in_layer(e, index, &config.name))?;
            for p in &layer.params {
                let len = limits::product(&format!("layer `{}` {}", config.name, p.name), &p.shape)?;
                parameters = limits::add("the number of weights", parameters, len)?;
            }
            Limits::check("the number of weights in the model", parameters, limits.max_parameters, "max_parameters")
                .map_err(|e| in_layer(e, index, &config.name))?;
            let output_len = limits::product("a layer's output", &layer.output_shape)?;
            per_example = limits::add("working memory", per_example, limits::mul("an output", output_len, 3)?)?;
            per_example = limits::add("working memory", per_example, layer.scratch_per_example)?;
            Limits::check(
                "the working memory of one example (floats)",
                per_example,
                limits.max_batch_activations,
                "max_batch_activations",
            )
            .map_err(|e| in_layer(e, index, &config.name))?;
            layers.push(layer);
        }
        // Both are within their limits, so they fit a `usize`.
        let plan = ModelPlan {
            input_shape: self.input_shape.clone(),
            layers,
            parameters: limits::to_usize("the number of weights", parameters)?,
            activations_per_example: limits::to_usize("working memory", per_example)?,
        };
        self.check_loss(&plan)?;
        self.check_optimizer()?;
        self.check_preprocessing(limits::to_usize("input_shape", input_len)?)?;
        self.check_text_encoder(&plan, limits)?;
        Ok(plan)
    }

    fn check_loss(&self, plan: &ModelPlan) -> Result<()> {
        let output_width = *plan.layers.last().and_then(|l| l.output_shape.last()).expect("layers are non-empty");
        if matches!(self.loss, LossKind::CategoricalCrossentropy | LossKind::SparseCategoricalCrossentropy)
            && output_width < 2
        {
            return Err(Error::InvalidModel(format!(
                "{:?} needs at least 2 output classes, the last layer has {output_width}; use binary_crossentropy for one output",
                self.loss
            )));
        }
        Ok(())
    }

    fn check_optimizer(&self) -> Result<()> {
        let field = |name: &str, value: f32, ok: bool, range: &str| {
            if value.is_finite() && ok {
                Ok(())
            } else {
                Err(Error::InvalidModel(format!("optimizer `{name}` is {value}; it must be a number {range}")))
            }
        };
        match self.optimizer.kind {
            OptimizerKind::Sgd { learning_rate, momentum } => {
                field("learning_rate", learning_rate, learning_rate > 0.0, "greater than 0, such as 0.01")?;
                field("momentum", momentum, (0.0..1.0).contains(&momentum), "in [0, 1)")?;
            }
            OptimizerKind::Adam { learning_rate, beta_1, beta_2, epsilon } => {
                field("learning_rate", learning_rate, learning_rate > 0.0, "greater than 0, such as 0.001")?;
                field("beta_1", beta_1, (0.0..1.0).contains(&beta_1), "in [0, 1)")?;
                field("beta_2", beta_2, (0.0..1.0).contains(&beta_2), "in [0, 1)")?;
                field("epsilon", epsilon, epsilon > 0.0, "greater than 0, such as 1e-7")?;
            }
        }
        if let Some(norm) = self.optimizer.global_clipnorm {
            field("global_clipnorm", norm, norm > 0.0, "greater than 0")?;
        }
        Ok(())
    }

    fn check_preprocessing(&self, input_len: usize) -> Result<()> {
        for (i, step) in self.preprocessing.iter().enumerate() {
            let (names, columns) = match step {
                Preprocessor::ZScore { mean, std } => (["mean", "std"], [mean, std]),
                Preprocessor::MinMax { min, max } => (["min", "max"], [min, max]),
            };
            for (name, values) in names.iter().zip(columns) {
                let at = format!("preprocessing[{i}].{name}");
                if values.len() != input_len {
                    return Err(Error::InvalidModel(format!(
                        "{at} has {} values but the model's input has {input_len} features",
                        values.len()
                    )));
                }
                if let Some(j) = values.iter().position(|v| !v.is_finite()) {
                    return Err(Error::InvalidModel(format!("{at}[{j}] is {}; it must be a finite number", values[j])));
                }
            }
            if let Preprocessor::ZScore { std, .. } = step {
                if let Some(j) = std.iter().position(|&s| s <= 0.0) {
                    return Err(Error::InvalidModel(format!(
                        "preprocessing[{i}].std[{j}] is {}; a standard deviation must be greater than 0 (1 for a constant feature)",
                        std[j]
                    )));
                }
            }
        }
        Ok(())
    }

    fn check_text_encoder(&self, plan: &ModelPlan, limits: &Limits) -> Result<()> {
        let Some(encoder) = &self.text_encoder else {
            return Ok(());
        };
        let LayerKind::Embedding { input_dim, .. } = self.layers[0].kind else {
            return Err(Error::InvalidModel(
                "the model has a text_encoder but its first layer is not an Embedding: text becomes token ids, which only an Embedding reads".into(),
            ));
        };
        if self.input_shape != [encoder.maxlen()] {
            return Err(Error::InvalidModel(format!(
                "text_encoder.maxlen is {} but input_shape is {:?}; they must agree ([{}])",
                encoder.maxlen(),
                self.input_shape,
                encoder.maxlen()
            )));
        }
        if let Some(ids) = encoder.id_count() {
            Limits::check("the text encoder's vocabulary", ids as u64, limits.max_vocabulary, "max_vocabulary")?;
            if ids > input_dim {
                return Err(Error::InvalidModel(format!(
                    "the text encoder produces ids up to {} but the Embedding's input_dim is {input_dim}; ids must be below input_dim",
                    ids - 1
                )));
            }
        }
        encoder.check()?;
        let output_width = *plan.layers.last().and_then(|l| l.output_shape.last()).expect("non-empty");
        if let TextEncoder::Chars { vocab, .. } = encoder {
            if self.loss == LossKind::SparseCategoricalCrossentropy && output_width != vocab.len() {
                return Err(Error::InvalidModel(format!(
                    "the model writes {output_width} classes but its character vocabulary has {} ids (with the unknown id 0); \
                     a generator's last Dense layer needs exactly one unit per id",
                    vocab.len()
                )));
            }
        }
        Ok(())
    }
}

fn in_layer(error: Error, index: usize, name: &str) -> Error {
    match error {
        Error::InvalidModel(why) if !why.starts_with("layer ") => {
            Error::InvalidModel(format!("layer {index} (`{name}`): {why}"))
        }
        Error::Limit { what, value, limit, name: limit_name } => {
            Error::Limit { what: format!("layer {index} (`{name}`): {what}"), value, limit, name: limit_name }
        }
        other => other,
    }
}

/// One layer's plan, given the shape and mask it receives.
fn plan_layer(
    index: usize,
    config: &LayerConfig,
    input_shape: &[usize],
    mask_in: bool,
    limits: &Limits,
) -> Result<LayerPlan> {
    let bad = |why: String| Err(Error::InvalidModel(why));
    let param = |name, shape: Vec<usize>| ParamPlan { name, shape };
    let plan = |output_shape, params, mask_out, scratch_per_example| LayerPlan {
        input_shape: input_shape.to_vec(),
        output_shape,
        params,
        mask_out,
        scratch_per_example,
    };
    Ok(match config.kind {
        LayerKind::Dense { units, use_bias, kernel_regularizer, .. } => {
            let Some(&features) = input_shape.last() else {
                return bad("a dense layer needs an input with at least one axis".into());
            };
            if units == 0 {
                return bad("units must be at least 1".into());
            }
            if let Some(r) = kernel_regularizer {
                if !(r.l1.is_finite() && r.l2.is_finite() && r.l1 >= 0.0 && r.l2 >= 0.0) {
                    return bad(format!(
                        "kernel_regularizer l1 = {}, l2 = {}: both must be finite and at least 0",
                        r.l1, r.l2
                    ));
                }
            }
            let mut output_shape = input_shape.to_vec();
            *output_shape.last_mut().expect("checked above") = units;
            let rows = limits::product("the dense layer's rows", &input_shape[..input_shape.len() - 1])?;
            let mut params = vec![param("kernel", vec![features, units])];
            if use_bias {
                params.push(param("bias", vec![units]));
            }
            let scratch = limits::mul("the dense layer's output", rows, units as u64)?;
            plan(output_shape, params, mask_in, scratch)
        }
        LayerKind::Embedding { input_dim, output_dim, mask_zero } => {
            if index != 0 {
                return bad("an Embedding reads token ids, so it must be the model's first layer".into());
            }
            let &[time] = input_shape else {
                return bad(format!(
                    "an Embedding takes a sequence of token ids (input_shape [time]), got {input_shape:?}"
                ));
            };
            if input_dim == 0 || output_dim == 0 {
                return bad("input_dim and output_dim must be at least 1".into());
            }
            Limits::check("the Embedding's input_dim", input_dim as u64, limits.max_vocabulary, "max_vocabulary")?;
            Limits::check(
                "the sequence length (input_shape)",
                time as u64,
                limits.max_sequence_length,
                "max_sequence_length",
            )?;
            plan(vec![time, output_dim], vec![param("embeddings", vec![input_dim, output_dim])], mask_zero, 0)
        }
        LayerKind::Lstm { units, return_sequences } => {
            let &[time, features] = input_shape else {
                return bad(format!("an LSTM takes sequences (input shape [time, features]), got {input_shape:?}; put an Embedding or an LSTM with return_sequences before it"));
            };
            if units == 0 {
                return bad("units must be at least 1".into());
            }
            Limits::check("the sequence length", time as u64, limits.max_sequence_length, "max_sequence_length")?;
            Limits::check("the LSTM's units", units as u64, limits.max_parameters / 4, "max_parameters")?;
            let gates = 4 * units;
            let (time64, features64, units64, gates64) = (time as u64, features as u64, units as u64, gates as u64);
            let output_shape = if return_sequences { vec![time, units] } else { vec![units] };
            // The LSTM's saved states and backward scratch (see `LstmBuffers`).
            let steps = [
                limits::mul("LSTM states", time64, limits::mul("LSTM states", features64, 2)?)?,
                limits::mul("LSTM states", time64, limits::mul("LSTM states", gates64, 2)?)?,
                limits::mul("LSTM states", time64 + 1, limits::mul("LSTM states", units64, 2)?)?,
                limits::mul("LSTM states", units64, 3)?,
            ];
            let scratch = steps.into_iter().try_fold(0u64, |a, b| limits::add("LSTM states", a, b))?;
            let params = vec![
                param("kernel", vec![features, gates]),
                param("recurrent_kernel", vec![units, gates]),
                param("bias", vec![gates]),
            ];
            // A sequence output keeps the mask; the final state consumes it.
            plan(output_shape, params, mask_in && return_sequences, scratch)
        }
        LayerKind::Dropout { rate } => {
            if !(0.0..1.0).contains(&rate) {
                return bad(format!("dropout rate must be in [0, 1), got {rate}"));
            }
            plan(input_shape.to_vec(), Vec::new(), mask_in, 0)
        }
    })
}
