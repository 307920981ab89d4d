//! [`AutoModel`]: a model that trains on the GPU when it can and moves to
//! the CPU by itself when it cannot — no adapter, a refused device, or a
//! device lost mid-training — carrying over weights and optimizer state and
//! saying why.

use std::ops::ControlFlow;

use neuroglow_core::data::Dataset;
use neuroglow_core::{CpuBackend, Error, FitOptions, History, Metrics, Model, Progress, Result, Tensor, TrainingState};

use crate::GpuBackend;

/// The model on the backend it currently runs on (boxed: models are large).
pub enum Engine {
    Gpu(Box<Model<GpuBackend>>),
    Cpu(Box<Model<CpuBackend>>),
}

/// Runs `$body` with `$model` bound to whichever model the engine holds.
macro_rules! on_model {
    ($engine:expr, $model:ident => $body:expr) => {
        match $engine {
            Engine::Gpu($model) => $body,
            Engine::Cpu($model) => $body,
        }
    };
}

/// Runs `$body` on the current model; if the GPU fails, moves to the CPU
/// and runs it again there.
macro_rules! with_fallback {
    ($auto:expr, $model:ident => $body:expr) => {
        loop {
            match on_model!(&mut $auto.engine, $model => $body) {
                Err(Error::Backend(why)) if matches!($auto.engine, Engine::Gpu(_)) => $auto.fall_back(why)?,
                result => break result,
            }
        }
    };
}

pub struct AutoModel {
    engine: Engine,
    /// Why the model is on the CPU, when it is.
    fallback: Option<String>,
    /// The state after the last completed epoch, kept on the host so that
    /// nothing is lost if the GPU goes away.
    saved: TrainingState,
}

impl AutoModel {
    /// Moves `model` (loaded or built on the CPU) to the GPU if one is
    /// usable; otherwise it stays on the CPU and [`AutoModel::fallback`] says why.
    pub async fn new(mut model: Model<CpuBackend>) -> Result<Self> {
        let saved = model.training_state().await?;
        let (engine, fallback) = match Self::on_gpu(&model, &saved).await {
            Ok(gpu) => (Engine::Gpu(Box::new(gpu)), None),
            Err(why) => (Engine::Cpu(Box::new(model)), Some(why)),
        };
        Ok(Self { engine, fallback, saved })
    }

    /// Keeps `model` on the CPU, for users who choose it.
    pub async fn on_cpu(mut model: Model<CpuBackend>, why: &str) -> Result<Self> {
        let saved = model.training_state().await?;
        Ok(Self { engine: Engine::Cpu(Box::new(model)), fallback: Some(why.into()), saved })
    }

    async fn on_gpu(
        model: &Model<CpuBackend>,
        state: &TrainingState,
    ) -> std::result::Result<Model<GpuBackend>, String> {
        let backend = GpuBackend::new().await.map_err(|e| e.to_string())?;
        let mut gpu = Model::from_training_state(model.spec().clone(), backend, model.limits(), state)
            .map_err(|e| e.to_string())?;
        // A first read proves the device works before training relies on it.
        gpu.training_state().await.map_err(|e| e.to_string())?;
        Ok(gpu)
    }

    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    /// Why the model runs on the CPU; `None` while it is on the GPU.
    pub fn fallback(&self) -> Option<&str> {
        self.fallback.as_deref()
    }

    /// The backend's display name.
    pub fn backend_name(&self) -> String {
        on_model!(&self.engine, m => neuroglow_core::Backend::name(m.backend()))
    }

    /// Leaves the GPU for the CPU, resuming from the last saved state.
    fn fall_back(&mut self, why: String) -> Result<()> {
        let (spec, limits) = on_model!(&self.engine, m => (m.spec().clone(), *m.limits()));
        let cpu = Model::from_training_state(spec, CpuBackend::new(), &limits, &self.saved)?;
        self.engine = Engine::Cpu(Box::new(cpu));
        self.fallback = Some(format!("{why} — training on CPU"));
        Ok(())
    }

