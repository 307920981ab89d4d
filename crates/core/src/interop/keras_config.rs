//! Keras's description of a `Sequential` model — a list of layers, each
//! `{"class_name": "Dense", "config": {…}}` with snake_case options — read
//! into Neuroglow's layers and written from them.
//!
//! TensorFlow.js's `modelTopology`, a `.keras` file's `config.json` and a
//! legacy `.h5`'s `model_config` all speak this dialect. Reading is strict
//! the way `model.json` is: every option is either translated, known not to
//! change the numbers (initializers, once weights are given), required to
//! have the value Neuroglow computes, or an error that names it.

use serde_json::{json, Map, Value};

use super::decimal;
use crate::backend::{Activation, Regularizer};
use crate::error::{Error, Result};
use crate::layers::{LayerConfig, LayerKind};
use crate::loss::LossKind;
use crate::optim::{OptimizerConfig, OptimizerKind};

/// The model's input shape (without the batch axis) and its layers.
#[derive(Debug, Clone, PartialEq)]
pub struct Sequential {
    pub input_shape: Vec<usize>,
    pub layers: Vec<LayerConfig>,
}

/// The layers as Keras 2 and TF.js write them: `{"class_name", "config"}`
/// objects, the first carrying the input shape as `batch_input_shape`.
pub fn write_layers(input_shape: &[usize], layers: &[LayerConfig]) -> Vec<Value> {
    layers
        .iter()
        .enumerate()
        .map(|(i, layer)| {
            let (class_name, mut config) = named_layer(layer);
            if i == 0 {
                config.insert("batch_input_shape".into(), batch_shape(input_shape));
            }
            json!({"class_name": class_name, "config": config})
        })
        .collect()
}

/// The layers as Keras 3 writes them: an `InputLayer` first, then each
/// layer with its module and its `build_config` (the shape it was built
/// for, one per layer in `layer_inputs`).
#[cfg(feature = "keras")]
pub fn write_keras3_layers<'a>(
    input_shape: &[usize],
    layers: &[LayerConfig],
    layer_inputs: impl Iterator<Item = &'a [usize]>,
) -> Vec<Value> {
    let input = json!({"module": "keras.layers", "class_name": "InputLayer", "registered_name": null,
        "config": {"batch_shape": batch_shape(input_shape), "dtype": "float32", "sparse": false, "name": "input_layer"}});
    let layers = layers.iter().zip(layer_inputs).map(|(layer, shape)| {
        let (class_name, mut config) = named_layer(layer);
        if let Some(regularizer) = config.get_mut("kernel_regularizer").and_then(Value::as_object_mut) {
            regularizer.insert("module".into(), json!("keras.regularizers"));
            regularizer.insert("registered_name".into(), Value::Null);
        }
        json!({"module": "keras.layers", "class_name": class_name, "config": config, "registered_name": null,
               "build_config": {"input_shape": batch_shape(shape)}})
    });
    std::iter::once(input).chain(layers).collect()
}

/// `[null, d1, …]`: a shape with Keras's batch axis in front.
pub fn batch_shape(shape: &[usize]) -> Value {
    Value::Array(std::iter::once(Value::Null).chain(shape.iter().map(|&d| json!(d))).collect())
}

/// The class name and options of a layer, with its name, trainability and dtype.
fn named_layer(layer: &LayerConfig) -> (&'static str, Map<String, Value>) {
    let (class_name, mut config) = write_layer(&layer.kind);
    config.insert("name".into(), json!(layer.name));
    config.insert("trainable".into(), json!(layer.trainable));
    config.insert("dtype".into(), json!("float32"));
    (class_name, config)
}

