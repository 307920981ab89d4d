//! Turning CSV text into what a model takes.

use neuroglow_core::data::{csv, Dataset, Preprocessor};
use neuroglow_core::{CpuBackend, LossKind, Model, Tensor};

/// Features and targets for `model`; class labels are one-hot encoded for
/// categorical cross-entropy.
pub fn labelled(model: &Model<CpuBackend>, text: &str, options: &csv::CsvOptions) -> Result<Dataset, String> {
    let table = csv::parse(text, options).map_err(|e| e.to_string())?;
    if !table.dropped.is_empty() {
        eprintln!("Dropped {} invalid row(s); the first: {}", table.dropped.len(), table.dropped[0]);
    }
    let classes = *model.output_shape().last().expect("a model has an output");
    let y = match model.spec().loss {
        LossKind::CategoricalCrossentropy => csv::one_hot(&table.labels, classes).map_err(|e| e.to_string())?,
        _ => table.labels,
    };
    Dataset::new(table.features, y).map_err(|e| e.to_string())
}

/// All columns as features (for prediction).
pub fn features(model: &Model<CpuBackend>, text: &str) -> Result<Tensor, String> {
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
    let normalizer = Preprocessor::fit_z_score(&train.x);
    model.set_preprocessing(vec![normalizer]);
    Ok(())
}

/// Applies the model's stored preprocessing to raw features.
pub fn preprocess(model: &Model<CpuBackend>, x: &mut Tensor) -> Result<(), String> {
    model.spec().preprocessing.iter().try_for_each(|p| p.apply(x)).map_err(|e| e.to_string())
}
