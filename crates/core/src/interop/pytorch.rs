//! PyTorch: the weights as a `state_dict` in safetensors with PyTorch's
//! names and layout, a generated `model.py` holding the matching
//! `nn.Module`, and Neuroglow's `model.json` beside them (the text encoder
//! or normalizer `predict` applies, and what brings the state_dict back).
//!
//! The layouts: a Linear's `weight` is Keras's kernel transposed
//! (`[out, in]`); an Embedding's `weight` is Keras's embeddings; an LSTM's
//! `weight_ih_l0` and `weight_hh_l0` are the kernel and recurrent kernel
//! transposed, and since `nn.LSTM`'s gate order i, f, g, o is Keras's
//! i, f, c, o no rows move. PyTorch adds two biases where Keras has one:
//! `bias_ih_l0` is Keras's bias and `bias_hh_l0` zero (on import the two are
//! summed). Keras's masking — a padding step keeps the LSTM's state — has no
//! `nn.LSTM` switch, so `model.py` steps masked LSTMs itself.

use std::collections::HashSet;
use std::fmt::Write as _;

use serde_json::json;

use super::Imported;

use crate::backend::Activation;
use crate::error::{Error, Result};
use crate::io::{decode_expected_weights, encode_tensors, encode_weights, ModelFiles};
use crate::layers::{LayerConfig, LayerKind};
use crate::limits::Limits;
use crate::model::ModelSpec;
use crate::tensor::Tensor;

/// A model as PyTorch files.
#[derive(Debug, Clone, PartialEq)]
pub struct PytorchModel {
    /// `state_dict.safetensors`: `safetensors.torch.load_file` reads it.
    pub state_dict: Vec<u8>,
    /// `model.py`: the `nn.Module`, `load` and `predict`.
    pub model_py: String,
    /// Neuroglow's `model.json`: `predict` reads its preprocessing, and
    /// [`import`] its layers.
    pub model_json: String,
}

pub const STATE_DICT_FILE: &str = "state_dict.safetensors";
pub const MODEL_PY_FILE: &str = "model.py";

/// Writes `spec` with `weights` (in model order, `layer/param`) as PyTorch files.
pub fn export(spec: &ModelSpec, weights: &[(String, Tensor)]) -> Result<PytorchModel> {
    let attributes = attribute_names(&spec.layers);
    let weight = |layer: &LayerConfig, param: &str| -> Result<&Tensor> {
        let name = format!("{}/{param}", layer.name);
        weights
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, t)| t)
            .ok_or_else(|| Error::InvalidModel(format!("the weights have no `{name}`")))
    };
    let mut state = Vec::new();
    for (layer, attribute) in spec.layers.iter().zip(&attributes) {
        match layer.kind {
            LayerKind::Dense { use_bias, .. } => {
                state.push((format!("{attribute}.weight"), transposed(weight(layer, "kernel")?)));
                if use_bias {
                    state.push((format!("{attribute}.bias"), weight(layer, "bias")?.clone()));
                }
            }
            LayerKind::Embedding { .. } => {
                state.push((format!("{attribute}.weight"), weight(layer, "embeddings")?.clone()));
            }
            LayerKind::Lstm { .. } => {
                let bias = weight(layer, "bias")?;
                state.push((format!("{attribute}.weight_ih_l0"), transposed(weight(layer, "kernel")?)));
                state.push((format!("{attribute}.weight_hh_l0"), transposed(weight(layer, "recurrent_kernel")?)));
                state.push((format!("{attribute}.bias_ih_l0"), bias.clone()));
                state.push((format!("{attribute}.bias_hh_l0"), Tensor::zeros(bias.shape.clone())));
            }
            LayerKind::Dropout { .. } => {}
        }
    }
    Ok(PytorchModel {
        state_dict: encode_tensors(&state, "pt")?,
        model_py: model_py(spec, &attributes),
        model_json: spec.to_json(),
    })
}

/// Whether safetensors `bytes` say they are PyTorch's (`format: pt`, as
/// `safetensors.torch.save_file` and [`export`] write).
pub fn is_state_dict(bytes: &[u8]) -> bool {
    safetensors::SafeTensors::read_metadata(bytes).is_ok_and(|(_, metadata)| {
        metadata.metadata().as_ref().and_then(|m| m.get("format")).is_some_and(|f| f == "pt")
    })
}

