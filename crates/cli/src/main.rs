//! `neuroglow`: train, evaluate, predict and summarize Neuroglow models from
//! the terminal, with Keras-style logs.

use neuroglow_cli::{convert, dataset, keras_log, pretrain};

use std::io::Write as _;
use std::ops::ControlFlow;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use neuroglow_core::{
    data::{
        csv::{CsvOptions, LabelColumn},
        text::TextEncoder,
    },
    generate::Sampling,
    io::ModelFiles,
    CpuBackend, Error, FitOptions, Limits, LossKind, Model, ModelSpec, Progress,
};

#[derive(Parser)]
#[command(name = "neuroglow", version, about = "Train and run small neural networks (MLP, LSTM) on the CPU")]
struct Cli {
    #[command(subcommand)]
    command: Command,
    /// Raise (or lower) one of the engine's size limits, as NAME=VALUE; repeat
    /// for several. The names: max_parameters, max_batch_activations,
    /// max_sequence_length, max_vocabulary, max_layers, max_json_bytes,
    /// max_weights_bytes, max_data_bytes.
    #[arg(long = "limit", global = true, value_name = "NAME=VALUE")]
    limits: Vec<String>,
}

/// Where the data is and which column holds the label.
#[derive(clap::Args)]
struct DataArgs {
    /// A CSV file of numbers, with or without a header row.
    data: PathBuf,
    /// The label column: a header name or a 0-based index (default: the last column).
    #[arg(long)]
    label: Option<String>,
    /// Skip rows with missing or non-numeric values (and say how many) instead of stopping.
    #[arg(long)]
    drop_invalid_rows: bool,
}

impl DataArgs {
    fn csv_options(&self) -> CsvOptions {
        let label = match &self.label {
            None => LabelColumn::Last,
            Some(l) => l.parse().map(LabelColumn::Index).unwrap_or(LabelColumn::Name(l.clone())),
        };
        CsvOptions { label, drop_invalid_rows: self.drop_invalid_rows }
    }
}

#[derive(Subcommand)]
enum Command {
    /// Print the layers, output shapes and parameter counts of a model.
    Summary {
        /// A directory with model.json (and optionally model.safetensors).
        model: PathBuf,
    },
    /// Train a model on a CSV file and save the result.
    Train {
        model: PathBuf,
        #[command(flatten)]
        data: DataArgs,
        #[arg(long, default_value_t = 10)]
        epochs: usize,
        #[arg(long, default_value_t = 32)]
        batch_size: usize,
        /// Fraction of the rows, from the end, held out for validation.
        #[arg(long, default_value_t = 0.0)]
        validation_split: f32,
        /// Override the learning rate of model.json.
        #[arg(long)]
        learning_rate: Option<f32>,
        /// Fit a z-score normalizer on the training rows and store it with the model.
        #[arg(long)]
        normalize: bool,
        /// Where to save the trained model.
        #[arg(long)]
        out: Option<PathBuf>,
        /// Save the trained model back into the model directory, replacing its files.
        #[arg(long, conflicts_with = "out")]
        overwrite: bool,
    },
    /// Report loss and accuracy on a labelled CSV file (for a text model, `label<TAB>text`
    /// lines; for a character model, plain text).
    Evaluate {
        model: PathBuf,
        #[command(flatten)]
        data: DataArgs,
        #[arg(long, default_value_t = 32)]
        batch_size: usize,
        /// Print the metrics as one JSON object at full precision, for scripts.
        #[arg(long)]
        json: bool,
    },
    /// Rebuild a shipped pretrained model from the shipped data, deterministically.
    Pretrain {
        /// One of: digits-mlp, sentiment-lstm, sentiment-wordpiece, shakespeare-char.
        name: String,
        /// Where to write the model (default: web/models/NAME).
        #[arg(long)]
        out: Option<PathBuf>,
        /// The shipped data directory.
        #[arg(long, default_value = "web/data")]
        data: PathBuf,
    },
    /// Continue a prompt with a character model, streaming the text as it is sampled.
    Generate {
        model: PathBuf,
        /// The text to continue (`\n` for a line break).
        #[arg(long, default_value = "\\n")]
        prompt: String,
        /// How many characters to add.
        #[arg(long, default_value_t = 400)]
        length: usize,
        /// Below 1 is safer and more repetitive, above 1 wilder; 0 always takes the likeliest character.
        #[arg(long, default_value_t = 0.8)]
        temperature: f32,
        /// Sample only among the K likeliest characters (0: all).
        #[arg(long, default_value_t = 0)]
        top_k: usize,
        #[arg(long, default_value_t = 0)]
        seed: u64,
    },
    /// Print the model's outputs for each row of a CSV file of features (no label column),
    /// or for each line of text for a text model.
    Predict {
        model: PathBuf,
        data: PathBuf,
        #[arg(long, default_value_t = 32)]
        batch_size: usize,
        /// The data are already the first layer's inputs, as CSV numbers: token ids, or features
        /// after the model's normalization (which is then not applied again).
        #[arg(long)]
        encoded: bool,
        /// Print the outputs as one JSON list of rows at full precision, for scripts.
        #[arg(long)]
        json: bool,
    },
    /// Write a model in another engine's format (TensorFlow.js layers model, PyTorch), into a new
    /// directory.
    Export {
        model: PathBuf,
        #[arg(long, value_enum)]
        format: convert::Format,
        #[arg(long)]
        out: PathBuf,
        /// Leave out the training settings (for formats whose optimizers lack one of the model's).
        #[arg(long)]
        inference_only: bool,
    },
    /// Bring a model from another engine (a TensorFlow.js model.json with its shards) into a new
    /// Neuroglow model directory.
    Import {
        /// The model file, or a directory holding it.
        path: PathBuf,
        #[arg(long)]
        out: PathBuf,
        /// The loss it was trained with, when the file does not say (binary_crossentropy,
        /// categorical_crossentropy, sparse_categorical_crossentropy, mean_squared_error).
        #[arg(long, value_parser = parse_loss)]
        loss: Option<LossKind>,
    },
}

