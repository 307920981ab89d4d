//! Digits: draw a digit, see it shrunk to the 8 × 8 grid of 0–16 ink counts
//! that the `digits-mlp` was trained on, and the model's probability for
//! each class. Teach it your handwriting with a few labelled drawings.

use leptos::prelude::*;
use leptos::task::spawn_local;
use neuroglow_core::data::{csv, Dataset};
use neuroglow_core::evaluation::ClassificationReport;
use neuroglow_core::{CpuBackend, Model, Tensor};
use wasm_bindgen::JsCast;
use web_sys::{CanvasRenderingContext2d, HtmlCanvasElement, PointerEvent};

use crate::controls::Controls;
use crate::files::fetch_text;
use crate::predict::predict_between_frames;
use crate::report::{Evaluation, ReportView, WORST_SHOWN};
use crate::slot::{ModelKind, ModelSlot};
use crate::training::{TrainingMonitor, TrainingView};

const PAD_SIZE: f64 = 280.0;
const STROKE: f64 = 24.0;
/// How far an arrow key moves the keyboard pen.
const PEN_STEP: f64 = 20.0;
/// The training images are 8 × 8 cells holding 0–16 (ink pixels per 4 × 4 block).
const GRID: usize = 8;
const FULL_CELL: f32 = 16.0;

/// This view's model.
pub fn slot() -> ModelSlot {
    ModelSlot::pretrained("digits-mlp")
}

/// The models this view can use.
pub const KIND: ModelKind =
    ModelKind { fits: fits_view, what: "a digit classifier (8 × 8 pixels in, 10 classes out)" };

/// Whether `model` can serve this view: 64 pixels in, 10 classes out.
pub fn fits_view(model: &Model<CpuBackend>) -> bool {
    model.input_shape() == [GRID * GRID] && model.output_shape() == [10]
}

fn context(canvas: &HtmlCanvasElement) -> Option<CanvasRenderingContext2d> {
    canvas.get_context("2d").ok().flatten()?.dyn_into().ok()
}

fn clear(canvas: &HtmlCanvasElement) {
    if let Some(ctx) = context(canvas) {
        ctx.set_fill_style_str("#fff");
        ctx.fill_rect(0.0, 0.0, PAD_SIZE, PAD_SIZE);
    }
}

/// The drawing as the training data was made (UCI's optdigits): the ink's
/// bounding square as a 32 × 32 black-and-white bitmap, then the count of
/// black pixels in each 4 × 4 block, 0–16. `None` when the pad is blank.
fn to_grid(canvas: &HtmlCanvasElement) -> Option<Vec<f32>> {
    let ctx = context(canvas)?;
    let (w, h) = (canvas.width() as usize, canvas.height() as usize);
    let pixels = ctx.get_image_data(0.0, 0.0, w as f64, h as f64).ok()?.data();
    let inked = |x: f32, y: f32| {
        x >= 0.0 && y >= 0.0 && (x as usize) < w && (y as usize) < h && pixels[(y as usize * w + x as usize) * 4] < 128
    };
    let (mut left, mut top, mut right, mut bottom) = (w, h, 0, 0);
    for y in 0..h {
        for x in 0..w {
            if inked(x as f32, y as f32) {
                (left, top, right, bottom) = (left.min(x), top.min(y), right.max(x), bottom.max(y));
            }
        }
    }
    if right < left {
        return None;
    }
    // The scanned digits span the bitmap's height but only about five of its
    // eight columns (the outer ones are almost never inked, and the model's
    // z-scoring magnifies ink there): frame the ink the same way, centred.
    let side = ((bottom - top + 1) as f32).max((right - left + 1) as f32 * 8.0 / 5.0);
    let (x0, y0) = ((left + right) as f32 / 2.0 - side / 2.0, (top + bottom) as f32 / 2.0 - side / 2.0);
    const BITMAP: usize = 32;
    let pixel = side / BITMAP as f32;
    let mut bitmap = [[false; BITMAP]; BITMAP];
    for (by, row) in bitmap.iter_mut().enumerate() {
        for (bx, on) in row.iter_mut().enumerate() {
            let at = |i: usize, t: f32| i as f32 * pixel + t * pixel;
            *on = [0.25, 0.75].iter().any(|&ty| [0.25, 0.75].iter().any(|&tx| inked(x0 + at(bx, tx), y0 + at(by, ty))));
        }
    }
    // Scanned pen strokes are thicker than a pointer's line at this scale.
    let thick = |x: usize, y: usize| {
        (y.saturating_sub(1)..=(y + 1).min(BITMAP - 1))
            .any(|yy| (x.saturating_sub(1)..=(x + 1).min(BITMAP - 1)).any(|xx| bitmap[yy][xx]))
    };
    let block = BITMAP / GRID;
    Some(
        (0..GRID * GRID)
            .map(|cell| {
                let (cy, cx) = (cell / GRID * block, cell % GRID * block);
                (0..block * block).filter(|i| thick(cx + i % block, cy + i / block)).count() as f32
            })
            .collect(),
    )
}