/// Reads a PyTorch `state_dict` (safetensors, the names and layout
/// [`export`] writes) for the layers `model_json` describes, as Neuroglow's
/// own files. An LSTM's two biases are summed into Keras's one.
pub fn import(model_json: &str, state_dict: &[u8], limits: &Limits) -> Result<Imported> {
    let mut spec = ModelSpec::from_json_with_limits(model_json, limits)?;
    spec.assign_layer_names()?;
    let plan = spec.plan(limits)?;
    let attributes = attribute_names(&spec.layers);
    // Where each of Neuroglow's weights comes from in the state_dict.
    let mut sources = Vec::new();
    for (name, shape) in plan.weight_shapes(&spec.layers) {
        let (layer, param) = name.split_once('/').expect("weights are named layer/param");
        let index = spec.layers.iter().position(|l| l.name == layer).expect("a planned layer");
        let attribute = &attributes[index];
        let source = match (&spec.layers[index].kind, param) {
            (LayerKind::Lstm { .. }, "kernel") => Source::Transposed(format!("{attribute}.weight_ih_l0")),
            (LayerKind::Lstm { .. }, "recurrent_kernel") => Source::Transposed(format!("{attribute}.weight_hh_l0")),
            (LayerKind::Lstm { .. }, _) => {
                Source::Sum(format!("{attribute}.bias_ih_l0"), format!("{attribute}.bias_hh_l0"))
            }
            (_, "kernel") => Source::Transposed(format!("{attribute}.weight")),
            (_, "embeddings") => Source::Same(format!("{attribute}.weight")),
            _ => Source::Same(format!("{attribute}.bias")),
        };
        sources.push((name, shape.to_vec(), source));
    }
    let expected: Vec<(String, Vec<usize>)> =
        sources.iter().flat_map(|(_, shape, source)| source.torch_names_and_shapes(shape)).collect();
    let expected = expected.iter().map(|(name, shape)| (name.clone(), shape.as_slice()));
    let tensors = decode_expected_weights(state_dict, expected, limits)?;
    let weights: Vec<(String, Tensor)> =
        sources.into_iter().map(|(name, _, source)| (name, source.keras_tensor(&tensors))).collect();
    let files = ModelFiles { json: spec.to_json(), safetensors: encode_weights(&weights)? };
    Ok(Imported { files, notes: vec![] })
}

/// How a Keras-layout weight is made from the state_dict.
enum Source {
    Same(String),
    Transposed(String),
    /// PyTorch's two LSTM biases, added.
    Sum(String, String),
}

impl Source {
    /// The state_dict tensors it reads, with their PyTorch shapes.
    fn torch_names_and_shapes(&self, keras: &[usize]) -> Vec<(String, Vec<usize>)> {
        match self {
            Source::Same(name) => vec![(name.clone(), keras.to_vec())],
            Source::Transposed(name) => vec![(name.clone(), vec![keras[1], keras[0]])],
            Source::Sum(a, b) => vec![(a.clone(), keras.to_vec()), (b.clone(), keras.to_vec())],
        }
    }

    fn keras_tensor(&self, tensors: &std::collections::HashMap<String, Tensor>) -> Tensor {
        match self {
            Source::Same(name) => tensors[name].clone(),
            Source::Transposed(name) => transposed(&tensors[name]),
            Source::Sum(a, b) => {
                let data = tensors[a].data.iter().zip(&tensors[b].data).map(|(x, y)| x + y).collect();
                Tensor::new(tensors[a].shape.clone(), data).expect("same shape")
            }
        }
    }
}

/// `[rows, cols]` → `[cols, rows]`.
fn transposed(t: &Tensor) -> Tensor {
    let (rows, cols) = (t.shape[0], t.shape[1]);
    let data = (0..cols * rows).map(|i| t.data[(i % rows) * cols + i / rows]).collect();
    Tensor::new(vec![cols, rows], data).expect("same size")
}

