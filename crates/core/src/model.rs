//! A sequential model on a backend: building, one training step, inference,
//! and access to its weights. The training loop is in [`crate::train`].

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use crate::backend::{metric_slot, Backend, LossOp};
use crate::data::text::TextEncoder;
use crate::data::Preprocessor;
use crate::error::{Error, Result};
use crate::layers::{self, Backward, Forward, Layer, LayerConfig, LayerKind, Param, ScratchCache, WeightSource};
use crate::limits::Limits;
use crate::loss::LossKind;
use crate::optim::{Optimizer, OptimizerConfig};
use crate::plan::ModelPlan;
use crate::rng::{mix64, Rng};
use crate::tensor::Tensor;
use crate::train::Metrics;

/// The `format` field of every `model.json`.
pub const MODEL_FORMAT: &str = "neuroglow.model";
/// The schema version this build reads and writes.
pub const MODEL_FORMAT_VERSION: u32 = 1;

/// Everything about a model except its weights: the content of `model.json`.
/// Read strictly: an unknown field anywhere is an error that names it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelSpec {
    #[serde(default = "format_name")]
    pub format: String,
    #[serde(default = "format_version")]
    pub version: u32,
    #[serde(default)]
    pub name: String,
    /// Shape of one input example, e.g. `[2]` for points or `[100]` for token ids.
    pub input_shape: Vec<usize>,
    #[serde(deserialize_with = "crate::schema::layers")]
    pub layers: Vec<LayerConfig>,
    pub loss: LossKind,
    #[serde(default)]
    pub optimizer: OptimizerConfig,
    /// Seeds initialization, shuffling and dropout.
    #[serde(default)]
    pub seed: u64,
    /// Transforms applied to raw inputs before the first layer.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub preprocessing: Vec<Preprocessor>,
    /// How raw text becomes input ids, for text models.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text_encoder: Option<TextEncoder>,
    /// Free-form information: the model card, training command, metrics.
    #[serde(default, skip_serializing_if = "serde_json::Map::is_empty")]
    pub metadata: serde_json::Map<String, serde_json::Value>,
}

fn format_name() -> String {
    MODEL_FORMAT.into()
}
fn format_version() -> u32 {
    MODEL_FORMAT_VERSION
}

impl ModelSpec {
    /// A spec with default optimizer (Adam), seed 0 and no preprocessing.
    pub fn new(input_shape: Vec<usize>, layers: Vec<LayerConfig>, loss: LossKind) -> Self {
        Self {
            format: format_name(),
            version: format_version(),
            name: String::new(),
            input_shape,
            layers,
            loss,
            optimizer: OptimizerConfig::default(),
            seed: 0,
            preprocessing: Vec::new(),
            text_encoder: None,
            metadata: serde_json::Map::new(),
        }
    }

    /// Parses and checks `model.json`, within the default [`Limits`].
    pub fn from_json(text: &str) -> Result<Self> {
        Self::from_json_with_limits(text, &Limits::default())
    }

    /// Parses `model.json` strictly: an unknown field is an error naming it.
    /// The sizes it asks for are checked by [`ModelSpec::plan`].
    pub fn from_json_with_limits(text: &str, limits: &Limits) -> Result<Self> {
        Limits::check("model.json (bytes)", text.len() as u64, limits.max_json_bytes, "max_json_bytes")?;
        let spec: ModelSpec = serde_json::from_str(text).map_err(|e| Error::ModelJson(e.to_string()))?;
        if spec.format != MODEL_FORMAT {
            return Err(Error::ModelJson(format!("field `format` is {:?}, expected {MODEL_FORMAT:?}", spec.format)));
        }
        if spec.version != MODEL_FORMAT_VERSION {
            return Err(Error::ModelJson(format!(
                "field `version` is {}, but this Neuroglow reads version {MODEL_FORMAT_VERSION}; upgrade Neuroglow",
                spec.version
            )));
        }
        Ok(spec)
    }

