//! The network drawn as TensorFlow Playground draws it: a column per layer,
//! each neuron a small map of its output over the plane, and a link per
//! weight, blue for positive and orange for negative, as thick as it is
//! large. Hover a neuron to see it large; hover a link to read its weight,
//! click it to change it.

use leptos::prelude::*;
use neuroglow_core::{CpuBackend, LossKind, Model, ModelSpec, Tensor};
use neuroglow_gpu::AutoModel;

use crate::heatmap::{self, Style};

/// Neurons drawn per layer; wider layers say how many more they have.
pub const SHOWN: usize = 10;
/// Networks with more weights are not drawn: the maps would cost more than
/// the training each epoch.
pub const MAX_WEIGHTS: usize = 10_000;

const COLUMN: f64 = 96.0;
const ROW: f64 = 48.0;
const NODE: f64 = 36.0;

/// A neuron: its column (0 for the inputs) and its place in it.
#[derive(Clone, Copy, PartialEq, Debug)]
pub struct Neuron {
    pub column: usize,
    pub index: usize,
}

/// One weight the user picked to change.
#[derive(Clone, PartialEq, Debug)]
pub struct WeightChoice {
    /// The kernel's name among the model's weights, e.g. `dense_1/kernel`.
    pub kernel: String,
    pub from: Neuron,
    pub to: Neuron,
    pub value: f32,
    pub label: String,
}

/// What the diagram shows, computed after each epoch.
#[derive(Clone, PartialEq, Debug)]
pub struct Picture {
    /// Per column, per neuron: its output over the heatmap's grid, scaled
    /// into `[-1, 1]` (the last column is the model's output as it is).
    pub maps: Vec<Vec<Vec<f32>>>,
    /// Neurons per column (maps are kept for the first [`SHOWN`] only).
    pub widths: Vec<usize>,
    /// Per layer: its kernel's name and values, `[inputs, units]`.
    pub kernels: Vec<(String, Tensor)>,
    pub names: Vec<String>,
}

impl Picture {
    fn label(&self, neuron: Neuron) -> String {
        if neuron.column == 0 {
            self.names.get(neuron.index).cloned().unwrap_or_default()
        } else if neuron.column == self.widths.len() - 1 {
            "the output".into()
        } else {
            format!("neuron {} of layer {}", neuron.index + 1, neuron.column)
        }
    }
}

/// Scales `values` by their largest magnitude, into `[-1, 1]`.
fn scaled(values: Vec<f32>) -> Vec<f32> {
    let top = values.iter().fold(1e-6f32, |m, v| m.max(v.abs()));
    values.into_iter().map(|v| v / top).collect()
}

/// The columns of a `[rows, width]` tensor, the first [`SHOWN`] of them.
fn columns(t: &Tensor) -> Vec<Vec<f32>> {
    let width = t.shape[1];
    (0..width.min(SHOWN)).map(|c| (0..t.shape[0]).map(|r| t.data[r * width + c]).collect()).collect()
}

/// The maps and weights of `model` over `grid` (the grid's points as the
/// network's inputs), named by `names`; `None` when the network is too
/// large to draw.
pub async fn picture(model: &mut AutoModel, grid: &Tensor, names: Vec<String>) -> Result<Option<Picture>, String> {
    let weights = model.weights().await.map_err(|e| e.to_string())?;
    if weights.iter().map(|(_, t)| t.data.len()).sum::<usize>() > MAX_WEIGHTS {
        return Ok(None);
    }
    let spec = model.spec().clone();
    let mut maps = vec![columns(grid).into_iter().map(scaled).collect::<Vec<_>>()];
    let mut widths = vec![grid.shape[1]];
    let mut kernels = Vec::new();
    // Each layer's output: the model cut after that layer, on the CPU.
    for end in 1..=spec.layers.len() {
        let cut = ModelSpec::new(spec.input_shape.clone(), spec.layers[..end].to_vec(), LossKind::MeanSquaredError);
        let mut cut = Model::new(cut, CpuBackend::new()).map_err(|e| e.to_string())?;
        let own: Vec<(String, Tensor)> =
            weights.iter().filter(|(n, _)| cut.weight_shapes().iter().any(|(m, _)| m == n)).cloned().collect();
        cut.set_weights(&own).map_err(|e| e.to_string())?;
        let out = cut.predict(grid, grid.shape[0]).await.map_err(|e| e.to_string())?;
        let is_output = end == spec.layers.len();
        maps.push(columns(&out).into_iter().map(|m| if is_output { m } else { scaled(m) }).collect());
        widths.push(out.shape[1]);
        let kernel = format!("{}/kernel", spec.layers[end - 1].name);
        if let Some(k) = weights.iter().find(|(n, _)| *n == kernel) {
            kernels.push(k.clone());
        }
    }
    Ok(Some(Picture { maps, widths, kernels, names }))
}

