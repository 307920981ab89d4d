//! TensorFlow.js's layers format: a `model.json` (`format: "layers-model"`,
//! the Keras `modelTopology`, a `weightsManifest`) and the binary shards it
//! lists, which hold the weights as little-endian float32 back to back.
//!
//! What Keras's topology cannot say — the loss and optimizer when there is
//! no `trainingConfig`, the text encoder, the normalizer, the model card —
//! travels in `userDefinedMetadata.neuroglow`, so a model exported and
//! imported again is the same model. TF.js's `loadLayersModel` keeps that
//! object for the page that loads it (`model.getUserDefinedMetadata()`).

use serde_json::{json, Map, Value};

use super::keras_config::{self, Sequential};
use super::{decimal, Imported};
use crate::error::{Error, Result};
use crate::io::{encode_weights, ModelFiles};
use crate::limits::Limits;
use crate::loss::LossKind;
use crate::model::ModelSpec;
use crate::optim::OptimizerKind;
use crate::tensor::Tensor;

/// TF.js's converter cuts the weights into shards of 4 MiB, which browsers
/// cache well; `loadLayersModel` reads any number of them.
const SHARD_BYTES: usize = 4 * 1024 * 1024;

/// The key of Neuroglow's own settings in `userDefinedMetadata`.
const METADATA_KEY: &str = "neuroglow";

/// A model in the TF.js layers format: `model.json` and its shards, named
/// as `model.json` refers to them.
#[derive(Debug, Clone, PartialEq)]
pub struct TfjsModel {
    pub model_json: String,
    pub shards: Vec<(String, Vec<u8>)>,
}

/// Whether the export carries what `model.fit` needs in TF.js.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Export {
    /// Loss, metrics and optimizer as TF.js's `trainingConfig`: an error when
    /// the optimizer has a setting TF.js lacks.
    #[default]
    ForTraining,
    /// For `predict` only: no `trainingConfig` (Neuroglow's own settings
    /// still travel in the metadata).
    ForInference,
}

/// Writes `spec` with `weights` (its weights in model order, `layer/param`)
/// in the TF.js layers format, its shards named `{shard_stem}-shard1of2.bin`
/// and so on (TF.js's converter uses the stem `group1`).
pub fn export(spec: &ModelSpec, weights: &[(String, Tensor)], export: Export, shard_stem: &str) -> Result<TfjsModel> {
    let topology = json!({
        "class_name": "Sequential",
        "config": {"name": spec.name, "layers": keras_config::write_layers(&spec.input_shape, &spec.layers)},
        "keras_version": concat!("neuroglow ", env!("CARGO_PKG_VERSION")),
        "backend": "tensor_flow.js",
    });
    let mut document = json!({
        "format": "layers-model",
        "generatedBy": concat!("Neuroglow ", env!("CARGO_PKG_VERSION")),
        "convertedBy": null,
        "modelTopology": topology,
        "userDefinedMetadata": {METADATA_KEY: super::settings(spec)},
    });
    if export == Export::ForTraining {
        document["trainingConfig"] = training_config(spec)?;
    }
    let (manifest, shards) = shard_weights(weights, shard_stem);
    document["weightsManifest"] = manifest;
    Ok(TfjsModel { model_json: serde_json::to_string_pretty(&document).expect("JSON values serialize"), shards })
}