/// Names `nn.Module` methods and Python keywords take: a layer called so
/// gets a `layer_` prefix.
const TAKEN: &[&str] = &[
    "forward",
    "training",
    "train",
    "eval",
    "to",
    "cpu",
    "cuda",
    "type",
    "float",
    "double",
    "half",
    "apply",
    "parameters",
    "modules",
    "children",
    "state_dict",
    "load_state_dict",
    "zero_grad",
    "requires_grad_",
    "and",
    "as",
    "class",
    "def",
    "del",
    "for",
    "from",
    "global",
    "if",
    "import",
    "in",
    "is",
    "lambda",
    "not",
    "or",
    "pass",
    "return",
    "try",
    "while",
    "with",
    "yield",
    "x",
    "mask",
    "torch",
    "nn",
];

/// A Python attribute per layer: its name where that is an identifier,
/// otherwise cleaned up; unique.
fn attribute_names(layers: &[LayerConfig]) -> Vec<String> {
    let mut used = HashSet::new();
    layers
        .iter()
        .map(|layer| {
            let mut name: String =
                layer.name.chars().map(|c| if c.is_ascii_alphanumeric() || c == '_' { c } else { '_' }).collect();
            if name.is_empty() || name.starts_with(|c: char| c.is_ascii_digit()) || TAKEN.contains(&name.as_str()) {
                name = format!("layer_{name}");
            }
            let mut unique = name.clone();
            let mut n = 1;
            while !used.insert(unique.clone()) {
                unique = format!("{name}_{n}");
                n += 1;
            }
            unique
        })
        .collect()
}

/// The generated `model.py`.
fn model_py(spec: &ModelSpec, attributes: &[String]) -> String {
    let mut init = String::new();
    let mut forward = String::new();
    let mut width = spec.input_shape.last().copied().unwrap_or(1);
    let mut masked = false;
    for (layer, attribute) in spec.layers.iter().zip(attributes) {
        let line = match &layer.kind {
            LayerKind::Dense { units, activation, use_bias, .. } => {
                let bias = if *use_bias { "" } else { ", bias=False" };
                let _ = writeln!(init, "        self.{attribute} = nn.Linear({width}, {units}{bias})");
                width = *units;
                match activation {
                    Activation::Linear => format!("x = self.{attribute}(x)"),
                    Activation::Softmax => format!("x = torch.softmax(self.{attribute}(x), dim=-1)"),
                    other => format!("x = torch.{}(self.{attribute}(x))", json!(other).as_str().unwrap_or("relu")),
                }
            }
            LayerKind::Embedding { input_dim, output_dim, mask_zero } => {
                let _ = writeln!(init, "        self.{attribute} = nn.Embedding({input_dim}, {output_dim})");
                width = *output_dim;
                masked = *mask_zero;
                let mask = if *mask_zero { "mask = x != 0  # id 0 is padding\n        " } else { "" };
                format!("{mask}x = self.{attribute}(x)")
            }
            LayerKind::Lstm { units, return_sequences } => {
                let _ = writeln!(init, "        self.{attribute} = nn.LSTM({width}, {units}, batch_first=True)");
                width = *units;
                let sequences = if *return_sequences { "True" } else { "False" };
                match masked {
                    true => format!("x = masked_lstm(self.{attribute}, x, mask, return_sequences={sequences})"),
                    false if *return_sequences => format!("x, _ = self.{attribute}(x)"),
                    false => format!("x = self.{attribute}(x)[0][:, -1]"),
                }
            }
            LayerKind::Dropout { rate } => {
                let _ = writeln!(init, "        self.{attribute} = nn.Dropout({rate})");
                format!("x = self.{attribute}(x)")
            }
        };
        let _ = writeln!(forward, "        {line}");
        if !layer.trainable {
            let _ = writeln!(init, "        self.{attribute}.requires_grad_(False)  # frozen in Neuroglow");
        }
    }
    let input = match spec.layers.first().map(|l| &l.kind) {
        Some(LayerKind::Embedding { .. }) => "token ids, int64",
        _ => "features after the model's normalization, float32",
    };
    MODEL_PY
        .replace("{name}", &spec.name)
        .replace("{version}", env!("CARGO_PKG_VERSION"))
        .replace("{input_shape}", &format!("{:?}", spec.input_shape))
        .replace("{input}", input)
        .replace("{init}", init.trim_end())
        .replace("{forward}", forward.trim_end())
}

