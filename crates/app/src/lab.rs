//! The 2-D lab: pick a toy dataset and a network, press play, and watch the
//! decision boundary form and the loss fall. Training runs on WebGPU when the
//! browser offers it (else on the CPU, saying why), in short chunks (one epoch
//! each) that yield to the browser in between, so the page stays responsive.

use std::cell::{Cell, RefCell};
use std::ops::ControlFlow;

use leptos::prelude::*;
use leptos::task::spawn_local;
use neuroglow_core::data::{synthetic, Dataset};
use neuroglow_core::layers::{LayerConfig, LayerKind};
use neuroglow_core::optim::OptimizerConfig;
use neuroglow_core::{Activation, CpuBackend, FitOptions, LossKind, Model, ModelSpec};
use neuroglow_gpu::AutoModel;

use crate::backend::BackendState;
use crate::chart::LossChart;
use crate::heatmap;
use crate::runtime::{now_ms, yield_to_browser};

const POINTS: usize = 400;
const TEST_FRACTION: f32 = 0.5;
const BATCH_SIZE: usize = 10;

/// What the user chose; everything else follows from it.
#[derive(Clone, PartialEq)]
struct Settings {
    dataset: String,
    noise: f32,
    hidden: String,
    activation: Activation,
    learning_rate: f32,
    seed: u64,
}

/// The model and data being trained. Kept outside the reactive system: the
/// engine is not `Send`, and only this module's code touches it.
struct Session {
    model: AutoModel,
    train: Dataset,
    test: Dataset,
}

thread_local! {
    static SESSION: RefCell<Option<Session>> = const { RefCell::new(None) };
    /// Counts session rebuilds, so a slow one that finishes late is dropped.
    static GENERATION: Cell<u64> = const { Cell::new(0) };
}

fn make_dataset(s: &Settings) -> Dataset {
    let make = match s.dataset.as_str() {
        "xor" => synthetic::xor,
        "gaussian" => synthetic::gaussian,
        "spiral" => synthetic::spiral,
        _ => synthetic::circle,
    };
    make(POINTS, s.noise, s.seed)
}

fn parse_hidden(text: &str) -> Result<Vec<usize>, String> {
    text.split(',')
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map(|t| {
            t.parse::<usize>()
                .ok()
                .filter(|&n| (1..=256).contains(&n))
                .ok_or(format!("`{t}` is not a layer size from 1 to 256"))
        })
        .collect()
}

fn model_spec(s: &Settings, hidden: &[usize]) -> ModelSpec {
    let dense = |units, activation| LayerConfig {
        name: String::new(),
        trainable: true,
        kind: LayerKind::Dense { units, activation, use_bias: true, kernel_regularizer: None },
    };
    let mut layers: Vec<LayerConfig> = hidden.iter().map(|&u| dense(u, s.activation)).collect();
    layers.push(dense(1, Activation::Sigmoid));
    ModelSpec {
        name: "2-D lab".into(),
        optimizer: OptimizerConfig::adam(s.learning_rate),
        seed: s.seed,
        ..ModelSpec::new(vec![2], layers, LossKind::BinaryCrossentropy)
    }
}

async fn new_session(s: &Settings, backend: BackendState) -> Result<Session, String> {
    let hidden = parse_hidden(&s.hidden)?;
    let model = Model::new(model_spec(s, &hidden), CpuBackend::new()).map_err(|e| e.to_string())?;
    let model = backend.place(model).await?;
    let (train, test) = make_dataset(s).shuffle_split(TEST_FRACTION, s.seed).map_err(|e| e.to_string())?;
    Ok(Session { model, train, test })
}

/// Per-epoch numbers shown on the page.
#[derive(Clone, Copy)]
struct Progress {
    epoch: usize,
    train_loss: f32,
    test_loss: f32,
}

