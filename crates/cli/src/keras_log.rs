//! Keras-style training logs:
//! `286/286 [==============================] - 3s 10ms/step - loss: 0.4521 - accuracy: 0.7813`.
//! On a terminal a live bar shows each epoch's progress; in a pipe only the
//! finished lines are printed.

use std::io::IsTerminal;

use indicatif::{ProgressBar, ProgressStyle};
use neuroglow_core::train::{keras_fields, per_step_label};
use neuroglow_core::{BatchProgress, EpochLog, Metrics};

const BAR_WIDTH: usize = 30;

pub struct KerasLog {
    epochs: usize,
    live: bool,
    bar: Option<ProgressBar>,
}

impl KerasLog {
    /// `epochs` for the header (0: as the progress reports it).
    pub fn new(epochs: usize) -> Self {
        Self { epochs, live: std::io::stdout().is_terminal(), bar: None }
    }

    /// Called after every batch: starts an epoch and moves the live bar.
    pub fn batch(&mut self, p: &BatchProgress) {
        if p.batch == 1 {
            println!("Epoch {}/{}", p.epoch + 1, if self.epochs > 0 { self.epochs } else { p.epochs });
            if self.live {
                let style = ProgressStyle::with_template("{pos}/{len} [{bar:30}] - ETA: {eta} - {msg}")
                    .expect("valid template")
                    .progress_chars("=>.");
                self.bar = Some(ProgressBar::new(p.batches as u64).with_style(style));
            }
        }
        if let Some(bar) = &self.bar {
            bar.set_position(p.batch as u64);
            bar.set_message(keras_fields(&p.metrics, None));
        }
    }

    /// Replaces the bar with the epoch's finished line.
    pub fn epoch_end(&mut self, log: &EpochLog) {
        if let Some(bar) = self.bar.take() {
            bar.finish_and_clear();
        }
        println!("{}", epoch_line(log));
    }
}

/// The finished line of an epoch.
pub fn epoch_line(log: &EpochLog) -> String {
    let bar = "=".repeat(BAR_WIDTH);
    let metrics = Metrics { loss: log.loss, accuracy: log.accuracy, examples: 0 };
    let validation = log.val_loss.map(|loss| Metrics { loss, accuracy: log.val_accuracy, examples: 0 });
    format!(
        "{steps}/{steps} [{bar}] - {secs}s {per_step} - {}",
        keras_fields(&metrics, validation.as_ref()),
        steps = log.steps,
        secs = log.seconds.round() as u64,
        per_step = per_step_label(log.ms_per_step),
    )
}

/// `loss: 0.1234 - accuracy: 0.9876`, for `evaluate`.
pub fn metrics_line(metrics: &Metrics) -> String {
    keras_fields(metrics, None)
}

/// `{"loss": …, "accuracy": …, "examples": …}` at full precision (no
/// accuracy for regression).
pub fn metrics_json(metrics: &Metrics) -> String {
    let mut fields = serde_json::json!({ "loss": metrics.loss, "examples": metrics.examples });
    if let Some(accuracy) = metrics.accuracy {
        fields["accuracy"] = accuracy.into();
    }
    fields.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn epoch_line_reads_like_keras() {
        let log = EpochLog {
            epoch: 1,
            loss: 0.45213,
            accuracy: Some(0.78125),
            val_loss: Some(0.5),
            val_accuracy: Some(0.75),
            steps: 286,
            ms_per_step: 10.4,
            seconds: 2.9,
        };
        assert_eq!(
            epoch_line(&log),
            "286/286 [==============================] - 3s 10ms/step - loss: 0.4521 - accuracy: 0.7812 - val_loss: 0.5000 - val_accuracy: 0.7500"
        );
        let regression = EpochLog { accuracy: None, val_loss: None, val_accuracy: None, ms_per_step: 0.25, ..log };
        assert!(epoch_line(&regression).ends_with("- 3s 250us/step - loss: 0.4521"));
    }
}
