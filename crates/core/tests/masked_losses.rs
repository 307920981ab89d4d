//! Sequence outputs after a masking Embedding: as in Keras, padding positions
//! count in neither the loss, its gradient nor the accuracy. A batch's loss
//! is the mean over its real positions; an epoch's loss is the mean of its
//! batches' losses weighted by their number of sequences; accuracy is over
//! every real position of the epoch. (`cargo xtask test` also checks these
//! numbers against Keras itself: `tests/oracle/masked_losses.py`.)

mod common;

use common::{block, model};
use neuroglow_core::{data::Dataset, CpuBackend, Model, Tensor};

const TIME: usize = 6;
const VOCAB: usize = 5;

/// Embedding(mask_zero) → LSTM(return_sequences) → Dense(softmax) at every step.
fn tagger() -> Model<CpuBackend> {
    model(&format!(
        r#"{{"input_shape": [{TIME}], "seed": 4, "loss": "sparse_categorical_crossentropy",
            "optimizer": {{"type": "sgd", "learning_rate": 0.5}}, "layers": [
            {{"type": "embedding", "input_dim": {VOCAB}, "output_dim": 3, "mask_zero": true}},
            {{"type": "lstm", "units": 4, "return_sequences": true}},
            {{"type": "dense", "units": {VOCAB}, "activation": "softmax"}}]}}"#
    ))
}

/// Eight sequences with padding in most (pre-padding, a gap, one all padding),
/// and a class to predict at every step.
fn padded_data() -> Dataset {
    #[rustfmt::skip]
    let x = vec![
        0., 0., 0., 0., 1., 2.,
        0., 0., 3., 4., 1., 2.,
        0., 0., 0., 0., 0., 4.,
        1., 2., 3., 4., 1., 2.,
        2., 2., 1., 3., 4., 4.,
        3., 1., 4., 0., 2., 1.,
        0., 0., 0., 0., 0., 0.,
        4., 3., 2., 1., 1., 3.,
    ];
    let y = (0..x.len()).map(|i| ((i * 7 + 3) % VOCAB) as f32).collect();
    Dataset::new(Tensor::new(vec![8, TIME], x).unwrap(), Tensor::new(vec![8, TIME], y).unwrap()).unwrap()
}

/// What Keras reports, computed from the predicted probabilities: per batch,
/// the mean cross-entropy over real positions (0 for a batch of padding);
/// over the epoch, their mean weighted by sequences; accuracy over every
/// real position.
fn expected(probabilities: &Tensor, data: &Dataset, batch_size: usize) -> (f64, f64) {
    let (mut weighted_loss, mut correct, mut real) = (0.0, 0usize, 0usize);
    for start in (0..data.len()).step_by(batch_size) {
        let end = (start + batch_size).min(data.len());
        let (mut batch_loss, mut batch_real) = (0.0, 0usize);
        for position in start * TIME..end * TIME {
            if data.x.data[position] == 0.0 {
                continue;
            }
            let p = &probabilities.data[position * VOCAB..(position + 1) * VOCAB];
            let class = data.y.data[position] as usize;
            batch_loss -= (p[class] as f64).ln();
            batch_real += 1;
            let best = (0..VOCAB).fold(0, |best, j| if p[j] > p[best] { j } else { best });
            correct += (best == class) as usize;
        }
        weighted_loss += (end - start) as f64 * if batch_real == 0 { 0.0 } else { batch_loss / batch_real as f64 };
        real += batch_real;
    }
    (weighted_loss / data.len() as f64, correct as f64 / real as f64)
}

#[test]
fn padding_positions_count_in_neither_loss_nor_accuracy() {
    let mut m = tagger();
    let data = padded_data();
    let probabilities = block(m.predict(&data.x, 8)).unwrap();
    // Batches of 3 split the padding unevenly: 3, 3 and a last batch of 2.
    for batch_size in [8, 3, 1] {
        let metrics = block(m.evaluate(&data, batch_size)).unwrap();
        let (loss, accuracy) = expected(&probabilities, &data, batch_size);
        assert!((metrics.loss as f64 - loss).abs() < 1e-5, "batch {batch_size}: loss {} vs {loss}", metrics.loss);
        let measured = metrics.accuracy.unwrap() as f64;
        assert!((measured - accuracy).abs() < 1e-6, "batch {batch_size}: accuracy {measured} vs {accuracy}");
        assert_eq!(metrics.examples, 8, "examples are sequences, not positions");
    }
}

#[test]
fn targets_at_padding_positions_change_nothing() {
    let mut m = tagger();
    let data = padded_data();
    let mut other = data.clone();
    for (y, x) in other.y.data.iter_mut().zip(&data.x.data) {
        if *x == 0.0 {
            *y = (*y + 1.0) % VOCAB as f32;
        }
    }
    assert_ne!(other.y.data, data.y.data);
    let loss = |m: &mut Model<CpuBackend>, d: &Dataset| block(m.evaluate(d, 8)).unwrap().loss;
    assert_eq!(loss(&mut m, &data), loss(&mut m, &other));
    let gradients = block(m.gradients(&data.x, &data.y)).unwrap();
    assert_eq!(gradients, block(m.gradients(&other.x, &other.y)).unwrap());
}

#[test]
fn a_batch_of_padding_has_loss_zero_and_no_gradient() {
    let mut m = tagger();
    let x = Tensor::new(vec![2, TIME], vec![0.0; 2 * TIME]).unwrap();
    let y = Tensor::new(vec![2, TIME], vec![1.0; 2 * TIME]).unwrap();
    let metrics = block(m.evaluate(&Dataset::new(x.clone(), y.clone()).unwrap(), 2)).unwrap();
    assert_eq!(metrics.loss, 0.0);
    for (name, gradient) in block(m.gradients(&x, &y)).unwrap() {
        assert!(gradient.data.iter().all(|&g| g == 0.0), "{name} has a gradient from padding");
    }
}

#[test]
fn an_epoch_reports_the_batch_weighted_mean_keras_reports() {
    // Frozen, every batch sees the same weights, so the expected value is
    // exact (the loss is measured before each update).
    let mut m = tagger();
    for layer in ["embedding", "lstm", "dense"] {
        m.set_trainable(layer, false).unwrap();
    }
    let data = padded_data();
    let probabilities = block(m.predict(&data.x, 8)).unwrap();
    let options = neuroglow_core::FitOptions { epochs: 1, batch_size: 3, shuffle: false, ..Default::default() };
    let history = block(m.fit(&data, None, &options, &mut |_| std::ops::ControlFlow::Continue(()))).unwrap();
    let (loss, accuracy) = expected(&probabilities, &data, 3);
    let logged = &history.epochs[0];
    assert!((logged.loss as f64 - loss).abs() < 1e-5, "epoch loss {} vs {loss}", logged.loss);
    assert!((logged.accuracy.unwrap() as f64 - accuracy).abs() < 1e-6);
    assert_eq!(logged.steps, 3);
}