fn write_layer(kind: &LayerKind) -> (&'static str, Map<String, Value>) {
    let object = |value: Value| match value {
        Value::Object(map) => map,
        _ => unreachable!("layer options are written as an object"),
    };
    match kind {
        LayerKind::Dense { units, activation, use_bias, kernel_regularizer } => {
            let regularizer = kernel_regularizer
                .map(|r| json!({"class_name": "L1L2", "config": {"l1": decimal(r.l1), "l2": decimal(r.l2)}}))
                .unwrap_or(Value::Null);
            let config = json!({"units": units, "activation": activation, "use_bias": use_bias,
                                "kernel_regularizer": regularizer});
            ("Dense", object(config))
        }
        LayerKind::Embedding { input_dim, output_dim, mask_zero } => {
            ("Embedding", object(json!({"input_dim": input_dim, "output_dim": output_dim, "mask_zero": mask_zero})))
        }
        // The gate and cell activations are written out: TF.js's default gate
        // is `hard_sigmoid`, Keras's `sigmoid`.
        LayerKind::Lstm { units, return_sequences } => (
            "LSTM",
            object(json!({"units": units, "return_sequences": return_sequences, "activation": "tanh",
                          "recurrent_activation": "sigmoid", "use_bias": true, "unit_forget_bias": true})),
        ),
        LayerKind::Dropout { rate } => ("Dropout", object(json!({"rate": decimal(*rate)}))),
    }
}

/// Reads a Keras `Sequential` description: `{"class_name": "Sequential",
/// "config": {"layers": […]}}` (or an older bare list of layers). `InputLayer`
/// entries give the input shape; so does the first layer's
/// `batch_input_shape` or `batch_shape`.
pub fn read_sequential(topology: &Value) -> Result<Sequential> {
    let class_name = topology.get("class_name").and_then(Value::as_str).unwrap_or_default();
    if class_name != "Sequential" {
        return Err(invalid(format!(
            "the model is a Keras `{class_name}`; Neuroglow reads `Sequential` models (a plain stack of layers) only"
        )));
    }
    let layers = match topology.get("config") {
        Some(Value::Array(layers)) => layers,
        Some(config) => config
            .get("layers")
            .and_then(Value::as_array)
            .ok_or_else(|| invalid("the Sequential model's `config` has no `layers` list".into()))?,
        None => return Err(invalid("the Sequential model has no `config`".into())),
    };
    let mut input_shape: Option<Vec<usize>> = None;
    let mut read = Vec::with_capacity(layers.len());
    for (i, layer) in layers.iter().enumerate() {
        let context = |e: String| {
            let name = layer.pointer("/config/name").and_then(Value::as_str).map(|n| format!(" (`{n}`)"));
            invalid(format!("layer {i}{}: {e}", name.unwrap_or_default()))
        };
        let class_name = layer.get("class_name").and_then(Value::as_str).unwrap_or_default();
        let mut options = layer.get("config").and_then(Value::as_object).cloned().unwrap_or_default();
        if let Some(shape) = take_batch_shape(&mut options).map_err(context)? {
            if input_shape.as_ref().is_some_and(|s| *s != shape) {
                return Err(context(format!("its input shape {shape:?} differs from the model's {input_shape:?}")));
            }
            input_shape = Some(shape);
        }
        if class_name == "InputLayer" {
            for option in ["name", "dtype", "sparse", "ragged", "input_shape", "optional"] {
                options.remove(option);
            }
            no_options_left(options).map_err(context)?;
            continue;
        }
        read.push(read_layer(class_name, options).map_err(context)?);
    }
    let input_shape = input_shape.ok_or_else(|| {
        invalid("the model does not say its input shape (no `InputLayer`, no `batch_input_shape`)".into())
    })?;
    Ok(Sequential { input_shape, layers: read })
}

/// `batch_input_shape` or `batch_shape` (`[null, d1, …]`) without its batch
/// axis; a sequence of unknown length is an error, since Neuroglow's models
/// have fixed input shapes.
fn take_batch_shape(options: &mut Map<String, Value>) -> Result<Option<Vec<usize>>, String> {
    let shape = match (options.remove("batch_input_shape"), options.remove("batch_shape")) {
        (Some(shape), _) | (None, Some(shape)) => shape,
        (None, None) => return Ok(None),
    };
    let dims = shape.as_array().ok_or("`batch_input_shape` is not a list")?;
    let dims: Option<Vec<usize>> = dims.iter().skip(1).map(|d| d.as_u64().map(|d| d as usize)).collect();
    match dims {
        Some(dims) if !dims.is_empty() && dims.iter().all(|&d| d > 0) => Ok(Some(dims)),
        _ => Err(format!(
            "the input shape {shape} has an unknown or zero size; Neuroglow needs a fixed input shape \
             (for text, a fixed sequence length: save the model with `input_length`/`batch_input_shape` set)"
        )),
    }
}

