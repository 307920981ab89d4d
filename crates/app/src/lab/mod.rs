//! The 2-D lab: pick a toy dataset and a network, press play, and watch the
//! decision boundary form and the loss fall. Training runs on WebGPU when the
//! browser offers it (else on the CPU, saying why), in short chunks (one epoch
//! each) that yield to the browser in between, so the page stays responsive.

mod address;
mod network;
mod settings;

use std::ops::ControlFlow;

use leptos::prelude::*;
use leptos::task::spawn_local;
use neuroglow_core::data::features::Feature;
use neuroglow_core::data::Dataset;
use neuroglow_core::{Activation, CpuBackend, FitOptions, Model, Tensor};
use neuroglow_gpu::AutoModel;

use crate::backend::BackendState;
use crate::chart::LossChart;
use crate::controls::Controls;
use crate::heatmap;
use crate::runtime::{now_ms, yield_to_browser};
use address::{LabState, Source, BATCH_SIZE, LEARNING_RATES, NOISE, PENALTY_RATES, TRAIN_SHARE};
use network::{NetworkView, Neuron, Picture, WeightChoice};
use settings::{name_of, named, OptimizerChoice, Penalty, Settings, DATASETS};

/// The model and data being trained. Kept in local storage: the engine is
/// not `Send`, and only this module's code touches it.
struct Session {
    model: AutoModel,
    /// What the network trains and is tested on (the chosen features).
    train: Dataset,
    test: Dataset,
    /// The same examples as points of the plane, to draw.
    train_points: Dataset,
    test_points: Dataset,
    /// The heatmap's cells as network inputs.
    grid: Tensor,
    /// The input features' names, for the network diagram.
    names: Vec<String>,
}

async fn new_session(s: &Settings, backend: BackendState) -> Result<Session, String> {
    let model = Model::new(s.model_spec()?, CpuBackend::new()).map_err(|e| e.to_string())?;
    let model = backend.place(model).await?;
    let (train_points, test_points) = s.points()?;
    let features = |points: &Dataset| Dataset::new(s.inputs(&points.x), points.y.clone()).map_err(|e| e.to_string());
    Ok(Session {
        model,
        train: features(&train_points)?,
        test: features(&test_points)?,
        grid: s.inputs(&heatmap::grid()),
        names: s.features.iter().map(|f| f.label().to_string()).collect(),
        train_points,
        test_points,
    })
}

/// Per-epoch numbers shown on the page.
#[derive(Clone, Copy)]
struct Progress {
    epoch: usize,
    train_loss: f32,
    test_loss: f32,
}

/// What the model makes of the plane: its output over the heatmap's grid,
/// and the network diagram (`None` for networks too large to draw), from
/// one forward pass.
async fn look(session: &mut Session) -> Result<(Vec<f32>, Option<Picture>), String> {
    let model = &mut session.model;
    let weights = model.weights().await.map_err(|e| e.to_string())?;
    if !network::drawable(&weights) {
        let grid = model.predict(&session.grid, 400).await.map_err(|e| e.to_string())?;
        return Ok((grid.data, None));
    }
    let mut outputs = model.predict_layers(&session.grid, session.grid.rows()).await.map_err(|e| e.to_string())?;
    let picture = network::picture(model.spec(), &weights, &session.grid, &outputs, session.names.clone());
    Ok((outputs.pop().expect("a model has layers").data, Some(picture)))
}

/// Gives one weight a new value.
async fn set_weight(session: &mut Session, choice: &WeightChoice, value: f32) -> Result<(), String> {
    let mut weights = session.model.weights().await.map_err(|e| e.to_string())?;
    let (_, kernel) =
        weights.iter_mut().find(|(n, _)| *n == choice.kernel).ok_or("the network changed; pick the weight again")?;
    let units = kernel.shape[1];
    kernel.data[choice.from.index * units + choice.to.index] = value;
    session.model.set_weights(&weights).await.map_err(|e| e.to_string())
}

