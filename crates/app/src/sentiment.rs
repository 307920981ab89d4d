//! The text classifier: the pretrained `sentiment-lstm` reads what you type
//! and shows, word by word, how its opinion moves through the sentence.
//! Fine-tune it on your own labelled lines and evaluate it on held-out data.

use leptos::prelude::*;
use leptos::task::spawn_local;
use neuroglow_core::data::text::{parse_labelled_csv, parse_labelled_lines, TextEncoder};
use neuroglow_core::data::Dataset;
use neuroglow_core::evaluation::ClassificationReport;
use neuroglow_core::reading;
use neuroglow_core::rng::Rng;
use neuroglow_core::{CpuBackend, Model, Tensor};

use crate::controls::Controls;
use crate::files::{fetch_text, TextUpload};
use crate::predict::predict_between_frames;
use crate::report::{Evaluation, ReportView, WORST_SHOWN};
use crate::runtime::now_ms;
use crate::slot::{ModelKind, ModelSlot};
use crate::training::{TrainingMonitor, TrainingView};

const CLASS_NAMES: [&str; 2] = ["negative", "positive"];

/// This view's model.
pub fn slot() -> ModelSlot {
    ModelSlot::pretrained("sentiment-lstm")
}

/// The models this view can use.
pub const KIND: ModelKind = ModelKind { fits: fits_view, what: "a text classifier (words in, one probability out)" };

/// Whether `model` can serve this view: words in, one probability out.
pub fn fits_view(model: &Model<CpuBackend>) -> bool {
    matches!(model.spec().text_encoder, Some(TextEncoder::Words { .. })) && model.output_shape() == [1]
}

/// One word and the model's probability after reading up to it.
#[derive(Clone, PartialEq)]
struct WordStep {
    word: String,
    /// In the model's vocabulary (else it reads as "unknown word").
    known: bool,
    probability: f32,
}

/// The model's probability after each of the sentence's words (up to
/// [`reading::MAX_WORDS`]), read in one pass; the last is its verdict on the
/// whole sentence.
async fn read_sentence(model: &mut Model<CpuBackend>, text: &str) -> Result<Vec<WordStep>, String> {
    let Some(TextEncoder::Words { tokenizer, .. }) = model.spec().text_encoder.clone() else {
        return Err("this model does not read words".into());
    };
    let words = tokenizer.split(text);
    if words.is_empty() {
        return Ok(Vec::new());
    }
    let outputs = reading::outputs_after_each_word(model, &words).await.map_err(|e| e.to_string())?;
    Ok(words
        .into_iter()
        .zip(outputs)
        .map(|(word, output)| WordStep { known: tokenizer.index_of(&word).is_some(), word, probability: output[0] })
        .collect())
}

/// Labelled sentences: `(0 or 1, text)`.
type Rows = Vec<(f32, String)>;

/// Parses labelled lines, shuffles them with `seed` and splits off a
/// `validation` share: `(training rows, validation rows)`.
fn labelled_rows(input: &str, validation: f32, seed: u64) -> Result<(Rows, Rows), String> {
    let mut rows = parse_labelled_lines(input).map_err(|e| e.to_string())?;
    if let Some((label, _)) = rows.iter().find(|(label, _)| *label != 0.0 && *label != 1.0) {
        return Err(format!("labels must be 0 (negative) or 1 (positive), found {label}"));
    }
    if rows.len() < 4 {
        return Err(format!("{} labelled lines are too few to train and validate; paste at least 4", rows.len()));
    }
    Rng::new(seed).shuffle(&mut rows);
    let held_out = ((rows.len() as f32 * validation).round() as usize).clamp(1, rows.len() - 1);
    let val = rows.split_off(rows.len() - held_out);
    Ok((rows, val))
}

