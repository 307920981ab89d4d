//! Stateful stepping: a character model run one step at a time computes
//! what the whole-sequence forward pass computes, and generation with it
//! writes what reading whole texts would write.

mod common;

use common::{block, model};
use neuroglow_core::backend::cpu::Stepper;
use neuroglow_core::data::text::{CharVocab, TextEncoder};
use neuroglow_core::generate::{sample, Sampling};
use neuroglow_core::rng::Rng;
use neuroglow_core::{CpuBackend, Model, Tensor};

const VOCAB: &str = "abcdefgh";

/// Two stacked LSTMs with a dropout between and a softmax at every
/// position, reading `time` characters; seeded, untrained.
fn char_model(time: usize, mask_zero: bool) -> Model<CpuBackend> {
    let vocab = CharVocab::fit(VOCAB).unwrap();
    let mut m = model(&format!(
        r#"{{"input_shape": [{time}], "seed": 11, "loss": "sparse_categorical_crossentropy",
            "layers": [{{"type": "embedding", "input_dim": {v}, "output_dim": 5, "mask_zero": {mask_zero}}},
                       {{"type": "lstm", "units": 7, "return_sequences": true}},
                       {{"type": "dropout", "rate": 0.3}},
                       {{"type": "lstm", "units": 6, "return_sequences": true}},
                       {{"type": "dense", "units": {v}, "activation": "softmax"}}]}}"#,
        v = vocab.len()
    ));
    m.set_text_encoder(TextEncoder::Chars { vocab, maxlen: time }).unwrap();
    m
}

/// The same model reading `time` characters: the weights do not depend on it.
fn with_time(m: &mut Model<CpuBackend>, time: usize, mask_zero: bool) -> Model<CpuBackend> {
    let mut other = char_model(time, mask_zero);
    other.set_weights(&block(m.weights()).unwrap()).unwrap();
    other
}

#[test]
fn each_step_equals_the_whole_sequence_forward_pass_at_that_position() {
    for mask_zero in [true, false] {
        let mut m = char_model(30, mask_zero);
        let mut rng = Rng::new(5);
        // Padding in front, and once in the middle.
        let tokens: Vec<usize> =
            (0..30).map(|i| if i < 4 || i == 17 { 0 } else { 1 + rng.below(VOCAB.len()) }).collect();
        let x = Tensor::new(vec![1, 30], tokens.iter().map(|&t| t as f32).collect()).unwrap();
        let whole = block(m.predict(&x, 1)).unwrap();
        let weights = block(m.weights()).unwrap();
        let mut stepper = Stepper::new(&m.spec().layers, &weights).expect("the model can step");
        let v = VOCAB.len() + 1;
        for (t, &token) in tokens.iter().enumerate() {
            assert_eq!(stepper.step(token), &whole.data[t * v..(t + 1) * v], "step {t}, mask_zero {mask_zero}");
        }
    }
}

/// What reading whole texts writes: while the text is shorter than the
/// window, the padded window; after that, every character since the
/// window the generation started from, read by a model of that length.
fn written_by_whole_texts(
    m: &mut Model<CpuBackend>,
    mask_zero: bool,
    prompt: &str,
    length: usize,
    sampling: Sampling,
) -> String {
    let maxlen = 8;
    let vocab = CharVocab::fit(VOCAB).unwrap();
    let mut ids = vocab.encode(prompt);
    let start = ids.len().saturating_sub(maxlen);
    let mut rng = Rng::new(sampling.seed);
    for _ in 0..length {
        let read = &ids[start..];
        let (x, mut reader) = if read.len() < maxlen {
            let padded = std::iter::repeat_n(0, maxlen - read.len()).chain(read.iter().copied());
            (padded.map(|id| id as f32).collect::<Vec<_>>(), with_time(m, maxlen, mask_zero))
        } else {
            (read.iter().map(|&id| id as f32).collect(), with_time(m, read.len(), mask_zero))
        };
        let out = block(reader.predict(&Tensor::new(vec![1, x.len()], x).unwrap(), 1)).unwrap();
        let mut p = out.data[out.data.len() - vocab.len()..].to_vec();
        p[0] = 0.0;
        ids.push(sample(&p, &sampling, &mut rng));
    }
    vocab.decode(&ids[ids.len() - length..])
}

#[test]
fn generation_writes_what_reading_whole_texts_writes() {
    let sampling = Sampling { temperature: 1.0, seed: 4, ..Sampling::default() };
    for mask_zero in [true, false] {
        for prompt in ["ab", "abcdefghabc"] {
            let mut m = char_model(8, mask_zero);
            let stepped = block(m.generate(prompt, 24, sampling, &mut |_| ())).unwrap();
            let whole = written_by_whole_texts(&mut m, mask_zero, prompt, 24, sampling);
            assert_eq!(stepped, whole, "mask_zero {mask_zero}, prompt {prompt:?}");
        }
    }
}