/// One epoch of training, then the test loss and a new look at the plane.
async fn train_epoch(
    session: &mut Session,
    batch_size: usize,
) -> Result<(f32, f32, Vec<f32>, Option<Picture>), String> {
    // Metrics are read back once per epoch: no GPU round trip per batch.
    let options =
        FitOptions { epochs: 1, batch_size, clock: now_ms, readback_every: usize::MAX, ..FitOptions::default() };
    let history = session.model.fit(&session.train, None, &options, &mut |_| ControlFlow::Continue(())).await;
    let train_loss = history.map_err(|e| e.to_string())?.epochs[0].loss;
    yield_to_browser().await;
    let test = session.model.evaluate(&session.test, 256).await.map_err(|e| e.to_string())?;
    let (grid, picture) = look(session).await?;
    Ok((train_loss, test.loss, grid, picture))
}

/// The lab. Its setup comes from `setup` (a lab link, for an embedded lab)
/// or else from the page's address, which then follows every change.
#[component]
pub fn Lab(opened: Signal<bool>, #[prop(optional)] setup: Option<String>) -> impl IntoView {
    let backend = BackendState::get();
    let controls = Controls::current();
    let in_address = setup.is_none();
    let source = setup.as_deref().map_or(Source::Address, Source::link);
    let LabState { settings, display } = source.read();
    let (settings, set_settings) = signal(settings);
    let display = RwSignal::new(display);
    let session = StoredValue::new_local(None::<Session>);
    // Counts session rebuilds, so a slow one that finishes late is dropped.
    let generation = StoredValue::new(0u64);
    let current = move || generation.try_get_value().unwrap_or_default();
    let (running, set_running) = signal(false);
    let (progress, set_progress) = signal(None::<Progress>);
    let (train_curve, set_train_curve) = signal(Vec::<f32>::new());
    let (test_curve, set_test_curve) = signal(Vec::<f32>::new());
    let (error, set_error) = signal(None::<String>);
    // False while a session is being built (opening the GPU takes a moment).
    let (ready, set_ready) = signal(false);
    // The model's output over the plane, as last computed.
    let output = RwSignal::new(Vec::<f32>::new());
    let canvas = NodeRef::<leptos::html::Canvas>::new();
    // The network diagram, the neuron under the pointer, the weight being changed.
    let picture = RwSignal::new(None::<Picture>);
    let hovered = RwSignal::new(None::<Neuron>);
    let chosen = RwSignal::new(None::<WeightChoice>);
    // Whether there is a diagram (a memo: the diagram is built once, then updated in place).
    let drawn = Memo::new(move |_| picture.with(Option::is_some));
    let output_style = Signal::derive(move || heatmap::Style {
        regression: settings.with(Settings::is_regression),
        discretize: display.with(|d| d.discretize),
    });

    // Draw the output (or the neuron under the pointer, large) whenever it
    // or the display options change.
    Effect::new(move |_| {
        let (predictions, display, style) = (output.get(), display.get(), output_style.get());
        let Some(canvas) = canvas.get() else { return };
        let neuron = hovered.get().and_then(|n| {
            picture.with(|p| {
                let p = p.as_ref()?;
                let map = p.maps.get(n.column)?.get(n.index)?.clone();
                let is_output = n.column == p.maps.len() - 1;
                Some((map, if is_output { style } else { heatmap::Style { regression: true, discretize: false } }))
            })
        });
        let (values, style) = neuron.unwrap_or((predictions, style));
        session.with_value(|s| {
            if let Some(s) = s {
                let test = display.show_test.then_some(&s.test_points);
                heatmap::draw(&canvas, &values, style, &s.train_points, test);
            }
        });
    });

    let change_weight = move |value: f32| {
        let Some(choice) = chosen.get_untracked() else { return };
        let Some(mut taken) = session.try_update_value(Option::take).flatten() else {
            return set_error.set(Some("the network is training: pause it to change a weight".into()));
        };
        spawn_local(async move {
            let result = async {
                set_weight(&mut taken, &choice, value).await?;
                look(&mut taken).await
            }
            .await;
            session.try_set_value(Some(taken));
            match result {
                Ok((grid, drawn)) => {
                    chosen.set(None);
                    output.set(grid);
                    picture.set(drawn);
                }
                Err(e) => set_error.set(Some(e)),
            }
        });
    };

    // Keep the address in step with the settings, so a link reproduces the run.
    Effect::new(move |first: Option<()>| {
        let state = LabState { settings: settings.get(), display: display.get() };
        if first.is_some() && in_address {
            state.write_address();
        }
    });

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
        session.set_value(None);
        set_ready.set(false);
        generation.update_value(|g| *g += 1);
        let built_for = current();
        spawn_local(async move {
            let built = new_session(&s, backend).await;
            if current() != built_for {
                return;
            }
            match built {
                Ok(mut built) => {
                    set_error.set(None);
                    let looked = look(&mut built).await;
                    session.try_set_value(Some(built));
                    set_ready.set(true);
                    match looked {
                        Ok((grid, drawn)) => {
                            output.set(grid);
                            picture.set(drawn);
                        }
                        Err(e) => set_error.set(Some(e)),
                    }
                }
                Err(message) => set_error.set(Some(message)),
            }
        });
    });

    let step = move || async move {
        // Take the session out while awaiting, so no borrow is held across a yield.
        let Some(mut taken) = session.try_update_value(Option::take).flatten() else { return false };
        let trained_for = current();
        let result = train_epoch(&mut taken, settings.get_untracked().batch_size).await;
        // Each signal set below redraws part of the page at once: the curves,
        // the output heatmap and the network's neuron maps each get a task of
        // their own, so that the page stays responsive.
        yield_to_browser().await;
        if current() != trained_for {
            return false; // the settings changed meanwhile (or the lab is gone): this session is done
        }
        session.set_value(Some(taken));
        let still_current = || async move {
            yield_to_browser().await;
            current() == trained_for
        };
        match result {
            Ok((train_loss, test_loss, grid, drawn)) => {
                let epoch = progress.get_untracked().map_or(0, |p| p.epoch) + 1;
                set_progress.set(Some(Progress { epoch, train_loss, test_loss }));
                set_train_curve.update(|c| c.push(train_loss));
                set_test_curve.update(|c| c.push(test_loss));
                if still_current().await {
                    output.set(grid);
                }
                if still_current().await {
                    picture.set(drawn);
                }
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
            while running.try_get_untracked().unwrap_or(false) && step().await {
                yield_to_browser().await;
            }
            set_running.set(false);
        });
    };

    // Notifying without a change re-runs the effect above: the same fresh model.
    let reset = move |_| set_settings.update(|_| ());
    let update = move |f: fn(&mut Settings, String)| move |ev| set_settings.update(|s| f(s, event_target_value(&ev)));
    let fmt_loss = |v: Option<f32>| v.map_or("–".to_string(), |v| format!("{v:.3}"));
    let toggle_feature = move |f: Feature| {
        set_settings.update(|s| {
            if s.features.contains(&f) {
                if s.features.len() > 1 {
                    s.features.retain(|g| *g != f);
                }
            } else {
                s.features = Feature::ALL.into_iter().filter(|g| *g == f || s.features.contains(g)).collect();
            }
        })
    };
    let change_layers = move |grow: bool| {
        set_settings.update(|s| {
            let mut sizes: Vec<String> =
                s.hidden.split(',').map(|t| t.trim().to_string()).filter(|t| !t.is_empty()).collect();
            if grow && sizes.len() < settings::MAX_LAYERS {
                sizes.push(sizes.last().cloned().unwrap_or_else(|| "4".into()));
            } else if !grow {
                sizes.pop();
            }
            s.hidden = sizes.join(", ");
        })
    };
    let selected = move |value: String| move || settings.with(|s| s.dataset == value);

    view! {
        <section class="view lab" aria-labelledby="lab-title">
            <h2 id="lab-title" class="visually-hidden">"2-D lab"</h2>
            <section class="controls" aria-label="Data">
                <label data-control="dataset" hidden=controls.hides("dataset")>"Dataset"
                    <select on:change=update(|s, v| s.dataset = v)>
                        {DATASETS.iter().map(|(id, title)| view! {
                            <option value=*id selected=selected(id.to_string())>{*title}</option>
                        }).collect_view()}
                    </select>
                </label>
                <label data-control="noise" hidden=controls.hides("noise")>{move || format!("Noise {:.2}", settings.with(|s| s.noise))}
                    <input type="range" min=NOISE.min max=NOISE.max step=NOISE.step prop:value=move || settings.with(|s| s.noise)
                        on:change=update(|s, v| s.noise = v.parse().unwrap_or(0.0)) />
                </label>
                <label data-control="train-share" hidden=controls.hides("train-share")>{move || format!("Training share {:.0} %", settings.with(|s| s.train_share * 100.0))}
                    <input type="range" min=TRAIN_SHARE.min max=TRAIN_SHARE.max step=TRAIN_SHARE.step prop:value=move || settings.with(|s| s.train_share)
                        on:change=update(|s, v| s.train_share = v.parse().unwrap_or(0.5)) />
                </label>
                <label data-control="batch-size" hidden=controls.hides("batch-size")>{move || format!("Batch size {}", settings.with(|s| s.batch_size))}
                    <input type="range" min=BATCH_SIZE.min max=BATCH_SIZE.max step=BATCH_SIZE.step prop:value=move || settings.with(|s| s.batch_size)
                        on:change=update(|s, v| s.batch_size = v.parse().unwrap_or(10)) />
                </label>
                <label data-control="seed" hidden=controls.hides("seed")>"Seed"
                    <input type="number" min="0" prop:value=move || settings.with(|s| s.seed)
                        on:change=update(|s, v| s.seed = v.parse().unwrap_or(1)) />
                </label>
                <button data-control="regenerate" hidden=controls.hides("regenerate") id="regenerate" on:click=move |_| set_settings.update(|s| s.seed += 1)>"New data (next seed)"</button>
                <fieldset data-control="features" hidden=controls.hides("features") class="features">
                    <legend>"Input features"</legend>
                    {Feature::ALL.into_iter().map(|f| view! {
                        <button class="feature" aria-pressed=move || settings.with(|s| s.features.contains(&f)).to_string()
                            on:click=move |_| toggle_feature(f)>{f.label()}</button>
                    }).collect_view()}
                </fieldset>
            </section>
            <section class="controls" aria-label="Network and training">
                <label data-control="layers" hidden=controls.hides("layers")>"Hidden layers (neurons per layer)"
                    <input id="hidden" type="text" prop:value=move || settings.with(|s| s.hidden.clone())
                        on:change=update(|s, v| s.hidden = v) />
                </label>
                <div data-control="layers" hidden=controls.hides("layers") class="buttons">
                    <button on:click=move |_| change_layers(true) aria-label="Add a hidden layer">"+ layer"</button>
                    <button on:click=move |_| change_layers(false) aria-label="Remove the last hidden layer">"− layer"</button>
                </div>
                <label data-control="activation" hidden=controls.hides("activation")>"Activation"
                    <select on:change=update(|s, v| s.activation = named(&v).unwrap_or(Activation::Tanh))
                        prop:value=move || settings.with(|s| name_of(&s.activation))>
                        <option value="tanh">"Tanh"</option>
                        <option value="relu">"ReLU"</option>
                        <option value="sigmoid">"Sigmoid"</option>
                        <option value="linear">"Linear"</option>
                    </select>
                </label>
                <label data-control="optimizer" hidden=controls.hides("optimizer")>"Optimizer"
                    <select on:change=update(|s, v| s.optimizer = named(&v).unwrap_or(OptimizerChoice::Adam))
                        prop:value=move || settings.with(|s| name_of(&s.optimizer))>
                        <option value="adam">"Adam"</option>
                        <option value="sgd">"Gradient descent (SGD)"</option>
                    </select>
                </label>
                <label data-control="learning-rate" hidden=controls.hides("learning-rate")>"Learning rate"
                    <select on:change=update(|s, v| s.learning_rate = v.parse().unwrap_or(0.03))
                        prop:value=move || settings.with(|s| s.learning_rate.to_string())>
                        {LEARNING_RATES.map(|r| view! { <option value=r>{r}</option> }).collect_view()}
                    </select>
                </label>
                <label data-control="regularization" hidden=controls.hides("regularization")>"Regularization"
                    <select on:change=update(|s, v| s.penalty = named(&v).unwrap_or(Penalty::None))
                        prop:value=move || settings.with(|s| name_of(&s.penalty))>
                        <option value="none">"None"</option>
                        <option value="l1">"L1"</option>
                        <option value="l2">"L2"</option>
                    </select>
                </label>
                <label data-control="regularization-rate" hidden=controls.hides("regularization-rate")>"Regularization rate"
                    <select on:change=update(|s, v| s.penalty_rate = v.parse().unwrap_or(0.001))
                        prop:value=move || settings.with(|s| s.penalty_rate.to_string())>
                        {PENALTY_RATES.map(|r| view! { <option value=r>{r}</option> }).collect_view()}
                    </select>
                </label>
                <p data-control="problem" hidden=controls.hides("problem") class="hint">{move || if settings.with(Settings::is_regression) {
                    "Regression: linear output, mean squared error"
                } else {
                    "Classification: sigmoid output, binary cross-entropy"
                }}</p>
                <div class="buttons">
                    <button id="play" disabled=move || !ready.get() on:click=play aria-pressed=move || running.get().to_string()>
                        {move || if running.get() { "Pause" } else { "Train" }}
                    </button>
                    <button data-control="step" hidden=controls.hides("step") id="step" disabled=move || running.get() || !ready.get() on:click=move |_| spawn_local(async move { step().await; })>"Step"</button>
                    <button data-control="reset" hidden=controls.hides("reset") id="reset" on:click=reset>"Reset"</button>
                </div>
                <p class="error" role="alert">{move || error.get()}</p>
            </section>
            <section class="diagram" aria-label="The network" data-control="network" hidden=controls.hides("network")>
                {move || match drawn.get() {
                    true => view! {
                        <NetworkView picture=picture output_style=output_style hovered=hovered chosen=chosen />
                    }.into_any(),
                    false => view! {
                        <p class="hint">{move || if ready.get() {
                            format!("Networks of more than {} weights are trained but not drawn.", network::MAX_WEIGHTS)
                        } else {
                            String::new()
                        }}</p>
                    }.into_any(),
                }}
                {move || chosen.get().map(|choice| {
                    let typed = RwSignal::new(choice.value.to_string());
                    let set = move |_| match typed.get_untracked().trim().parse::<f32>() {
                        Ok(v) if v.is_finite() => change_weight(v),
                        _ => set_error.set(Some("a weight must be a number".into())),
                    };
                    view! {
                        <div class="weight-edit">
                            <label>{format!("Weight {}", choice.label)}
                                <input id="weight-value" type="number" step="0.1" prop:value=move || typed.get()
                                    on:input=move |ev| typed.set(event_target_value(&ev)) />
                            </label>
                            <div class="buttons">
                                <button id="weight-set" on:click=set>"Set"</button>
                                <button on:click=move |_| chosen.set(None)>"Cancel"</button>
                            </div>
                        </div>
                    }
                })}
            </section>
            <section class="output" aria-label="Model output">
                <canvas node_ref=canvas width="400" height="400" aria-label="Model output over the plane with training (white outline) and test (black outline) points"></canvas>
                <div data-control="display" hidden=controls.hides("display") class="row">
                    <label class="inline"><input type="checkbox" prop:checked=move || display.get().show_test
                        on:change=move |ev| display.update(|d| d.show_test = event_target_checked(&ev)) />"Show test data"</label>
                    <label class="inline"><input type="checkbox" prop:checked=move || display.get().discretize
                        on:change=move |ev| display.update(|d| d.discretize = event_target_checked(&ev)) />"Discretize output"</label>
                </div>
                <div data-control="stats" hidden=controls.hides("stats") id="stats"
                    data-epoch=move || progress.get().map_or(0, |p| p.epoch)
                    data-train-loss=move || progress.get().map_or(String::new(), |p| p.train_loss.to_string())
                    data-test-loss=move || progress.get().map_or(String::new(), |p| p.test_loss.to_string())>
                    <span>"Epoch "<b>{move || progress.get().map_or(0, |p| p.epoch)}</b></span>
                    <span>"Training loss "<b>{move || fmt_loss(progress.get().map(|p| p.train_loss))}</b></span>
                    <span>"Test loss "<b>{move || fmt_loss(progress.get().map(|p| p.test_loss))}</b></span>
                </div>
                <div data-control="chart" hidden=controls.hides("chart")>
                    <LossChart train=train_curve test=test_curve label="Loss per epoch: training in blue, test in orange" />
                </div>
            </section>
        </section>
    }
}