fn dataset(model: &Model<CpuBackend>, rows: &[(f32, String)]) -> Result<Dataset, String> {
    let texts: Vec<&str> = rows.iter().map(|(_, t)| t.as_str()).collect();
    let x = model.encode_texts(&texts).map_err(|e| e.to_string())?;
    let y = Tensor::new(vec![rows.len(), 1], rows.iter().map(|(l, _)| *l).collect()).map_err(|e| e.to_string())?;
    Dataset::new(x, y).map_err(|e| e.to_string())
}

/// Evaluates the model on labelled `rows`, naming worst examples by `texts`.
/// It runs on a copy, so the view keeps reading sentences meanwhile.
async fn evaluate(
    model: ModelSlot,
    rows: &[(f32, String)],
    texts: &[String],
    what: String,
) -> Result<Evaluation, String> {
    let mut copy = model.copy().await?;
    let data = dataset(&copy, rows)?;
    let p = predict_between_frames(&mut copy, &data.x, 32).await?;
    let report = ClassificationReport::new(&p, &data.y, WORST_SHOWN).map_err(|e| e.to_string())?;
    let names = CLASS_NAMES.map(String::from).to_vec();
    Ok(Evaluation::new(what, report, names, |row| texts[row].clone()))
}

/// An uploaded CSV (`label,text`) as the labelled lines the text box takes;
/// other files are taken as they are (`label<TAB>text` lines).
fn labelled_lines_from(name: &str, text: &str) -> Result<String, String> {
    if !name.to_ascii_lowercase().ends_with(".csv") {
        return Ok(text.to_string());
    }
    let rows = parse_labelled_csv(text).map_err(|e| format!("{name}: {e}"))?;
    Ok(rows.into_iter().map(|(label, text)| format!("{label}\t{text}")).collect::<Vec<_>>().join("\n"))
}

fn percent(p: f32) -> String {
    format!("{:.0} %", p * 100.0)
}

/// A word's background: red for negative, green for positive.
fn word_colour(p: f32) -> String {
    let hue = 120.0 * p;
    format!("hsl({hue:.0} 70% 85%)")
}

