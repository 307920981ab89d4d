//! The text generator: the pretrained `shakespeare-char` continues a prompt
//! one character at a time, and the text streams in as it is sampled.
//! Fine-tune it on text of your own and see what it writes then.

use leptos::prelude::*;
use leptos::task::spawn_local;
use neuroglow_core::data::text::{next_char_windows, TextEncoder};
use neuroglow_core::generate::{Generation, Sampling};
use neuroglow_core::train::Pause;
use neuroglow_core::{CpuBackend, Model};
use neuroglow_gpu::AutoModel;

use crate::controls::Controls;
use crate::files::TextUpload;
use crate::runtime::{now_ms, yield_to_browser};
use crate::slot::{ModelKind, ModelSlot};
use crate::training::{TrainingMonitor, TrainingView};

/// Characters in the sample written after each epoch of fine-tuning.
const SAMPLE_LENGTH: usize = 120;

/// This view's model.
pub fn slot() -> ModelSlot {
    ModelSlot::pretrained("shakespeare-char")
}

/// The models this view can use.
pub const KIND: ModelKind =
    ModelKind { fits: fits_view, what: "a character generator (characters in, the next character out)" };

/// Whether `model` can serve this view: characters in, next character out.
pub fn fits_view(model: &Model<CpuBackend>) -> bool {
    matches!(model.spec().text_encoder, Some(TextEncoder::Chars { .. }))
}

/// What the user set.
#[derive(Clone, Copy)]
struct Settings {
    length: usize,
    sampling: Sampling,
}

/// Streams `length` characters continuing `prompt` into `output`, stopping
/// early when `stop` is set or the view is gone (an embedded demo removed).
async fn generate(
    model: ModelSlot,
    prompt: &str,
    settings: Settings,
    output: RwSignal<String>,
    stop: RwSignal<bool>,
) -> Result<(), String> {
    let mut loaded = model.take()?;
    let result = async {
        let mut generation = Generation::start(&loaded, prompt, settings.sampling).map_err(|e| e.to_string())?;
        // The page paints the new characters at each pause.
        let pause = Pause::new(yield_to_browser);
        for _ in 0..settings.length {
            pause.wait_if_due(now_ms).await;
            if stop.try_get_untracked().unwrap_or(true) {
                break;
            }
            let ch = generation.next_char(&mut loaded).await.map_err(|e| e.to_string())?;
            output.try_update(|o| o.push(ch));
        }
        Ok(())
    }
    .await;
    model.put_back(loaded);
    result
}

/// A few lines of what `model` (being trained) writes now after `prompt`,
/// sampled on the CPU from a copy of its current weights.
async fn sample_of(model: &mut AutoModel, prompt: &str) -> Result<String, String> {
    let mut copy = model.copy_on_cpu().await.map_err(|e| e.to_string())?;
    let sampling = Sampling { temperature: 0.8, top_k: 0, seed: 1 };
    let mut generation = Generation::start(&copy, prompt, sampling).map_err(|e| e.to_string())?;
    let mut text = String::new();
    let pause = Pause::new(yield_to_browser);
    for _ in 0..SAMPLE_LENGTH {
        pause.wait_if_due(now_ms).await;
        text.push(generation.next_char(&mut copy).await.map_err(|e| e.to_string())?);
    }
    Ok(text)
}

/// Fine-tunes a copy of the model on `text`, showing in `samples` what it
/// writes after `prompt` at the end of each epoch, then gives the model its weights.
async fn fine_tune(
    model: ModelSlot,
    text: &str,
    epochs: usize,
    monitor: TrainingMonitor,
    prompt: &str,
    samples: RwSignal<Vec<String>>,
) -> Result<(), String> {
    let copy = model.copy().await?;
    let Some(TextEncoder::Chars { vocab, maxlen }) = copy.spec().text_encoder.clone() else {
        return Err("this model does not read characters".into());
    };
    let ids = vocab.encode(text);
    if ids.len() <= maxlen {
        return Err(format!(
            "the text has {} characters; paste more than {maxlen} so the model sees whole windows",
            ids.len()
        ));
    }
    let data = next_char_windows(&ids, maxlen, true).map_err(|e| e.to_string())?;
    // Tiny batches: a step of three LSTMs stays short on the CPU.
    samples.set(Vec::new());
    let show_sample = async |training: &mut AutoModel| match sample_of(training, prompt).await {
        Ok(sample) => samples.update(|s| s.push(sample)),
        Err(e) => samples.update(|s| s.push(format!("(no sample: {e})"))),
    };
    let trained = monitor.train_then(copy, &data, None, epochs, 4, show_sample).await?;
    model.adopt(&trained.weights).await?;
    trained.problem.map_or(Ok(()), Err)
}

