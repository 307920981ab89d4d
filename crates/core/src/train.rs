//! The training loop: epochs of shuffled mini-batches, validation, progress
//! reporting and per-epoch history, in the style of Keras's `fit`.

use std::cell::Cell;
use std::future::Future;
use std::ops::ControlFlow;
use std::pin::Pin;
use std::rc::Rc;

use crate::backend::{metric_slot, Backend};
use crate::data::Dataset;
use crate::error::{Error, Result};
use crate::model::Model;
use crate::rng::Rng;
use crate::tensor::Tensor;

/// Mean loss and accuracy over the examples seen.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Metrics {
    pub loss: f32,
    /// `None` for regression losses.
    pub accuracy: Option<f32>,
    pub examples: usize,
}

impl Metrics {
    /// From the running sums that [`Backend::loss`] accumulates.
    pub fn from_sums(sums: &[f32], has_accuracy: bool) -> Self {
        let examples = sums[metric_slot::EXAMPLES];
        let judged = sums[metric_slot::JUDGED];
        Self {
            loss: sums[metric_slot::LOSS_SUM] / examples.max(1.0),
            accuracy: has_accuracy.then(|| sums[metric_slot::CORRECT] / judged.max(1.0)),
            examples: examples as usize,
        }
    }
}

/// Settings of [`Model::fit`].
#[derive(Debug, Clone)]
pub struct FitOptions {
    pub epochs: usize,
    pub batch_size: usize,
    /// Fraction of the data, taken from the end before shuffling (as Keras
    /// does), held out for validation. Ignored when validation data is given.
    pub validation_split: f32,
    /// Shuffle the training examples every epoch, seeded from the model seed.
    pub shuffle: bool,
    /// Read metrics back every this many batches (each read waits for the
    /// device; the GPU backend prefers larger values).
    pub readback_every: usize,
    /// Milliseconds from some fixed origin, for timing.
    pub clock: fn() -> f64,
    /// Lets the caller's event loop run between batches (a browser page
    /// passes a yield, so it can paint and take input while training runs on
    /// the CPU). Awaited before a batch that would end more than
    /// [`PAUSE_EVERY_MS`] of `clock` after the last pause (see [`Pause::wait_if_due`]).
    pub pause: Option<Pause>,
}

/// What long work awaits so that other work can run (the training loop
/// between batches, a paced prediction between slices, a page's generator
/// between characters): a closure, so that each caller waits on its own
/// state (in the page, each view on its own Pause button).
#[derive(Clone)]
pub struct Pause {
    wait: Rc<dyn Fn() -> Pin<Box<dyn Future<Output = ()>>>>,
    /// When other work last ran and when the work last asked, by
    /// [`FitOptions::clock`]; `None` until the work first asks. Clones share
    /// it, so the interval runs on across epochs and across fits of one
    /// epoch each (as `AutoModel` makes).
    timing: Rc<Cell<Option<PauseTiming>>>,
}

#[derive(Clone, Copy)]
struct PauseTiming {
    paused_at: f64,
    asked_at: f64,
}

impl Pause {
    /// `pause` makes the future to await each time, e.g. `|| yield_to_browser()`.
    pub fn new<F: Future<Output = ()> + 'static>(pause: impl Fn() -> F + 'static) -> Self {
        Self { wait: Rc::new(move || Box::pin(pause())), timing: Rc::default() }
    }

    /// Awaits the pause when the next piece of work would end more than
    /// [`PAUSE_EVERY_MS`] of `clock` after the last pause. The piece since
    /// the previous call is the guess for the next: so a 20 ms batch after
    /// 15 ms of work pauses first, rather than making a 35 ms task. The
    /// first call always pauses: how long the current task has already run
    /// (a copy of the model, encoding the inputs) is unknown, so the work
    /// starts in a task of its own.
    pub async fn wait_if_due(&self, clock: fn() -> f64) {
        if let Some(PauseTiming { paused_at, asked_at }) = self.timing.get() {
            let now = clock();
            let next_piece = now - asked_at;
            if now - paused_at + next_piece < PAUSE_EVERY_MS {
                self.timing.set(Some(PauseTiming { paused_at, asked_at: now }));
                return;
            }
        }
        (self.wait)().await;
        let after = clock();
        self.timing.set(Some(PauseTiming { paused_at: after, asked_at: after }));
    }
}