    /// `model.json`'s text. Every number in a spec that passed
    /// [`ModelSpec::plan`] is finite, so none is ever written as `null`.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("a model spec always serializes")
    }

    /// Gives unnamed layers Keras-style names (`dense`, `dense_1`, …) and
    /// rejects duplicates.
    pub(crate) fn assign_layer_names(&mut self) -> Result<()> {
        let mut taken: Vec<String> = self.layers.iter().map(|l| l.name.clone()).filter(|n| !n.is_empty()).collect();
        for layer in &mut self.layers {
            if layer.name.is_empty() {
                let base = layer.kind.type_name();
                let name = (0..)
                    .map(|i| if i == 0 { base.to_string() } else { format!("{base}_{i}") })
                    .find(|n| !taken.contains(n))
                    .expect("some suffix is free");
                taken.push(name.clone());
                layer.name = name;
            }
        }
        for (i, name) in taken.iter().enumerate() {
            if taken[..i].contains(name) {
                return Err(Error::InvalidModel(format!("two layers are named `{name}`; layer names must be unique")));
            }
        }
        Ok(())
    }
}

/// Device buffers for one batch size: layer outputs, their gradients, the
/// padding mask and the targets.
struct Pass<B: Backend> {
    /// `acts[0]` is the input, `acts[i + 1]` the output of layer `i`.
    acts: Vec<B::Buffer>,
    /// `grads[i]` is the gradient with respect to `acts[i]`.
    grads: Vec<B::Buffer>,
    mask: B::Buffer,
    target: B::Buffer,
}

/// Weights, optimizer slots and optimizer step count, on the host.
#[derive(Debug, Clone)]
pub struct TrainingState {
    /// Per parameter, in model order: its value, then its optimizer slots.
    pub(crate) tensors: Vec<Vec<f32>>,
    pub(crate) optimizer: Optimizer,
}

/// A stack of layers with a loss and an optimizer, living on backend `B`.
pub struct Model<B: Backend> {
    spec: ModelSpec,
    /// The checked shapes and sizes the model was built from.
    plan: ModelPlan,
    limits: Limits,
    backend: B,
    layers: Vec<Box<dyn Layer<B>>>,
    optimizer: Optimizer,
    passes: ScratchCache<Pass<B>>,
    metrics: B::Buffer,
    /// A copy of every parameter and optimizer slot, taken by [`Model::save_checkpoint`].
    checkpoint: Option<(Vec<B::Buffer>, Optimizer)>,
}

