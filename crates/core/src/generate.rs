//! Text generation from a character model: sample the next character from
//! the model's softmax, append it, repeat.

use crate::backend::cpu::Stepper;
use crate::backend::Backend;
use crate::data::text::{CharVocab, TextEncoder};
use crate::error::{Error, Result};
use crate::layers::LayerKind;
use crate::model::{Model, ModelSpec};
use crate::rng::Rng;
use crate::tensor::Tensor;

/// How the next character is drawn.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Sampling {
    /// Below 1 sharpens the distribution, above 1 flattens it; 0 always
    /// takes the most likely character.
    pub temperature: f32,
    /// Draw only among the `top_k` most likely characters (0: all).
    pub top_k: usize,
    pub seed: u64,
}

impl Sampling {
    /// An error unless the temperature is a finite number of at least 0.
    pub fn check(&self) -> Result<()> {
        if self.temperature.is_finite() && self.temperature >= 0.0 {
            return Ok(());
        }
        Err(Error::Data(format!(
            "the temperature is {}; it must be a number from 0 (always the likeliest character) upwards, such as 0.8",
            self.temperature
        )))
    }
}

impl Default for Sampling {
    fn default() -> Self {
        Self { temperature: 1.0, top_k: 0, seed: 0 }
    }
}

/// Picks an index from `probabilities` after temperature and top-k.
pub fn sample(probabilities: &[f32], sampling: &Sampling, rng: &mut Rng) -> usize {
    let mut order: Vec<usize> = (0..probabilities.len()).collect();
    order.sort_by(|&a, &b| probabilities[b].total_cmp(&probabilities[a]));
    if sampling.temperature <= 0.0 {
        return order[0];
    }
    let keep = if sampling.top_k == 0 { order.len() } else { sampling.top_k.min(order.len()) };
    // p^(1/T), renormalized over the kept candidates.
    let weights: Vec<f64> = order[..keep]
        .iter()
        .map(|&i| (probabilities[i].max(1e-30) as f64).powf(1.0 / sampling.temperature as f64))
        .collect();
    let mut target = rng.uniform() as f64 * weights.iter().sum::<f64>();
    for (&index, weight) in order.iter().zip(&weights) {
        target -= weight;
        if target < 0.0 {
            return index;
        }
    }
    order[keep - 1]
}

/// A text being generated one character at a time, so that a caller can
/// show each character as it comes and let the page breathe in between.
///
/// The model reads the text's last `maxlen` characters, padded in front as
/// in training, for as long as the text fits in that window. From then on
/// it steps: each LSTM carries its state (h, c) on to the next character,
/// one step per character instead of the whole window again ([`Stepper`]).
/// A model whose embedding masks the padding steps from the start, since
/// masked padding leaves the state as it was. Either way the text's first
/// `maxlen` characters are exactly what reading whole windows would give;
/// after that the model remembers everything since the first window it
/// read instead of forgetting all but the last window, as a stateful Keras
/// LSTM does.
pub struct Generation {
    vocab: CharVocab,
    maxlen: usize,
    /// Ids of the prompt and of every character chosen so far.
    ids: Vec<usize>,
    sampling: Sampling,
    rng: Rng,
    reader: Reader,
}

/// How the model reads the text.
enum Reader {
    /// The whole window, until stepping would give the same numbers.
    WindowsForNow,
    /// One step per character, state carried.
    Steps(Stepper),
    /// The whole window for every character: the model has a layer that
    /// cannot step, or does not start with an embedding.
    Windows,
}