/// `model.py`'s template; `{…}` are filled in by [`model_py`].
const MODEL_PY: &str = r#""""{name}: a model exported by Neuroglow {version}, as a PyTorch nn.Module.

    from model import load, predict
    model = load()                      # state_dict.safetensors beside this file
    model(x)                            # x: [batch] + {input_shape}, {input}
    predict(model, ["a fine film"])     # raw texts or feature rows, preprocessed as in Neuroglow

The weights are Neuroglow's, in PyTorch's layout; the outputs equal Neuroglow's.
"""

import json
import pathlib

import torch
from torch import nn

HERE = pathlib.Path(__file__).parent


class Model(nn.Module):
    def __init__(self):
        super().__init__()
{init}

    def forward(self, x):
{forward}
        return x


def masked_lstm(lstm, x, mask, return_sequences):
    """Keras's masking: at a padding step the state is kept (and the last output repeated)."""
    batch, time = x.shape[0], x.shape[1]
    h = torch.zeros(1, batch, lstm.hidden_size)
    c = torch.zeros(1, batch, lstm.hidden_size)
    outputs = []
    for t in range(time):
        _, (h_next, c_next) = lstm(x[:, t : t + 1], (h, c))
        real = mask[:, t].reshape(1, batch, 1)
        h = torch.where(real, h_next, h)
        c = torch.where(real, c_next, c)
        outputs.append(h[0])
    return torch.stack(outputs, 1) if return_sequences else h[0]


def load(path=HERE / "state_dict.safetensors"):
    from safetensors.torch import load_file

    model = Model()
    model.load_state_dict(load_file(str(path)))
    return model.eval()


def preprocess(inputs, settings=None):
    """Raw texts (for a text model) or rows of features, as the model's input."""
    settings = settings or json.loads((HERE / "model.json").read_text())
    encoder = settings.get("text_encoder")
    if encoder is None:
        rows = [[float(v) for v in row] for row in inputs]
        for step in settings.get("preprocessing", []):
            if step["type"] == "z_score":
                offset, scale = step["mean"], step["std"]
            else:
                offset = step["min"]
                scale = [b - a if b > a else 1.0 for a, b in zip(step["min"], step["max"])]
            rows = [[(v - o) / s for v, o, s in zip(row, offset, scale)] for row in rows]
        return torch.tensor(rows, dtype=torch.float32)
    if encoder["type"] == "words":
        sequences = [word_ids(encoder["tokenizer"], text) for text in inputs]
    elif encoder["type"] == "chars":
        chars = encoder["vocab"]["chars"]
        index = {c: i + 1 for i, c in enumerate(chars)}
        sequences = [[index.get(c, 0) for c in text] for text in inputs]
    else:
        from tokenizers import Tokenizer

        tokenizer = Tokenizer.from_str(json.dumps(encoder["tokenizer"]))
        sequences = [tokenizer.encode(text).ids for text in inputs]
    padding, truncating = encoder.get("padding", "pre"), encoder.get("truncating", "pre")
    if encoder["type"] == "chars":
        padding = truncating = "pre"
    rows = [pad(ids, encoder["maxlen"], padding, truncating) for ids in sequences]
    return torch.tensor(rows, dtype=torch.int64)


def word_ids(tokenizer, text):
    """Keras's Tokenizer: filtered characters become spaces, then lowercase words; unknown words the OOV id."""
    cleaned = "".join(" " if c in tokenizer["filters"] else c for c in text)
    words = (cleaned.lower() if tokenizer["lower"] else cleaned).split()
    index = {w: i + 1 for i, w in enumerate(tokenizer["words"])}
    limit = tokenizer.get("num_words")
    oov = 1 if tokenizer.get("oov_token") is not None else None
    ids = [index.get(w) for w in words]
    ids = [i if i is not None and (limit is None or i < limit) else oov for i in ids]
    return [i for i in ids if i is not None]


def pad(ids, maxlen, padding, truncating):
    """Keras's pad_sequences for one sequence, with id 0."""
    if len(ids) > maxlen:
        ids = ids[len(ids) - maxlen :] if truncating == "pre" else ids[:maxlen]
    fill = [0] * (maxlen - len(ids))
    return fill + ids if padding == "pre" else ids + fill


def predict(model, inputs):
    with torch.no_grad():
        return model(preprocess(inputs))
"#;