impl std::fmt::Debug for Pause {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Pause")
    }
}

/// How long work may run before it pauses (unless one piece alone is
/// longer): well under the 50 ms that browsers count as a long task.
pub const PAUSE_EVERY_MS: f64 = 30.0;

/// How many rows the next slice of [`Model::predict_pausing`] takes, at
/// `ms_per_row` measured so far: what fits in half of [`PAUSE_EVERY_MS`],
/// from 1 to `max`, rounded down to a power of two so that only a few batch
/// sizes (each with its own scratch buffers) ever occur.
fn rows_in_budget(ms_per_row: f64, max: usize) -> usize {
    let fit = (PAUSE_EVERY_MS / 2.0 / ms_per_row.max(1e-6)).clamp(1.0, max.max(1) as f64) as usize;
    1 << fit.ilog2()
}

/// The rows of `x`, masked sequences padded in front with zeros, longest
/// first (fewest leading zeros; ties in order): a batch of them costs its
/// longest row's real steps (the LSTM skips steps that are padding in every row).
fn longest_first(x: &Tensor) -> Vec<usize> {
    let padding = |row: usize| x.row(row).iter().take_while(|&&token| token == 0.0).count();
    let mut order: Vec<usize> = (0..x.rows()).collect();
    order.sort_by_key(|&row| padding(row));
    order
}

impl FitOptions {
    /// Lets other work run if the next piece would overrun [`PAUSE_EVERY_MS`] (see [`Pause::wait_if_due`]).
    async fn pause_if_due(&self) {
        if let Some(pause) = &self.pause {
            pause.wait_if_due(self.clock).await;
        }
    }
}

impl Default for FitOptions {
    fn default() -> Self {
        Self {
            epochs: 1,
            batch_size: 32,
            validation_split: 0.0,
            shuffle: true,
            readback_every: 1,
            clock: default_clock,
            pause: None,
        }
    }
}

/// Wall-clock milliseconds natively; `0` on wasm32, where the caller should
/// pass `performance.now` as [`FitOptions::clock`].
pub fn default_clock() -> f64 {
    #[cfg(not(target_arch = "wasm32"))]
    {
        static START: std::sync::OnceLock<std::time::Instant> = std::sync::OnceLock::new();
        START.get_or_init(std::time::Instant::now).elapsed().as_secs_f64() * 1000.0
    }
    #[cfg(target_arch = "wasm32")]
    {
        0.0
    }
}

/// What the progress callback sees after each batch.
#[derive(Debug, Clone, Copy)]
pub struct BatchProgress {
    /// 0-based.
    pub epoch: usize,
    pub epochs: usize,
    /// Batches done in this epoch (1-based).
    pub batch: usize,
    pub batches: usize,
    /// Running means over this epoch, as of the last readback.
    pub metrics: Metrics,
    /// Milliseconds since the epoch started.
    pub elapsed_ms: f64,
}