/// Draws the 8 × 8 grid the model sees.
fn draw_grid(canvas: &HtmlCanvasElement, grid: &[f32]) {
    let Some(ctx) = context(canvas) else { return };
    let cell = canvas.width() as f64 / GRID as f64;
    for (i, v) in grid.iter().enumerate() {
        let shade = 255 - (v / FULL_CELL * 255.0) as u8;
        ctx.set_fill_style_str(&format!("rgb({shade} {shade} {shade})"));
        ctx.fill_rect((i % GRID) as f64 * cell, (i / GRID) as f64 * cell, cell, cell);
    }
}

/// The model's probability for each digit.
async fn classify(model: ModelSlot, grid: &[f32]) -> Result<Vec<f32>, String> {
    let mut loaded = model.take()?;
    let result = async {
        let mut x = Tensor::new(vec![1, GRID * GRID], grid.to_vec()).map_err(|e| e.to_string())?;
        loaded.preprocess(&mut x).map_err(|e| e.to_string())?;
        Ok(loaded.predict(&x, 1).await.map_err(|e| e.to_string())?.data)
    }
    .await;
    model.put_back(loaded);
    result
}

/// Raw 0–16 pixels and class ids as the model trains on them (z-scored).
fn dataset(model: &Model<CpuBackend>, pixels: Vec<f32>, labels: Vec<f32>) -> Result<Dataset, String> {
    let rows = labels.len();
    let mut x = Tensor::new(vec![rows, GRID * GRID], pixels).map_err(|e| e.to_string())?;
    model.preprocess(&mut x).map_err(|e| e.to_string())?;
    let y = Tensor::new(vec![rows, 1], labels).map_err(|e| e.to_string())?;
    Dataset::new(x, y).map_err(|e| e.to_string())
}

/// The report card on the model's held-out test digits.
async fn evaluate_test_set(model: ModelSlot) -> Result<Evaluation, String> {
    let table = csv::parse(&fetch_text(&format!("{}test.csv", model.source_url())).await?, &Default::default())
        .map_err(|e| e.to_string())?;
    let what = format!("held-out test set ({} digits)", table.labels.rows());
    // On a copy, so the view keeps reading the drawing meanwhile.
    let mut copy = model.copy().await?;
    let data = dataset(&copy, table.features.data, table.labels.data)?;
    let p = predict_between_frames(&mut copy, &data.x, 128).await?;
    let report = ClassificationReport::new(&p, &data.y, WORST_SHOWN).map_err(|e| e.to_string())?;
    let names = (0..10).map(|d| d.to_string()).collect();
    Ok(Evaluation::new(what, report, names, |row| format!("test digit #{}", row + 1)))
}

/// Fine-tunes on the user's drawings.
async fn fine_tune(model: ModelSlot, examples: Vec<(Vec<f32>, usize)>, monitor: TrainingMonitor) -> Result<(), String> {
    if examples.len() < 2 {
        return Err("add at least two labelled drawings first".into());
    }
    let mut copy = model.copy().await?;
    copy.set_learning_rate(0.0005).map_err(|e| e.to_string())?;
    let labels = examples.iter().map(|(_, d)| *d as f32).collect();
    let data = dataset(&copy, examples.into_iter().flat_map(|(g, _)| g).collect(), labels)?;
    let trained = monitor.train(copy, &data, None, 15, 8).await?;
    model.adopt(&trained.weights).await?;
    trained.problem.map_or(Ok(()), Err)
}