    /// Like [`Model::fit`], one epoch at a time: after each epoch the state
    /// is copied to the host, and if the GPU fails the epoch is run again on
    /// the CPU from there.
    pub async fn fit(
        &mut self,
        data: &Dataset,
        validation: Option<&Dataset>,
        options: &FitOptions,
        on_progress: &mut dyn FnMut(Progress<'_>) -> ControlFlow<()>,
    ) -> Result<History> {
        self.fit_then(data, validation, options, on_progress, async |_| {}).await
    }

    /// Like [`AutoModel::fit`], running `after_epoch` on the model after
    /// each completed epoch (to show a sample of what it has learned, say).
    pub async fn fit_then(
        &mut self,
        data: &Dataset,
        validation: Option<&Dataset>,
        options: &FitOptions,
        on_progress: &mut dyn FnMut(Progress<'_>) -> ControlFlow<()>,
        mut after_epoch: impl AsyncFnMut(&mut Self),
    ) -> Result<History> {
        let mut history = History::default();
        let one_epoch = FitOptions { epochs: 1, ..options.clone() };
        let mut epoch = 0;
        while epoch < options.epochs && !history.stopped {
            // Report the epoch within the whole run, not within this one-epoch fit.
            let mut relabel = |progress: Progress<'_>| match progress {
                Progress::Batch(b) => {
                    on_progress(Progress::Batch(&neuroglow_core::BatchProgress { epoch, epochs: options.epochs, ..*b }))
                }
                Progress::Epoch(e) => {
                    on_progress(Progress::Epoch(&neuroglow_core::EpochLog { epoch: epoch + 1, ..e.clone() }))
                }
            };
            let result = on_model!(&mut self.engine, m => m.fit(data, validation, &one_epoch, &mut relabel).await);
            match result {
                Ok(run) => {
                    history.stopped = run.stopped;
                    history
                        .epochs
                        .extend(run.epochs.into_iter().map(|log| neuroglow_core::EpochLog { epoch: epoch + 1, ..log }));
                    self.saved = on_model!(&mut self.engine, m => m.training_state().await)?;
                    epoch += 1;
                    after_epoch(self).await;
                }
                Err(Error::Backend(why)) if matches!(self.engine, Engine::Gpu(_)) => self.fall_back(why)?,
                Err(e) => return Err(e),
            }
        }
        Ok(history)
    }

    pub async fn evaluate(&mut self, data: &Dataset, batch_size: usize) -> Result<Metrics> {
        with_fallback!(self, m => m.evaluate(data, batch_size).await)
    }

    pub async fn predict(&mut self, x: &Tensor, batch_size: usize) -> Result<Tensor> {
        with_fallback!(self, m => m.predict(x, batch_size).await)
    }

    /// Every layer's outputs from one forward pass ([`Model::predict_layers`]).
    pub async fn predict_layers(&mut self, x: &Tensor, batch_size: usize) -> Result<Vec<Tensor>> {
        with_fallback!(self, m => m.predict_layers(x, batch_size).await)
    }

    /// The model's description (its layers named as in its weights).
    pub fn spec(&self) -> &neuroglow_core::ModelSpec {
        on_model!(&self.engine, m => m.spec())
    }

    /// Replaces the weights wherever the model runs (the optimizer's state
    /// stays), and keeps them as the state to fall back to.
    pub async fn set_weights(&mut self, weights: &[(String, Tensor)]) -> Result<()> {
        on_model!(&mut self.engine, m => m.set_weights(weights))?;
        self.saved = with_fallback!(self, m => m.training_state().await)?;
        Ok(())
    }

    /// The current weights, wherever the model runs.
    pub async fn weights(&mut self) -> Result<Vec<(String, Tensor)>> {
        with_fallback!(self, m => m.weights().await)
    }

    /// A copy on the CPU of the model as it is now (e.g. to sample from
    /// while training goes on).
    pub async fn copy_on_cpu(&mut self) -> Result<Model<CpuBackend>> {
        with_fallback!(self, m => m.copy_on(CpuBackend::new()).await)
    }
}
