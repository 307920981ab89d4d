//! Turning data files into what a model takes: numeric CSV; for text
//! models `label<TAB>text` lines encoded with the model's own text encoder;
//! for character models plain text, cut into next-character windows.

use neuroglow_core::data::text::{next_char_windows, parse_labelled_lines, TextEncoder};
use neuroglow_core::data::{csv, Dataset, Preprocessor};
use neuroglow_core::{CpuBackend, LossKind, Model, Tensor};

/// Features and targets for `model`; class labels are one-hot encoded for
/// categorical cross-entropy.
pub fn labelled(model: &Model<CpuBackend>, text: &str, options: &csv::CsvOptions) -> Result<Dataset, String> {
    if let Some(TextEncoder::Chars { vocab, maxlen }) = &model.spec().text_encoder {
        let every_position = model.output_shape().len() == 2;
        return next_char_windows(&vocab.encode(text), *maxlen, every_position).map_err(|e| e.to_string());
    }
    let (x, labels) = if model.spec().text_encoder.is_some() {
        let rows = parse_labelled_lines(text).map_err(|e| e.to_string())?;
        let texts: Vec<&str> = rows.iter().map(|(_, t)| t.as_str()).collect();
        let labels =
            Tensor::new(vec![rows.len(), 1], rows.iter().map(|(l, _)| *l).collect()).map_err(|e| e.to_string())?;
        (model.encode_texts(&texts).map_err(|e| e.to_string())?, labels)
    } else {
        let table = csv::parse(text, options).map_err(|e| e.to_string())?;
        if !table.dropped.is_empty() {
            eprintln!("Dropped {} invalid row(s); the first: {}", table.dropped.len(), table.dropped[0]);
        }
        (table.features, table.labels)
    };
    let classes = *model.output_shape().last().expect("a model has an output");
    let y = match model.spec().loss {
        LossKind::CategoricalCrossentropy => csv::one_hot(&labels, classes).map_err(|e| e.to_string())?,
        _ => labels,
    };
    Dataset::new(x, y).map_err(|e| e.to_string())
}

/// Inputs for prediction: every CSV column as a feature, or one text per line.
pub fn features(model: &Model<CpuBackend>, text: &str) -> Result<Tensor, String> {
    if model.spec().text_encoder.is_some() {
        let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
        return model.encode_texts(&lines).map_err(|e| e.to_string());
    }
    numbers(model, text)
}

/// Every CSV column as a number the first layer takes (for a text model,
/// token ids).
pub fn numbers(model: &Model<CpuBackend>, text: &str) -> Result<Tensor, String> {
    // Parse with a throw-away label column, then put it back as a feature.
    let table = csv::parse(text, &csv::CsvOptions::default()).map_err(|e| e.to_string())?;
    let (rows, cols) = (table.features.rows(), table.features.row_len() + 1);
    let data = (0..rows).flat_map(|r| table.features.row(r).iter().copied().chain([table.labels.data[r]])).collect();
    let x = Tensor::new(vec![rows, cols], data).map_err(|e| e.to_string())?;
    model.check_inputs(&x).map_err(|e| e.to_string())?;
    Ok(x)
}

/// Fits a z-score normalizer on the rows that will be trained on (not the
/// validation tail) and stores it in the model.
pub fn fit_normalizer(model: &mut Model<CpuBackend>, data: &Dataset, validation_split: f32) -> Result<(), String> {
    let (train, _) = data.split_tail(validation_split).map_err(|e| e.to_string())?;
    model.set_preprocessing(vec![Preprocessor::fit_z_score(&train.x)]);
    Ok(())
}
