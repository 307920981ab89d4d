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

use crate::io::ModelFiles;

/// A model brought in from another format.
#[derive(Debug, Clone, PartialEq)]
pub struct Imported {
    /// The model as Neuroglow's own files.
    pub files: ModelFiles,
    /// What the import left behind, for the user to read (for example an
    /// optimizer state Neuroglow does not keep).
    pub notes: Vec<String>,
}