#[component]
pub fn Digits(opened: Signal<bool>, model: ModelSlot) -> impl IntoView {
    let (error, set_error) = signal(None::<String>);
    let controls = Controls::current();
    let pad = NodeRef::<leptos::html::Canvas>::new();
    let preview = NodeRef::<leptos::html::Canvas>::new();
    let probabilities = RwSignal::new(Vec::<f32>::new());
    let grid = RwSignal::new(None::<Vec<f32>>);
    let drawing = RwSignal::new(false);
    let label = RwSignal::new(0usize);
    let examples = RwSignal::new(Vec::<(Vec<f32>, usize)>::new());
    let evaluation = RwSignal::new(None::<Evaluation>);
    let monitor = TrainingMonitor::new();
    model.load_when_opened(opened, set_error);
    let loaded = move || {
        model.version.track();
        model.is_loaded()
    };

    Effect::new(move |_| {
        if let Some(canvas) = pad.get() {
            clear(&canvas);
        }
    });
    let predict = move || {
        let Some(canvas) = pad.get_untracked() else { return };
        let shrunk = to_grid(&canvas);
        if let (Some(g), Some(p)) = (&shrunk, preview.get_untracked()) {
            draw_grid(&p, g);
        }
        grid.set(shrunk.clone());
        let Some(shrunk) = shrunk else { return probabilities.set(Vec::new()) };
        spawn_local(async move {
            match classify(model, &shrunk).await {
                Ok(p) => probabilities.set(p),
                Err(e) => set_error.set(Some(e)),
            }
        });
    };
    // Re-classify when the model changes (loaded, fine-tuned, imported).
    Effect::new(move |_| {
        if loaded() {
            predict();
        }
    });

    // Ink from the last point of the stroke (or, starting one, from here) to (x, y).
    let ink_to = move |x: f64, y: f64, start: bool| {
        let Some(ctx) = pad.get_untracked().and_then(|c| context(&c)) else { return };
        if start {
            ctx.begin_path();
            ctx.move_to(x, y);
        }
        ctx.set_line_width(STROKE);
        ctx.set_line_cap("round");
        ctx.set_line_join("round");
        ctx.set_stroke_style_str("#000");
        ctx.line_to(x, y);
        ctx.stroke();
    };
    let stroke = move |ev: PointerEvent, start: bool| {
        let Some(canvas) = pad.get_untracked() else { return };
        let scale = PAD_SIZE / canvas.get_bounding_client_rect().width().max(1.0);
        ink_to(ev.offset_x() as f64 * scale, ev.offset_y() as f64 * scale, start);
    };
    let clear_pad = move || {
        if let Some(c) = pad.get_untracked() {
            clear(&c)
        }
        grid.set(None);
        probabilities.set(Vec::new());
    };
    // The keyboard pen: arrows move it, Space lowers or lifts it, Delete clears.
    let pen = RwSignal::new((PAD_SIZE / 2.0, PAD_SIZE / 2.0));
    let pen_down = RwSignal::new(false);
    let on_key = move |ev: web_sys::KeyboardEvent| {
        let (x, y) = pen.get_untracked();
        let moved = match ev.key().as_str() {
            "ArrowLeft" => (x - PEN_STEP, y),
            "ArrowRight" => (x + PEN_STEP, y),
            "ArrowUp" => (x, y - PEN_STEP),
            "ArrowDown" => (x, y + PEN_STEP),
            " " => {
                ev.prevent_default();
                let down = !pen_down.get_untracked();
                pen_down.set(down);
                if down {
                    ink_to(x, y, true);
                    predict();
                }
                return;
            }
            "Delete" | "Backspace" => {
                ev.prevent_default();
                return clear_pad();
            }
            _ => return,
        };
        ev.prevent_default();
        let (nx, ny) = (moved.0.clamp(0.0, PAD_SIZE), moved.1.clamp(0.0, PAD_SIZE));
        pen.set((nx, ny));
        if pen_down.get_untracked() {
            ink_to(x, y, true);
            ink_to(nx, ny, false);
            predict();
        }
    };
    let best = move || probabilities.with(|p| p.iter().enumerate().max_by(|a, b| a.1.total_cmp(b.1)).map(|(d, _)| d));

    view! {
        <section class="view digits" aria-labelledby="digits-title">
            <h2 id="digits-title" hidden=controls.hides("title")>"Digits"</h2>
            <p class="hint" hidden=controls.hides("hint")>"Draw a digit. It is shrunk to 8 × 8 cells like the 1,797 scanned digits the MLP learned from."</p>
            <p class="status" hidden=move || loaded() || error.get().is_some()>"Loading the digits model…"</p>
            <div class="digits-row">
                <div class="pad">
                <canvas id="digit-pad" node_ref=pad width=PAD_SIZE height=PAD_SIZE tabindex="0"
                    aria-label="Drawing pad: draw a digit with the mouse, a pen or a finger; or with the keyboard: \
                        arrow keys move the pen, Space puts it down or lifts it, Delete clears"
                    aria-describedby="digit-probabilities"
                    on:keydown=on_key
                    on:pointerdown=move |ev| {
                        drawing.set(true);
                        stroke(ev, true);
                    }
                    on:pointermove=move |ev| if drawing.get_untracked() { stroke(ev, false) }
                    on:pointerup=move |_| { drawing.set(false); predict(); }
                    on:pointerleave=move |_| if drawing.get_untracked() { drawing.set(false); predict(); }
                ></canvas>
                <span class="pen" class:down=pen_down aria-hidden="true"
                    style:left=move || format!("{:.1}%", pen.get().0 / PAD_SIZE * 100.0)
                    style:top=move || format!("{:.1}%", pen.get().1 / PAD_SIZE * 100.0)></span>
                </div>
                <div>
                    <canvas node_ref=preview class="preview" width="80" height="80"
                        data-control="preview" hidden=controls.hides("preview")
                        aria-label="What the model sees: 8 × 8 cells"></canvas>
                    <button id="digit-clear" on:click=move |_| clear_pad()>"Clear"</button>
                </div>
                <ol id="digit-probabilities" class="bars" aria-label="Probability of each digit"
                    data-best=move || best().map(|d| d.to_string()).unwrap_or_default()>
                    {move || probabilities.get().into_iter().enumerate().map(|(d, p)| view! {
                        <li class:best=move || best() == Some(d)>
                            <span class="digit">{d}</span>
                            <span class="bar" style:width=format!("{:.1}%", p * 100.0)></span>
                            <span class="value">{format!("{:.0} %", p * 100.0)}</span>
                        </li>
                    }).collect_view()}
                </ol>
            </div>
            <details class="fine-tune" data-control="fine-tune" hidden=controls.hides("fine-tune")>
                <summary>"Teach it your handwriting"</summary>
                <div class="row">
                    <label>"This drawing is a"
                        <select on:change=move |ev| label.set(event_target_value(&ev).parse().unwrap_or(0))>
                            {(0..10).map(|d| view! { <option value=d.to_string()>{d}</option> }).collect_view()}
                        </select>
                    </label>
                    <button id="digit-add" disabled=move || grid.with(Option::is_none) on:click=move |_| {
                        if let Some(g) = grid.get_untracked() {
                            examples.update(|e| e.push((g, label.get_untracked())));
                        }
                    }>"Add example"</button>
                    <span>{move || format!("{} examples", examples.with(Vec::len))}</span>
                    <button id="digit-train" disabled=move || monitor.running.get() || examples.with(|e| e.len() < 2)
                        on:click=move |_| {
                            set_error.set(None);
                            spawn_local(async move {
                                if let Err(e) = fine_tune(model, examples.get_untracked(), monitor).await {
                                    set_error.set(Some(e));
                                }
                            });
                        }>"Train on my drawings"</button>
                </div>
                <TrainingView monitor=monitor />
            </details>
            <button id="digits-evaluate" data-control="evaluate" hidden=controls.hides("evaluate") disabled=move || !loaded() || monitor.running.get() on:click=move |_| {
                set_error.set(None);
                spawn_local(async move {
                    match evaluate_test_set(model).await {
                        Ok(e) => evaluation.set(Some(e)),
                        Err(e) => set_error.set(Some(e)),
                    }
                });
            }>"Evaluate on the held-out test set"</button>
            <p class="error" role="alert">{move || error.get()}</p>
            {move || evaluation.get().map(|e| view! { <ReportView evaluation=e /> })}
        </section>
    }
}
