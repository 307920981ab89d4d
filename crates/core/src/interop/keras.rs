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
use crate::error::{Error, Result, Shape};
use crate::io::{encode_weights, encode_with_optimizer, slot_name, ModelFiles, OptimizerState};
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
/// model's loss and optimizer, and with the optimizer's state when given
/// (so that `model.fit` continues exactly).
pub fn export(
    spec: &ModelSpec,
    weights: &[(String, Tensor)],
    optimizer: Option<&OptimizerState>,
    limits: &Limits,
) -> Result<Vec<u8>> {
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
        (WEIGHTS, weights_h5(spec, weights, optimizer)?),
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

fn weights_h5(spec: &ModelSpec, weights: &[(String, Tensor)], optimizer: Option<&OptimizerState>) -> Result<Vec<u8>> {
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
    if let Some(state) = optimizer {
        let group = optimizer_h5(&mut file, spec, state)?;
        file.add_group(group);
    }
    let mut root_vars = file.create_group("vars");
    root_vars.set_attr(
        "name",
        AttrValue::String(if spec.name.is_empty() { "sequential".into() } else { spec.name.clone() }),
    );
    file.add_group(root_vars.finish());
    file.finish().map_err(|e| Error::InvalidModel(format!("cannot write the Keras weights file: {e}")))
}

/// Keras's optimizer variables: the step count, the learning rate, then each
/// trainable weight's slots in model order (Adam's momentum and velocity,
/// SGD's momentum), which are Neuroglow's slots exactly.
fn optimizer_h5(file: &mut FileBuilder, spec: &ModelSpec, state: &OptimizerState) -> Result<hdf5_pure::FinishedGroup> {
    let mut group = file.create_group("optimizer");
    let mut vars = group.create_group("vars");
    vars.set_attr("name", AttrValue::String(spec.optimizer.type_name().into()));
    let iterations = i32::try_from(state.iterations).map_err(|_| {
        Error::InvalidModel(format!("{} optimizer steps do not fit Keras's int32 count", state.iterations))
    })?;
    vars.create_dataset("0").with_i32_data(&[iterations]).with_shape(&[]);
    vars.create_dataset("1").with_f32_data(&[spec.optimizer.learning_rate()]).with_shape(&[]);
    let frozen: Vec<String> =
        spec.layers.iter().filter(|l| !l.trainable).map(|l| format!("optimizer/{}/", l.name)).collect();
    let trainable = state.slots.iter().filter(|(name, _)| !frozen.iter().any(|f| name.starts_with(f.as_str())));
    for (i, (_, tensor)) in trainable.enumerate() {
        let shape: Vec<u64> = tensor.shape.iter().map(|&d| d as u64).collect();
        vars.create_dataset(&(i + 2).to_string()).with_f32_data(&tensor.data).with_shape(&shape);
    }
    group.add_group(vars.finish());
    Ok(group.finish())
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
    let config = read_entry(&mut zip, CONFIG, (limits.max_json_bytes, "max_json_bytes"))?;
    let config: Value = serde_json::from_slice(&config).map_err(|e| invalid(format!("{CONFIG} is not JSON: {e}")))?;
    let Sequential { input_shape, layers } = keras_config::read_sequential(&config)?;
    let mut spec = match read_entry(&mut zip, SETTINGS, (limits.max_json_bytes, "max_json_bytes")) {
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
    let h5 = read_entry(&mut zip, WEIGHTS, (limits.max_weights_bytes, "max_weights_bytes"))?;
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
            let want = expected.get(&name).map_or(vec![], |s| s.to_vec());
            if want != shape {
                return Err(Error::ShapeMismatch { name, expected: Shape(want), found: Shape(shape) });
            }
            weights.push((name, Tensor::new(shape, dataset.read_f32().map_err(h5_error)?)?));
        }
    }
    let (state, notes) = match read_optimizer_h5(&h5, &spec, &weights)? {
        Saved::State(state) => (Some(state), vec![]),
        Saved::Nothing => (None, vec![]),
        Saved::Other(n) => (
            None,
            vec![format!(
                "left out the {n} optimizer variables Keras saved, which are not those of the model's {} optimizer: \
             training here starts the optimizer afresh",
                spec.optimizer.type_name()
            )],
        ),
    };
    let safetensors = match &state {
        Some(state) => encode_with_optimizer(&weights, state, &spec.optimizer)?,
        None => encode_weights(&weights)?,
    };
    Ok(Imported { files: ModelFiles { json: spec.to_json(), safetensors }, notes })
}