fn read_layer(class_name: &str, mut options: Map<String, Value>) -> Result<LayerConfig, String> {
    let name = take_string(&mut options, "name")?.unwrap_or_default();
    let trainable = take(&mut options, "trainable", Value::as_bool)?.unwrap_or(true);
    check_dtype(options.remove("dtype"))?;
    let kind = match class_name {
        "Dense" => {
            require(&mut options, "bias_regularizer", &Value::Null)?;
            let kind = LayerKind::Dense {
                units: take_size(&mut options, "units")?,
                activation: take_activation(&mut options)?,
                use_bias: take(&mut options, "use_bias", Value::as_bool)?.unwrap_or(true),
                kernel_regularizer: take_regularizer(&mut options)?,
            };
            drop_initializers(&mut options, &["kernel_initializer", "bias_initializer"]);
            kind
        }
        "Embedding" => {
            let kind = LayerKind::Embedding {
                input_dim: take_size(&mut options, "input_dim")?,
                output_dim: take_size(&mut options, "output_dim")?,
                mask_zero: take(&mut options, "mask_zero", Value::as_bool)?.unwrap_or(false),
            };
            // `input_length` restates the input shape read above.
            options.remove("input_length");
            require(&mut options, "embeddings_regularizer", &Value::Null)?;
            require(&mut options, "embeddings_constraint", &Value::Null)?;
            drop_initializers(&mut options, &["embeddings_initializer"]);
            kind
        }
        "LSTM" => {
            require(&mut options, "activation", &json!("tanh"))?;
            require_gate(&mut options)?;
            require(&mut options, "use_bias", &json!(true))?;
            for (option, inert) in [
                ("go_backwards", json!(false)),
                ("stateful", json!(false)),
                ("return_state", json!(false)),
                ("time_major", json!(false)),
                ("dropout", json!(0)),
                ("recurrent_dropout", json!(0)),
                ("kernel_regularizer", Value::Null),
                ("recurrent_regularizer", Value::Null),
                ("bias_regularizer", Value::Null),
                ("recurrent_constraint", Value::Null),
                // Keras 3: what a masked step outputs (Neuroglow repeats the last output).
                ("zero_output_for_mask", json!(false)),
            ] {
                require(&mut options, option, &inert)?;
            }
            // Ways of computing the same numbers, and the initial bias.
            for option in ["unroll", "implementation", "unit_forget_bias", "seed"] {
                options.remove(option);
            }
            drop_initializers(&mut options, &["kernel_initializer", "recurrent_initializer", "bias_initializer"]);
            LayerKind::Lstm {
                units: take_size(&mut options, "units")?,
                return_sequences: take(&mut options, "return_sequences", Value::as_bool)?.unwrap_or(false),
            }
        }
        "Dropout" => {
            require(&mut options, "noise_shape", &Value::Null)?;
            options.remove("seed");
            let rate = take(&mut options, "rate", Value::as_f64)?.ok_or("`rate` is missing")?;
            LayerKind::Dropout { rate: rate as f32 }
        }
        other => {
            return Err(format!(
                "`{other}` is a layer Neuroglow does not have; it builds models from Dense, Embedding, LSTM \
                 and Dropout layers"
            ))
        }
    };
    for option in ["activity_regularizer", "kernel_constraint", "bias_constraint", "quantization_config", "lora_rank"] {
        require(&mut options, option, &Value::Null)?;
    }
    no_options_left(options)?;
    Ok(LayerConfig { name, trainable, kind })
}

fn invalid(message: String) -> Error {
    Error::InvalidModel(message)
}

fn take<T>(options: &mut Map<String, Value>, key: &str, read: fn(&Value) -> Option<T>) -> Result<Option<T>, String> {
    match options.remove(key) {
        None | Some(Value::Null) => Ok(None),
        Some(value) => read(&value).map(Some).ok_or_else(|| format!("`{key}` has the unexpected value {value}")),
    }
}

