//! Fine-tuning: keep a trained model's body, put a new head on it.

use crate::backend::{Activation, Backend};
use crate::error::{Error, Result};
use crate::layers::{LayerConfig, LayerKind};
use crate::loss::LossKind;
use crate::model::Model;

impl<B: Backend + 'static> Model<B> {
    /// Replaces the last layer with a fresh `Dense(units, activation)` named
    /// `head`, trained with `loss`; every other layer keeps its weights.
    /// Freeze the body with [`Model::set_trainable`] to train only the head.
    pub async fn with_new_head(mut self, units: usize, activation: Activation, loss: LossKind) -> Result<Model<B>> {
        let weights = self.weights().await?;
        let mut spec = self.spec().clone();
        let Some(last) = spec.layers.last_mut() else {
            return Err(Error::InvalidModel("the model has no layers".into()));
        };
        let body = format!("{}/", last.name);
        *last = LayerConfig {
            name: "head".into(),
            trainable: true,
            kind: LayerKind::Dense { units, activation, use_bias: true, kernel_regularizer: None },
        };
        spec.loss = loss;
        let mut model = Model::new(spec, self.take_backend())?;
        let mut fresh = model.weights().await?;
        for (name, tensor) in &mut fresh {
            if let Some((_, kept)) = weights.iter().find(|(n, _)| n == name && !n.starts_with(&body)) {
                *tensor = kept.clone();
            }
        }
        model.set_weights(&fresh)?;
        Ok(model)
    }
}