impl<B: Backend + 'static> Model<B> {
    /// Builds a model with fresh weights drawn from `spec.seed`, within the
    /// default [`Limits`].
    pub fn new(spec: ModelSpec, backend: B) -> Result<Self> {
        Self::with_limits(spec, backend, &Limits::default())
    }

    /// Builds a model with fresh weights, once its plan fits `limits`.
    pub fn with_limits(mut spec: ModelSpec, backend: B, limits: &Limits) -> Result<Self> {
        spec.assign_layer_names()?;
        let plan = spec.plan(limits)?;
        Ok(Self::build(spec, plan, *limits, backend, None))
    }

    /// Builds the model that continues `state` (taken by
    /// [`Model::training_state`] from a model of this spec, on any backend),
    /// from the state's own weights: no initializer runs, so this is as
    /// quick for an LSTM(2048) as for a Dense(1).
    pub fn from_training_state(
        mut spec: ModelSpec,
        backend: B,
        limits: &Limits,
        state: &TrainingState,
    ) -> Result<Self> {
        spec.assign_layer_names()?;
        let plan = spec.plan(limits)?;
        let mismatch = || Error::InvalidModel("the training state belongs to a different model or optimizer".into());
        // Each parameter's value comes first, then its optimizer slots.
        let per_param = 1 + state.optimizer.config.slots_per_param();
        let shapes: Vec<(String, &[usize])> = plan.weight_shapes(&spec.layers).collect();
        if state.tensors.len() != shapes.len() * per_param {
            return Err(mismatch());
        }
        let mut weights = HashMap::with_capacity(shapes.len());
        for ((name, shape), saved) in shapes.iter().zip(state.tensors.chunks(per_param)) {
            let value = Tensor::new(shape.to_vec(), saved[0].clone()).map_err(|_| mismatch())?;
            weights.insert(name.clone(), value);
        }
        let mut model = Self::build(spec, plan, *limits, backend, Some(weights));
        model.load_training_state(state)?;
        Ok(model)
    }

    /// The same model, with its weights, optimizer state and step count,
    /// on `backend` (e.g. a copy to train while this one keeps answering).
    pub async fn copy_on<C: Backend + 'static>(&mut self, backend: C) -> Result<Model<C>> {
        let state = self.training_state().await?;
        Model::from_training_state(self.spec.clone(), backend, &self.limits, &state)
    }

    /// Builds the model that `plan` (checked) describes: with `weights`
    /// (every tensor the plan names, checked) or with fresh ones.
    pub(crate) fn build(
        spec: ModelSpec,
        plan: ModelPlan,
        limits: Limits,
        mut backend: B,
        mut weights: Option<HashMap<String, Tensor>>,
    ) -> Self {
        let optimizer = Optimizer::new(spec.optimizer.clone());
        let mut built = Vec::with_capacity(spec.layers.len());
        for ((i, config), layer_plan) in spec.layers.iter().enumerate().zip(&plan.layers) {
            let mut source = match &mut weights {
                Some(tensors) => WeightSource::Given { layer: &config.name, tensors },
                None => WeightSource::Drawn(Rng::derive(spec.seed, i as u64)),
            };
            let mut layer = layers::build(&mut backend, config, layer_plan, &mut source);
            for param in layer.params_mut() {
                optimizer.init_slots(&mut backend, param);
                if let LayerKind::Dense { kernel_regularizer, .. } = &config.kind {
                    param.regularizer = param.regularizer.or(kernel_regularizer.filter(|_| param.name == "kernel"));
                }
            }
            built.push(layer);
        }
        let metrics = backend.alloc(metric_slot::LEN);
        Self {
            spec,
            plan,
            limits,
            backend,
            layers: built,
            optimizer,
            passes: ScratchCache::default(),
            metrics,
            checkpoint: None,
        }
    }

    /// The limits the model was built within; batches are held to them too.
    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    /// The model's shapes and sizes.
    pub fn plan(&self) -> &ModelPlan {
        &self.plan
    }

    pub fn spec(&self) -> &ModelSpec {
        &self.spec
    }

    /// Replaces the model's metadata (model card fields).
    pub fn metadata_mut(&mut self) -> &mut serde_json::Map<String, serde_json::Value> {
        &mut self.spec.metadata
    }

    /// Stores how raw text becomes this model's input ids.
    pub fn set_text_encoder(&mut self, encoder: TextEncoder) -> Result<()> {
        if encoder.maxlen() != self.input_shape()[0] || self.input_shape().len() != 1 {
            return Err(Error::InvalidModel(format!(
                "the text encoder makes sequences of {} ids but the model takes input shape {:?}",
                encoder.maxlen(),
                self.input_shape()
            )));
        }
        self.spec.text_encoder = Some(encoder);
        Ok(())
    }

    /// Input ids for raw texts, with the model's stored text encoder.
    pub fn encode_texts(&self, texts: &[&str]) -> Result<Tensor> {
        let encoder = self.spec.text_encoder.as_ref().ok_or_else(|| {
            Error::InvalidModel("this model has no text encoder in model.json; it takes numbers, not text".into())
        })?;
        encoder.encode(texts)
    }

    /// Applies the stored input preprocessing (e.g. a fitted normalizer) to
    /// raw features, as inference must before [`Model::predict`].
    pub fn preprocess(&self, x: &mut Tensor) -> Result<()> {
        self.spec.preprocessing.iter().try_for_each(|p| p.apply(x))
    }

    /// Replaces the stored input preprocessing (e.g. a fitted normalizer).
    pub fn set_preprocessing(&mut self, preprocessing: Vec<Preprocessor>) {
        self.spec.preprocessing = preprocessing;
    }

    pub fn backend(&self) -> &B {
        &self.backend
    }

    /// Gives up the model, handing back its backend (to build another model on it).
    pub fn take_backend(self) -> B {
        self.backend
    }

    pub fn input_shape(&self) -> &[usize] {
        self.plan.shape_at(0)
    }

    pub fn output_shape(&self) -> &[usize] {
        self.plan.output_shape()
    }

    /// Updates applied so far.
    pub fn iterations(&self) -> u64 {
        self.optimizer.iterations
    }

    pub fn learning_rate(&self) -> f32 {
        self.optimizer.config.learning_rate()
    }

    /// Changes the learning rate; it must be a finite number above 0.
    pub fn set_learning_rate(&mut self, value: f32) -> Result<()> {
        if !(value.is_finite() && value > 0.0) {
            return Err(Error::Data(format!(
                "the learning rate is {value}; it must be a number greater than 0, such as 0.001"
            )));
        }
        self.optimizer.config.set_learning_rate(value);
        self.spec.optimizer.set_learning_rate(value);
        Ok(())
    }

    /// Freezes or unfreezes a layer by name.
    pub fn set_trainable(&mut self, layer: &str, trainable: bool) -> Result<()> {
        let config = self
            .spec
            .layers
            .iter_mut()
            .find(|l| l.name == layer)
            .ok_or_else(|| Error::InvalidModel(format!("no layer named `{layer}`")))?;
        config.trainable = trainable;
        Ok(())
    }

    /// Number of weights, all and trainable.
    pub fn param_counts(&self) -> (usize, usize) {
        let mut total = 0;
        let mut trainable = 0;
        for (layer, config) in self.layers.iter().zip(&self.spec.layers) {
            let n: usize = layer.params().iter().map(Param::len).sum();
            total += n;
            trainable += if config.trainable { n } else { 0 };
        }
        (total, trainable)
    }

    /// A Keras-style table of layers, output shapes and parameter counts.
    pub fn summary(&self) -> String {
        let mut out =
            format!("Model: \"{}\"\n", if self.spec.name.is_empty() { "sequential" } else { &self.spec.name });
        let rule = "─".repeat(66);
        out += &format!("{rule}\n{:<30}{:<24}{:>12}\n{rule}\n", "Layer (type)", "Output Shape", "Param #");
        for (i, (layer, config)) in self.layers.iter().zip(&self.spec.layers).enumerate() {
            let kind = match config.kind {
                LayerKind::Dense { .. } => "Dense",
                LayerKind::Embedding { .. } => "Embedding",
                LayerKind::Lstm { .. } => "LSTM",
                LayerKind::Dropout { .. } => "Dropout",
            };
            let shape: Vec<String> = std::iter::once("None".to_string())
                .chain(self.plan.shape_at(i + 1).iter().map(|d| d.to_string()))
                .collect();
            let params: usize = layer.params().iter().map(Param::len).sum();
            let frozen = if config.trainable { "" } else { " (frozen)" };
            out += &format!(
                "{:<30}{:<24}{:>12}\n",
                format!("{} ({kind}){frozen}", config.name),
                format!("({})", shape.join(", ")),
                params
            );
        }
        let (total, trainable) = self.param_counts();
        out += &format!(
            "{rule}\nTotal params: {total}\nTrainable params: {trainable}\nNon-trainable params: {}\n",
            total - trainable
        );
        out
    }

    /// Checks that `x` fits the input shape and, for token models, that every
    /// id is a whole number inside the vocabulary.
    pub fn check_inputs(&self, x: &Tensor) -> Result<()> {
        if x.shape.get(1..) != Some(self.input_shape()) {
            return Err(Error::Data(format!(
                "inputs have shape {:?} but the model takes [examples, {}]",
                x.shape,
                self.input_shape().iter().map(|d| d.to_string()).collect::<Vec<_>>().join(", ")
            )));
        }
        let vocab = match self.spec.layers[0].kind {
            LayerKind::Embedding { input_dim, .. } => Some(input_dim),
            _ => None,
        };
        for (i, &v) in x.data.iter().enumerate() {
            let bad_id = vocab.is_some_and(|n| v.fract() != 0.0 || v < 0.0 || v >= n as f32);
            if !v.is_finite() || bad_id {
                let what = if bad_id {
                    format!("token id {v} outside the vocabulary 0..{}", vocab.unwrap_or(0))
                } else {
                    format!("value {v}")
                };
                return Err(Error::Data(format!("input example {} has {what}", i / x.row_len().max(1))));
            }
        }
        Ok(())
    }

    /// Checks that targets `y` match `rows` examples and the loss.
    pub fn check_targets(&self, y: &Tensor, rows: usize) -> Result<()> {
        let classes = *self.output_shape().last().expect("non-empty");
        let per_example: usize = self.output_shape()[..self.output_shape().len() - 1].iter().product::<usize>()
            * self.spec.loss.target_width(classes);
        if y.rows() != rows || y.row_len() != per_example {
            return Err(Error::Data(format!(
                "targets have shape {:?}, expected {rows} examples of {per_example} value(s) for {:?} on an output of shape {:?}",
                y.shape,
                self.spec.loss,
                self.output_shape()
            )));
        }
        for (i, &v) in y.data.iter().enumerate() {
            let wrong = match self.spec.loss {
                LossKind::SparseCategoricalCrossentropy if v.fract() != 0.0 || !(0.0..classes as f32).contains(&v) => {
                    Some(format!(", not a class index in 0..{classes}"))
                }
                LossKind::BinaryCrossentropy | LossKind::CategoricalCrossentropy if !(0.0..=1.0).contains(&v) => {
                    Some(format!(", but {:?} takes targets from 0 to 1 (labels 0 and 1)", self.spec.loss))
                }
                _ if !v.is_finite() => Some(String::new()),
                _ => None,
            };
            if let Some(why) = wrong {
                return Err(Error::Data(format!(
                    "target of example {} (row {}) is {v}{why}",
                    i / per_example,
                    i / per_example + 1
                )));
            }
        }
        Ok(())
    }

    fn ensure_pass(&mut self, batch: usize) {
        let backend = &mut self.backend;
        let plan = &self.plan;
        let output = plan.output_shape();
        let target_len = batch
            * self.spec.loss.target_width(*output.last().expect("non-empty"))
            * output[..output.len() - 1].iter().product::<usize>();
        let masked = plan.layers.iter().any(|l| l.mask_out);
        let time = if masked { plan.input_shape[0] } else { 1 };
        self.passes.get_or_insert_with(batch, || {
            let sizes = || plan.boundary_shapes().map(|s| batch * s.iter().product::<usize>());
            Pass {
                acts: sizes().map(|n| backend.alloc(n)).collect(),
                grads: sizes().map(|n| backend.alloc(n)).collect(),
                mask: backend.alloc(batch * time),
                target: backend.alloc(target_len),
            }
        });
    }

    /// A seed for layer `index`'s randomness in the current step.
    fn layer_seed(seed: u64, iterations: u64, index: usize) -> u32 {
        mix64(seed ^ mix64(iterations.wrapping_mul(1 << 16) + index as u64)) as u32
    }

    /// Runs the layers on the input already written to the pass.
    fn forward(&mut self, batch: usize, training: bool) {
        let pass = self.passes.get_mut(batch).expect("ensure_pass ran");
        for (i, layer) in self.layers.iter_mut().enumerate() {
            let (before, after) = pass.acts.split_at_mut(i + 1);
            layer.forward(
                &mut self.backend,
                Forward {
                    batch,
                    training,
                    seed: Self::layer_seed(self.spec.seed, self.optimizer.iterations, i),
                    input: &before[i],
                    output: &mut after[0],
                    mask: &mut pass.mask,
                    mask_active: self.plan.mask_into(i),
                },
            );
        }
    }

    /// Computes the loss of the last forward pass into the gradient of the
    /// output, and accumulates metrics.
    fn loss(&mut self, batch: usize) {
        let pass = self.passes.get_mut(batch).expect("ensure_pass ran");
        let last = self.layers.len();
        let output_layer = &self.layers[last - 1];
        let out_shape = self.plan.shape_at(last);
        let cols = *out_shape.last().expect("non-empty");
        self.backend.loss(LossOp {
            kind: self.spec.loss,
            activation: output_layer.activation(),
            logits: output_layer.logits(batch).unwrap_or(&pass.acts[last]),
            output: &pass.acts[last],
            target: &pass.target,
            grad: &mut pass.grads[last],
            metrics: &mut self.metrics,
            rows: batch * out_shape[..out_shape.len() - 1].iter().product::<usize>(),
            cols,
            // A masked output is `[time, units]`: its rows are the mask's positions.
            mask: self.plan.output_masked().then_some(&pass.mask),
            examples: batch,
        });
    }

    fn backward(&mut self, batch: usize) {
        let first_trainable =
            self.layers.iter().zip(&self.spec.layers).position(|(l, c)| c.trainable && !l.params().is_empty());
        let Some(first_trainable) = first_trainable else {
            return;
        };
        let pass = self.passes.get_mut(batch).expect("ensure_pass ran");
        let last = self.layers.len() - 1;
        let fused = self.spec.loss.fuses_with(self.layers[last].activation());
        for i in (first_trainable..=last).rev() {
            let (grads_before, grads_after) = pass.grads.split_at_mut(i + 1);
            self.layers[i].backward(
                &mut self.backend,
                Backward {
                    batch,
                    seed: Self::layer_seed(self.spec.seed, self.optimizer.iterations, i),
                    input: &pass.acts[i],
                    output: &pass.acts[i + 1],
                    grad_output: &mut grads_after[0],
                    grad_input: (i > first_trainable).then(|| &mut grads_before[i]),
                    mask: self.plan.mask_into(i).then_some(&pass.mask),
                    grad_is_logits: i == last && fused,
                    param_grads: self.spec.layers[i].trainable,
                },
            );
        }
    }

    fn write_batch(&mut self, x: &[f32], y: Option<&[f32]>, batch: usize) {
        self.ensure_pass(batch);
        let pass = self.passes.get_mut(batch).expect("just ensured");
        self.backend.write(&mut pass.acts[0], x);
        if let Some(y) = y {
            self.backend.write(&mut pass.target, y);
        }
    }

    /// Records one training step (forward, loss, backward, update) on a
    /// batch of `batch` examples, as one submission. Inputs must have been
    /// checked with [`Model::check_inputs`] and [`Model::check_targets`].
    pub fn train_on_batch(&mut self, x: &[f32], y: &[f32], batch: usize) {
        self.record_gradients(x, y, batch);
        let mut trainable = Self::trainable_params(&mut self.layers, &self.spec.layers);
        self.optimizer.apply(&mut self.backend, &mut trainable);
        self.backend.submit();
    }

    /// Forward, loss, backward and regularization: leaves the gradient of
    /// the batch's mean loss in every trainable parameter.
    fn record_gradients(&mut self, x: &[f32], y: &[f32], batch: usize) {
        self.write_batch(x, Some(y), batch);
        self.forward(batch, true);
        self.loss(batch);
        self.backward(batch);
        self.regularize(batch);
    }

    /// Adds weight penalties to the loss and their gradients to the weights'
    /// gradients. Frozen layers' penalties count in the loss too, as in Keras.
    fn regularize(&mut self, batch: usize) {
        for p in self.layers.iter_mut().flat_map(|l| l.params_mut().iter_mut()) {
            if let Some(regularizer) = p.regularizer {
                let len = p.len();
                self.backend.regularize(&p.value, &mut p.grad, &mut self.metrics, len, regularizer, batch);
            }
        }
    }

    fn trainable_params<'a>(layers: &'a mut [Box<dyn Layer<B>>], configs: &[LayerConfig]) -> Vec<&'a mut Param<B>> {
        layers
            .iter_mut()
            .zip(configs)
            .filter(|(_, c)| c.trainable)
            .flat_map(|(l, _)| l.params_mut().iter_mut())
            .collect()
    }

    /// The gradient of the mean loss over `x`, `y` (one batch, training mode)
    /// with respect to every trainable weight, without changing any weight.
    pub async fn gradients(&mut self, x: &Tensor, y: &Tensor) -> Result<Vec<(String, Tensor)>> {
        self.check_inputs(x)?;
        self.check_targets(y, x.rows())?;
        self.record_gradients(&x.data, &y.data, x.rows());
        self.backend.submit();
        let mut out = Vec::new();
        for (layer, config) in self.layers.iter().zip(&self.spec.layers).filter(|(_, c)| c.trainable) {
            for p in layer.params() {
                let data = self.backend.read(&p.grad, p.len()).await?;
                out.push((format!("{}/{}", config.name, p.name), Tensor::new(p.shape.clone(), data)?));
            }
        }
        Ok(out)
    }

    /// Records the loss and metrics of a batch without training.
    pub fn test_on_batch(&mut self, x: &[f32], y: &[f32], batch: usize) {
        self.write_batch(x, Some(y), batch);
        self.forward(batch, false);
        self.loss(batch);
        self.regularize(batch);
        self.backend.submit();
    }

    /// Zeroes the running metrics.
    pub fn reset_metrics(&mut self) {
        self.backend.fill(&mut self.metrics, metric_slot::LEN, 0.0);
    }

    /// Reads the running metrics since the last reset.
    pub async fn read_metrics(&mut self) -> Result<Metrics> {
        let sums = self.backend.read(&self.metrics, metric_slot::LEN).await?;
        Ok(Metrics::from_sums(&sums, self.spec.loss.has_accuracy()))
    }

    /// Model outputs for every example of `x`.
    pub async fn predict(&mut self, x: &Tensor, batch_size: usize) -> Result<Tensor> {
        let last = self.layers.len();
        Ok(self.predict_at(x, batch_size, &[last]).await?.pop().expect("one boundary asked for"))
    }

    /// Every layer's outputs for every example of `x`, in layer order (the
    /// last is [`Model::predict`]'s). One forward pass gives them all, as the
    /// lab's network diagram needs: a map of every neuron.
    pub async fn predict_layers(&mut self, x: &Tensor, batch_size: usize) -> Result<Vec<Tensor>> {
        let boundaries: Vec<usize> = (1..=self.layers.len()).collect();
        self.predict_at(x, batch_size, &boundaries).await
    }

    /// The activations at `boundaries` (0 is the input, `i` the output of
    /// layer `i - 1`) for every example of `x`.
    async fn predict_at(&mut self, x: &Tensor, batch_size: usize, boundaries: &[usize]) -> Result<Vec<Tensor>> {
        self.check_inputs(x)?;
        let widths: Vec<usize> = boundaries.iter().map(|&b| self.plan.shape_at(b).iter().product()).collect();
        // Smaller batches give the same outputs; the limit bounds the memory.
        let batch_size = batch_size.clamp(1, self.plan.max_batch(&self.limits));
        let mut data: Vec<Vec<f32>> = widths.iter().map(|w| Vec::with_capacity(x.rows() * w)).collect();
        for start in (0..x.rows()).step_by(batch_size) {
            let batch = batch_size.min(x.rows() - start);
            let rows = &x.data[start * x.row_len()..(start + batch) * x.row_len()];
            self.write_batch(rows, None, batch);
            self.forward(batch, false);
            self.backend.submit();
            let pass = self.passes.get(batch).expect("just ensured");
            for ((&boundary, width), data) in boundaries.iter().zip(&widths).zip(&mut data) {
                data.extend(self.backend.read(&pass.acts[boundary], batch * width).await?);
            }
        }
        boundaries
            .iter()
            .zip(data)
            .map(|(&boundary, data)| {
                let mut shape = vec![x.rows()];
                shape.extend_from_slice(self.plan.shape_at(boundary));
                Tensor::new(shape, data)
            })
            .collect()
    }

    /// Predicts once on inputs every model of its kind must take: an example
    /// of zeros and, for a text model, a short sentence through its own
    /// encoder. A model that fails here would fail in every view that uses
    /// it, so views adopt (and save) a model only after it passes.
    pub async fn trial_prediction(&mut self) -> Result<()> {
        let mut shape = vec![1];
        shape.extend_from_slice(self.input_shape());
        let mut x = Tensor::zeros(shape);
        if self.spec.text_encoder.is_some() {
            x = self.encode_texts(&["A fine day, and a good one."])?;
        } else {
            self.preprocess(&mut x)?;
        }
        let y = self.predict(&x, 1).await?;
        if let Some(i) = y.data.iter().position(|v| !v.is_finite()) {
            return Err(Error::InvalidModel(format!(
                "a trial prediction gave {} at output {i}; the model's weights or settings are broken",
                y.data[i]
            )));
        }
        Ok(())
    }

    /// Names (`layer/param`) and shapes of all weights, in model order.
    pub fn weight_shapes(&self) -> Vec<(String, Vec<usize>)> {
        self.plan.weight_shapes(&self.spec.layers).map(|(name, shape)| (name, shape.to_vec())).collect()
    }

    /// Reads all weights back from the backend.
    pub async fn weights(&mut self) -> Result<Vec<(String, Tensor)>> {
        let mut out = Vec::new();
        for (layer, config) in self.layers.iter().zip(&self.spec.layers) {
            for p in layer.params() {
                let data = self.backend.read(&p.value, p.len()).await?;
                out.push((format!("{}/{}", config.name, p.name), Tensor::new(p.shape.clone(), data)?));
            }
        }
        Ok(out)
    }

    /// Replaces all weights. Every weight must be given exactly once with the
    /// right shape and finite values; nothing is changed if any check fails.
    pub fn set_weights(&mut self, weights: &[(String, Tensor)]) -> Result<()> {
        let expected = self.weight_shapes();
        for (name, tensor) in weights {
            match expected.iter().find(|(n, _)| n == name) {
                None => return Err(Error::UnexpectedTensor { name: name.clone() }),
                Some((_, shape)) if *shape != tensor.shape => {
                    return Err(Error::ShapeMismatch {
                        name: name.clone(),
                        expected: crate::error::Shape(shape.clone()),
                        found: crate::error::Shape(tensor.shape.clone()),
                    })
                }
                Some(_) => {}
            }
        }
        if let Some((name, shape)) = expected.iter().find(|(n, _)| !weights.iter().any(|(w, _)| w == n)) {
            return Err(Error::MissingTensor { name: name.clone(), expected: crate::error::Shape(shape.clone()) });
        }
        for (name, tensor) in weights {
            crate::io::check_finite(name, &tensor.data)?;
        }
        for (layer, config) in self.layers.iter_mut().zip(&self.spec.layers) {
            for p in layer.params_mut() {
                let name = format!("{}/{}", config.name, p.name);
                let (_, tensor) = weights.iter().find(|(n, _)| *n == name).expect("checked above");
                self.backend.write(&mut p.value, &tensor.data);
            }
        }
        Ok(())
    }

    /// Whether every weight is a finite number (an update can overflow
    /// even when the loss before it was finite).
    pub async fn weights_are_finite(&mut self) -> Result<bool> {
        for p in self.layers.iter().flat_map(|l| l.params()) {
            if self.backend.read(&p.value, p.len()).await?.iter().any(|v| !v.is_finite()) {
                return Ok(false);
            }
        }
        Ok(true)
    }

    /// Copies every weight and optimizer slot to the host, with the
    /// optimizer's step count: all it takes to carry a training run over to
    /// another backend ([`Model::load_training_state`]).
    pub async fn training_state(&mut self) -> Result<TrainingState> {
        let mut tensors = Vec::new();
        for param in self.layers.iter().flat_map(|l| l.params()) {
            for (buffer, len) in param.state() {
                tensors.push(self.backend.read(buffer, len).await?);
            }
        }
        Ok(TrainingState { tensors, optimizer: self.optimizer.clone() })
    }

    /// Continues from a state taken from a model of the same spec, on any backend.
    pub fn load_training_state(&mut self, state: &TrainingState) -> Result<()> {
        let targets: Vec<_> =
            self.layers.iter_mut().flat_map(|l| l.params_mut().iter_mut()).flat_map(Param::state_mut).collect();
        let fits = targets.len() == state.tensors.len()
            && targets.iter().zip(&state.tensors).all(|((_, len), t)| *len == t.len())
            && state.optimizer.config == self.optimizer.config;
        if !fits {
            return Err(Error::InvalidModel("the training state belongs to a different model or optimizer".into()));
        }
        for ((buffer, _), tensor) in targets.into_iter().zip(&state.tensors) {
            self.backend.write(buffer, tensor);
        }
        self.optimizer = state.optimizer.clone();
        Ok(())
    }

    /// Remembers the current weights and optimizer state on the device.
    pub fn save_checkpoint(&mut self) {
        let mut saved = match self.checkpoint.take() {
            Some((buffers, _)) => buffers,
            None => {
                let lens: Vec<usize> =
                    self.layers.iter().flat_map(|l| l.params()).flat_map(Param::state).map(|(_, len)| len).collect();
                lens.into_iter().map(|len| self.backend.alloc(len)).collect()
            }
        };
        let sources = self.layers.iter().flat_map(|l| l.params()).flat_map(Param::state);
        for ((src, len), dst) in sources.zip(&mut saved) {
            self.backend.copy(src, dst, len);
        }
        self.checkpoint = Some((saved, self.optimizer.clone()));
    }

    /// Puts back what [`Model::save_checkpoint`] saved; `false` if nothing was saved.
    pub fn restore_checkpoint(&mut self) -> bool {
        let Some((saved, optimizer)) = &self.checkpoint else {
            return false;
        };
        let targets = self.layers.iter_mut().flat_map(|l| l.params_mut().iter_mut()).flat_map(Param::state_mut);
        for ((dst, len), src) in targets.zip(saved) {
            self.backend.copy(src, dst, len);
        }
        self.optimizer = optimizer.clone();
        true
    }
}
