//! `neuroglow export` and `neuroglow import`: a model directory to and from
//! other engines' formats, through `neuroglow_core::interop` (which works on
//! bytes; this module only reads and writes the files).

use std::path::Path;

use neuroglow_core::interop::{tfjs, Imported};
use neuroglow_core::io::SPEC_FILE;
use neuroglow_core::{CpuBackend, Limits, LossKind, Model};

/// The formats `export` writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// TensorFlow.js layers model: `model.json` and `.bin` shards, for `tf.loadLayersModel`.
    Tfjs,
}

impl Format {
    pub fn name(self) -> &'static str {
        match self {
            Format::Tfjs => "TensorFlow.js layers model",
        }
    }
}

/// Writes `model` in `format` into the directory `out`, which must not
/// already hold a model (a TF.js `model.json` would replace Neuroglow's).
pub fn export(model: &mut Model<CpuBackend>, format: Format, out: &Path, inference_only: bool) -> Result<(), String> {
    if out.join(SPEC_FILE).exists() {
        return Err(format!("{} already holds a model.json; export into a new directory", out.display()));
    }
    let weights = pollster::block_on(model.weights()).map_err(|e| e.to_string())?;
    match format {
        Format::Tfjs => {
            let how = if inference_only { tfjs::Export::ForInference } else { tfjs::Export::ForTraining };
            let exported = tfjs::export(model.spec(), &weights, how, "group1").map_err(|e| e.to_string())?;
            let write = |name: &str, bytes: &[u8]| {
                std::fs::write(out.join(name), bytes)
                    .map_err(|e| format!("cannot write {}: {e}", out.join(name).display()))
            };
            std::fs::create_dir_all(out).map_err(|e| format!("cannot create {}: {e}", out.display()))?;
            write(SPEC_FILE, exported.model_json.as_bytes())?;
            for (name, bytes) in &exported.shards {
                write(name, bytes)?;
            }
        }
    }
    Ok(())
}

/// Reads the model at `path` (a TF.js `model.json`, or a directory holding
/// one), checks that it loads, and writes it as a Neuroglow model into
/// `out`. Returns the notes the import left.
pub fn import(path: &Path, out: &Path, loss: Option<LossKind>, limits: &Limits) -> Result<Vec<String>, String> {
    let file = if path.is_dir() { path.join(SPEC_FILE) } else { path.to_path_buf() };
    let text = std::fs::read_to_string(&file).map_err(|e| format!("cannot read {}: {e}", file.display()))?;
    if !tfjs::is_tfjs(&text) {
        return Err(format!(
            "{} is not a model Neuroglow can import: it reads TensorFlow.js layers models (model.json with \
             `modelTopology`)",
            file.display()
        ));
    }
    let folder = file.parent().unwrap_or(Path::new("."));
    // The manifest's paths are checked to stay inside the folder before this reads them.
    let shard = |name: &str| std::fs::read(folder.join(name)).ok();
    let context = |e: neuroglow_core::Error| format!("{}: {e}", file.display());
    let Imported { files, notes } = tfjs::import(&text, &shard, loss, limits).map_err(context)?;
    // The same checks as for any model directory, before anything is written.
    Model::from_files_with_limits(&files.json, &files.safetensors, CpuBackend::new(), limits).map_err(context)?;
    if out.join(SPEC_FILE).exists() {
        return Err(format!("{} already holds a model; import into a new directory", out.display()));
    }
    files.write_dir(out).map_err(|e| e.to_string())?;
    Ok(notes)
}
