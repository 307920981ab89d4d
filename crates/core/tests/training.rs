//! Seeded training runs that must learn, and must learn identically twice.

mod common;

use std::ops::ControlFlow;

use common::{block, model, needle_sequences};
use neuroglow_core::train::Pause;
use neuroglow_core::{data::synthetic, CpuBackend, Error, FitOptions, History, LossKind, Model, ModelSpec, Progress};

fn fit(m: &mut Model<CpuBackend>, data: &neuroglow_core::data::Dataset, epochs: usize, batch_size: usize) -> History {
    let options = FitOptions { epochs, batch_size, ..FitOptions::default() };
    block(m.fit(data, None, &options, &mut |_| ControlFlow::Continue(()))).unwrap()
}

const CIRCLE_MLP: &str = r#"{"input_shape": [2], "seed": 3, "loss": "binary_crossentropy",
    "optimizer": {"type": "adam", "learning_rate": 0.03},
    "layers": [
        {"type": "dense", "units": 8, "activation": "tanh"},
        {"type": "dense", "units": 8, "activation": "tanh"},
        {"type": "dense", "units": 1, "activation": "sigmoid"}]}"#;

#[test]
fn mlp_learns_the_circle() {
    let (train, test) = synthetic::circle(600, 0.05, 1).shuffle_split(0.3, 2).unwrap();
    let mut m = model(CIRCLE_MLP);
    let history = fit(&mut m, &train, 40, 16);
    let first = history.epochs.first().unwrap().loss;
    let last = history.epochs.last().unwrap().loss;
    assert!(last < first / 4.0, "loss fell from {first} to only {last}");
    let metrics = block(m.evaluate(&test, 64)).unwrap();
    assert!(metrics.accuracy.unwrap() >= 0.95, "test accuracy {:?}", metrics.accuracy);
}

#[test]
fn every_layers_output_equals_the_model_cut_after_that_layer() {
    let (train, test) = synthetic::circle(200, 0.05, 1).shuffle_split(0.3, 2).unwrap();
    let mut m = model(CIRCLE_MLP);
    fit(&mut m, &train, 2, 16);
    let weights = block(m.weights()).unwrap();
    // Batches of 7 split the 60 rows unevenly: the outputs must not care.
    let outputs = block(m.predict_layers(&test.x, 7)).unwrap();
    assert_eq!(outputs.len(), 3);
    assert_eq!(outputs[2], block(m.predict(&test.x, 60)).unwrap());
    for (end, output) in outputs.iter().enumerate() {
        let spec = m.spec();
        let cut = ModelSpec::new(spec.input_shape.clone(), spec.layers[..=end].to_vec(), LossKind::MeanSquaredError);
        let mut cut = Model::new(cut, CpuBackend::new()).unwrap();
        let own: Vec<_> =
            weights.iter().filter(|(n, _)| cut.weight_shapes().iter().any(|(m, _)| m == n)).cloned().collect();
        cut.set_weights(&own).unwrap();
        assert_eq!(*output, block(cut.predict(&test.x, 60)).unwrap(), "layer {end}");
    }
}

#[test]
fn sgd_with_momentum_learns_xor_with_feature_crosses() {
    // 2 → 8 tanh → 8 tanh → 1 sigmoid with SGD, as in TF Playground.
    let spec = CIRCLE_MLP
        .replace(r#""type": "adam", "learning_rate": 0.03"#, r#""type": "sgd", "learning_rate": 0.1, "momentum": 0.9"#);
    let (train, test) = synthetic::xor(600, 0.0, 4).shuffle_split(0.3, 5).unwrap();
    let mut m = model(&spec);
    fit(&mut m, &train, 60, 16);
    let metrics = block(m.evaluate(&test, 64)).unwrap();
    assert!(metrics.accuracy.unwrap() >= 0.9, "test accuracy {:?}", metrics.accuracy);
}

#[test]
fn lstm_learns_whether_a_sequence_contains_a_token() {
    let data = needle_sequences(800, 12, 20, 7, 9);
    let (train, test) = data.split_tail(0.25).unwrap();
    let mut m = model(
        r#"{"input_shape": [12], "seed": 5, "loss": "binary_crossentropy",
            "optimizer": {"type": "adam", "learning_rate": 0.01},
            "layers": [
                {"type": "embedding", "input_dim": 20, "output_dim": 8, "mask_zero": true},
                {"type": "lstm", "units": 16},
                {"type": "dense", "units": 1, "activation": "sigmoid"}]}"#,
    );
    fit(&mut m, &train, 12, 32);
    let metrics = block(m.evaluate(&test, 64)).unwrap();
    assert!(metrics.accuracy.unwrap() >= 0.95, "test accuracy {:?}", metrics.accuracy);
}

