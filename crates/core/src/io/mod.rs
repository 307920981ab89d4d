//! Model files: `model.json` (the [`ModelSpec`]) and `model.safetensors`
//! (f32 weights named `<layer>/<param>` in Keras layout).

use std::collections::HashMap;

use safetensors::{tensor::TensorView, Dtype, SafeTensors};

use crate::backend::Backend;
use crate::error::{Error, Result};
use crate::limits::Limits;
use crate::model::{Model, ModelSpec, TrainingState};
use crate::optim::{Optimizer, OptimizerConfig};
use crate::tensor::Tensor;

/// A model as the two files it is stored in.
#[derive(Debug, Clone, PartialEq)]
pub struct ModelFiles {
    pub json: String,
    pub safetensors: Vec<u8>,
}

pub const SPEC_FILE: &str = "model.json";
pub const WEIGHTS_FILE: &str = "model.safetensors";

/// Serializes named f32 tensors in the safetensors format.
pub fn encode_weights(weights: &[(String, Tensor)]) -> Result<Vec<u8>> {
    encode_tensors(weights, "neuroglow")
}

/// Serializes named f32 tensors in the safetensors format, its `format`
/// metadata saying whose layout they are in (PyTorch's files say `pt`).
pub fn encode_tensors(weights: &[(String, Tensor)], format: &str) -> Result<Vec<u8>> {
    encode_with_metadata(weights, HashMap::from([("format".to_string(), format.to_string())]))
}

fn encode_with_metadata(weights: &[(String, Tensor)], metadata: HashMap<String, String>) -> Result<Vec<u8>> {
    // safetensors panics on a repeated name; an import could hand one over.
    let mut names = std::collections::HashSet::with_capacity(weights.len());
    if let Some((name, _)) = weights.iter().find(|(name, _)| !names.insert(name.as_str())) {
        return Err(Error::InvalidModel(format!("two weights are named `{name}`; each weight needs its own name")));
    }
    let bytes: Vec<Vec<u8>> =
        weights.iter().map(|(_, t)| t.data.iter().flat_map(|v| v.to_le_bytes()).collect()).collect();
    let views = weights
        .iter()
        .zip(&bytes)
        .map(|((name, t), b)| {
            Ok((
                name.clone(),
                TensorView::new(Dtype::F32, t.shape.clone(), b).map_err(|e| Error::WeightsFile(e.to_string()))?,
            ))
        })
        .collect::<Result<Vec<_>>>()?;
    safetensors::serialize(views, Some(metadata)).map_err(|e| Error::WeightsFile(e.to_string()))
}

/// Reads named f32 tensors from safetensors bytes.
pub fn decode_weights(bytes: &[u8]) -> Result<Vec<(String, Tensor)>> {
    let file = SafeTensors::deserialize(bytes).map_err(|e| Error::WeightsFile(e.to_string()))?;
    let mut out = Vec::new();
    for (name, view) in file.tensors() {
        if view.dtype() != Dtype::F32 {
            return Err(Error::WrongDtype { name, found: format!("{:?}", view.dtype()) });
        }
        let data = f32_values(view.data());
        out.push((name, Tensor::new(view.shape().to_vec(), data)?));
    }
    out.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(out)
}

/// Reads the tensors `expected` names from safetensors bytes, checking the
/// header — names, dtypes, shapes, byte ranges — before any tensor is copied
/// out, and every value after: a NaN or infinite weight is an error naming
/// the tensor and the first bad index.
pub fn decode_expected_weights<'a>(
    bytes: &[u8],
    expected: impl Iterator<Item = (String, &'a [usize])>,
    limits: &Limits,
) -> Result<HashMap<String, Tensor>> {
    Limits::check("model.safetensors (bytes)", bytes.len() as u64, limits.max_weights_bytes, "max_weights_bytes")?;
    let file = SafeTensors::deserialize(bytes).map_err(|e| Error::WeightsFile(e.to_string()))?;
    let expected: Vec<(String, &[usize])> = expected.collect();
    if let Some((name, view)) = file.iter().find(|(_, v)| v.dtype() != Dtype::F32) {
        return Err(Error::WrongDtype { name: name.to_string(), found: format!("{:?}", view.dtype()) });
    }
    let mut views = Vec::with_capacity(expected.len());
    for (name, shape) in &expected {
        let view = file
            .tensor(name)
            .map_err(|_| Error::MissingTensor { name: name.clone(), expected: crate::error::Shape(shape.to_vec()) })?;
        if view.shape() != *shape {
            return Err(Error::ShapeMismatch {
                name: name.clone(),
                expected: crate::error::Shape(shape.to_vec()),
                found: crate::error::Shape(view.shape().to_vec()),
            });
        }
        views.push((name, view));
    }
    if let Some(name) = file.names().into_iter().find(|n| !expected.iter().any(|(e, _)| e == *n)) {
        return Err(Error::UnexpectedTensor { name: name.to_string() });
    }
    let mut out = HashMap::with_capacity(views.len());
    for (name, view) in views {
        let data = f32_values(view.data());
        check_finite(name, &data)?;
        out.insert(name.clone(), Tensor::new(view.shape().to_vec(), data)?);
    }
    Ok(out)
}

