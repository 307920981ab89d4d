//! Models: the cards of the shipped pretrained models, exporting a view's
//! current model (fine-tuned or not) as Neuroglow's two files, a
//! TensorFlow.js layers model or PyTorch files, resetting it to the
//! pretrained one, and importing a model in any of these formats.

use leptos::prelude::*;
use leptos::task::spawn_local;
use neuroglow_core::interop::{self, pytorch, tfjs, Imported};
use neuroglow_core::{CpuBackend, Limits, Model};
use serde::Deserialize;
use wasm_bindgen::JsCast;

use crate::app::ViewModels;
use crate::files::{checked_model, download, fetch_text, read_upload};
use crate::slot::ModelSlot;
use crate::{digits, generator, sentiment};

#[derive(Clone, Deserialize)]
struct Index {
    models: Vec<Entry>,
}

#[derive(Clone, Deserialize)]
struct Entry {
    name: String,
    card: Card,
}

#[derive(Clone, Deserialize)]
struct Card {
    title: String,
    task: String,
    architecture: String,
    parameters: usize,
    weights_bytes: usize,
    data: String,
    split: String,
    command: String,
    test_accuracy: Option<f32>,
    test_bits_per_char: Option<f32>,
}

/// The view a model serves and the slot it lives in, by pretrained name.
fn slot_of(models: &ViewModels, name: &str) -> Option<(ModelSlot, &'static str)> {
    match name {
        "sentiment-lstm" => Some((models.sentiment, "text")),
        "shakespeare-char" => Some((models.generator, "generate")),
        "digits-mlp" => Some((models.digits, "digits")),
        _ => None,
    }
}

/// Which view can use an imported model.
fn view_for(models: &ViewModels, model: &Model<CpuBackend>) -> Option<(ModelSlot, &'static str)> {
    if sentiment::fits_view(model) {
        Some((models.sentiment, "Text classifier"))
    } else if generator::fits_view(model) {
        Some((models.generator, "Text generator"))
    } else if digits::fits_view(model) {
        Some((models.digits, "Digits"))
    } else {
        None
    }
}

/// The formats a card exports to.
#[derive(Clone, Copy, PartialEq, Eq)]
enum ExportFormat {
    Neuroglow,
    Tfjs,
    Pytorch,
}

impl ExportFormat {
    fn from_value(value: &str) -> Self {
        match value {
            "tfjs" => ExportFormat::Tfjs,
            "pytorch" => ExportFormat::Pytorch,
            _ => ExportFormat::Neuroglow,
        }
    }
}

/// Offers the slot's current model as files in `format`; says what it offered.
async fn export(slot: ModelSlot, name: &str, format: ExportFormat) -> Result<String, String> {
    let mut model = slot.take()?;
    let spec = model.spec().clone();
    let weights = model.weights().await;
    slot.put_back(model);
    let weights = weights.map_err(|e| e.to_string())?;
    match format {
        ExportFormat::Neuroglow => {
            let files = neuroglow_core::io::encode_weights(&weights).map_err(|e| e.to_string())?;
            download(&format!("{name}.model.json"), spec.to_json().as_bytes(), "application/json")?;
            download(&format!("{name}.model.safetensors"), &files, "application/octet-stream")?;
            Ok(format!("Downloaded {name}'s two files."))
        }
        ExportFormat::Tfjs => {
            // TF.js's optimizers cannot clip gradients: such a model goes for predictions only.
            let (how, purpose) = match spec.optimizer.global_clipnorm {
                None => (tfjs::Export::ForTraining, "to predict and train with tf.loadLayersModel"),
                Some(_) => (
                    tfjs::Export::ForInference,
                    "to predict with tf.loadLayersModel (without its training settings: TF.js's optimizers \
                     cannot clip gradients as this model's does)",
                ),
            };
            let exported = tfjs::export(&spec, &weights, how, name).map_err(|e| e.to_string())?;
            download(&format!("{name}.json"), exported.model_json.as_bytes(), "application/json")?;
            for (shard, bytes) in &exported.shards {
                download(shard, bytes, "application/octet-stream")?;
            }
            Ok(format!(
                "Downloaded {name}.json and {} weight file(s) for TensorFlow.js, {purpose}; keep them in one folder.",
                exported.shards.len()
            ))
        }
        ExportFormat::Pytorch => {
            let exported = pytorch::export(&spec, &weights).map_err(|e| e.to_string())?;
            download(pytorch::STATE_DICT_FILE, &exported.state_dict, "application/octet-stream")?;
            download(pytorch::MODEL_PY_FILE, exported.model_py.as_bytes(), "text/x-python")?;
            download("model.json", exported.model_json.as_bytes(), "application/json")?;
            Ok(format!(
                "Downloaded {name} for PyTorch: {}, {} and model.json. Keep them in one folder; then \
                 `from model import load, predict`.",
                pytorch::STATE_DICT_FILE,
                pytorch::MODEL_PY_FILE
            ))
        }
    }
}

/// Every file picked in `input`, read within the weights file limit.
async fn picked_files(input: NodeRef<leptos::html::Input>) -> Result<Vec<(String, Vec<u8>)>, String> {
    let input: web_sys::HtmlInputElement = input.get_untracked().ok_or("the page is not ready")?.unchecked_into();
    let list = input.files().ok_or("no files picked")?;
    let mut files = Vec::new();
    for file in (0..list.length()).filter_map(|i| list.get(i)) {
        files.push((file.name(), read_upload(&file, Limits::default().max_weights_bytes).await?));
    }
    Ok(files)
}