#[component]
pub fn Sentiment(opened: Signal<bool>, model: ModelSlot) -> impl IntoView {
    let (status, set_status) = signal(Some("Loading the sentiment model…".to_string()));
    let (error, set_error) = signal(None::<String>);
    let controls = Controls::current();
    // True while a reading is being computed (see `read_latest`).
    let reading = StoredValue::new(false);
    let latency_ms = RwSignal::new(None::<f64>);
    let hide_latency = controls.hides("latency");
    let text = RwSignal::new("The food was wonderful and the staff were kind".to_string());
    let steps = RwSignal::new(Vec::<WordStep>::new());
    let evaluation = RwSignal::new(None::<Evaluation>);
    let monitor = TrainingMonitor::new();
    let lines = RwSignal::new(String::new());
    let epochs = RwSignal::new(5usize);
    let learning_rate = RwSignal::new(0.001f32);
    let validation = RwSignal::new(0.2f32);
    let frozen = RwSignal::new(vec!["embedding".to_string()]);

    // Reads the text, and keeps reading until the reading matches the latest
    // text (typing while a reading runs must not lose the last keystroke).
    let read_latest = move || {
        if reading.try_update_value(|r| std::mem::replace(r, true)) != Some(false) {
            return;
        }
        spawn_local(async move {
            // `try_`: the view may be gone (an embedded demo removed) by now.
            while let Some(current) = text.try_get_untracked() {
                let Ok(mut loaded) = model.take() else { break };
                let started = now_ms();
                let result = read_sentence(&mut loaded, &current).await;
                model.put_back(loaded);
                match result {
                    Ok(read) => {
                        latency_ms.set(Some(now_ms() - started));
                        steps.set(read);
                    }
                    Err(e) => set_error.set(Some(e)),
                }
                if text.try_get_untracked().is_none_or(|latest| latest == current) {
                    break;
                }
            }
            reading.try_set_value(false);
        });
    };

    model.load_when_opened(opened, set_error);
    Effect::new(move |_| {
        model.version.track();
        text.track();
        if model.is_loaded() {
            set_status.set(None);
            read_latest();
        }
    });

    let evaluate_test_set = move |_| {
        set_error.set(None);
        spawn_local(async move {
            let result = async {
                let tsv = fetch_text(&format!("{}test.tsv", model.source_url())).await?;
                let rows = parse_labelled_lines(&tsv).map_err(|e| e.to_string())?;
                let texts: Vec<String> = rows.iter().map(|(_, t)| t.clone()).collect();
                let what = format!("held-out test set ({} sentences)", texts.len());
                evaluate(model, &rows, &texts, what).await
            }
            .await;
            match result {
                Ok(e) => evaluation.set(Some(e)),
                Err(e) => set_error.set(Some(e)),
            }
        });
    };

    let fine_tune = move |_| {
        set_error.set(None);
        spawn_local(async move {
            let settings = FineTune {
                lines: lines.get_untracked(),
                validation: validation.get_untracked(),
                epochs: epochs.get_untracked(),
                learning_rate: learning_rate.get_untracked(),
                frozen: frozen.get_untracked(),
            };
            match fine_tune_model(model, settings, monitor).await {
                Ok(e) => evaluation.set(Some(e)),
                Err(e) => set_error.set(Some(e)),
            }
        });
    };

    let layer_names = move || {
        model.version.track();
        model.with(|m| m.spec().layers.iter().map(|l| l.name.clone()).collect::<Vec<_>>()).unwrap_or_default()
    };
    let verdict = move || steps.with(|s| s.last().map(|w| w.probability));

    view! {
        <section class="view sentiment" aria-labelledby="sentiment-title">
            <h2 id="sentiment-title" hidden=controls.hides("title")>"Text classifier"</h2>
            <p class="hint" hidden=controls.hides("hint")>"An LSTM trained on 2,550 review sentences guesses whether yours is positive. Each word is coloured by what the model thinks after reading up to it."</p>
            <p class="status" hidden=move || status.get().is_none() || error.get().is_some()>{move || status.get()}</p>
            <label class="wide">"Your sentence"
                <textarea id="sentiment-text" rows="2" prop:value=move || text.get()
                    on:input=move |ev| text.set(event_target_value(&ev))></textarea>
            </label>
            <div id="sentiment-result" data-probability=move || verdict().map(|p| p.to_string()).unwrap_or_default()>
                {move || match verdict() {
                    Some(p) => view! {
                        <p class="verdict">
                            <meter min="0" max="1" low="0.5" optimum="1" value=p aria-label="Probability positive"></meter>
                            <b>{if p >= 0.5 { "Positive" } else { "Negative" }}</b>{format!(" — {} chance it is positive", percent(p))}
                            <small class="latency" data-control="latency" hidden=hide_latency>
                                {move || latency_ms.get().map(|ms| format!("read in {ms:.0} ms"))}
                            </small>
                        </p>
                    }.into_any(),
                    None => view! { <p class="verdict">"Type a few words."</p> }.into_any(),
                }}
                <p class="words" data-control="words" hidden=controls.hides("words") aria-label="How the prediction moves word by word">
                    {move || steps.get().into_iter().map(|w| {
                        let title = format!("after “{}”: {} positive{}", w.word, percent(w.probability),
                            if w.known { "" } else { " (a word the model does not know)" });
                        view! {
                            <span class="word" class:unknown=!w.known style:background=word_colour(w.probability) title=title.clone()
                                aria-label=title>{w.word}</span>
                        }
                    }).collect_view()}
                </p>
            </div>
            <details class="fine-tune" data-control="fine-tune" hidden=controls.hides("fine-tune")>
                <summary>"Fine-tune on your own sentences"</summary>
                <label class="wide">"Labelled lines: 1 (positive) or 0 (negative), a tab, then the sentence"
                    <textarea id="sentiment-lines" rows="6" placeholder="1\tWhat a lovely little place\n0\tCold food and a long wait"
                        prop:value=move || lines.get() on:input=move |ev| lines.set(event_target_value(&ev))></textarea>
                </label>
                <TextUpload label="…or upload a CSV (label,text) or tab-separated file" accept=".csv,.tsv,.txt,text/csv,text/plain"
                    into=lines error=set_error convert=labelled_lines_from />
                <div class="row">
                    <label>"Epochs"<input type="number" min="1" max="100" prop:value=move || epochs.get()
                        on:change=move |ev| epochs.set(event_target_value(&ev).parse().unwrap_or(5).clamp(1, 100)) /></label>
                    <label>"Learning rate"<input type="number" min="0.00001" max="1" step="0.0001" prop:value=move || learning_rate.get().to_string()
                        on:change=move |ev| learning_rate.set(event_target_value(&ev).parse().unwrap_or(0.001)) /></label>
                    <label>"Validation share"<input type="number" min="0.05" max="0.5" step="0.05" prop:value=move || validation.get().to_string()
                        on:change=move |ev| validation.set(event_target_value(&ev).parse().unwrap_or(0.2f32).clamp(0.05, 0.5)) /></label>
                </div>
                <fieldset>
                    <legend>"Keep these layers fixed"</legend>
                    {move || layer_names().into_iter().map(|name| {
                        let checked = frozen.with(|f| f.contains(&name));
                        let toggle = name.clone();
                        view! {
                            <label class="inline"><input type="checkbox" prop:checked=checked
                                on:change=move |ev| frozen.update(|f| {
                                    f.retain(|n| n != &toggle);
                                    if event_target_checked(&ev) { f.push(toggle.clone()) }
                                }) />{name}</label>
                        }
                    }).collect_view()}
                </fieldset>
                <button id="sentiment-train" on:click=fine_tune disabled=move || monitor.running.get() || status.get().is_some()>"Fine-tune"</button>
                <TrainingView monitor=monitor />
            </details>
            <button id="sentiment-evaluate" data-control="evaluate" hidden=controls.hides("evaluate") on:click=evaluate_test_set disabled=move || monitor.running.get() || status.get().is_some()>
                "Evaluate on the held-out test set"
            </button>
            <p class="error" role="alert">{move || error.get()}</p>
            {move || evaluation.get().map(|e| view! { <ReportView evaluation=e /> })}
        </section>
    }
}