#[test]
fn same_seed_gives_identical_bytes_and_another_seed_does_not() {
    let data = needle_sequences(96, 8, 15, 3, 1);
    let spec = r#"{"input_shape": [8], "seed": SEED, "loss": "binary_crossentropy",
        "layers": [
            {"type": "embedding", "input_dim": 15, "output_dim": 4, "mask_zero": true},
            {"type": "lstm", "units": 6, "return_sequences": true},
            {"type": "dropout", "rate": 0.2},
            {"type": "lstm", "units": 5},
            {"type": "dense", "units": 1, "activation": "sigmoid"}]}"#;
    let run = |seed: u64| {
        let mut m = model(&spec.replace("SEED", &seed.to_string()));
        let history = fit(&mut m, &data, 3, 16);
        let bytes = block(m.to_files()).unwrap().safetensors;
        (history.epochs.iter().map(|e| e.loss.to_bits()).collect::<Vec<_>>(), bytes)
    };
    let (a, b, c) = (run(7), run(7), run(8));
    assert_eq!(a, b, "two runs with seed 7 differ");
    assert_ne!(a.1, c.1, "seeds 7 and 8 gave the same weights");
}

#[test]
fn progress_callback_sees_every_batch_and_can_stop() {
    let data = synthetic::gaussian(100, 0.1, 1);
    let mut m = model(CIRCLE_MLP);
    let mut seen = Vec::new();
    let options = FitOptions { epochs: 3, batch_size: 10, ..FitOptions::default() };
    let mut epochs_seen = 0;
    let history = block(m.fit(&data, None, &options, &mut |progress| match progress {
        Progress::Batch(p) => {
            seen.push((p.epoch, p.batch, p.batches));
            assert!(p.metrics.loss.is_finite() && p.metrics.loss > 0.0);
            if p.epoch == 1 && p.batch == 4 {
                ControlFlow::Break(())
            } else {
                ControlFlow::Continue(())
            }
        }
        Progress::Epoch(log) => {
            epochs_seen += 1;
            assert_eq!(log.epoch, epochs_seen);
            ControlFlow::Continue(())
        }
    }))
    .unwrap();
    assert_eq!(epochs_seen, 2, "the stopped epoch is reported too");
    assert_eq!(seen.len(), 14);
    assert_eq!(seen[0], (0, 1, 10));
    assert!(history.stopped);
    assert_eq!(history.epochs.len(), 2);
    assert_eq!(history.epochs[1].steps, 4);
}

#[test]
fn validation_split_reports_validation_metrics() {
    let data = synthetic::circle(200, 0.0, 3);
    let mut m = model(CIRCLE_MLP);
    let options = FitOptions { epochs: 2, batch_size: 20, validation_split: 0.25, ..FitOptions::default() };
    let history = block(m.fit(&data, None, &options, &mut |_| ControlFlow::Continue(()))).unwrap();
    let log = &history.epochs[1];
    assert!(log.val_loss.unwrap().is_finite());
    assert!((0.0..=1.0).contains(&log.val_accuracy.unwrap()));
    assert_eq!(log.steps, 8, "150 training examples in batches of 20");
}

#[test]
fn a_diverging_run_stops_with_a_clear_error_and_keeps_the_last_good_weights() {
    let data = synthetic::circle(64, 0.0, 3);
    let mut m = model(
        r#"{"input_shape": [2], "loss": "mean_squared_error",
            "optimizer": {"type": "sgd", "learning_rate": 1e10},
            "layers": [{"type": "dense", "units": 4, "activation": "relu"}, {"type": "dense", "units": 1}]}"#,
    );
    let before = block(m.weights()).unwrap();
    let options = FitOptions { epochs: 5, batch_size: 8, ..FitOptions::default() };
    let err = block(m.fit(&data, None, &options, &mut |_| ControlFlow::Continue(()))).unwrap_err();
    assert!(matches!(err, Error::NonFiniteLoss { epoch: 1, .. }), "{err}");
    assert!(err.to_string().contains("Lower the learning rate"));
    assert_eq!(block(m.weights()).unwrap(), before, "weights were not restored");
}

#[test]
fn frozen_layer_weights_stay_bit_identical_while_the_head_learns() {
    let data = synthetic::circle(200, 0.0, 8);
    let mut m = model(CIRCLE_MLP);
    m.set_trainable("dense", false).unwrap();
    let before = block(m.weights()).unwrap();
    fit(&mut m, &data, 3, 20);
    let after = block(m.weights()).unwrap();
    for ((name, b), (_, a)) in before.iter().zip(&after) {
        if name.starts_with("dense/") {
            assert_eq!(a, b, "{name} changed while frozen");
        } else {
            assert_ne!(a, b, "{name} did not train");
        }
    }
}

