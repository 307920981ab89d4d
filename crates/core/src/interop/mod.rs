//! Models in other engines' formats, read into Neuroglow's own two files
//! and written from a model: one module per format, working on bytes (no
//! filesystem), shared by the page and the CLI.
//!
//! An import yields `model.json` and `model.safetensors` text and bytes,
//! which are then loaded like any other model, so they pass the same strict
//! checks. What a format cannot express is an error that names it, never an
//! approximation.

#[cfg(feature = "keras")]
pub mod keras;
mod keras_config;
pub mod pytorch;
pub mod tfjs;

use serde_json::Value;

use crate::error::{Error, Result};
use crate::io::ModelFiles;
use crate::limits::Limits;
use crate::model::ModelSpec;

/// A model brought in from another format.
#[derive(Debug, Clone, PartialEq)]
pub struct Imported {
    /// The model as Neuroglow's own files.
    pub files: ModelFiles,
    /// What the import left behind, for the user to read (for example an
    /// optimizer state Neuroglow does not keep).
    pub notes: Vec<String>,
}

/// An f32 setting as the JSON number it was written as (`0.001`, not the
/// `0.0010000000474974513` its f64 widening prints), so that other engines
/// read the value the user chose; it reads back as the same f32.
fn decimal(value: f32) -> Value {
    let shortest: f64 = value.to_string().parse().expect("an f32 prints as a number");
    serde_json::Number::from_f64(shortest).map_or(Value::Null, Value::Number)
}

/// Everything of `model.json` but the layers and input shape (which the
/// other format describes itself): preprocessing, text encoder, loss,
/// optimizer, seed, name and model card.
fn settings(spec: &ModelSpec) -> Value {
    let mut settings = serde_json::to_value(spec).expect("a model spec serializes");
    let object = settings.as_object_mut().expect("a model spec is an object");
    for key in ["format", "version", "input_shape", "layers"] {
        object.remove(key);
    }
    settings
}

/// A model from the files a user picked, in any format Neuroglow reads: a
/// Keras `.keras` file, Neuroglow's `model.json` with its `.safetensors`
/// (its own weights, or a PyTorch state_dict), or a TF.js `model.json` with
/// its `.bin` shards.
/// Files are told apart by their contents, shards by the name their
/// manifest gives them (without folders).
pub fn read_picked_files(files: &[(String, Vec<u8>)], limits: &Limits) -> Result<Imported> {
    if let Some((name, bytes)) = files.iter().find(|(_, bytes)| bytes.starts_with(b"PK\x03\x04")) {
        #[cfg(feature = "keras")]
        {
            let _ = name;
            return keras::import(bytes, limits);
        }
        #[cfg(not(feature = "keras"))]
        let _ = bytes;
        #[cfg(not(feature = "keras"))]
        return Err(Error::InvalidModel(format!(
            "{name} is a zip (a .keras file?): this build of Neuroglow reads .keras files with the `neuroglow` \
             command only (`neuroglow import {name} --out DIR`)"
        )));
    }
    let json: Vec<(&str, &str)> = files
        .iter()
        .filter(|(_, bytes)| bytes.first() == Some(&b'{'))
        .filter_map(|(name, bytes)| Some((name.as_str(), std::str::from_utf8(bytes).ok()?)))
        .collect();
    let none = || Error::InvalidModel(PICK_HINT.into());
    if let Some((_, text)) = json.iter().find(|(_, text)| tfjs::is_tfjs(text)) {
        let shard = |path: &str| {
            let wanted = path.rsplit('/').next().unwrap_or(path);
            files.iter().find(|(name, _)| name == wanted).map(|(_, bytes)| bytes.clone())
        };
        return tfjs::import(text, &shard, None, limits);
    }
    let [(_, text)] = json[..] else { return Err(none()) };
    let (_, weights) = files.iter().find(|(name, _)| name.ends_with(".safetensors")).ok_or_else(none)?;
    if pytorch::is_state_dict(weights) {
        return pytorch::import(text, weights, limits);
    }
    Ok(Imported { files: ModelFiles { json: text.to_string(), safetensors: weights.clone() }, notes: vec![] })
}

/// What to pick, said when the picked files are not a model.
const PICK_HINT: &str = "pick a model's files together: Neuroglow's model.json with its model.safetensors \
                         (or a PyTorch state_dict.safetensors), or a TensorFlow.js model.json with its .bin \
                         weight files";