/// What the user set for fine-tuning.
struct FineTune {
    lines: String,
    validation: f32,
    epochs: usize,
    learning_rate: f32,
    frozen: Vec<String>,
}

/// Fine-tunes a copy of the model on labelled lines, gives the model its
/// weights, and evaluates it on the held-out share.
async fn fine_tune_model(model: ModelSlot, settings: FineTune, monitor: TrainingMonitor) -> Result<Evaluation, String> {
    let mut copy = model.copy().await?;
    let (train_rows, val_rows) = labelled_rows(&settings.lines, settings.validation, copy.spec().seed)?;
    let names: Vec<String> = copy.spec().layers.iter().map(|l| l.name.clone()).collect();
    for name in &names {
        copy.set_trainable(name, !settings.frozen.contains(name)).map_err(|e| e.to_string())?;
    }
    copy.set_learning_rate(settings.learning_rate).map_err(|e| e.to_string())?;
    let (train, val) = (dataset(&copy, &train_rows)?, dataset(&copy, &val_rows)?);
    // Small batches keep each step short on the CPU, so the page stays smooth.
    let trained = monitor.train(copy, &train, Some(&val), settings.epochs, 8).await?;
    model.adopt(&trained.weights).await?;
    if let Some(problem) = trained.problem {
        return Err(problem);
    }
    let texts: Vec<String> = val_rows.iter().map(|(_, t)| t.clone()).collect();
    evaluate(model, &val_rows, &texts, format!("validation lines ({})", texts.len())).await
}