#[test]
fn bad_training_data_is_rejected_with_the_reason() {
    let mut m = model(CIRCLE_MLP);
    let data = synthetic::circle(10, 0.0, 1);
    let mut wide = data.clone();
    wide.x = neuroglow_core::Tensor::zeros(vec![10, 3]);
    let options = FitOptions::default();
    let err = block(m.fit(&wide, None, &options, &mut |_| ControlFlow::Continue(()))).unwrap_err();
    assert_eq!(err.to_string(), "inputs have shape [10, 3] but the model takes [examples, 2]");
    let mut nan = data.clone();
    nan.x.data[5] = f32::NAN;
    let err = block(m.fit(&nan, None, &options, &mut |_| ControlFlow::Continue(()))).unwrap_err();
    assert_eq!(err.to_string(), "input example 2 has value NaN");
}

#[test]
fn the_reference_run_is_reproducible() {
    let a = block(neuroglow_core::determinism::reference_fingerprint()).unwrap();
    let b = block(neuroglow_core::determinism::reference_fingerprint()).unwrap();
    assert_eq!(a, b);
}

/// A clock that moves 10 ms each time it is read, and a pause that counts.
static TICKS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
static PAUSES: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

fn ticking_clock() -> f64 {
    TICKS.fetch_add(1, std::sync::atomic::Ordering::SeqCst) as f64 * 10.0
}

fn counting_pause() -> Pause {
    Pause::new(|| async {
        PAUSES.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    })
}

#[test]
fn training_pauses_for_the_page_without_changing_a_number() {
    let data = synthetic::circle(200, 0.05, 1);
    let options = FitOptions { epochs: 2, batch_size: 10, clock: ticking_clock, ..FitOptions::default() };
    let pausing = FitOptions { pause: Some(counting_pause()), ..options.clone() };
    let (mut plain, mut paused) = (model(CIRCLE_MLP), model(CIRCLE_MLP));
    let a = block(plain.fit(&data, None, &options, &mut |_| ControlFlow::Continue(()))).unwrap();
    let b = block(paused.fit(&data, None, &pausing, &mut |_| ControlFlow::Continue(()))).unwrap();
    let losses = |h: &History| h.epochs.iter().map(|e| e.loss).collect::<Vec<_>>();
    assert_eq!(losses(&a), losses(&b));
    assert_eq!(block(plain.weights()).unwrap(), block(paused.weights()).unwrap());
    // 40 batches, the clock read about twice per batch (20 ms): two batches
    // would overrun 30 ms, so each batch pauses, and so may each epoch's end;
    // and the first batch starts in a task of its own.
    let pauses = PAUSES.load(std::sync::atomic::Ordering::SeqCst);
    assert!((41..=43).contains(&pauses), "{pauses} pauses in 40 batches");
}

thread_local! {
    /// This test thread's own clock (in ms), which moves 10 ms each time it is read.
    static THREAD_TICKS: std::cell::Cell<u64> = const { std::cell::Cell::new(0) };
}

fn thread_ticking_clock() -> f64 {
    THREAD_TICKS.with(|ticks| {
        ticks.set(ticks.get() + 1);
        ticks.get() as f64 * 10.0
    })
}

#[test]
fn short_epochs_still_pause_for_the_page() {
    // One batch an epoch, each shorter than the pause interval: the interval
    // runs on from epoch to epoch, and from one fit to the next (AutoModel
    // fits one epoch at a time).
    let data = synthetic::circle(20, 0.05, 1);
    let pauses = std::rc::Rc::new(std::cell::Cell::new(0));
    let counter = pauses.clone();
    let pause = Pause::new(move || {
        counter.set(counter.get() + 1);
        async {}
    });
    let options = FitOptions {
        epochs: 10,
        batch_size: 20,
        clock: thread_ticking_clock,
        pause: Some(pause),
        ..FitOptions::default()
    };
    let mut model = model(CIRCLE_MLP);
    let mut fit = |options: &FitOptions| {
        let start = THREAD_TICKS.with(|ticks| ticks.get());
        block(model.fit(&data, None, options, &mut |_| ControlFlow::Continue(()))).unwrap();
        let clock_ms = (THREAD_TICKS.with(|ticks| ticks.get()) - start) * 10;
        (clock_ms, pauses.replace(0))
    };
    // Checks come at most 30 ms of clock apart, so a due pause comes within
    // 30 ms: at least one pause in every 60 ms.
    let (clock_ms, paused) = fit(&options);
    assert!(paused * 60 >= clock_ms, "{paused} pauses in {clock_ms} ms of one fit of ten epochs");
    let one_epoch = FitOptions { epochs: 1, ..options };
    let (clock_ms, paused) = (0..10).map(|_| fit(&one_epoch)).fold((0, 0), |a, b| (a.0 + b.0, a.1 + b.1));
    assert!(paused * 60 >= clock_ms, "{paused} pauses in {clock_ms} ms of ten fits of one epoch");
}