fn node_position(neuron: Neuron) -> (f64, f64) {
    (neuron.column as f64 * COLUMN, neuron.index as f64 * ROW)
}

/// A neuron's map, redrawn when its values change.
#[component]
fn NeuronMap(values: Vec<f32>, style: Style) -> impl IntoView {
    let canvas = NodeRef::<leptos::html::Canvas>::new();
    Effect::new(move |_| {
        if let Some(canvas) = canvas.get() {
            heatmap::draw_small_map(&canvas, &values, style);
        }
    });
    view! { <canvas node_ref=canvas width=heatmap::CELLS height=heatmap::CELLS></canvas> }
}

/// The diagram. `output_style` colours the last column (the model's output);
/// `hovered` is the neuron shown large; `chosen` the weight being changed.
#[component]
pub fn NetworkView(
    picture: RwSignal<Option<Picture>>,
    output_style: Signal<Style>,
    hovered: RwSignal<Option<Neuron>>,
    chosen: RwSignal<Option<WeightChoice>>,
) -> impl IntoView {
    let hidden_style = Style { regression: true, discretize: false };
    let links = move || {
        picture.with(|p| {
            let Some(p) = p else { return Vec::new() };
            let mut lines = Vec::new();
            for (layer, (name, kernel)) in p.kernels.iter().enumerate() {
                let units = kernel.shape[1];
                for from in 0..kernel.shape[0].min(SHOWN) {
                    for to in 0..units.min(SHOWN) {
                        let value = kernel.data[from * units + to];
                        let (from, to) =
                            (Neuron { column: layer, index: from }, Neuron { column: layer + 1, index: to });
                        let label = format!("{} → {}", p.label(from), p.label(to));
                        lines.push(WeightChoice { kernel: name.clone(), from, to, value, label });
                    }
                }
            }
            lines
        })
    };
    let size = move || {
        picture.with(|p| {
            p.as_ref().map_or((0.0, 0.0), |p| {
                let rows = p.widths.iter().map(|w| (*w).min(SHOWN)).max().unwrap_or(1);
                ((p.widths.len() - 1) as f64 * COLUMN + NODE, rows as f64 * ROW + 16.0)
            })
        })
    };
    view! {
        <div class="network" style:width=move || format!("{}px", size().0) style:height=move || format!("{}px", size().1)>
            <svg class="links" width=move || size().0 height=move || size().1 role="img"
                aria-label="Weights: blue positive, orange negative, thicker for larger; click one to change it">
                {move || links().into_iter().map(|link| {
                    let ((x1, y1), (x2, y2)) = (node_position(link.from), node_position(link.to));
                    let (pick, pick_by_key) = (link.clone(), link.clone());
                    view! {
                        <line x1=x1 + NODE y1=y1 + NODE / 2.0 x2=x2 y2=y2 + NODE / 2.0
                            class={if link.value >= 0.0 { "positive" } else { "negative" }}
                            stroke-width=(link.value.abs() * 2.0).clamp(0.5, 6.0) tabindex="0"
                            on:click=move |_| chosen.set(Some(pick.clone()))
                            on:keydown=move |ev| if ev.key() == "Enter" || ev.key() == " " {
                                ev.prevent_default();
                                chosen.set(Some(pick_by_key.clone()));
                            }>
                            <title>{format!("{}: weight {:.3}", link.label, link.value)}</title>
                        </line>
                    }
                }).collect_view()}
            </svg>
            {move || picture.get().map(|p| {
                let last = p.maps.len() - 1;
                p.maps.iter().enumerate().flat_map(|(column, maps)| {
                    let p = p.clone();
                    maps.iter().enumerate().map(move |(index, values)| {
                        let neuron = Neuron { column, index };
                        let (x, y) = node_position(neuron);
                        let style = if column == last { output_style.get_untracked() } else { hidden_style };
                        view! {
                            <div class="neuron" style:left=format!("{x}px") style:top=format!("{y}px")
                                title=p.label(neuron) tabindex="0"
                                on:mouseenter=move |_| hovered.set(Some(neuron))
                                on:mouseleave=move |_| hovered.set(None)
                                on:focus=move |_| hovered.set(Some(neuron))
                                on:blur=move |_| hovered.set(None)>
                                <NeuronMap values=values.clone() style=style />
                            </div>
                        }
                    }).collect::<Vec<_>>()
                }).collect_view()
            })}
            {move || picture.with(|p| p.as_ref().map(|p| p.widths.iter().enumerate().filter(|(_, w)| **w > SHOWN).map(|(column, w)| {
                let (x, y) = node_position(Neuron { column, index: SHOWN });
                view! { <span class="more" style:left=format!("{x}px") style:top=format!("{y}px")>{format!("+{} more", w - SHOWN)}</span> }
            }).collect_view()))}
        </div>
    }
}