/// What the progress callback of [`Model::fit`] is told.
#[derive(Debug, Clone, Copy)]
pub enum Progress<'a> {
    /// After every batch.
    Batch(&'a BatchProgress),
    /// After every epoch, validation included.
    Epoch(&'a EpochLog),
}

/// One epoch's results.
#[derive(Debug, Clone, PartialEq)]
pub struct EpochLog {
    /// 1-based.
    pub epoch: usize,
    pub loss: f32,
    pub accuracy: Option<f32>,
    pub val_loss: Option<f32>,
    pub val_accuracy: Option<f32>,
    pub steps: usize,
    pub ms_per_step: f64,
    pub seconds: f64,
}

/// `loss: 0.4521 - accuracy: 0.7813 - val_loss: … - val_accuracy: …`, as Keras logs.
pub fn keras_fields(train: &Metrics, validation: Option<&Metrics>) -> String {
    let mut fields = vec![format!("loss: {:.4}", train.loss)];
    fields.extend(train.accuracy.map(|a| format!("accuracy: {a:.4}")));
    if let Some(v) = validation {
        fields.push(format!("val_loss: {:.4}", v.loss));
        fields.extend(v.accuracy.map(|a| format!("val_accuracy: {a:.4}")));
    }
    fields.join(" - ")
}

/// `10ms/step`, or `250us/step` below a millisecond, as Keras prints it.
pub fn per_step_label(ms: f64) -> String {
    if ms >= 1.0 {
        format!("{}ms/step", ms.round() as u64)
    } else {
        format!("{}us/step", (ms * 1000.0).round() as u64)
    }
}

/// What [`Model::fit`] returns.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct History {
    pub epochs: Vec<EpochLog>,
    /// The callback asked training to stop.
    pub stopped: bool,
}

