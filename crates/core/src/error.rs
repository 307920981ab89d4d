use std::fmt;

/// Everything that can go wrong in the engine, each with enough detail to fix it.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum Error {
    /// `model.json` is not valid JSON or does not follow the schema.
    #[error("model.json is invalid: {0}")]
    ModelJson(String),
    /// The model description is well-formed but cannot be built.
    #[error("invalid model: {0}")]
    InvalidModel(String),
    /// The weights file is not a readable safetensors file.
    #[error("model.safetensors is unreadable: {0} (is the file complete and really a safetensors file?)")]
    WeightsFile(String),
    #[error(
        "model.safetensors has no tensor `{name}` (expected f32 {expected}); the weights belong to a different model"
    )]
    MissingTensor { name: String, expected: Shape },
    #[error(
        "model.safetensors has a tensor `{name}` that the model does not use; the weights belong to a different model"
    )]
    UnexpectedTensor { name: String },
    #[error("tensor `{name}` has shape {found} but the model expects {expected}")]
    ShapeMismatch { name: String, expected: Shape, found: Shape },
    #[error("tensor `{name}` is stored as {found}, but Neuroglow reads f32 weights only")]
    WrongDtype { name: String, found: String },
    #[error("tensor `{name}` has {value} at index {index}; weights must be finite numbers (the file is damaged, or was saved after training diverged)")]
    NonFiniteWeight { name: String, index: usize, value: f32 },
    /// Input data does not fit the model or is malformed.
    #[error("{0}")]
    Data(String),
    /// The loss stopped being a finite number.
    #[error("training diverged: the loss became {loss} in epoch {epoch}; weights were restored to the last finite epoch. Lower the learning rate or set a gradient clip norm")]
    NonFiniteLoss { loss: f32, epoch: usize },
    /// A size in a model file or a dataset is over one of the [`Limits`](crate::limits::Limits).
    #[error("{}", limit_message(what, *value, *limit, name))]
    Limit { what: String, value: u64, limit: usize, name: &'static str },
    /// The compute backend failed (for example a lost GPU device).
    #[error("backend failure: {0}")]
    Backend(String),
}

fn limit_message(what: &str, value: u64, limit: usize, name: &str) -> String {
    if value == u64::MAX {
        return format!(
            "{what} is too large to compute: its size overflows. The file is damaged or not meant for Neuroglow"
        );
    }
    format!(
        "{what} is {value}, over the limit of {limit} (`{name}`): a model or dataset this large would not fit in a \
         browser tab's memory; make it smaller"
    )
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// A tensor shape that prints as `[2, 3]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Shape(pub Vec<usize>);

impl fmt::Display for Shape {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", self.0)
    }
}
