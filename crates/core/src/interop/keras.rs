//! Keras 3's `.keras` files: a zip of `config.json` (the model, as Keras 3
//! serializes it, with its `compile_config`), `metadata.json` and
//! `model.weights.h5` (HDF5).
//!
//! In the HDF5 file, a layer's weights are the datasets `0`, `1`, … of the
//! group `layers/<key>/vars`, where the key is the layer's class in
//! snake_case, numbered from the second of a class on (`dense`, `dense_1`)
//! — not the layer's name — and an LSTM's are under `layers/<key>/cell/vars`.
//! Neuroglow's own settings (text encoder, normalizer, card) travel in the
//! zip as `assets/neuroglow.json`, which Keras leaves alone.

use std::collections::HashMap;
use std::io::{Cursor, Read, Write};

use hdf5_pure::{AttrValue, File as H5File, FileBuilder};
use serde_json::{json, Map, Value};

use super::keras_config::{self, Sequential};
use super::{decimal, Imported};
use crate::error::{Error, Result};
use crate::io::{encode_weights, ModelFiles};
use crate::layers::{LayerConfig, LayerKind};
use crate::limits::Limits;
use crate::model::ModelSpec;
use crate::optim::OptimizerKind;
use crate::tensor::Tensor;

const CONFIG: &str = "config.json";
const METADATA: &str = "metadata.json";
const WEIGHTS: &str = "model.weights.h5";
const SETTINGS: &str = "assets/neuroglow.json";

/// The Keras version whose `.keras` layout Neuroglow writes and reads.
pub const KERAS_VERSION: &str = "3.15.1";

/// Writes `spec` with `weights` (in model order, `layer/param`) as a
/// `.keras` file that `keras.saving.load_model` opens, compiled with the
/// model's loss and optimizer.
pub fn export(spec: &ModelSpec, weights: &[(String, Tensor)], limits: &Limits) -> Result<Vec<u8>> {
    let plan = spec.plan(limits)?;
    let layer_inputs = plan.boundary_shapes();
    let config = json!({
        "module": "keras",
        "class_name": "Sequential",
        "config": {
            "name": if spec.name.is_empty() { "sequential" } else { &spec.name },
            "trainable": true,
            "dtype": "float32",
            "layers": keras_config::write_keras3_layers(&spec.input_shape, &spec.layers, layer_inputs),
            "build_input_shape": keras_config::batch_shape(&spec.input_shape),
        },
        "registered_name": null,
        "build_config": {"input_shape": keras_config::batch_shape(&spec.input_shape)},
        "compile_config": compile_config(spec),
    });
    let metadata =
        json!({"keras_version": KERAS_VERSION, "saved_by": concat!("Neuroglow ", env!("CARGO_PKG_VERSION"))});
    let entries = [
        (METADATA, metadata.to_string().into_bytes()),
        (CONFIG, config.to_string().into_bytes()),
        (WEIGHTS, weights_h5(spec, weights)?),
        (SETTINGS, super::settings(spec).to_string().into_bytes()),
    ];
    let mut zip = zip::ZipWriter::new(Cursor::new(Vec::new()));
    // Stored, as Keras writes them (it reads deflated entries too).
    let options = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
    for (name, bytes) in entries {
        zip.start_file(name, options).map_err(zip_error)?;
        zip.write_all(&bytes).map_err(|e| zip_error(e.into()))?;
    }
    Ok(zip.finish().map_err(zip_error)?.into_inner())
}

/// Keras's `compile_config`: what `model.fit` needs to continue.
fn compile_config(spec: &ModelSpec) -> Value {
    let clip = spec.optimizer.global_clipnorm;
    let (class_name, mut config) = match spec.optimizer.kind {
        OptimizerKind::Sgd { learning_rate, momentum } => {
            let (learning_rate, momentum) = (decimal(learning_rate), decimal(momentum));
            ("SGD", json!({"name": "SGD", "learning_rate": learning_rate, "momentum": momentum, "nesterov": false}))
        }
        OptimizerKind::Adam { learning_rate, beta_1, beta_2, epsilon } => (
            "Adam",
            json!({"name": "adam", "learning_rate": decimal(learning_rate), "beta_1": decimal(beta_1),
                   "beta_2": decimal(beta_2), "epsilon": decimal(epsilon), "amsgrad": false}),
        ),
    };
    config["global_clipnorm"] = clip.map_or(Value::Null, decimal);
    let metrics: Vec<&str> = if spec.loss.has_accuracy() { vec!["accuracy"] } else { vec![] };
    json!({
        "optimizer": {"module": "keras.optimizers", "class_name": class_name, "config": config, "registered_name": null},
        "loss": spec.loss,
        "loss_weights": null,
        "metrics": metrics,
        "weighted_metrics": null,
        "run_eagerly": false,
        "steps_per_execution": 1,
        "jit_compile": false,
    })
}

