//! Model files: `model.json` (the [`ModelSpec`]) and `model.safetensors`
//! (f32 weights named `<layer>/<param>` in Keras layout).

use std::collections::HashMap;

use safetensors::{tensor::TensorView, Dtype, SafeTensors};

use crate::backend::Backend;
use crate::error::{Error, Result};
use crate::limits::Limits;
use crate::model::{Model, ModelSpec};
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
    let metadata = [("format".to_string(), format.to_string())].into_iter().collect();
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

fn f32_values(bytes: &[u8]) -> Vec<f32> {
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
    /// is anything allocated. No initializer runs.
    pub fn from_files_with_limits(json: &str, safetensors: &[u8], backend: B, limits: &Limits) -> Result<Self> {
        let mut spec = ModelSpec::from_json_with_limits(json, limits)?;
        spec.assign_layer_names()?;
        let plan = spec.plan(limits)?;
        let weights = decode_expected_weights(safetensors, plan.weight_shapes(&spec.layers), limits)?;
        Ok(Model::build(spec, plan, *limits, backend, Some(weights)))
    }

    /// The model's current state as its two files.
    pub async fn to_files(&mut self) -> Result<ModelFiles> {
        let weights = self.weights().await?;
        Ok(ModelFiles { json: self.spec().to_json(), safetensors: encode_weights(&weights)? })
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