fn parse_loss(name: &str) -> Result<LossKind, String> {
    serde_json::from_value(serde_json::Value::from(name)).map_err(|_| {
        "the losses are binary_crossentropy, categorical_crossentropy, sparse_categorical_crossentropy and \
         mean_squared_error"
            .to_string()
    })
}

fn main() -> ExitCode {
    match run(Cli::parse()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::FAILURE
        }
    }
}

fn run(cli: Cli) -> Result<(), String> {
    let mut limits = Limits::default();
    for assignment in &cli.limits {
        limits.set(assignment).map_err(|e| e.to_string())?;
    }
    let load_model = |dir: &Path| load_model(dir, &limits);
    let read = |path: &Path| read(path, &limits);
    match cli.command {
        Command::Summary { model } => {
            print!("{}", load_model(&model)?.summary());
            Ok(())
        }
        Command::Train {
            model: dir,
            data,
            epochs,
            batch_size,
            validation_split,
            learning_rate,
            normalize,
            out,
            overwrite,
        } => {
            let out = match (out, overwrite) {
                (Some(out), _) => out,
                (None, true) => dir.clone(),
                (None, false) => {
                    return Err(format!(
                        "say where to save the trained model: --out DIR, or --overwrite to replace the files in {}",
                        dir.display()
                    ))
                }
            };
            let mut model = load_model(&dir)?;
            if let Some(rate) = learning_rate {
                model.set_learning_rate(rate).map_err(|e| e.to_string())?;
            }
            let mut dataset = dataset::labelled(&model, &read(&data.data)?, &data.csv_options())?;
            if normalize {
                dataset::fit_normalizer(&mut model, &dataset, validation_split)?;
            }
            model.preprocess(&mut dataset.x).map_err(|e| e.to_string())?;
            let options = FitOptions { epochs, batch_size, validation_split, ..FitOptions::default() };
            let mut log = keras_log::KerasLog::new(epochs);
            pollster::block_on(model.fit(&dataset, None, &options, &mut |progress| {
                match progress {
                    Progress::Batch(p) => log.batch(p),
                    Progress::Epoch(e) => log.epoch_end(e),
                }
                ControlFlow::Continue(())
            }))
            .map_err(|e| e.to_string())?;
            // With the optimizer's state, so that training it again continues exactly.
            let files = pollster::block_on(model.to_files_for_training()).map_err(|e| e.to_string())?;
            files.write_dir(&out).map_err(|e| e.to_string())?;
            println!("Saved the trained model to {}", out.display());
            Ok(())
        }
        Command::Evaluate { model: dir, data, batch_size, json } => {
            let mut model = load_model(&dir)?;
            let mut dataset = dataset::labelled(&model, &read(&data.data)?, &data.csv_options())?;
            model.preprocess(&mut dataset.x).map_err(|e| e.to_string())?;
            let metrics = pollster::block_on(model.evaluate(&dataset, batch_size)).map_err(|e| e.to_string())?;
            if json {
                println!("{}", keras_log::metrics_json(&metrics));
                return Ok(());
            }
            println!("{}", keras_log::metrics_line(&metrics));
            if matches!(model.spec().text_encoder, Some(TextEncoder::Chars { .. })) {
                println!("bits per character: {:.4}", metrics.loss / std::f32::consts::LN_2);
            }
            Ok(())
        }
        Command::Pretrain { name, out, data } => {
            let out = out.unwrap_or_else(|| Path::new("web/models").join(&name));
            let mut log = keras_log::KerasLog::new(0);
            let mut trained = pretrain::pretrain(&name, &data, &mut |progress| {
                match progress {
                    Progress::Batch(p) => log.batch(p),
                    Progress::Epoch(e) => log.epoch_end(e),
                }
                ControlFlow::Continue(())
            })?;
            println!("test: {}", keras_log::metrics_line(&trained.test_metrics));
            pretrain::write_model_dir(&mut trained, &out)?;
            println!("Saved {name} to {}", out.display());
            Ok(())
        }
        Command::Generate { model, prompt, length, temperature, top_k, seed } => {
            let mut model = load_model(&model)?;
            let prompt = prompt.replace("\\n", "\n");
            let sampling = Sampling { temperature, top_k, seed };
            print!("{prompt}");
            let mut stdout = std::io::stdout();
            pollster::block_on(model.generate(&prompt, length, sampling, &mut |c| {
                print!("{c}");
                let _ = stdout.flush();
            }))
            .map_err(|e| e.to_string())?;
            println!();
            Ok(())
        }
        Command::Export { model, format, out, inference_only } => {
            convert::export(&mut load_model(&model)?, format, &out, inference_only)?;
            println!("Wrote {} as a {} to {}", model.display(), format.name(), out.display());
            Ok(())
        }
        Command::Import { path, out, loss } => {
            for note in convert::import(&path, &out, loss, &limits)? {
                println!("Note: {note}");
            }
            println!("Imported {} into {}", path.display(), out.display());
            Ok(())
        }
        Command::Predict { model: dir, data, batch_size, encoded, json } => {
            let mut model = load_model(&dir)?;
            let text = read(&data)?;
            let x = match encoded {
                true => dataset::numbers(&model, &text)?,
                false => {
                    let mut x = dataset::features(&model, &text)?;
                    model.preprocess(&mut x).map_err(|e| e.to_string())?;
                    x
                }
            };
            let y = pollster::block_on(model.predict(&x, batch_size)).map_err(|e| e.to_string())?;
            if json {
                let rows: Vec<&[f32]> = (0..y.rows()).map(|r| y.row(r)).collect();
                println!("{}", serde_json::to_string(&rows).expect("numbers serialize"));
                return Ok(());
            }
            for r in 0..y.rows() {
                let row: Vec<String> = y.row(r).iter().map(|v| format!("{v:.6}")).collect();
                println!("{}", row.join(","));
            }
            Ok(())
        }
    }
}