/// TF.js's `trainingConfig`: the loss by its Keras name, and the optimizer
/// as TF.js's own class (its options in camelCase).
fn training_config(spec: &ModelSpec) -> Result<Value> {
    if spec.optimizer.global_clipnorm.is_some() {
        return Err(Error::InvalidModel(
            "the optimizer clips gradients (`global_clipnorm`), which TF.js's optimizers cannot; export for \
             inference only (`--inference-only`), or remove the clipping first"
                .into(),
        ));
    }
    let optimizer = match spec.optimizer.kind {
        OptimizerKind::Sgd { learning_rate, momentum: 0.0 } => {
            json!({"class_name": "SGD", "config": {"learningRate": decimal(learning_rate)}})
        }
        OptimizerKind::Sgd { learning_rate, momentum } => json!({"class_name": "Momentum",
            "config": {"learningRate": decimal(learning_rate), "momentum": decimal(momentum), "useNesterov": false}}),
        OptimizerKind::Adam { learning_rate, beta_1, beta_2, epsilon } => json!({"class_name": "Adam",
            "config": {"learningRate": decimal(learning_rate), "beta1": decimal(beta_1), "beta2": decimal(beta_2),
                       "epsilon": decimal(epsilon)}}),
    };
    let metrics: Vec<&str> = if spec.loss.has_accuracy() { vec!["accuracy"] } else { vec![] };
    Ok(json!({"loss": spec.loss, "metrics": metrics, "optimizer_config": optimizer}))
}

/// The manifest (one group) and the shards that hold the weights.
fn shard_weights(weights: &[(String, Tensor)], stem: &str) -> (Value, Vec<(String, Vec<u8>)>) {
    let bytes: Vec<u8> = weights.iter().flat_map(|(_, t)| t.data.iter().flat_map(|v| v.to_le_bytes())).collect();
    let count = bytes.len().div_ceil(SHARD_BYTES).max(1);
    let shards: Vec<(String, Vec<u8>)> = (0..count)
        .map(|i| {
            let range = i * SHARD_BYTES..((i + 1) * SHARD_BYTES).min(bytes.len());
            (format!("{stem}-shard{}of{count}.bin", i + 1), bytes[range].to_vec())
        })
        .collect();
    let specs: Vec<Value> =
        weights.iter().map(|(name, t)| json!({"name": name, "shape": t.shape, "dtype": "float32"})).collect();
    let paths: Vec<&str> = shards.iter().map(|(name, _)| name.as_str()).collect();
    (json!([{"paths": paths, "weights": specs}]), shards)
}

/// Whether `text` looks like a TF.js layers model (rather than Neuroglow's
/// own `model.json`).
pub fn is_tfjs(text: &str) -> bool {
    serde_json::from_str::<Value>(text).is_ok_and(|v| v.get("modelTopology").is_some())
}

/// Reads a TF.js layers model: `model_json`, and `shard(path)` for each
/// path its manifest lists (`None`: not given). `loss` is used when the file
/// has no training configuration. The result is Neuroglow's own two files,
/// still to be loaded (and so checked) like any other.
pub fn import(
    model_json: &str,
    shard: &dyn Fn(&str) -> Option<Vec<u8>>,
    loss: Option<LossKind>,
    limits: &Limits,
) -> Result<Imported> {
    Limits::check("model.json (bytes)", model_json.len() as u64, limits.max_json_bytes, "max_json_bytes")?;
    let document: Value = serde_json::from_str(model_json).map_err(|e| invalid(format!("not JSON: {e}")))?;
    if let Some(format) = document.get("format").and_then(Value::as_str).filter(|f| *f != "layers-model") {
        return Err(invalid(format!(
            "its format is {format:?}; Neuroglow reads TF.js layers models (`layers-model`), not graph models"
        )));
    }
    let topology = document.get("modelTopology").ok_or_else(|| invalid("it has no `modelTopology`".into()))?;
    // What `tensorflowjs_converter` writes from Keras wraps the model.
    let model_config = topology.get("model_config").unwrap_or(topology);
    let Sequential { input_shape, layers } = keras_config::read_sequential(model_config)?;

    let mut spec = match document.pointer(&format!("/userDefinedMetadata/{METADATA_KEY}")) {
        Some(Value::Object(settings)) => settings.clone(),
        Some(_) => return Err(invalid(format!("`userDefinedMetadata.{METADATA_KEY}` is not an object"))),
        None => Map::new(),
    };
    spec.insert("input_shape".into(), json!(input_shape));
    spec.insert("layers".into(), serde_json::to_value(&layers).expect("layers serialize"));
    let training = document.get("trainingConfig").or_else(|| topology.get("training_config"));
    if let Some(training) = training.filter(|t| !t.is_null()) {
        let loss = training.get("loss").ok_or_else(|| invalid("`trainingConfig` has no `loss`".into()))?;
        spec.insert("loss".into(), json!(keras_config::read_loss(loss).map_err(invalid)?));
        if let Some(optimizer) = training.get("optimizer_config") {
            let optimizer = keras_config::read_optimizer(optimizer).map_err(invalid)?;
            spec.insert("optimizer".into(), serde_json::to_value(optimizer).expect("serializes"));
        }
    }
    if let Some(loss) = loss {
        spec.insert("loss".into(), json!(loss));
    }
    if !spec.contains_key("loss") {
        return Err(invalid(
            "it has no training configuration, so the loss it was trained with is unknown: save it after \
             `model.compile(…)`, or name the loss when importing (the CLI's `--loss`)"
                .into(),
        ));
    }
    let spec: ModelSpec = ModelSpec::from_json_with_limits(&Value::Object(spec).to_string(), limits)?;

    let (weights, skipped) = read_weights(&document, &layers, shard, limits)?;
    let notes = match skipped {
        0 => vec![],
        n => vec![format!(
            "left out {n} optimizer weights saved by TF.js (its optimizer's state): training here starts the \
             optimizer afresh"
        )],
    };
    Ok(Imported { files: ModelFiles { json: spec.to_json(), safetensors: encode_weights(&weights)? }, notes })
}

