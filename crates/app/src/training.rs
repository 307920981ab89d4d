//! Fine-tuning a view's model and showing it happen: a progress bar, a
//! Keras-style line per epoch, live loss curves, pause, resume and stop.
//!
//! Training works on a copy of a view's model, placed on WebGPU or the CPU;
//! the view's own model keeps answering meanwhile and takes the trained
//! weights at the end — also when training stops early or its loss turns
//! NaN (the engine then keeps the last good epoch), so no finished work is lost.

use std::ops::ControlFlow;

use leptos::prelude::*;
use neuroglow_core::data::Dataset;
use neuroglow_core::train::{keras_fields, per_step_label, Pause};
use neuroglow_core::{CpuBackend, EpochLog, Error, FitOptions, Metrics, Model, Progress, Tensor};

use neuroglow_gpu::AutoModel;

use crate::backend::BackendState;
use crate::chart::LossChart;
use crate::runtime::{now_ms, yield_to_browser};

/// Where training lets the page run, and where it waits while `paused` is
/// set (each view's training has its own Pause button).
fn pause_point(paused: RwSignal<bool>) -> Pause {
    Pause::new(move || async move {
        yield_to_browser().await;
        while paused.try_get_untracked().unwrap_or(false) {
            crate::runtime::sleep_ms(100).await;
        }
    })
}

/// What a training run leaves: the weights it reached (after a stop or a
/// NaN loss, those of the last good epoch) and what went wrong, if anything.
pub struct Trained {
    pub weights: Vec<(String, Tensor)>,
    pub problem: Option<String>,
}

/// The state of one view's training, shown by [`TrainingView`].
#[derive(Clone, Copy)]
pub struct TrainingMonitor {
    backend: BackendState,
    pub running: RwSignal<bool>,
    paused: RwSignal<bool>,
    stop: RwSignal<bool>,
    /// Done share of the whole run, 0 to 1.
    fraction: RwSignal<f64>,
    lines: RwSignal<Vec<String>>,
    train_curve: RwSignal<Vec<f32>>,
    val_curve: RwSignal<Vec<f32>>,
    /// Epochs completed in the last run.
    pub epochs_done: RwSignal<usize>,
}

impl TrainingMonitor {
    /// Call while building a view (it reads the backend from the context).
    pub fn new() -> Self {
        Self {
            backend: BackendState::get(),
            running: RwSignal::new(false),
            paused: RwSignal::new(false),
            stop: RwSignal::new(false),
            fraction: RwSignal::new(0.0),
            lines: RwSignal::new(Vec::new()),
            train_curve: RwSignal::new(Vec::new()),
            val_curve: RwSignal::new(Vec::new()),
            epochs_done: RwSignal::new(0),
        }
    }

    /// Trains `model` (a copy of a view's model, see [`crate::slot::ModelSlot::copy`]) on
    /// `train` where the user's backend choice says, and returns its weights.
    pub async fn train(
        &self,
        model: Model<CpuBackend>,
        train: &Dataset,
        validation: Option<&Dataset>,
        epochs: usize,
        batch_size: usize,
    ) -> Result<Trained, String> {
        self.train_then(model, train, validation, epochs, batch_size, async |_| {}).await
    }

    /// Like [`TrainingMonitor::train`], running `after_epoch` on the model
    /// being trained after each epoch.
    pub async fn train_then(
        &self,
        model: Model<CpuBackend>,
        train: &Dataset,
        validation: Option<&Dataset>,
        epochs: usize,
        batch_size: usize,
        after_epoch: impl AsyncFnMut(&mut AutoModel),
    ) -> Result<Trained, String> {
        self.start();
        let placed = self.backend.place(model).await;
        let Ok(mut engine) = placed else {
            self.running.set(false);
            return Err(placed.err().unwrap_or_default());
        };
        let options = FitOptions {
            epochs,
            batch_size,
            clock: now_ms,
            pause: Some(pause_point(self.paused)),
            // Each read of the metrics waits for the GPU: not every batch.
            readback_every: 8,
            ..FitOptions::default()
        };
        let examples = train.len();
        let on_progress = &mut |progress: Progress<'_>| self.on_progress(progress, examples);
        let result = engine.fit_then(train, validation, &options, on_progress, after_epoch).await;
        self.backend.show(&engine);
        let weights = engine.weights().await;
        self.running.set(false);
        self.paused.set(false);
        let problem = match result {
            Ok(_) => None,
            Err(Error::NonFiniteLoss { epoch, .. }) => Some(format!(
                "the loss stopped being a number in epoch {epoch} (the learning rate is probably too high); \
                 the weights of the last good epoch are kept — try a smaller learning rate"
            )),
            Err(e) => Some(e.to_string()),
        };
        Ok(Trained { weights: weights.map_err(|e| e.to_string())?, problem })
    }