#[test]
fn a_copy_carries_on_training_exactly_as_the_original_would() {
    let data = needle_sequences(48, 8, 15, 3, 2);
    let spec = r#"{"input_shape": [8], "seed": 3, "loss": "binary_crossentropy",
        "optimizer": {"type": "adam", "learning_rate": 0.01},
        "layers": [
            {"type": "embedding", "input_dim": 15, "output_dim": 4, "mask_zero": true},
            {"type": "lstm", "units": 6},
            {"type": "dense", "units": 1, "activation": "sigmoid"}]}"#;
    let mut original = model(spec);
    fit(&mut original, &data, 1, 16);
    // Adam's moments and step count travel with the weights.
    let mut copy = block(original.copy_on(CpuBackend::new())).unwrap();
    assert_eq!(copy.iterations(), original.iterations());
    let (a, b) = (fit(&mut original, &data, 2, 16), fit(&mut copy, &data, 2, 16));
    let losses = |h: &History| h.epochs.iter().map(|e| e.loss.to_bits()).collect::<Vec<_>>();
    assert_eq!(losses(&a), losses(&b));
    assert_eq!(block(original.to_files()).unwrap().safetensors, block(copy.to_files()).unwrap().safetensors);
}

#[test]
fn a_training_state_only_builds_the_model_it_came_from() {
    let spec = |units: usize, optimizer: &str| {
        format!(
            r#"{{"input_shape": [3], "loss": "mean_squared_error", "optimizer": {{"type": "{optimizer}"}},
                "layers": [{{"type": "dense", "units": {units}}}]}}"#
        )
    };
    let state = block(model(&spec(2, "adam")).training_state()).unwrap();
    for other in [spec(3, "adam"), spec(2, "sgd")] {
        let other: neuroglow_core::ModelSpec = serde_json::from_str(&other).unwrap();
        let built = Model::from_training_state(other, CpuBackend::new(), &Default::default(), &state);
        let error = built.err().expect("a state from another model is refused").to_string();
        assert!(error.contains("different model or optimizer"), "{error}");
    }
}

#[test]
fn predictions_in_paced_slices_equal_one_batch_and_let_the_page_run() {
    let data = needle_sequences(50, 8, 15, 3, 4);
    let mut m = model(
        r#"{"input_shape": [8], "loss": "binary_crossentropy", "layers": [
            {"type": "embedding", "input_dim": 15, "output_dim": 4, "mask_zero": true},
            {"type": "lstm", "units": 6},
            {"type": "dense", "units": 1, "activation": "sigmoid"}]}"#,
    );
    let whole = block(m.predict(&data.x, 64)).unwrap();
    let pauses = std::rc::Rc::new(std::cell::Cell::new(0));
    let counter = pauses.clone();
    let pause = Pause::new(move || {
        counter.set(counter.get() + 1);
        async {}
    });
    // Each clock read is 10 ms later: every slice looks slow, so slices stay small.
    let sliced = block(m.predict_pausing(&data.x, 64, &pause, thread_ticking_clock)).unwrap();
    assert_eq!(sliced, whole);
    assert!(pauses.get() >= 10, "{} pauses while predicting 50 rows", pauses.get());
}

#[test]
fn a_sentence_padded_in_front_reads_the_same_alone_as_beside_a_full_one() {
    // Alone, its leading padding steps are skipped; beside a row without
    // padding, every step runs. The outputs agree to the bit.
    let mut m = model(
        r#"{"input_shape": [6], "seed": 5, "loss": "binary_crossentropy", "layers": [
            {"type": "embedding", "input_dim": 10, "output_dim": 3, "mask_zero": true},
            {"type": "lstm", "units": 5},
            {"type": "dense", "units": 1, "activation": "sigmoid"}]}"#,
    );
    let short = neuroglow_core::Tensor::new(vec![1, 6], vec![0.0, 0.0, 0.0, 0.0, 7.0, 2.0]).unwrap();
    let both =
        neuroglow_core::Tensor::new(vec![2, 6], [short.data.clone(), vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0]].concat())
            .unwrap();
    let alone = block(m.predict(&short, 1)).unwrap();
    let beside = block(m.predict(&both, 2)).unwrap();
    assert_eq!(alone.data[0].to_bits(), beside.data[0].to_bits());
}
