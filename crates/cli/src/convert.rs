//! `neuroglow export` and `neuroglow import`: a model directory to and from
//! other engines' formats, through `neuroglow_core::interop` (which works on
//! bytes; this module only reads and writes the files).

use std::path::Path;

use neuroglow_core::interop::{keras, pytorch, tfjs, Imported};
use neuroglow_core::io::SPEC_FILE;
use neuroglow_core::{CpuBackend, Limits, LossKind, Model};

/// The formats `export` writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// TensorFlow.js layers model: `model.json` and `.bin` shards, for `tf.loadLayersModel`.
    Tfjs,
    /// PyTorch: `state_dict.safetensors`, the `nn.Module` in `model.py`, Neuroglow's `model.json`.
    Pytorch,
    /// Keras 3: one `model.keras` file, for `keras.saving.load_model`.
    Keras,
}

impl Format {
    pub fn name(self) -> &'static str {
        match self {
            Format::Tfjs => "TensorFlow.js layers model",
            Format::Pytorch => "PyTorch state_dict with its model.py",
            Format::Keras => "Keras 3 model (model.keras)",
        }
    }
}

/// Writes `model` in `format` into the directory `out`, which must be new
/// or empty (a TF.js `model.json` would replace a Neuroglow model's own).
pub fn export(model: &mut Model<CpuBackend>, format: Format, out: &Path, inference_only: bool) -> Result<(), String> {
    if std::fs::read_dir(out).is_ok_and(|mut entries| entries.next().is_some()) {
        return Err(format!("{} is not empty; export into a new directory", out.display()));
    }
    let weights = pollster::block_on(model.weights()).map_err(|e| e.to_string())?;
    let files: Vec<(String, Vec<u8>)> = match format {
        Format::Tfjs => {
            let how = if inference_only { tfjs::Export::ForInference } else { tfjs::Export::ForTraining };
            let exported = tfjs::export(model.spec(), &weights, how, "group1").map_err(|e| e.to_string())?;
            std::iter::once((SPEC_FILE.to_string(), exported.model_json.into_bytes())).chain(exported.shards).collect()
        }
        Format::Pytorch => {
            let exported = pytorch::export(model.spec(), &weights).map_err(|e| e.to_string())?;
            vec![
                (pytorch::STATE_DICT_FILE.into(), exported.state_dict),
                (pytorch::MODEL_PY_FILE.into(), exported.model_py.into_bytes()),
                (SPEC_FILE.into(), exported.model_json.into_bytes()),
            ]
        }
        Format::Keras => {
            // With the optimizer's state, when the model has trained: Keras's fit then continues exactly.
            let state = pollster::block_on(model.optimizer_state()).map_err(|e| e.to_string())?;
            let bytes =
                keras::export(model.spec(), &weights, state.as_ref(), model.limits()).map_err(|e| e.to_string())?;
            vec![(KERAS_FILE.into(), bytes)]
        }
    };
    std::fs::create_dir_all(out).map_err(|e| format!("cannot create {}: {e}", out.display()))?;
    for (name, bytes) in files {
        let path = out.join(name);
        std::fs::write(&path, bytes).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    }
    Ok(())
}

/// The file name `export --format keras` writes.
pub const KERAS_FILE: &str = "model.keras";

/// Reads the model at `path` — a Keras `.keras` file, a TF.js `model.json`,
/// a PyTorch `state_dict.safetensors` with Neuroglow's `model.json` beside
/// it, or a directory holding one of them — checks that it loads, and writes it as a
/// Neuroglow model into `out`. Returns the notes the import left.
pub fn import(path: &Path, out: &Path, loss: Option<LossKind>, limits: &Limits) -> Result<Vec<String>, String> {
    let (folder, file) = match path.is_dir() {
        true => (path, path.join(SPEC_FILE)),
        false => (path.parent().unwrap_or(Path::new(".")), path.to_path_buf()),
    };
    let state_dict = if path.is_dir() { folder.join(pytorch::STATE_DICT_FILE) } else { file.clone() };
    let context = |e: neuroglow_core::Error| format!("{}: {e}", path.display());
    let keras_file = if path.is_dir() { folder.join(KERAS_FILE) } else { file.clone() };
    let Imported { files, notes } = if starts_as_keras(&keras_file) {
        keras::import(&read_bytes(&keras_file)?, limits).map_err(context)?
    } else if state_dict.extension().is_some_and(|e| e == "safetensors") && state_dict.exists() {
        let json = read_text(&folder.join(SPEC_FILE))?;
        pytorch::import(&json, &read_bytes(&state_dict)?, limits).map_err(context)?
    } else {
        let text = read_text(&file)?;
        if !tfjs::is_tfjs(&text) {
            return Err(format!(
                "{} is not a model Neuroglow can import: it reads Keras 3 `.keras` files, TensorFlow.js layers \
                 models (model.json with `modelTopology`) and PyTorch state_dicts (state_dict.safetensors beside \
                 Neuroglow's model.json)",
                file.display()
            ));
        }
        // The manifest's paths are checked to stay inside the folder before this reads them.
        let shard = |name: &str| std::fs::read(folder.join(name)).ok();
        tfjs::import(&text, &shard, loss, limits).map_err(context)?
    };
    // The same checks as for any model directory, before anything is written.
    Model::from_files_with_limits(&files.json, &files.safetensors, CpuBackend::new(), limits).map_err(context)?;
    if out.join(SPEC_FILE).exists() {
        return Err(format!("{} already holds a model; import into a new directory", out.display()));
    }
    files.write_dir(out).map_err(|e| e.to_string())?;
    Ok(notes)
}

/// Whether the file at `path` begins as a `.keras` file (a zip), from its
/// first bytes alone.
fn starts_as_keras(path: &Path) -> bool {
    let mut magic = [0u8; 4];
    std::fs::File::open(path).and_then(|mut f| std::io::Read::read_exact(&mut f, &mut magic)).is_ok()
        && keras::is_keras(&magic)
}

fn read_bytes(path: &Path) -> Result<Vec<u8>, String> {
    std::fs::read(path).map_err(|e| format!("cannot read {}: {e}", path.display()))
}

fn read_text(path: &Path) -> Result<String, String> {
    String::from_utf8(read_bytes(path)?).map_err(|_| format!("{} is not UTF-8 text", path.display()))
}
