//! # neuroglow-core
//!
//! The engine behind Neuroglow: small MLP and LSTM models that train and run
//! anywhere Rust does, native or `wasm32`.
//!
//! The model code ([`Model`], [`layers`]) is written once against the
//! [`Backend`] trait, a handful of coarse tensor operations. [`CpuBackend`]
//! implements it here; the WebGPU backend lives in its own crate. Weights use
//! the Keras / TF.js layout and are stored as `model.json` + `model.safetensors`
//! ([`io`]).
//!
//! ```
//! use neuroglow_core::{data::synthetic, CpuBackend, FitOptions, Model, ModelSpec};
//!
//! let spec: ModelSpec = serde_json::from_str(r#"{
//!     "input_shape": [2],
//!     "layers": [
//!         {"type": "dense", "units": 8, "activation": "tanh"},
//!         {"type": "dense", "units": 1, "activation": "sigmoid"}
//!     ],
//!     "loss": "binary_crossentropy",
//!     "optimizer": {"type": "adam", "learning_rate": 0.03}
//! }"#).unwrap();
//! let mut model = Model::new(spec, CpuBackend::new()).unwrap();
//! let data = synthetic::circle(200, 0.0, 7);
//! let options = FitOptions { epochs: 5, batch_size: 16, ..FitOptions::default() };
//! let history = pollster::block_on(model.fit(&data, None, &options, &mut |_| std::ops::ControlFlow::Continue(()))).unwrap();
//! assert_eq!(history.epochs.len(), 5);
//! ```

pub mod backend;
pub mod data;
pub mod determinism;
mod error;
pub mod evaluation;
mod finetune;
pub mod generate;
pub mod init;
pub mod interop;
pub mod io;
pub mod layers;
pub mod limits;
pub mod loss;
pub mod math;
mod model;
pub mod optim;
pub mod plan;
pub mod reading;
pub mod rng;
mod schema;
mod tensor;
pub mod train;

pub use backend::{cpu::CpuBackend, Activation, Backend};
pub use error::{Error, Result};
pub use limits::Limits;
pub use loss::LossKind;
pub use model::{Model, ModelSpec, TrainingState, MODEL_FORMAT, MODEL_FORMAT_VERSION};
pub use tensor::Tensor;
pub use train::{BatchProgress, EpochLog, FitOptions, History, Metrics, Progress};