fn invalid(message: String) -> Error {
    Error::InvalidModel(format!("the TF.js model.json: {message}"))
}

fn weights_error(message: String) -> Error {
    Error::InvalidModel(format!("the TF.js weights: {message}"))
}

/// The model's weights from the shards, renamed `layer/param`, and how many
/// weights saved for TF.js's optimizer were left out.
fn read_weights(
    document: &Value,
    layers: &[crate::layers::LayerConfig],
    shard: &dyn Fn(&str) -> Option<Vec<u8>>,
    limits: &Limits,
) -> Result<(Vec<(String, Tensor)>, usize)> {
    let groups = document
        .get("weightsManifest")
        .and_then(Value::as_array)
        .ok_or_else(|| invalid("it has no `weightsManifest` list".into()))?;
    let mut weights = Vec::new();
    let mut skipped = 0;
    let mut total_bytes = 0u64;
    for (g, group) in groups.iter().enumerate() {
        let paths = group
            .get("paths")
            .and_then(Value::as_array)
            .ok_or_else(|| invalid(format!("manifest group {g} has no `paths`")))?;
        let mut data = Vec::new();
        for path in paths {
            let path =
                path.as_str().ok_or_else(|| invalid(format!("manifest group {g} has a path that is not text")))?;
            check_shard_path(path)?;
            let bytes = shard(path)
                .ok_or_else(|| weights_error(format!("the shard `{path}` is missing: give it with model.json")))?;
            total_bytes += bytes.len() as u64;
            Limits::check("the TF.js weights (bytes)", total_bytes, limits.max_weights_bytes, "max_weights_bytes")?;
            data.extend_from_slice(&bytes);
        }
        let specs = group
            .get("weights")
            .and_then(Value::as_array)
            .ok_or_else(|| invalid(format!("manifest group {g} has no `weights`")))?;
        let mut offset = 0usize;
        for spec in specs {
            let entry = ManifestEntry::read(spec).map_err(|e| invalid(format!("manifest group {g}: {e}")))?;
            let end = offset.checked_add(entry.bytes).filter(|&end| end <= data.len()).ok_or_else(|| {
                weights_error(format!(
                    "the manifest's group {g} lists more bytes than its shards hold ({} bytes) by weight `{}`: \
                     the shards are incomplete or belong to another model",
                    data.len(),
                    entry.name
                ))
            })?;
            let bytes = &data[offset..end];
            offset = end;
            if entry.for_optimizer {
                skipped += 1;
                continue;
            }
            let name =
                our_name(&entry.name, layers).ok_or_else(|| Error::UnexpectedTensor { name: entry.name.clone() })?;
            if weights.iter().any(|(known, _)| *known == name) {
                return Err(weights_error(format!(
                    "the manifest lists `{}`, a second weight for `{name}`: the manifest belongs to another model",
                    entry.name
                )));
            }
            weights.push((name, Tensor::new(entry.shape, crate::io::f32_values(bytes))?));
        }
        if offset != data.len() {
            return Err(weights_error(format!(
                "the manifest's group {g} lists {offset} bytes of weights but its shards hold {}: the shards \
                 belong to another model",
                data.len()
            )));
        }
    }
    Ok((weights, skipped))
}