/// One epoch of training plus the test loss and the heatmap's predictions.
async fn train_epoch(session: &mut Session) -> Result<(f32, f32, Vec<f32>), String> {
    // Metrics are read back once per epoch: no GPU round trip per batch.
    let options = FitOptions {
        epochs: 1,
        batch_size: BATCH_SIZE,
        clock: now_ms,
        readback_every: usize::MAX,
        ..FitOptions::default()
    };
    let history = session.model.fit(&session.train, None, &options, &mut |_| ControlFlow::Continue(())).await;
    let train_loss = history.map_err(|e| e.to_string())?.epochs[0].loss;
    let test = session.model.evaluate(&session.test, 256).await.map_err(|e| e.to_string())?;
    let grid = session.model.predict(&heatmap::grid(), 400).await.map_err(|e| e.to_string())?;
    Ok((train_loss, test.loss, grid.data))
}

#[component]
pub fn Lab(opened: Signal<bool>) -> impl IntoView {
    let backend = BackendState::get();
    let (settings, set_settings) = signal(Settings {
        dataset: "circle".into(),
        noise: 0.0,
        hidden: "8, 8".into(),
        activation: Activation::Tanh,
        learning_rate: 0.03,
        seed: 1,
    });
    let (running, set_running) = signal(false);
    let (progress, set_progress) = signal(None::<Progress>);
    let (train_curve, set_train_curve) = signal(Vec::<f32>::new());
    let (test_curve, set_test_curve) = signal(Vec::<f32>::new());
    let (error, set_error) = signal(None::<String>);
    // False while a session is being built (opening the GPU takes a moment).
    let (ready, set_ready) = signal(false);
    let canvas = NodeRef::<leptos::html::Canvas>::new();

    let redraw = move |predictions: &[f32]| {
        if let Some(canvas) = canvas.get_untracked() {
            SESSION.with(|s| {
                if let Some(s) = s.borrow().as_ref() {
                    heatmap::draw(&canvas, predictions, &s.train, Some(&s.test));
                }
            });
        }
    };

    // Rebuild the session whenever the settings or the backend choice change
    // (once the view has been opened).
    Effect::new(move |_| {
        let s = settings.get();
        backend.choice.track();
        if !opened.get() {
            return;
        }
        set_running.set(false);
        set_progress.set(None);
        set_train_curve.set(Vec::new());
        set_test_curve.set(Vec::new());
        SESSION.with(|cell| *cell.borrow_mut() = None);
        set_ready.set(false);
        let generation = GENERATION.with(|g| g.replace(g.get() + 1) + 1);
        spawn_local(async move {
            let built = new_session(&s, backend).await;
            if GENERATION.with(Cell::get) != generation {
                return;
            }
            match built {
                Ok(mut session) => {
                    set_error.set(None);
                    let grid = session.model.predict(&heatmap::grid(), 400).await;
                    SESSION.with(|c| *c.borrow_mut() = Some(session));
                    set_ready.set(true);
                    if let Ok(grid) = grid {
                        redraw(&grid.data);
                    }
                }
                Err(message) => set_error.set(Some(message)),
            }
        });
    });

    let step = move || async move {
        // Take the session out while awaiting, so no borrow is held across a yield.
        let Some(mut session) = SESSION.with(|c| c.borrow_mut().take()) else { return false };
        let generation = GENERATION.with(Cell::get);
        let result = train_epoch(&mut session).await;
        if GENERATION.with(Cell::get) != generation {
            return false; // the settings changed meanwhile: this session is gone
        }
        SESSION.with(|c| *c.borrow_mut() = Some(session));
        match result {
            Ok((train_loss, test_loss, grid)) => {
                let epoch = progress.get_untracked().map_or(0, |p| p.epoch) + 1;
                set_progress.set(Some(Progress { epoch, train_loss, test_loss }));
                set_train_curve.update(|c| c.push(train_loss));
                set_test_curve.update(|c| c.push(test_loss));
                redraw(&grid);
                true
            }
            Err(message) => {
                set_error.set(Some(message));
                false
            }
        }
    };

    let play = move |_| {
        if running.get_untracked() {
            set_running.set(false);
            return;
        }
        set_running.set(true);
        spawn_local(async move {
            while running.get_untracked() && step().await {
                yield_to_browser().await;
            }
            set_running.set(false);
        });
    };

    // Notifying without a change re-runs the effect above: the same fresh model.
    let reset = move |_| set_settings.update(|_| ());
    let update = move |f: fn(&mut Settings, String)| move |ev| set_settings.update(|s| f(s, event_target_value(&ev)));
    let fmt_loss = |v: Option<f32>| v.map_or("–".to_string(), |v| format!("{v:.3}"));

    view! {
        <section class="view lab" aria-labelledby="lab-title">
            <h2 id="lab-title" class="visually-hidden">"2-D lab"</h2>
            <section class="controls" aria-label="Data and network">
                <label>"Dataset"
                    <select on:change=update(|s, v| s.dataset = v)>
                        <option value="circle">"Circle"</option>
                        <option value="xor">"Exclusive or"</option>
                        <option value="gaussian">"Gaussian"</option>
                        <option value="spiral">"Spiral"</option>
                    </select>
                </label>
                <label>"Noise"
                    <input type="range" min="0" max="0.5" step="0.05" prop:value=move || settings.with(|s| s.noise)
                        on:change=update(|s, v| s.noise = v.parse().unwrap_or(0.0)) />
                </label>
                <label>"Hidden layers"
                    <input type="text" prop:value=move || settings.with(|s| s.hidden.clone())
                        on:change=update(|s, v| s.hidden = v) />
                </label>
                <label>"Activation"
                    <select on:change=update(|s, v| s.activation = match v.as_str() {
                        "relu" => Activation::Relu, "sigmoid" => Activation::Sigmoid, "linear" => Activation::Linear, _ => Activation::Tanh })>
                        <option value="tanh">"Tanh"</option>
                        <option value="relu">"ReLU"</option>
                        <option value="sigmoid">"Sigmoid"</option>
                        <option value="linear">"Linear"</option>
                    </select>
                </label>
                <label>"Learning rate"
                    <select on:change=update(|s, v| s.learning_rate = v.parse().unwrap_or(0.03))>
                        <option value="0.003">"0.003"</option>
                        <option value="0.01">"0.01"</option>
                        <option value="0.03" selected>"0.03"</option>
                        <option value="0.1">"0.1"</option>
                    </select>
                </label>
                <div class="buttons">
                    <button id="play" disabled=move || !ready.get() on:click=play aria-pressed=move || running.get().to_string()>
                        {move || if running.get() { "Pause" } else { "Train" }}
                    </button>
                    <button id="step" disabled=move || running.get() || !ready.get() on:click=move |_| spawn_local(async move { step().await; })>"Step"</button>
                    <button id="reset" on:click=reset>"Reset"</button>
                </div>
                <p class="error" role="alert">{move || error.get()}</p>
            </section>
            <section class="output" aria-label="Model output">
                <canvas node_ref=canvas width="400" height="400" aria-label="Model output over the plane with training (white outline) and test (black outline) points"></canvas>
                <div id="stats"
                    data-epoch=move || progress.get().map_or(0, |p| p.epoch)
                    data-train-loss=move || progress.get().map_or(String::new(), |p| p.train_loss.to_string())
                    data-test-loss=move || progress.get().map_or(String::new(), |p| p.test_loss.to_string())>
                    <span>"Epoch "<b>{move || progress.get().map_or(0, |p| p.epoch)}</b></span>
                    <span>"Training loss "<b>{move || fmt_loss(progress.get().map(|p| p.train_loss))}</b></span>
                    <span>"Test loss "<b>{move || fmt_loss(progress.get().map(|p| p.test_loss))}</b></span>
                </div>
                <LossChart train=train_curve test=test_curve label="Loss per epoch: training in blue, test in orange" />
            </section>
        </section>
    }
}