#[component]
pub fn Generator(opened: Signal<bool>, model: ModelSlot) -> impl IntoView {
    let (error, set_error) = signal(None::<String>);
    let controls = Controls::current();
    let prompt = RwSignal::new("ROMEO:\n".to_string());
    let output = RwSignal::new(String::new());
    let settings = RwSignal::new(Settings { length: 300, sampling: Sampling { temperature: 0.8, top_k: 0, seed: 1 } });
    let generating = RwSignal::new(false);
    let stop = RwSignal::new(false);
    let monitor = TrainingMonitor::new();
    let own_text = RwSignal::new(String::new());
    let samples = RwSignal::new(Vec::<String>::new());
    let epochs = RwSignal::new(2usize);
    let loaded = move || {
        model.version.track();
        model.is_loaded()
    };
    model.load_when_opened(opened, set_error);

    let run = move || {
        set_error.set(None);
        output.set(String::new());
        stop.set(false);
        generating.set(true);
        spawn_local(async move {
            let prompt = prompt.get_untracked().replace("\\n", "\n");
            if let Err(e) = generate(model, &prompt, settings.get_untracked(), output, stop).await {
                set_error.set(Some(e));
            }
            generating.set(false);
        });
    };
    let train = move |_| {
        set_error.set(None);
        spawn_local(async move {
            let prompt = prompt.get_untracked().replace("\\n", "\n");
            match fine_tune(model, &own_text.get_untracked(), epochs.get_untracked(), monitor, &prompt, samples).await {
                Ok(()) => run(),
                Err(e) => set_error.set(Some(e)),
            }
        });
    };
    let number = |ev: &leptos::ev::Event, default: f64| event_target_value(ev).parse::<f64>().unwrap_or(default);

    view! {
        <section class="view generator" aria-labelledby="generator-title">
            <h2 id="generator-title" hidden=controls.hides("title")>"Text generator"</h2>
            <p class="hint" hidden=controls.hides("hint")>"Three stacked LSTMs trained on Shakespeare's plays write one character at a time."</p>
            <p class="status" hidden=move || loaded() || error.get().is_some()>"Loading the Shakespeare model…"</p>
            <label class="wide">"Prompt"
                <textarea id="generator-prompt" rows="2" prop:value=move || prompt.get()
                    on:input=move |ev| prompt.set(event_target_value(&ev))></textarea>
            </label>
            <div class="row">
                <label data-control="length" hidden=controls.hides("length")>"Length"<input type="number" min="1" max="5000" prop:value=move || settings.get().length
                    on:change=move |ev| settings.update(|s| s.length = number(&ev, 300.0).clamp(1.0, 5000.0) as usize) /></label>
                <label data-control="temperature" hidden=controls.hides("temperature")>"Temperature"<input type="number" min="0" max="3" step="0.1" prop:value=move || format!("{:.2}", settings.get().sampling.temperature).trim_end_matches('0').trim_end_matches('.').to_string()
                    on:change=move |ev| settings.update(|s| s.sampling.temperature = number(&ev, 0.8).clamp(0.0, 3.0) as f32) /></label>
                <label data-control="top-k" hidden=controls.hides("top-k")>"Top-k (0: all)"<input type="number" min="0" max="100" prop:value=move || settings.get().sampling.top_k
                    on:change=move |ev| settings.update(|s| s.sampling.top_k = number(&ev, 0.0).clamp(0.0, 100.0) as usize) /></label>
                <label data-control="seed" hidden=controls.hides("seed")>"Seed"<input type="number" min="0" prop:value=move || settings.get().sampling.seed
                    on:change=move |ev| settings.update(|s| s.sampling.seed = number(&ev, 1.0).max(0.0) as u64) /></label>
            </div>
            <div class="buttons">
                <button id="generator-run" on:click=move |_| run() disabled=move || !loaded() || generating.get() || monitor.running.get()>"Generate"</button>
                <button id="generator-stop" on:click=move |_| stop.set(true) disabled=move || !generating.get()>"Stop"</button>
            </div>
            <pre id="generated" class="generated" aria-live="off" aria-label="Generated text"
                data-state=move || if generating.get() { "running" } else { "idle" }>
                <span class="prompt">{move || prompt.get().replace("\\n", "\n")}</span>{move || output.get()}
            </pre>
            <details class="fine-tune" data-control="fine-tune" hidden=controls.hides("fine-tune")>
                <summary>"Fine-tune on your own text"</summary>
                <label class="wide">"Text to learn from (a few thousand characters or more)"
                    <textarea id="generator-own-text" rows="6" prop:value=move || own_text.get()
                        on:input=move |ev| own_text.set(event_target_value(&ev))></textarea>
                </label>
                <TextUpload label="…or upload a text file" accept=".txt,.md,text/plain" into=own_text error=set_error />
                <label>"Epochs"<input type="number" min="1" max="50" prop:value=move || epochs.get()
                    on:change=move |ev| epochs.set(number(&ev, 2.0).clamp(1.0, 50.0) as usize) /></label>
                <button id="generator-train" on:click=train disabled=move || !loaded() || generating.get() || monitor.running.get()>
                    "Fine-tune, then generate"
                </button>
                <TrainingView monitor=monitor />
                <ol id="generator-samples" class="samples" aria-label="What the model writes after each epoch"
                    hidden=move || samples.with(Vec::is_empty)>
                    {move || samples.get().into_iter().enumerate().map(|(epoch, sample)| view! {
                        <li><b>{format!("After epoch {}", epoch + 1)}</b><pre class="generated">{sample}</pre></li>
                    }).collect_view()}
                </ol>
            </details>
            <p class="error" role="alert">{move || error.get()}</p>
        </section>
    }
}