/// The shards a TF.js `model.json` lists, in order, each checked to lie in
/// the model's folder (for fetching them before [`import`]).
pub fn shard_paths(model_json: &str) -> Result<Vec<String>> {
    let document: Value = serde_json::from_str(model_json).map_err(|e| invalid(format!("not JSON: {e}")))?;
    let groups = document.get("weightsManifest").and_then(Value::as_array);
    let paths = groups.into_iter().flatten().filter_map(|g| g.get("paths").and_then(Value::as_array)).flatten();
    let paths: Vec<String> = paths.filter_map(Value::as_str).map(str::to_string).collect();
    paths.iter().try_for_each(|path| check_shard_path(path))?;
    Ok(paths)
}

/// A shard's path must stay inside the model's folder: a hostile manifest
/// must not make the CLI read other files, or the page fetch other sites.
fn check_shard_path(path: &str) -> Result<()> {
    let inside = !path.is_empty()
        && !path.starts_with('/')
        && !path.contains(['\\', ':', '?', '#'])
        && path.split('/').all(|segment| segment != "..");
    match inside {
        true => Ok(()),
        false => {
            Err(invalid(format!("the manifest names the weights file {path:?}, which is not a file beside model.json")))
        }
    }
}

/// One weight as the manifest lists it.
struct ManifestEntry {
    name: String,
    shape: Vec<usize>,
    bytes: usize,
    for_optimizer: bool,
}

impl ManifestEntry {
    fn read(spec: &Value) -> Result<Self, String> {
        let name = spec.get("name").and_then(Value::as_str).ok_or("a weight has no `name`")?.to_string();
        if spec.get("quantization").is_some_and(|q| !q.is_null()) {
            return Err(format!("weight `{name}` is quantized; Neuroglow reads float32 weights only"));
        }
        let shape: Option<Vec<usize>> = spec
            .get("shape")
            .and_then(Value::as_array)
            .and_then(|dims| dims.iter().map(|d| d.as_u64().and_then(|d| usize::try_from(d).ok())).collect());
        let shape = shape.ok_or_else(|| format!("weight `{name}` has no shape of sizes"))?;
        let dtype = spec.get("dtype").and_then(Value::as_str).unwrap_or("float32");
        let for_optimizer = spec.get("group").and_then(Value::as_str) == Some("optimizer");
        // TF.js saves its optimizer's step count as int32.
        let width = match (dtype, for_optimizer) {
            ("float32", _) | ("int32", true) => 4,
            _ => return Err(format!("weight `{name}` is {dtype}; Neuroglow reads float32 weights only")),
        };
        let bytes = shape
            .iter()
            .try_fold(width, |n: usize, &d| n.checked_mul(d))
            .ok_or_else(|| format!("weight `{name}` has a shape {shape:?} whose size overflows"))?;
        Ok(Self { name, shape, bytes, for_optimizer })
    }
}

/// `layer/param` for a TF.js weight name: the layer is the one whose name
/// starts it, the parameter its last part (`lstm/lstm_cell/kernel` is the
/// LSTM's `kernel`).
fn our_name(name: &str, layers: &[crate::layers::LayerConfig]) -> Option<String> {
    let layer = layers.iter().find(|l| name.strip_prefix(l.name.as_str()).is_some_and(|rest| rest.starts_with('/')))?;
    let param = name.rsplit('/').next()?;
    Some(format!("{}/{param}", layer.name))
}