/// Reads the picked files (Neuroglow's or TF.js's) into a model and hands it
/// to the view that can use it.
async fn import(models: ViewModels, input: NodeRef<leptos::html::Input>) -> Result<String, String> {
    let files = picked_files(input).await?;
    let Imported { files, notes } =
        interop::read_picked_files(&files, &Limits::default()).map_err(|e| e.to_string())?;
    // Only a model that predicts is handed to a view and saved.
    let model = checked_model(&files.json, &files.safetensors).await?;
    let Some((slot, view)) = view_for(&models, &model) else {
        return Err(format!(
            "the model loaded, but no view here can use it (it takes {:?} and gives {:?}); its layers:\n{}",
            model.input_shape(),
            model.output_shape(),
            model.summary()
        ));
    };
    let name = model.spec().name.clone();
    slot.set(model);
    slot.keep().await?;
    let notes: String = notes.iter().map(|n| format!(" Note: {n}.")).collect();
    Ok(format!("Imported “{name}” into the {view} view and saved it in this browser.{notes}"))
}

#[component]
fn CardView(entry: Entry, models: ViewModels) -> impl IntoView {
    let Entry { name, card } = entry;
    let (message, set_message) = signal(None::<String>);
    let metric = match (card.test_bits_per_char, card.test_accuracy) {
        (Some(bits), _) => format!("{bits:.3} bits per character on held-out text"),
        (None, Some(acc)) => format!("{:.1} % accuracy on the held-out test set", acc * 100.0),
        (None, None) => String::new(),
    };
    let actions = slot_of(&models, &name).map(|(slot, view)| {
        let export_name = name.clone();
        let (format, set_format) = signal(ExportFormat::Neuroglow);
        view! {
            <div class="buttons">
                <a href=format!("#{view}")>"Open"</a>
                <select class="export-format" aria-label="Export format" on:change=move |ev| {
                    set_format.set(ExportFormat::from_value(&event_target_value(&ev)));
                }>
                    <option value="neuroglow">"Neuroglow files"</option>
                    <option value="tfjs">"TensorFlow.js"</option>
                    <option value="pytorch">"PyTorch"</option>
                </select>
                <button on:click=move |_| {
                    let name = export_name.clone();
                    spawn_local(async move {
                        let result = export(slot, &name, format.get_untracked()).await;
                        set_message.set(Some(result.unwrap_or_else(|e| e)));
                    });
                } disabled=move || { slot.version.track(); !slot.is_loaded() }
                    title="Open the view once to load the model">"Export current"</button>
                <button on:click=move |_| spawn_local(async move {
                    let result = slot.load_pretrained().await;
                    set_message.set(Some(result.map_or_else(|e| e, |()| "Reset to the pretrained weights.".into())));
                })>"Reset to pretrained"</button>
            </div>
        }
    });
    view! {
        <article class="card" data-model=name.clone()>
            <h3>{card.title}</h3>
            <p>{card.task}</p>
            <p class="metric">{metric}</p>
            {slot_of(&models, &name).map(|(slot, _)| view! {
                <p class="origin" data-own=move || slot.own.get().to_string()>
                    {move || if slot.own.get() {
                        "In use: your version (fine-tuned or imported), saved in this browser."
                    } else {
                        "In use: the pretrained weights."
                    }}
                </p>
            })}
            <dl>
                <dt>"Architecture"</dt><dd>{card.architecture}</dd>
                <dt>"Size"</dt><dd>{format!("{} parameters, {:.0} KB of weights", card.parameters, card.weights_bytes as f64 / 1024.0)}</dd>
                <dt>"Data"</dt><dd>{card.data}</dd>
                <dt>"Split"</dt><dd>{card.split}</dd>
                <dt>"Reproduce"</dt><dd><code>{card.command}</code></dd>
            </dl>
            {actions}
            <p class="message" role="status">{move || message.get()}</p>
        </article>
    }
}

#[component]
pub fn Models(opened: Signal<bool>, models: ViewModels) -> impl IntoView {
    let index = LocalResource::new(move || {
        let opened = opened.get();
        async move {
            if !opened {
                return None;
            }
            Some(fetch_text("models/index.json").await.and_then(|t| {
                serde_json::from_str::<Index>(&t).map_err(|e| format!("models/index.json is not a model index: {e}"))
            }))
        }
    });
    let picker = NodeRef::<leptos::html::Input>::new();
    let (import_result, set_import_result) = signal(None::<Result<String, String>>);

    view! {
        <section class="view models" aria-labelledby="models-title">
            <h2 id="models-title">"Models"</h2>
            <p class="hint">"The pretrained models that ship with Neuroglow. Each view starts from one; export it after fine-tuning to keep your version."</p>
            <div class="cards">
                {move || match index.get().flatten() {
                    None => view! { <p class="status">"Loading the model index…"</p> }.into_any(),
                    Some(Err(e)) => view! { <p class="error" role="alert">{e}</p> }.into_any(),
                    Some(Ok(index)) => index.models.into_iter()
                        .map(|entry| view! { <CardView entry=entry models=models /> })
                        .collect_view().into_any(),
                }}
            </div>
            <h3>"Import a model"</h3>
            <p class="hint">"Pick all of a model's files at once: Neuroglow's model.json with its model.safetensors (or a PyTorch state_dict.safetensors), or a TensorFlow.js model.json with its .bin weight files."</p>
            <div class="row import">
                <label>"Model files"<input id="import-files" type="file" multiple accept=".json,.safetensors,.bin,application/json" node_ref=picker /></label>
                <button id="import" on:click=move |_| spawn_local(async move {
                    set_import_result.set(Some(import(models, picker).await));
                })>"Import"</button>
            </div>
            {move || import_result.get().map(|r| match r {
                Ok(m) => view! { <p class="message" role="status">{m}</p> }.into_any(),
                Err(e) => view! { <p class="error" role="alert">{e}</p> }.into_any(),
            })}
        </section>
    }
}
