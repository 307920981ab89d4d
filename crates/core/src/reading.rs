//! What a text classifier thinks after each word of a text, read in one pass.
//!
//! Scoring every prefix of a text separately costs a pass per word, and the
//! prefixes' text grows with the square of the text. But a recurrent model
//! reading a prefix alone is in the same state after its last word as when
//! it reads the whole text (padding steps are masked), so one pass over the
//! text, keeping the last LSTM's output at every step, gives every prefix's
//! score at once: the same model with that LSTM's `return_sequences` on,
//! applying the layers after it to each step.

use crate::backend::cpu::CpuBackend;
use crate::data::text::{Side, TextEncoder};
use crate::error::{Error, Result};
use crate::layers::LayerKind;
use crate::model::Model;
use crate::tensor::Tensor;

/// The most words one reading colours; a longer text is read up to here.
pub const MAX_WORDS: usize = 5_000;

/// The model's outputs after each of `words` (as a word tokenizer splits
/// text), exactly as if each prefix were scored alone.
pub async fn outputs_after_each_word(model: &mut Model<CpuBackend>, words: &[String]) -> Result<Vec<Vec<f32>>> {
    let Some(TextEncoder::Words { tokenizer, maxlen, truncating, padding }) = model.spec().text_encoder.clone() else {
        return Err(Error::InvalidModel("word-by-word reading needs a model with a word tokenizer".into()));
    };
    if padding != Side::Pre {
        return Err(Error::InvalidModel("word-by-word reading needs a model whose texts are padded in front".into()));
    }
    let words = &words[..words.len().min(MAX_WORDS)];
    // The ids each prefix ends at: a word gives one id, or none when it is
    // unknown and the tokenizer has no out-of-vocabulary token.
    let mut ids = Vec::new();
    let mut ends = Vec::with_capacity(words.len());
    for word in words {
        ids.extend(tokenizer.encode(word));
        ends.push(ids.len());
    }
    let mut reader = step_reader(model).await?;
    let width = *reader.output_shape().last().expect("non-empty");
    // The windows of ids to read, as `start..end`, each pre-padded as the
    // encoder pads: the text's first `maxlen` ids hold the last step of
    // every prefix that fits (and, with post-truncation, of every longer
    // one, which keeps its first `maxlen` ids); with pre-truncation a longer
    // prefix keeps its own last `maxlen` ids. An empty window stands for a
    // prefix without ids (unknown words and no out-of-vocabulary token).
    let first = 0..ids.len().min(maxlen);
    let window_of = |end: usize| match end {
        0 => 0..0,
        _ if truncating == Side::Pre && end > maxlen => end - maxlen..end,
        _ => first.clone(),
    };
    let mut windows: Vec<std::ops::Range<usize>> = ends.iter().map(|&e| window_of(e)).collect();
    windows.dedup();
    let mut outputs = Vec::with_capacity(windows.len());
    for chunk in windows.chunks(64) {
        let mut x = Vec::with_capacity(chunk.len() * maxlen);
        for window in chunk {
            x.extend(std::iter::repeat_n(0.0, maxlen - window.len()));
            x.extend(ids[window.clone()].iter().map(|&id| id as f32));
        }
        let y = reader.predict(&Tensor::new(vec![chunk.len(), maxlen], x)?, 64).await?;
        outputs.extend((0..chunk.len()).map(|i| y.row(i).to_vec()));
    }
    // Windows come in the order of the prefixes, so one cursor finds each.
    let mut cursor = 0;
    Ok(ends
        .iter()
        .map(|&end| {
            let window = window_of(end);
            while windows[cursor] != window {
                cursor += 1;
            }
            let read = &outputs[cursor];
            // The step that read the prefix's last kept id; for no id, the
            // last (padding) step.
            let kept = end.min(window.end) - window.start;
            let step = (maxlen - window.len() + kept).max(1) - 1;
            read[step * width..(step + 1) * width].to_vec()
        })
        .collect())
}

/// The model with its last LSTM returning every step, and the same weights.
async fn step_reader(model: &mut Model<CpuBackend>) -> Result<Model<CpuBackend>> {
    let mut spec = model.spec().clone();
    let last_lstm = spec.layers.iter().rposition(|l| matches!(l.kind, LayerKind::Lstm { .. }));
    let per_step = last_lstm.is_some_and(|i| {
        spec.layers[i + 1..].iter().all(|l| matches!(l.kind, LayerKind::Dense { .. } | LayerKind::Dropout { .. }))
    });
    let (Some(i), true) = (last_lstm, per_step) else {
        return Err(Error::InvalidModel(
            "word-by-word reading needs an LSTM followed only by Dense and Dropout layers".into(),
        ));
    };
    if let LayerKind::Lstm { return_sequences, .. } = &mut spec.layers[i].kind {
        *return_sequences = true;
    }
    // Built from the model's own weights: no initializer runs.
    let plan = spec.plan(model.limits())?;
    let weights = model.weights().await?.into_iter().collect();
    Ok(Model::build(spec, plan, *model.limits(), CpuBackend::new(), Some(weights)))
}