impl Generation {
    /// Starts continuing `prompt` with `model`, which needs a character
    /// encoder and a softmax over its vocabulary.
    pub fn start<B: Backend + 'static>(model: &Model<B>, prompt: &str, sampling: Sampling) -> Result<Self> {
        sampling.check()?;
        let Some(TextEncoder::Chars { vocab, maxlen }) = model.spec().text_encoder.clone() else {
            return Err(Error::InvalidModel("generation needs a character model (a `chars` text encoder)".into()));
        };
        // Either one prediction per window, or one per position (use the last).
        let per_window = [vocab.len()];
        let per_position = [maxlen, vocab.len()];
        if model.output_shape() != per_window && model.output_shape() != per_position {
            return Err(Error::InvalidModel(format!(
                "the model predicts {:?} values but its vocabulary has {} characters",
                model.output_shape(),
                vocab.len()
            )));
        }
        let ids = vocab.encode(prompt);
        Ok(Self { vocab, maxlen, ids, sampling, rng: Rng::new(sampling.seed), reader: Reader::WindowsForNow })
    }

    /// The last `maxlen` ids, padded in front with zeros.
    fn window(&self) -> Vec<f32> {
        let window = &self.ids[self.ids.len().saturating_sub(self.maxlen)..];
        std::iter::repeat_n(0.0, self.maxlen - window.len()).chain(window.iter().map(|&i| i as f32)).collect()
    }

    /// The model's output after the text so far: its last position's.
    async fn read<B: Backend + 'static>(&mut self, model: &mut Model<B>) -> Result<Vec<f32>> {
        let output = match &mut self.reader {
            Reader::Steps(stepper) => stepper.step(*self.ids.last().expect("a character was chosen")).to_vec(),
            Reader::WindowsForNow if self.ids.len() >= self.maxlen || masks_padding(model.spec()) => {
                let weights = model.weights().await?;
                match Stepper::new(&model.spec().layers, &weights) {
                    Some(mut stepper) => {
                        self.window().into_iter().for_each(|id| _ = stepper.step(id as usize));
                        let output = stepper.output().to_vec();
                        self.reader = Reader::Steps(stepper);
                        output
                    }
                    None => {
                        self.reader = Reader::Windows;
                        self.read_window(model).await?
                    }
                }
            }
            _ => self.read_window(model).await?,
        };
        // The last position's prediction (a model may predict at every position).
        Ok(output[output.len() - self.vocab.len()..].to_vec())
    }

    /// The model's output for the whole window.
    async fn read_window<B: Backend + 'static>(&self, model: &mut Model<B>) -> Result<Vec<f32>> {
        Ok(model.predict(&Tensor::new(vec![1, self.maxlen], self.window())?, 1).await?.data)
    }

    /// Chooses the next character.
    pub async fn next_char<B: Backend + 'static>(&mut self, model: &mut Model<B>) -> Result<char> {
        let mut p = self.read(model).await?;
        // Id 0 stands for "unknown character": never produce it.
        p[0] = 0.0;
        let next = sample(&p, &self.sampling, &mut self.rng);
        self.ids.push(next);
        Ok(self.vocab.decode(&[next]).chars().next().expect("one id, one character"))
    }
}

/// Whether the model's embedding skips padding (id 0).
fn masks_padding(spec: &ModelSpec) -> bool {
    matches!(spec.layers.first().map(|l| &l.kind), Some(LayerKind::Embedding { mask_zero: true, .. }))
}

impl<B: Backend + 'static> Model<B> {
    /// Continues `prompt` by `length` characters, calling `on_char` as each
    /// one is chosen. See [`Generation`] to pace the work yourself.
    pub async fn generate(
        &mut self,
        prompt: &str,
        length: usize,
        sampling: Sampling,
        on_char: &mut dyn FnMut(char),
    ) -> Result<String> {
        let mut generation = Generation::start(self, prompt, sampling)?;
        let mut out = String::with_capacity(length);
        for _ in 0..length {
            let ch = generation.next_char(self).await?;
            on_char(ch);
            out.push(ch);
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sampling_respects_temperature_and_top_k() {
        let p = [0.1, 0.6, 0.3];
        let mut rng = Rng::new(1);
        assert_eq!(sample(&p, &Sampling { temperature: 0.0, ..Default::default() }, &mut rng), 1);
        let top1 = Sampling { top_k: 1, ..Default::default() };
        assert!((0..50).all(|_| sample(&p, &top1, &mut rng) == 1));
        let draws: Vec<usize> = (0..3000).map(|_| sample(&p, &Sampling::default(), &mut rng)).collect();
        let share = |i| draws.iter().filter(|&&d| d == i).count() as f32 / 3000.0;
        assert!((share(0) - 0.1).abs() < 0.03 && (share(1) - 0.6).abs() < 0.03, "{} {}", share(0), share(1));
        let top2 = Sampling { top_k: 2, ..Default::default() };
        assert!((0..200).all(|_| sample(&p, &top2, &mut rng) != 0));
    }
}
