//! Models in other engines' formats, read into Neuroglow's own two files
//! and written from a model: one module per format, working on bytes (no
//! filesystem), shared by the page and the CLI.
//!
//! An import yields `model.json` and `model.safetensors` text and bytes,
//! which are then loaded like any other model, so they pass the same strict
//! checks. What a format cannot express is an error that names it, never an
//! approximation.

mod keras_config;
pub mod tfjs;

use crate::error::{Error, Result};
use crate::io::ModelFiles;
use crate::limits::Limits;

/// A model brought in from another format.
#[derive(Debug, Clone, PartialEq)]
pub struct Imported {
    /// The model as Neuroglow's own files.
    pub files: ModelFiles,
    /// What the import left behind, for the user to read (for example an
    /// optimizer state Neuroglow does not keep).
    pub notes: Vec<String>,
}

/// A model from the files a user picked, in any format Neuroglow reads:
/// Neuroglow's `model.json` with its `.safetensors`, or a TF.js `model.json`
/// with its `.bin` shards. Files are told apart by their contents, shards by
/// the name their manifest gives them (without folders).
pub fn read_picked_files(files: &[(String, Vec<u8>)], limits: &Limits) -> Result<Imported> {
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
    let weights = files.iter().find(|(name, _)| name.ends_with(".safetensors")).ok_or_else(none)?;
    Ok(Imported { files: ModelFiles { json: text.to_string(), safetensors: weights.1.clone() }, notes: vec![] })
}

/// What to pick, said when the picked files are not a model.
const PICK_HINT: &str = "pick a model's files together: Neuroglow's model.json with its model.safetensors, \
                         or a TensorFlow.js model.json with its .bin weight files";
