//! Model files: `model.json` (the [`ModelSpec`]) and `model.safetensors`
//! (f32 weights named `<layer>/<param>` in Keras layout).

use safetensors::{tensor::TensorView, Dtype, SafeTensors};

use crate::backend::Backend;
use crate::error::{Error, Result};
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
    let metadata = [("format".to_string(), "neuroglow".to_string())].into_iter().collect();
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
        let data = view.data().chunks_exact(4).map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]])).collect();
        out.push((name, Tensor::new(view.shape().to_vec(), data)?));
    }
    out.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(out)
}

impl<B: Backend + 'static> Model<B> {
    /// Builds a model from its two files, checking every tensor.
    pub fn from_files(json: &str, safetensors: &[u8], backend: B) -> Result<Self> {
        let mut model = Model::new(ModelSpec::from_json(json)?, backend)?;
        model.set_weights(&decode_weights(safetensors)?)?;
        Ok(model)
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