/// Keras's key for each layer in the weights file: its class in snake_case,
/// numbered from the second of a class on.
fn layer_keys(layers: &[LayerConfig]) -> Vec<String> {
    let mut seen: HashMap<&str, usize> = HashMap::new();
    layers
        .iter()
        .map(|layer| {
            let class = layer.kind.type_name();
            let count = seen.entry(class).or_default();
            let key = if *count == 0 { class.to_string() } else { format!("{class}_{count}") };
            *count += 1;
            key
        })
        .collect()
}

/// The HDF5 group of a layer's variables, below `layers/<key>`.
fn vars_path(kind: &LayerKind) -> &'static str {
    match kind {
        LayerKind::Lstm { .. } => "cell/vars",
        _ => "vars",
    }
}

/// The parameters of a layer in the order Keras numbers its variables.
fn params(kind: &LayerKind) -> &'static [&'static str] {
    match kind {
        LayerKind::Dense { use_bias: true, .. } => &["kernel", "bias"],
        LayerKind::Dense { use_bias: false, .. } => &["kernel"],
        LayerKind::Embedding { .. } => &["embeddings"],
        LayerKind::Lstm { .. } => &["kernel", "recurrent_kernel", "bias"],
        LayerKind::Dropout { .. } => &[],
    }
}

fn weights_h5(spec: &ModelSpec, weights: &[(String, Tensor)]) -> Result<Vec<u8>> {
    let by_name: HashMap<&str, &Tensor> = weights.iter().map(|(n, t)| (n.as_str(), t)).collect();
    let mut file = FileBuilder::new();
    let mut layers = file.create_group("layers");
    for (layer, key) in spec.layers.iter().zip(layer_keys(&spec.layers)) {
        let mut group = layers.create_group(&key);
        let mut vars = group.create_group("vars");
        vars.set_attr("name", AttrValue::String(layer.name.clone()));
        let mut cell = match layer.kind {
            LayerKind::Lstm { .. } => Some(group.create_group("cell")),
            _ => None,
        };
        let mut cell_vars = cell.as_mut().map(|c| c.create_group("vars"));
        if let Some(cell_vars) = &mut cell_vars {
            cell_vars.set_attr("name", AttrValue::String("lstm_cell".into()));
        }
        for (i, param) in params(&layer.kind).iter().enumerate() {
            let name = format!("{}/{param}", layer.name);
            let tensor =
                by_name.get(name.as_str()).ok_or_else(|| Error::InvalidModel(format!("no weight `{name}`")))?;
            let shape: Vec<u64> = tensor.shape.iter().map(|&d| d as u64).collect();
            let target = cell_vars.as_mut().unwrap_or(&mut vars);
            target.create_dataset(&i.to_string()).with_f32_data(&tensor.data).with_shape(&shape);
        }
        group.add_group(vars.finish());
        if let (Some(mut cell), Some(cell_vars)) = (cell, cell_vars) {
            cell.add_group(cell_vars.finish());
            group.add_group(cell.finish());
        }
        layers.add_group(group.finish());
    }
    file.add_group(layers.finish());
    let mut root_vars = file.create_group("vars");
    root_vars.set_attr(
        "name",
        AttrValue::String(if spec.name.is_empty() { "sequential".into() } else { spec.name.clone() }),
    );
    file.add_group(root_vars.finish());
    file.finish().map_err(|e| Error::InvalidModel(format!("cannot write the Keras weights file: {e}")))
}

/// Whether `bytes` look like a `.keras` file (a zip).
pub fn is_keras(bytes: &[u8]) -> bool {
    bytes.starts_with(b"PK\x03\x04")
}