impl<B: Backend + 'static> Model<B> {
    /// Trains on `data` and returns one log per epoch. `on_progress` runs
    /// after every batch and every epoch and may return `Break` to stop. If the loss stops
    /// being finite, the weights of the last good epoch are restored and
    /// [`Error::NonFiniteLoss`] is returned.
    pub async fn fit(
        &mut self,
        data: &Dataset,
        validation: Option<&Dataset>,
        options: &FitOptions,
        on_progress: &mut dyn FnMut(Progress<'_>) -> ControlFlow<()>,
    ) -> Result<History> {
        if options.batch_size == 0 || options.epochs == 0 {
            return Err(Error::Data("batch size and epochs must be at least 1".into()));
        }
        if !(0.0..1.0).contains(&options.validation_split) {
            return Err(Error::Data(format!(
                "the validation split is {}; it must be a fraction from 0 (none) up to, but not including, 1",
                options.validation_split
            )));
        }
        let held_out;
        let (train, validation) = match validation {
            Some(v) => (data, Some(v)),
            None if options.validation_split > 0.0 => {
                held_out = data.split_tail(options.validation_split)?;
                (&held_out.0, Some(&held_out.1))
            }
            None => (data, None),
        };
        if train.is_empty() {
            return Err(Error::Data("there are no training examples".into()));
        }
        for set in std::iter::once(train).chain(validation) {
            self.check_inputs(&set.x)?;
            self.check_targets(&set.y, set.x.rows())?;
        }
        self.plan().check_batch(options.batch_size.min(train.len()), self.limits())?;
        options.pause_if_due().await;
        let n = train.len();
        let batches = n.div_ceil(options.batch_size);
        let (x_len, y_len) = (train.x.row_len(), train.y.row_len());
        let mut xs = Vec::with_capacity(options.batch_size * x_len);
        let mut ys = Vec::with_capacity(options.batch_size * y_len);
        let mut order: Vec<usize> = (0..n).collect();
        let mut history = History::default();
        self.save_checkpoint();

        for epoch in 0..options.epochs {
            if options.shuffle {
                Rng::derive(self.spec().seed ^ 0x5eed, self.iterations() + epoch as u64).shuffle(&mut order);
            }
            let started = (options.clock)();
            self.reset_metrics();
            let mut metrics = Metrics::from_sums(&[0.0; metric_slot::LEN], false);
            for batch in 0..batches {
                let indices = &order[batch * options.batch_size..((batch + 1) * options.batch_size).min(n)];
                xs.clear();
                ys.clear();
                for &i in indices {
                    xs.extend_from_slice(train.x.row(i));
                    ys.extend_from_slice(train.y.row(i));
                }
                self.train_on_batch(&xs, &ys, indices.len());
                if (batch + 1) % options.readback_every.max(1) == 0 || batch + 1 == batches {
                    metrics = self.read_metrics().await?;
                    if !metrics.loss.is_finite() {
                        self.restore_checkpoint();
                        return Err(Error::NonFiniteLoss { loss: metrics.loss, epoch: epoch + 1 });
                    }
                }
                let progress = BatchProgress {
                    epoch,
                    epochs: options.epochs,
                    batch: batch + 1,
                    batches,
                    metrics,
                    elapsed_ms: (options.clock)() - started,
                };
                if on_progress(Progress::Batch(&progress)).is_break() {
                    history.stopped = true;
                    break;
                }
                options.pause_if_due().await;
            }
            let metrics = self.read_metrics().await?;
            let steps_done = if history.stopped { metrics.examples.div_ceil(options.batch_size) } else { batches };
            let train_ms = (options.clock)() - started;
            let val = match validation {
                Some(v) => Some(self.evaluate_pausing(v, options.batch_size, options).await?),
                None => None,
            };
            // The loss is measured before each update, so the epoch's last
            // update is checked here, before it can become the checkpoint.
            if !self.weights_are_finite().await? {
                self.restore_checkpoint();
                return Err(Error::NonFiniteLoss { loss: f32::NAN, epoch: epoch + 1 });
            }
            self.save_checkpoint();
            let log = EpochLog {
                epoch: epoch + 1,
                loss: metrics.loss,
                accuracy: metrics.accuracy,
                val_loss: val.map(|m| m.loss),
                val_accuracy: val.and_then(|m| m.accuracy),
                steps: steps_done,
                ms_per_step: train_ms / steps_done.max(1) as f64,
                seconds: ((options.clock)() - started) / 1000.0,
            };
            let stop = on_progress(Progress::Epoch(&log)).is_break();
            history.epochs.push(log);
            if history.stopped || stop {
                history.stopped = true;
                break;
            }
            options.pause_if_due().await;
        }
        Ok(history)
    }

    /// Loss and accuracy on `data`, without training.
    pub async fn evaluate(&mut self, data: &Dataset, batch_size: usize) -> Result<Metrics> {
        self.evaluate_pausing(data, batch_size, &FitOptions::default()).await
    }

    /// Model outputs for every example of `x`, like [`Model::predict`], in
    /// slices of at most `max_batch` rows that each take a fraction of
    /// [`PAUSE_EVERY_MS`], awaiting `pause` between them: a page computing
    /// hundreds of LSTM predictions on the CPU stays responsive. Slices give
    /// the same outputs as one batch.
    pub async fn predict_pausing(
        &mut self,
        x: &Tensor,
        max_batch: usize,
        pause: &Pause,
        clock: fn() -> f64,
    ) -> Result<Tensor> {
        self.check_inputs(x)?;
        let max_batch = max_batch.clamp(1, self.plan().max_batch(self.limits()));
        let row_len = self.output_shape().iter().product::<usize>();
        let mut data = vec![0.0; x.rows() * row_len];
        // Costliest rows first, so that the time per row measured so far
        // never underestimates the rows still to come.
        let order = if self.plan().layers[0].mask_out { longest_first(x) } else { (0..x.rows()).collect() };
        // One row first: its time sizes the slices after it.
        let mut rows = 1;
        let mut done = 0;
        while done < order.len() {
            pause.wait_if_due(clock).await;
            let slice = &order[done..(done + rows).min(order.len())];
            let began = clock();
            let outputs = self.predict(&x.select_rows(slice), max_batch).await?;
            for (&row, output) in slice.iter().zip(outputs.data.chunks_exact(row_len)) {
                data[row * row_len..(row + 1) * row_len].copy_from_slice(output);
            }
            // At most twice the rows of the last slice: the time of a batch
            // is not quite proportional to its rows.
            rows = rows_in_budget((clock() - began) / slice.len() as f64, max_batch).min(2 * rows);
            done += slice.len();
        }
        let mut shape = vec![x.rows()];
        shape.extend_from_slice(self.output_shape());
        Tensor::new(shape, data)
    }

    /// [`Model::evaluate`], pausing between batches as `options` say.
    async fn evaluate_pausing(&mut self, data: &Dataset, batch_size: usize, options: &FitOptions) -> Result<Metrics> {
        self.check_inputs(&data.x)?;
        self.check_targets(&data.y, data.x.rows())?;
        self.reset_metrics();
        let (x_len, y_len) = (data.x.row_len(), data.y.row_len());
        let batch_size = batch_size.clamp(1, self.plan().max_batch(self.limits()));
        for start in (0..data.len()).step_by(batch_size) {
            let batch = batch_size.min(data.len() - start);
            let x = &data.x.data[start * x_len..(start + batch) * x_len];
            let y = &data.y.data[start * y_len..(start + batch) * y_len];
            self.test_on_batch(x, y, batch);
            options.pause_if_due().await;
        }
        self.read_metrics().await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    thread_local! {
        /// The fake clock of this test thread, in ms: work advances it, reading it does not.
        static NOW: Cell<f64> = const { Cell::new(0.0) };
    }

    fn fake_clock() -> f64 {
        NOW.with(Cell::get)
    }

    /// Runs pieces of work of the given lengths with a pause check after
    /// each, and returns the work done between one pause and the next.
    fn stretches_between_pauses(pieces: &[f64]) -> Vec<f64> {
        let stretches = Rc::new(std::cell::RefCell::new(vec![0.0]));
        let seen = stretches.clone();
        let pause = Pause::new(move || {
            seen.borrow_mut().push(0.0);
            async {}
        });
        pollster::block_on(async {
            pause.wait_if_due(fake_clock).await;
            for &ms in pieces {
                NOW.with(|now| now.set(now.get() + ms));
                *stretches.borrow_mut().last_mut().unwrap() += ms;
                pause.wait_if_due(fake_clock).await;
            }
        });
        stretches.take()
    }

    #[test]
    fn work_starts_with_a_pause() {
        // Whatever ran before in the task is unknown: the first check pauses.
        assert_eq!(stretches_between_pauses(&[]), [0.0, 0.0]);
    }

    #[test]
    fn a_pause_comes_before_a_piece_that_would_overrun_the_budget() {
        // 12 ms pieces: two fit in 30 ms, a third would not.
        assert!(stretches_between_pauses(&[12.0; 12]).iter().all(|&ms| ms <= PAUSE_EVERY_MS));
        // Pieces longer than the budget each get a task of their own.
        assert!(stretches_between_pauses(&[40.0; 5]).iter().all(|&ms| ms <= 40.0));
        // Short pieces still share a task up to the budget, not one each.
        let short = stretches_between_pauses(&[1.0; 300]);
        assert!(short.len() < 15, "{} pauses for 300 ms of 1 ms pieces", short.len());
        // A long piece after short ones: the pause comes after it, not in it.
        assert!(stretches_between_pauses(&[1.0, 1.0, 45.0, 1.0, 1.0]).iter().all(|&ms| ms <= 47.0));
    }

    #[test]
    fn slices_fit_in_half_the_budget_and_are_powers_of_two() {
        assert_eq!(rows_in_budget(3.0, 32), 4);
        assert_eq!(rows_in_budget(0.001, 32), 32);
        assert_eq!(rows_in_budget(100.0, 32), 1);
        assert_eq!(rows_in_budget(0.0, 0), 1);
        for ms in [0.1, 0.7, 2.0, 6.0] {
            let rows = rows_in_budget(ms, 1000);
            assert!(rows.is_power_of_two() && rows as f64 * ms <= PAUSE_EVERY_MS / 2.0, "{rows} rows of {ms} ms");
        }
    }

    #[test]
    fn sequences_padded_in_front_are_predicted_longest_first() {
        let x = Tensor::new(vec![4, 3], vec![0.0, 0.0, 5.0, 1.0, 2.0, 3.0, 0.0, 4.0, 2.0, 0.0, 0.0, 9.0]).unwrap();
        assert_eq!(longest_first(&x), [1, 2, 0, 3]);
    }
}
