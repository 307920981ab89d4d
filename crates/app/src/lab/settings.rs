//! Everything the user sets in the 2-D lab, and what it makes: the points
//! and the model. How it lives in the page's address: `address.rs`.

use neuroglow_core::backend::Regularizer;
use neuroglow_core::data::features::{expand, Feature};
use neuroglow_core::data::{synthetic, Dataset};
use neuroglow_core::layers::{LayerConfig, LayerKind};
use neuroglow_core::optim::OptimizerConfig;
use neuroglow_core::{Activation, LossKind, ModelSpec};
use serde::{de::DeserializeOwned, Serialize};

pub const POINTS: usize = 400;
/// The largest hidden layer and the most hidden layers the lab builds.
pub const MAX_NEURONS: usize = 256;
pub const MAX_LAYERS: usize = 10;

/// The datasets, by the name used in the address; the last two are regression.
pub const DATASETS: [(&str, &str); 6] = [
    ("circle", "Circle"),
    ("xor", "Exclusive or"),
    ("gaussian", "Gaussian"),
    ("spiral", "Spiral"),
    ("plane", "Plane (regression)"),
    ("multi_gaussian", "Multi-Gaussian (regression)"),
];

#[derive(Clone, Copy, PartialEq, Eq, Debug, Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OptimizerChoice {
    Sgd,
    Adam,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug, Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Penalty {
    None,
    L1,
    L2,
}

/// What the user chose for the lab.
#[derive(Clone, PartialEq, Debug)]
pub struct Settings {
    pub dataset: String,
    pub noise: f32,
    /// Share of the points used for training; the rest are the test set.
    pub train_share: f32,
    pub batch_size: usize,
    pub features: Vec<Feature>,
    /// Hidden layer sizes, e.g. "8, 8".
    pub hidden: String,
    pub activation: Activation,
    pub optimizer: OptimizerChoice,
    pub learning_rate: f32,
    pub penalty: Penalty,
    pub penalty_rate: f32,
    pub seed: u64,
}

/// How the output is drawn (not part of the model).
#[derive(Clone, Copy, PartialEq, Debug)]
pub struct Display {
    pub show_test: bool,
    pub discretize: bool,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            dataset: "circle".into(),
            noise: 0.0,
            train_share: 0.5,
            batch_size: 10,
            features: vec![Feature::X1, Feature::X2],
            hidden: "8, 8".into(),
            activation: Activation::Tanh,
            optimizer: OptimizerChoice::Adam,
            learning_rate: 0.03,
            penalty: Penalty::None,
            penalty_rate: 0.001,
            seed: 1,
        }
    }
}

/// `"tanh"` for `Activation::Tanh`: the names model.json uses.
pub fn name_of<T: Serialize>(value: &T) -> String {
    serde_json::to_value(value).ok().and_then(|v| v.as_str().map(String::from)).unwrap_or_default()
}

pub fn named<T: DeserializeOwned>(name: &str) -> Option<T> {
    serde_json::from_value(serde_json::Value::String(name.into())).ok()
}

impl Settings {
    pub fn is_regression(&self) -> bool {
        matches!(self.dataset.as_str(), "plane" | "multi_gaussian")
    }

    /// The hidden layer sizes, or what is wrong with them.
    pub fn hidden_layers(&self) -> Result<Vec<usize>, String> {
        let sizes = self
            .hidden
            .split(',')
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .map(|t| {
                t.parse::<usize>()
                    .ok()
                    .filter(|&n| (1..=MAX_NEURONS).contains(&n))
                    .ok_or(format!("`{t}` is not a layer size from 1 to {MAX_NEURONS}"))
            })
            .collect::<Result<Vec<_>, _>>()?;
        if sizes.len() > MAX_LAYERS {
            return Err(format!("{} hidden layers is more than the lab's {MAX_LAYERS}", sizes.len()));
        }
        Ok(sizes)
    }

    /// The points, split into training and test sets, as `(x₁, x₂)` pairs.
    pub fn points(&self) -> Result<(Dataset, Dataset), String> {
        let make = match self.dataset.as_str() {
            "xor" => synthetic::xor,
            "gaussian" => synthetic::gaussian,
            "spiral" => synthetic::spiral,
            "plane" => synthetic::plane,
            "multi_gaussian" => synthetic::multi_gaussian,
            _ => synthetic::circle,
        };
        make(POINTS, self.noise, self.seed).shuffle_split(1.0 - self.train_share, self.seed).map_err(|e| e.to_string())
    }

    /// What the network sees of `points`: the chosen features.
    pub fn inputs(&self, points: &neuroglow_core::Tensor) -> neuroglow_core::Tensor {
        expand(points, &self.features)
    }

    pub fn model_spec(&self) -> Result<ModelSpec, String> {
        let regularizer = match self.penalty {
            Penalty::None => None,
            Penalty::L1 => Some(Regularizer { l1: self.penalty_rate, l2: 0.0 }),
            Penalty::L2 => Some(Regularizer { l1: 0.0, l2: self.penalty_rate }),
        };
        let dense = |units, activation| LayerConfig {
            name: String::new(),
            trainable: true,
            kind: LayerKind::Dense { units, activation, use_bias: true, kernel_regularizer: regularizer },
        };
        let mut layers: Vec<LayerConfig> = self.hidden_layers()?.iter().map(|&u| dense(u, self.activation)).collect();
        let (output, loss) = if self.is_regression() {
            (Activation::Linear, LossKind::MeanSquaredError)
        } else {
            (Activation::Sigmoid, LossKind::BinaryCrossentropy)
        };
        layers.push(dense(1, output));
        let optimizer = match self.optimizer {
            OptimizerChoice::Adam => OptimizerConfig::adam(self.learning_rate),
            OptimizerChoice::Sgd => OptimizerConfig::sgd(self.learning_rate, 0.0),
        };
        Ok(ModelSpec {
            name: "2-D lab".into(),
            optimizer,
            seed: self.seed,
            ..ModelSpec::new(vec![self.features.len()], layers, loss)
        })
    }
}

impl Default for Display {
    fn default() -> Self {
        Self { show_test: true, discretize: false }
    }
}