fn take_string(options: &mut Map<String, Value>, key: &str) -> Result<Option<String>, String> {
    take(options, key, |v| v.as_str().map(str::to_string))
}

fn take_size(options: &mut Map<String, Value>, key: &str) -> Result<usize, String> {
    let size = match options.get(key) {
        Some(value) if value.is_number() && value.as_u64().is_none() => {
            return Err(format!("`{key}` is {value}; it must be a whole number"))
        }
        _ => take(options, key, Value::as_u64)?.ok_or_else(|| format!("`{key}` is missing"))?,
    };
    usize::try_from(size).map_err(|_| format!("`{key}` is {size}, too large"))
}

fn take_activation(options: &mut Map<String, Value>) -> Result<Activation, String> {
    match options.remove("activation") {
        None | Some(Value::Null) => Ok(Activation::Linear),
        Some(value) => serde_json::from_value(value.clone()).map_err(|_| {
            format!("the activation {value} is not one Neuroglow has (linear, relu, tanh, sigmoid, softmax)")
        }),
    }
}

/// Keras's `L1L2` (or `L1`, `L2`) kernel regularizer.
fn take_regularizer(options: &mut Map<String, Value>) -> Result<Option<Regularizer>, String> {
    let Some(value) = options.remove("kernel_regularizer").filter(|v| !v.is_null()) else { return Ok(None) };
    let class_name = value.get("class_name").and_then(Value::as_str).unwrap_or_default();
    let factor = |key| value.pointer(&format!("/config/{key}")).and_then(Value::as_f64).unwrap_or(0.0) as f32;
    match class_name {
        "L1L2" | "L1" | "L2" => Ok(Some(Regularizer { l1: factor("l1"), l2: factor("l2") })),
        _ => Err(format!("the kernel regularizer {value} is not one Neuroglow has (L1L2, L1, L2)")),
    }
}

/// Keras writes `"float32"`, Keras 3 a `DTypePolicy` object naming it.
fn check_dtype(dtype: Option<Value>) -> Result<(), String> {
    let Some(dtype) = dtype else { return Ok(()) };
    let name = dtype.as_str().or_else(|| dtype.pointer("/config/name").and_then(Value::as_str));
    match name {
        Some("float32") => Ok(()),
        _ => Err(format!("the layer computes in {dtype}; Neuroglow computes in float32 only")),
    }
}

/// The LSTM's gate activation must be the sigmoid Neuroglow computes: TF.js
/// defaults to `hard_sigmoid`, which gives other numbers.
fn require_gate(options: &mut Map<String, Value>) -> Result<(), String> {
    match options.remove("recurrent_activation") {
        None => Err("`recurrent_activation` is missing (TF.js would take `hard_sigmoid`); Neuroglow's LSTM \
                     computes `sigmoid` only"
            .into()),
        Some(value) if value == json!("sigmoid") => Ok(()),
        Some(value) => Err(format!(
            "`recurrent_activation` is {value}, but Neuroglow's LSTM computes \"sigmoid\" only; a model trained \
             with another gate would give other results here (in TF.js, build it with recurrentActivation: 'sigmoid')"
        )),
    }
}

/// An option Neuroglow accepts only with the value it computes anyway.
fn require(options: &mut Map<String, Value>, key: &str, inert: &Value) -> Result<(), String> {
    match options.remove(key) {
        None => Ok(()),
        Some(value) if value == *inert || value.as_f64().is_some_and(|v| Some(v) == inert.as_f64()) => Ok(()),
        Some(value) => Err(format!(
            "`{key}` is {value}, which Neuroglow does not support (it computes {inert}); without it the model \
             would compute something else"
        )),
    }
}

/// Initializers only choose the first weights; the file's weights replace them.
fn drop_initializers(options: &mut Map<String, Value>, keys: &[&str]) {
    for key in keys {
        options.remove(*key);
    }
}

fn no_options_left(options: Map<String, Value>) -> Result<(), String> {
    match options.keys().next() {
        None => Ok(()),
        Some(key) => Err(format!("`{key}` is an option Neuroglow does not know; it cannot tell what it would change")),
    }
}