/// Little-endian f32s, as safetensors and TF.js shards store them.
pub(crate) fn f32_values(bytes: &[u8]) -> Vec<f32> {
    bytes.chunks_exact(4).map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]])).collect()
}

/// An error naming `name` and its first NaN or infinite value, if it has one.
pub fn check_finite(name: &str, values: &[f32]) -> Result<()> {
    match values.iter().position(|v| !v.is_finite()) {
        None => Ok(()),
        Some(i) => Err(Error::NonFiniteWeight { name: name.to_string(), index: i, value: values[i] }),
    }
}

impl<B: Backend + 'static> Model<B> {
    /// Builds a model from its two files within the default [`Limits`].
    pub fn from_files(json: &str, safetensors: &[u8], backend: B) -> Result<Self> {
        Self::from_files_with_limits(json, safetensors, backend, &Limits::default())
    }

    /// Builds a model from its two files: `model.json` is read strictly and
    /// planned, the weights file is checked against the plan, and only then
    /// is anything allocated. No initializer runs. When the weights file
    /// holds the optimizer's state too, training continues from it.
    pub fn from_files_with_limits(json: &str, safetensors: &[u8], backend: B, limits: &Limits) -> Result<Self> {
        let mut spec = ModelSpec::from_json_with_limits(json, limits)?;
        spec.assign_layer_names()?;
        let plan = spec.plan(limits)?;
        Limits::check(
            "model.safetensors (bytes)",
            safetensors.len() as u64,
            limits.max_weights_bytes,
            "max_weights_bytes",
        )?;
        let saved = saved_optimizer(safetensors, &spec.optimizer)?;
        let slots = if saved.is_some() { spec.optimizer.slot_names() } else { &[] };
        let shapes: Vec<(String, &[usize])> = plan.weight_shapes(&spec.layers).collect();
        let expected = shapes.iter().flat_map(|(name, shape)| {
            std::iter::once((name.clone(), *shape)).chain(slots.iter().map(move |slot| (slot_name(name, slot), *shape)))
        });
        let mut tensors = decode_expected_weights(safetensors, expected, limits)?;
        let state: Vec<Vec<f32>> = match saved {
            None => vec![],
            Some(_) => shapes
                .iter()
                .flat_map(|(name, _)| {
                    std::iter::once(name.clone()).chain(slots.iter().map(|slot| slot_name(name, slot)))
                })
                .map(|name| tensors[&name].data.clone())
                .collect(),
        };
        tensors.retain(|name, _| !name.starts_with(OPTIMIZER_PREFIX));
        let mut model = Model::build(spec, plan, *limits, backend, Some(tensors));
        if let Some((iterations, beta_powers)) = saved {
            let optimizer = Optimizer::resumed(model.spec().optimizer.clone(), iterations, beta_powers);
            model.load_training_state(&TrainingState { tensors: state, optimizer })?;
        }
        Ok(model)
    }

    /// The model's weights as its two files (what a model ships with).
    pub async fn to_files(&mut self) -> Result<ModelFiles> {
        let weights = self.weights().await?;
        Ok(ModelFiles { json: self.spec().to_json(), safetensors: encode_weights(&weights)? })
    }

    /// The model's two files with the optimizer's state (its moments and step
    /// count) beside the weights, so that training resumes exactly where it
    /// stopped: two runs of one epoch end where one run of two does.
    pub async fn to_files_for_training(&mut self) -> Result<ModelFiles> {
        let weights = self.weights().await?;
        let safetensors = match self.optimizer_state().await? {
            None => encode_weights(&weights)?,
            Some(state) => encode_with_optimizer(&weights, &state, &self.spec().optimizer)?,
        };
        Ok(ModelFiles { json: self.spec().to_json(), safetensors })
    }

    /// The optimizer's state, once it has taken a step: every weight's
    /// slots, named `optimizer/<layer>/<param>/<slot>`, in model order.
    pub async fn optimizer_state(&mut self) -> Result<Option<OptimizerState>> {
        if self.iterations() == 0 {
            return Ok(None);
        }
        let state = self.training_state().await?;
        let slot_names = self.spec().optimizer.slot_names();
        let mut slots = Vec::with_capacity(state.tensors.len());
        for ((name, shape), saved) in self.weight_shapes().into_iter().zip(state.tensors.chunks(1 + slot_names.len())) {
            for (slot, values) in slot_names.iter().zip(&saved[1..]) {
                slots.push((slot_name(&name, slot), Tensor::new(shape.clone(), values.clone())?));
            }
        }
        let optimizer = &state.optimizer;
        Ok(Some(OptimizerState { iterations: optimizer.iterations, beta_powers: optimizer.beta_powers(), slots }))
    }
}

/// An optimizer's state on the host: how many steps it took, Adam's β₁ᵗ and
/// β₂ᵗ, and each weight's slots (`optimizer/<layer>/<param>/<slot>`, in
/// model order).
#[derive(Debug, Clone, PartialEq)]
pub struct OptimizerState {
    pub iterations: u64,
    pub beta_powers: (f64, f64),
    pub slots: Vec<(String, Tensor)>,
}