/// A model from a directory; without model.safetensors it starts from the seed's initial weights.
fn load_model(dir: &Path, limits: &Limits) -> Result<Model<CpuBackend>, String> {
    let (json, weights) = ModelFiles::read_dir(dir).map_err(|e| e.to_string())?;
    let context = |e: Error| format!("{}: {}", dir.display(), with_limit_hint(e));
    match weights {
        Some(bytes) => Model::from_files_with_limits(&json, &bytes, CpuBackend::new(), limits).map_err(context),
        None => {
            let spec = ModelSpec::from_json_with_limits(&json, limits).map_err(context)?;
            Model::with_limits(spec, CpuBackend::new(), limits).map_err(context)
        }
    }
}

/// An error's text; for a size over a limit, with how to raise it here.
fn with_limit_hint(error: Error) -> String {
    match &error {
        Error::Limit { name, .. } if Limits::NAMES.contains(name) => {
            format!("{error} (or raise the limit with --limit {name}=N)")
        }
        _ => error.to_string(),
    }
}

/// A data file's text, once its size is within the limit.
fn read(path: &Path, limits: &Limits) -> Result<String, String> {
    let cannot = |e: std::io::Error| format!("cannot read {}: {e}", path.display());
    let bytes = std::fs::metadata(path).map_err(cannot)?.len();
    limits.check_data_bytes(&path.display().to_string(), bytes as usize).map_err(with_limit_hint)?;
    std::fs::read_to_string(path).map_err(cannot)
}