/// What a `.keras` file holds of its optimizer.
enum Saved {
    Nothing,
    State(OptimizerState),
    /// Variables of another optimizer (or another model): how many.
    Other(usize),
}

/// The optimizer's state from `optimizer/vars`, when its variables are
/// exactly what the model's optimizer keeps (a frozen layer's slots, which
/// Keras does not keep, start at zero).
fn read_optimizer_h5(h5: &H5File, spec: &ModelSpec, weights: &[(String, Tensor)]) -> Result<Saved> {
    let Ok(vars) = h5.group("optimizer/vars") else { return Ok(Saved::Nothing) };
    let count = vars.datasets().map_err(h5_error)?.len();
    let slot_names = spec.optimizer.slot_names();
    let trainable: Vec<bool> = weights
        .iter()
        .map(|(name, _)| spec.layers.iter().any(|l| l.trainable && name.starts_with(&format!("{}/", l.name))))
        .collect();
    if count <= 2 {
        return Ok(Saved::Nothing);
    }
    if count != 2 + slot_names.len() * trainable.iter().filter(|t| **t).count() {
        return Ok(Saved::Other(count));
    }
    let read_i64 = |path: &str| -> Result<i64> {
        let dataset = h5.dataset(path).map_err(h5_error)?;
        dataset
            .read_i64()
            .or_else(|_| dataset.read_i32().map(|v| v.into_iter().map(i64::from).collect()))
            .map_err(h5_error)?
            .first()
            .copied()
            .ok_or_else(|| invalid(format!("{WEIGHTS}'s optimizer step count is empty")))
    };
    let steps = read_i64("optimizer/vars/0")?;
    let iterations = i32::try_from(steps)
        .ok()
        .filter(|n| *n >= 0)
        .ok_or_else(|| invalid(format!("{WEIGHTS}'s optimizer step count is {steps}, not a count of steps")))?;
    let mut next = 2;
    let mut slots = Vec::with_capacity(weights.len() * slot_names.len());
    for ((name, weight), trainable) in weights.iter().zip(&trainable) {
        for slot in slot_names {
            let values = match trainable {
                false => vec![0.0; weight.data.len()],
                true => {
                    let path = format!("optimizer/vars/{next}");
                    next += 1;
                    let dataset = h5.dataset(&path).map_err(h5_error)?;
                    let shape: Vec<usize> =
                        dataset.shape().map_err(h5_error)?.into_iter().map(|d| d as usize).collect();
                    if shape != weight.shape {
                        return Ok(Saved::Other(count));
                    }
                    dataset.read_f32().map_err(h5_error)?
                }
            };
            slots.push((slot_name(name, slot), Tensor::new(weight.shape.clone(), values)?));
        }
    }
    let beta_powers = beta_powers(&spec.optimizer, iterations);
    Ok(Saved::State(OptimizerState { iterations: iterations as u64, beta_powers, slots }))
}

/// β₁ᵗ and β₂ᵗ after `iterations` (Keras's int32) steps, multiplied up as
/// Neuroglow's optimizer keeps them (to the last bit) for the first million
/// steps; beyond, as powers.
fn beta_powers(optimizer: &crate::optim::OptimizerConfig, iterations: i32) -> (f64, f64) {
    let OptimizerKind::Adam { beta_1, beta_2, .. } = optimizer.kind else { return (1.0, 1.0) };
    let (b1, b2) = (beta_1 as f64, beta_2 as f64);
    match iterations {
        0..=1_000_000 => (0..iterations).fold((1.0, 1.0), |(p1, p2), _| (p1 * b1, p2 * b2)),
        _ => (b1.powi(iterations), b2.powi(iterations)),
    }
}

/// One zip entry, at most `limit` bytes once read (the limit named in the error).
fn read_entry(
    zip: &mut zip::ZipArchive<Cursor<&[u8]>>,
    name: &str,
    (limit, limit_name): (usize, &'static str),
) -> Result<Vec<u8>> {
    let entry = zip.by_name(name).map_err(|e| invalid(format!("it has no readable {name}: {e}")))?;
    Limits::check(&format!("{name} in the .keras file (bytes)"), entry.size(), limit, limit_name)?;
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