/// A loss as Keras (`binary_crossentropy`, or a serialized loss object) or
/// TF.js (`binaryCrossentropy`) writes it.
pub fn read_loss(loss: &Value) -> Result<LossKind, String> {
    let name = match loss {
        Value::String(name) => snake_case(name),
        Value::Object(object) => {
            if object.get("config").and_then(|c| c.get("from_logits")).and_then(Value::as_bool) == Some(true) {
                return Err(format!("the loss {loss} reads logits; Neuroglow's losses read the output activation"));
            }
            snake_case(object.get("class_name").and_then(Value::as_str).unwrap_or_default())
        }
        _ => String::new(),
    };
    serde_json::from_value(json!(name.trim_start_matches('_'))).map_err(|_| {
        format!(
            "the loss {loss} is not one Neuroglow has (binary_crossentropy, categorical_crossentropy, \
             sparse_categorical_crossentropy, mean_squared_error)"
        )
    })
}

/// `BinaryCrossentropy` and `binaryCrossentropy` → `binary_crossentropy`.
fn snake_case(name: &str) -> String {
    let mut out = String::with_capacity(name.len() + 4);
    for c in name.chars() {
        if c.is_ascii_uppercase() {
            out.push('_');
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

/// Optimizer options that must be off: Neuroglow computes plain Adam and SGD.
const OPTIMIZER_OPTIONS_OFF: &[&str] = &[
    "weight_decay",
    "clipnorm",
    "clipvalue",
    "use_ema",
    "loss_scale_factor",
    "gradient_accumulation_steps",
    "amsgrad",
    "nesterov",
    "useNesterov",
];

/// An optimizer as Keras (`{"class_name": "Adam", "config": {"learning_rate", …}}`)
/// or TF.js (camelCase options, `Momentum` for SGD with momentum) writes it.
pub fn read_optimizer(optimizer: &Value) -> Result<OptimizerConfig, String> {
    let class_name = optimizer.get("class_name").and_then(Value::as_str).unwrap_or_default();
    let config = optimizer.get("config").and_then(Value::as_object).cloned().unwrap_or_default();
    if let Some((option, value)) = OPTIMIZER_OPTIONS_OFF
        .iter()
        .filter_map(|o| config.get(*o).map(|v| (o, v)))
        .find(|(_, v)| !(v.is_null() || **v == json!(false) || v.as_f64() == Some(0.0)))
    {
        return Err(format!("the optimizer's `{option}` is {value}, which Neuroglow does not support"));
    }
    let number = |keys: [&str; 2], default: f32| -> Result<f32, String> {
        match keys.iter().find_map(|k| config.get(*k).filter(|v| !v.is_null())) {
            None => Ok(default),
            Some(v) => v.as_f64().map(|v| v as f32).ok_or_else(|| {
                format!("the optimizer's `{}` is {v}; Neuroglow takes a number (no schedules)", keys[1])
            }),
        }
    };
    let clip = match number(["global_clipnorm", "global_clipnorm"], f32::NAN)? {
        norm if norm.is_nan() => None,
        norm => Some(norm),
    };
    let OptimizerKind::Adam { beta_1, beta_2, epsilon, .. } = OptimizerConfig::default().kind else {
        unreachable!("the default optimizer is Adam")
    };
    let mut read = match class_name.to_ascii_lowercase().as_str() {
        "adam" => OptimizerConfig {
            kind: OptimizerKind::Adam {
                learning_rate: number(["learningRate", "learning_rate"], 1e-3)?,
                beta_1: number(["beta1", "beta_1"], beta_1)?,
                beta_2: number(["beta2", "beta_2"], beta_2)?,
                epsilon: number(["epsilon", "epsilon"], epsilon)?,
            },
            global_clipnorm: None,
        },
        "sgd" | "momentum" => OptimizerConfig::sgd(
            number(["learningRate", "learning_rate"], 0.01)?,
            number(["momentum", "momentum"], 0.0)?,
        ),
        _ => return Err(format!("the optimizer `{class_name}` is not one Neuroglow has (Adam, SGD, Momentum)")),
    };
    read.global_clipnorm = clip;
    Ok(read)
}