/// `model.safetensors` with the weights and an optimizer's state.
pub fn encode_with_optimizer(
    weights: &[(String, Tensor)],
    state: &OptimizerState,
    optimizer: &OptimizerConfig,
) -> Result<Vec<u8>> {
    let slots_per_weight = optimizer.slot_names().len();
    let mut tensors = Vec::with_capacity(weights.len() * (1 + slots_per_weight));
    for (i, weight) in weights.iter().enumerate() {
        tensors.push(weight.clone());
        tensors.extend(state.slots[i * slots_per_weight..(i + 1) * slots_per_weight].iter().cloned());
    }
    let (p1, p2) = state.beta_powers;
    let metadata = HashMap::from([
        ("format".to_string(), "neuroglow".to_string()),
        (OPTIMIZER_TYPE.to_string(), optimizer.type_name().to_string()),
        (OPTIMIZER_ITERATIONS.to_string(), state.iterations.to_string()),
        (OPTIMIZER_BETA_POWERS.to_string(), format!("{p1:e} {p2:e}")),
    ]);
    encode_with_metadata(&tensors, metadata)
}

/// The name of a weight's optimizer slot in `model.safetensors`.
pub fn slot_name(weight: &str, slot: &str) -> String {
    format!("{OPTIMIZER_PREFIX}{weight}/{slot}")
}

/// Names of the optimizer's state in `model.safetensors`: tensors
/// `optimizer/<layer>/<param>/<slot>`, and in the file's metadata the
/// optimizer's type, step count and Adam's β₁ᵗ β₂ᵗ.
const OPTIMIZER_PREFIX: &str = "optimizer/";
const OPTIMIZER_TYPE: &str = "optimizer.type";
const OPTIMIZER_ITERATIONS: &str = "optimizer.iterations";
const OPTIMIZER_BETA_POWERS: &str = "optimizer.beta_powers";

/// The step count and β powers of the optimizer state `safetensors` holds,
/// if it holds one, checked against the optimizer `model.json` trains with.
fn saved_optimizer(safetensors: &[u8], optimizer: &OptimizerConfig) -> Result<Option<(u64, (f64, f64))>> {
    let metadata = SafeTensors::read_metadata(safetensors).map_err(|e| Error::WeightsFile(e.to_string()))?.1;
    let Some(metadata) = metadata.metadata() else { return Ok(None) };
    let Some(iterations) = metadata.get(OPTIMIZER_ITERATIONS) else { return Ok(None) };
    let bad = |what: &str, value: &str| Error::WeightsFile(format!("its metadata `{what}` is {value:?}, not {what}"));
    let saved_type = metadata.get(OPTIMIZER_TYPE).map(String::as_str).unwrap_or_default();
    if saved_type != optimizer.type_name() {
        return Err(Error::InvalidModel(format!(
            "model.safetensors holds the state of a {saved_type:?} optimizer, but model.json trains with {:?}; \
             set the optimizer's type back to {saved_type:?} to continue that training",
            optimizer.type_name()
        )));
    }
    let iterations: u64 = iterations.parse().map_err(|_| bad(OPTIMIZER_ITERATIONS, iterations))?;
    let powers = metadata.get(OPTIMIZER_BETA_POWERS).map(String::as_str).unwrap_or_default();
    let parsed: Vec<f64> = powers.split(' ').filter_map(|p| p.parse().ok()).collect();
    match parsed[..] {
        [p1, p2] if [p1, p2].iter().all(|p| (0.0..=1.0).contains(p)) => Ok(Some((iterations, (p1, p2)))),
        _ => Err(bad(OPTIMIZER_BETA_POWERS, powers)),
    }
}

#[cfg(not(target_arch = "wasm32"))]
mod dir {
    use std::path::Path;

    use super::*;

    impl ModelFiles {
        /// Reads `model.json` and, if present, `model.safetensors` from a directory.
        pub fn read_dir(dir: &Path) -> Result<(String, Option<Vec<u8>>)> {
            let json_path = dir.join(SPEC_FILE);
            let json = std::fs::read_to_string(&json_path)
                .map_err(|e| Error::ModelJson(format!("cannot read {}: {e}", json_path.display())))?;
            let weights_path = dir.join(WEIGHTS_FILE);
            let weights = match std::fs::read(&weights_path) {
                Ok(bytes) => Some(bytes),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
                Err(e) => return Err(Error::WeightsFile(format!("cannot read {}: {e}", weights_path.display()))),
            };
            Ok((json, weights))
        }

        /// Writes both files into `dir`, creating it if needed.
        pub fn write_dir(&self, dir: &Path) -> Result<()> {
            let io = |e: std::io::Error| Error::WeightsFile(format!("cannot write to {}: {e}", dir.display()));
            std::fs::create_dir_all(dir).map_err(io)?;
            std::fs::write(dir.join(SPEC_FILE), &self.json).map_err(io)?;
            std::fs::write(dir.join(WEIGHTS_FILE), &self.safetensors).map_err(io)
        }
    }
}
