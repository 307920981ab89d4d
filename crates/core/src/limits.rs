//! How large a model, a batch or a file may be before the engine refuses it.
//!
//! Every size in a model file comes from whoever wrote the file. The engine
//! checks them against these limits before it allocates anything, so that a
//! hostile or mistaken file gets an error naming the field instead of an
//! out-of-memory abort (which, in a browser, kills every view on the page).
//! The defaults fit every shipped model many times over and still leave a
//! model's weights, gradients and optimizer state well inside the 4 GiB a
//! wasm32 page can address.

use crate::error::{Error, Result};

/// Upper bounds on what a model file or a dataset may ask for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Weights in the whole model (each is 4 bytes, and training keeps up to
    /// three more copies: the gradient and Adam's two moments).
    pub max_parameters: usize,
    /// Floats a forward and backward pass keeps for one batch: layer outputs,
    /// their gradients and every layer's scratch buffers.
    pub max_batch_activations: usize,
    /// Time steps of a sequence model's input (`input_shape`, `maxlen`).
    pub max_sequence_length: usize,
    /// Token ids an Embedding or a text encoder may have.
    pub max_vocabulary: usize,
    /// Layers in a model.
    pub max_layers: usize,
    /// Bytes of `model.json`.
    pub max_json_bytes: usize,
    /// Bytes of `model.safetensors`.
    pub max_weights_bytes: usize,
    /// Bytes of a dataset or text a user hands over (CSV, labelled lines, corpus).
    pub max_data_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_parameters: 32_000_000,
            max_batch_activations: 1 << 27,
            max_sequence_length: 4096,
            max_vocabulary: 250_000,
            max_layers: 64,
            max_json_bytes: 64 << 20,
            max_weights_bytes: (32_000_000 * 4) + (1 << 20),
            max_data_bytes: 64 << 20,
        }
    }
}

impl Limits {
    /// The limits' names, as errors and the CLI's `--limit NAME=VALUE` spell them.
    pub const NAMES: [&'static str; 8] = [
        "max_parameters",
        "max_batch_activations",
        "max_sequence_length",
        "max_vocabulary",
        "max_layers",
        "max_json_bytes",
        "max_weights_bytes",
        "max_data_bytes",
    ];

    fn field_mut(&mut self, name: &str) -> Option<&mut usize> {
        Some(match name {
            "max_parameters" => &mut self.max_parameters,
            "max_batch_activations" => &mut self.max_batch_activations,
            "max_sequence_length" => &mut self.max_sequence_length,
            "max_vocabulary" => &mut self.max_vocabulary,
            "max_layers" => &mut self.max_layers,
            "max_json_bytes" => &mut self.max_json_bytes,
            "max_weights_bytes" => &mut self.max_weights_bytes,
            "max_data_bytes" => &mut self.max_data_bytes,
            _ => return None,
        })
    }

    /// Sets one limit from `NAME=VALUE` (as the CLI's `--limit` takes it).
    pub fn set(&mut self, assignment: &str) -> Result<()> {
        let bad = |why: String| Err(Error::Data(format!("--limit {assignment:?}: {why}")));
        let Some((name, value)) = assignment.split_once('=') else {
            return bad("write it as NAME=VALUE, e.g. max_parameters=50000000".into());
        };
        let Ok(value) = value.trim().replace('_', "").parse::<usize>() else {
            return bad(format!("{value:?} is not a whole number"));
        };
        match self.field_mut(name.trim()) {
            Some(field) => {
                *field = value;
                Ok(())
            }
            None => bad(format!("there is no limit `{name}`; the limits are {}", Self::NAMES.join(", "))),
        }
    }

    /// An error unless `value ≤ limit`. `what` says where the value came from.
    pub fn check(what: &str, value: u64, limit: usize, name: &'static str) -> Result<()> {
        if value <= limit as u64 {
            return Ok(());
        }
        Err(Error::Limit { what: what.to_string(), value, limit, name })
    }

    /// Checks the size of a user's data before it is parsed.
    pub fn check_data_bytes(&self, what: &str, bytes: usize) -> Result<()> {
        Self::check(what, bytes as u64, self.max_data_bytes, "max_data_bytes")
    }
}

// Sizes are worked out in 64 bits whatever the platform, so that a file is
// judged the same natively and in wasm32 (where `usize` has 32 bits), and
// converted to `usize` only once they are within a limit.

/// `a · b`, or an error naming what overflowed (sizes in a file can be anything).
pub fn mul(what: &str, a: u64, b: u64) -> Result<u64> {
    a.checked_mul(b).ok_or_else(|| overflow(what))
}

/// `a + b`, or an error naming what overflowed.
pub fn add(what: &str, a: u64, b: u64) -> Result<u64> {
    a.checked_add(b).ok_or_else(|| overflow(what))
}

/// The product of `dims`, or an error naming what overflowed.
pub fn product(what: &str, dims: &[usize]) -> Result<u64> {
    dims.iter().try_fold(1u64, |acc, &d| mul(what, acc, d as u64))
}

/// A size already checked against a limit, as a `usize`.
pub fn to_usize(what: &str, value: u64) -> Result<usize> {
    usize::try_from(value).map_err(|_| overflow(what))
}

fn overflow(what: &str) -> Error {
    Error::Limit { what: what.to_string(), value: u64::MAX, limit: usize::MAX, name: "size arithmetic" }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_limit_is_set_by_name() {
        let mut limits = Limits::default();
        limits.set("max_parameters=50_000_000").unwrap();
        assert_eq!(limits.max_parameters, 50_000_000);
        let unknown = limits.set("max_params=1").unwrap_err().to_string();
        assert!(unknown.contains("no limit `max_params`") && unknown.contains("max_parameters"), "{unknown}");
        assert!(limits.set("max_layers=many").is_err());
        assert!(limits.set("max_layers").is_err());
    }

    #[test]
    fn checked_sizes_name_what_overflowed() {
        assert_eq!(product("shape", &[2, 3, 4]).unwrap(), 24);
        let error = product("input_shape", &[usize::MAX, usize::MAX, 2]).unwrap_err().to_string();
        assert!(error.contains("input_shape"), "{error}");
    }

    #[test]
    fn every_name_is_settable() {
        for name in Limits::NAMES {
            Limits::default().set(&format!("{name}=1")).unwrap();
        }
    }
}