    fn start(&self) {
        self.running.set(true);
        self.stop.set(false);
        self.fraction.set(0.0);
        self.lines.set(Vec::new());
        self.train_curve.set(Vec::new());
        self.val_curve.set(Vec::new());
        self.epochs_done.set(0);
    }

    fn on_progress(&self, progress: Progress<'_>, examples: usize) -> ControlFlow<()> {
        match progress {
            Progress::Batch(b) => {
                self.fraction.set((b.epoch as f64 + b.batch as f64 / b.batches as f64) / b.epochs as f64);
            }
            Progress::Epoch(log) => {
                self.lines.update(|lines| lines.push(epoch_line(log, examples)));
                self.train_curve.update(|c| c.push(log.loss));
                if let Some(v) = log.val_loss {
                    self.val_curve.update(|c| c.push(v));
                }
                self.epochs_done.set(log.epoch);
            }
        }
        if self.stop.get_untracked() {
            ControlFlow::Break(())
        } else {
            ControlFlow::Continue(())
        }
    }

    fn toggle_pause(&self) {
        self.paused.update(|paused| *paused = !*paused);
    }

    fn request_stop(&self) {
        self.stop.set(true);
        if self.paused.get_untracked() {
            self.toggle_pause();
        }
    }
}

/// `Epoch 2/5 - 12 steps - 48ms/step - 660 examples/s - loss: … - val_accuracy: …`
fn epoch_line(log: &EpochLog, examples: usize) -> String {
    let metrics = Metrics { loss: log.loss, accuracy: log.accuracy, examples };
    let validation = log.val_loss.map(|loss| Metrics { loss, accuracy: log.val_accuracy, examples: 0 });
    let per_second = examples as f64 / (log.ms_per_step * log.steps as f64 / 1000.0).max(1e-9);
    format!(
        "Epoch {} - {} steps - {} - {:.0} examples/s - {}",
        log.epoch,
        log.steps,
        per_step_label(log.ms_per_step),
        per_second,
        keras_fields(&metrics, validation.as_ref())
    )
}

/// The progress bar, the controls, the log and the curves of a training run.
#[component]
pub fn TrainingView(monitor: TrainingMonitor) -> impl IntoView {
    let state = move || if monitor.running.get() { "running" } else { "idle" };
    view! {
        <div class="training" data-state=state data-epochs=move || monitor.epochs_done.get()
            hidden=move || !monitor.running.get() && monitor.lines.with(Vec::is_empty)>
            <div class="training-controls" hidden=move || !monitor.running.get()>
                <progress max="1" prop:value=move || monitor.fraction.get() aria-label="Training progress"></progress>
                <button on:click=move |_| monitor.toggle_pause() aria-pressed=move || monitor.paused.get().to_string()>
                    {move || if monitor.paused.get() { "Resume" } else { "Pause" }}
                </button>
                <button on:click=move |_| monitor.request_stop()>"Stop"</button>
            </div>
            <pre class="log" aria-live="polite" aria-label="Training log">
                {move || monitor.lines.get().join("\n")}
            </pre>
            <LossChart train=monitor.train_curve test=monitor.val_curve
                label="Loss per epoch: training in blue, validation in orange" />
        </div>
    }
}