/// Reads a `.keras` file as Neuroglow's own files, still to be loaded (and
/// so checked) like any model.
pub fn import(bytes: &[u8], limits: &Limits) -> Result<Imported> {
    Limits::check("the .keras file (bytes)", bytes.len() as u64, limits.max_weights_bytes, "max_weights_bytes")?;
    let mut zip = zip::ZipArchive::new(Cursor::new(bytes)).map_err(|e| invalid(format!("not a readable zip: {e}")))?;
    let config = read_entry(&mut zip, CONFIG, limits.max_json_bytes)?;
    let config: Value = serde_json::from_slice(&config).map_err(|e| invalid(format!("{CONFIG} is not JSON: {e}")))?;
    let Sequential { input_shape, layers } = keras_config::read_sequential(&config)?;
    let mut spec = match read_entry(&mut zip, SETTINGS, limits.max_json_bytes) {
        Ok(settings) => match serde_json::from_slice(&settings) {
            Ok(Value::Object(settings)) => settings,
            _ => return Err(invalid(format!("{SETTINGS} is not a JSON object"))),
        },
        Err(_) => Map::new(),
    };
    spec.insert("input_shape".into(), json!(input_shape));
    spec.insert("layers".into(), serde_json::to_value(&layers).expect("layers serialize"));
    if let Some(compile) = config.get("compile_config").filter(|c| !c.is_null()) {
        if let Some(loss) = compile.get("loss") {
            spec.insert("loss".into(), json!(keras_config::read_loss(loss).map_err(invalid)?));
        }
        if let Some(optimizer) = compile.get("optimizer") {
            let optimizer = keras_config::read_optimizer(optimizer).map_err(invalid)?;
            spec.insert("optimizer".into(), serde_json::to_value(optimizer).expect("serializes"));
        }
    }
    if !spec.contains_key("loss") {
        return Err(invalid("it was saved without `compile`, so the loss it was trained with is unknown".into()));
    }
    let mut spec: ModelSpec = ModelSpec::from_json_with_limits(&Value::Object(spec).to_string(), limits)?;
    spec.assign_layer_names()?;
    let plan = spec.plan(limits)?;
    let h5 = read_entry(&mut zip, WEIGHTS, limits.max_weights_bytes)?;
    let h5 = H5File::from_bytes(h5).map_err(|e| invalid(format!("{WEIGHTS} is not a readable HDF5 file: {e}")))?;
    let mut weights = Vec::new();
    let expected: HashMap<String, &[usize]> = plan.weight_shapes(&spec.layers).collect();
    for (layer, key) in spec.layers.iter().zip(layer_keys(&spec.layers)) {
        for (i, param) in params(&layer.kind).iter().enumerate() {
            let path = format!("layers/{key}/{}/{i}", vars_path(&layer.kind));
            let name = format!("{}/{param}", layer.name);
            let dataset = h5.dataset(&path).map_err(|_| {
                invalid(format!("{WEIGHTS} has no `{path}` ({name}): the weights belong to another model"))
            })?;
            let shape: Vec<usize> = dataset.shape().map_err(h5_error)?.into_iter().map(|d| d as usize).collect();
            if expected.get(&name).is_none_or(|want| *want != shape.as_slice()) {
                return Err(Error::ShapeMismatch {
                    name,
                    expected: crate::error::Shape(
                        expected.get(&format!("{}/{param}", layer.name)).map_or(vec![], |s| s.to_vec()),
                    ),
                    found: crate::error::Shape(shape),
                });
            }
            weights.push((name, Tensor::new(shape, dataset.read_f32().map_err(h5_error)?)?));
        }
    }
    let optimizer_state = h5.group("optimizer/vars").and_then(|g| g.datasets()).map_or(0, |d| d.len());
    let notes = match optimizer_state {
        0 => vec![],
        n => vec![format!(
            "left out the {n} optimizer variables Keras saved (its step count and moments): training here starts \
             the optimizer afresh"
        )],
    };
    Ok(Imported { files: ModelFiles { json: spec.to_json(), safetensors: encode_weights(&weights)? }, notes })
}

/// One zip entry, at most `limit` bytes once read.
fn read_entry(zip: &mut zip::ZipArchive<Cursor<&[u8]>>, name: &str, limit: usize) -> Result<Vec<u8>> {
    let entry = zip.by_name(name).map_err(|e| invalid(format!("it has no readable {name}: {e}")))?;
    Limits::check(&format!("{name} in the .keras file (bytes)"), entry.size(), limit, "max_weights_bytes")?;
    let mut bytes = Vec::with_capacity(entry.size() as usize);
    entry.take(limit as u64 + 1).read_to_end(&mut bytes).map_err(|e| invalid(format!("{name} is damaged: {e}")))?;
    Ok(bytes)
}

fn invalid(message: String) -> Error {
    Error::InvalidModel(format!("the .keras file: {message}"))
}

fn h5_error(error: hdf5_pure::Error) -> Error {
    invalid(format!("{WEIGHTS} is damaged: {error}"))
}

fn zip_error(error: zip::result::ZipError) -> Error {
    Error::InvalidModel(format!("cannot write the .keras file: {error}"))
}
