//! The network drawn as TensorFlow Playground draws it: a column per layer,
//! each neuron a small map of its output over the plane, and a link per
//! weight, blue for positive and orange for negative, as thick as it is
//! large. Hover a neuron to see it large; hover a link to read its weight,
//! click it to change it.

use leptos::prelude::*;
use neuroglow_core::{ModelSpec, Tensor};

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

/// Whether a network with these weights is small enough to draw.
pub fn drawable(weights: &[(String, Tensor)]) -> bool {
    weights.iter().map(|(_, t)| t.data.len()).sum::<usize>() <= MAX_WEIGHTS
}

/// The diagram of a network (`spec`, with `weights`) over the heatmap's
/// `grid` (its points as the network's inputs), from `outputs`: every
/// layer's output over the grid, from one forward pass. `names` name the inputs.
pub fn picture(
    spec: &ModelSpec,
    weights: &[(String, Tensor)],
    grid: &Tensor,
    outputs: &[Tensor],
    names: Vec<String>,
) -> Picture {
    let mut maps = vec![columns(grid).into_iter().map(scaled).collect::<Vec<_>>()];
    let mut widths = vec![grid.shape[1]];
    for (index, out) in outputs.iter().enumerate() {
        let is_output = index == outputs.len() - 1;
        maps.push(columns(out).into_iter().map(|m| if is_output { m } else { scaled(m) }).collect());
        widths.push(out.shape[1]);
    }
    let kernels = spec
        .layers
        .iter()
        .filter_map(|layer| {
            let kernel = format!("{}/kernel", layer.name);
            weights.iter().find(|(n, _)| *n == kernel).cloned()
        })
        .collect();
    Picture { maps, widths, kernels, names }
}

/// What stays the same while a network trains: the diagram's elements are
/// built once per shape and then only take new values each epoch (building
/// them anew every epoch cost the page long style and layer updates).
#[derive(Clone, PartialEq)]
struct Layout {
    widths: Vec<usize>,
    /// Per layer: its kernel's name and `[inputs, units]`.
    kernels: Vec<(String, [usize; 2])>,
    names: Vec<String>,
}

impl Layout {
    fn of(p: &Picture) -> Self {
        let kernels = p.kernels.iter().map(|(name, k)| (name.clone(), [k.shape[0], k.shape[1]])).collect();
        Self { widths: p.widths.clone(), kernels, names: p.names.clone() }
    }

    fn label(&self, neuron: Neuron) -> String {
        if neuron.column == 0 {
            self.names.get(neuron.index).cloned().unwrap_or_default()
        } else if neuron.column == self.widths.len() - 1 {
            "the output".into()
        } else {
            format!("neuron {} of layer {}", neuron.index + 1, neuron.column)
        }
    }

    /// The links drawn: per shown pair of neurons of adjacent columns, the
    /// kernel's name, the pair, and the weight's place in the kernel.
    fn links(&self) -> Vec<(String, Neuron, Neuron, usize)> {
        let mut links = Vec::new();
        for (layer, (name, [inputs, units])) in self.kernels.iter().enumerate() {
            for from in 0..(*inputs).min(SHOWN) {
                for to in 0..(*units).min(SHOWN) {
                    let (from_n, to_n) =
                        (Neuron { column: layer, index: from }, Neuron { column: layer + 1, index: to });
                    links.push((name.clone(), from_n, to_n, from * units + to));
                }
            }
        }
        links
    }
}

/// A link's class: its colour says the weight's sign.
fn sign_class(value: f32) -> &'static str {
    if value >= 0.0 {
        "positive"
    } else {
        "negative"
    }
}

fn node_position(neuron: Neuron) -> (f64, f64) {
    (neuron.column as f64 * COLUMN, neuron.index as f64 * ROW)
}

/// A neuron's map, redrawn in place whenever the picture changes.
#[component]
fn NeuronMap(picture: RwSignal<Option<Picture>>, neuron: Neuron, style: Signal<Style>) -> impl IntoView {
    let canvas = NodeRef::<leptos::html::Canvas>::new();
    Effect::new(move |_| {
        let style = style.get();
        let Some(canvas) = canvas.get() else { return };
        picture.with(|p| {
            if let Some(values) = p.as_ref().and_then(|p| p.maps.get(neuron.column)?.get(neuron.index)) {
                heatmap::draw_small_map(&canvas, values, style);
            }
        });
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
    let layout = Memo::new(move |_| picture.with(|p| p.as_ref().map(Layout::of)));
    let hidden_style = Signal::stored(Style { regression: true, discretize: false });
    move || {
        layout.get().map(|layout| {
            let rows = layout.widths.iter().map(|w| (*w).min(SHOWN)).max().unwrap_or(1);
            let (width, height) = ((layout.widths.len() - 1) as f64 * COLUMN + NODE, rows as f64 * ROW + 16.0);
            let links = layout.links().into_iter().map(|(kernel, from, to, at)| {
                let layer = from.column;
                let value = Memo::new(move |_| {
                    picture.with(|p| p.as_ref().and_then(|p| p.kernels.get(layer)?.1.data.get(at).copied()).unwrap_or(0.0))
                });
                let label = format!("{} → {}", layout.label(from), layout.label(to));
                let title = label.clone();
                let choose = move || {
                    chosen.set(Some(WeightChoice { kernel: kernel.clone(), from, to, value: value.get_untracked(), label: label.clone() }))
                };
                let choose_by_key = choose.clone();
                let ((x1, y1), (x2, y2)) = (node_position(from), node_position(to));
                view! {
                    <line x1=x1 + NODE y1=y1 + NODE / 2.0 x2=x2 y2=y2 + NODE / 2.0
                        class=move || sign_class(value.get())
                        stroke-width=move || (value.get().abs() * 2.0).clamp(0.5, 6.0) tabindex="0"
                        on:click=move |_| choose()
                        on:keydown=move |ev| if ev.key() == "Enter" || ev.key() == " " {
                            ev.prevent_default();
                            choose_by_key();
                        }>
                        <title>{move || format!("{title}: weight {:.3}", value.get())}</title>
                    </line>
                }
            }).collect_view();
            let last = layout.widths.len() - 1;
            let neurons = layout.widths.iter().enumerate().flat_map(|(column, width)| {
                let layout = layout.clone();
                (0..(*width).min(SHOWN)).map(move |index| {
                    let neuron = Neuron { column, index };
                    let (x, y) = node_position(neuron);
                    let style = if column == last { output_style } else { hidden_style };
                    view! {
                        <div class="neuron" style:left=format!("{x}px") style:top=format!("{y}px")
                            title=layout.label(neuron) tabindex="0"
                            on:mouseenter=move |_| hovered.set(Some(neuron))
                            on:mouseleave=move |_| hovered.set(None)
                            on:focus=move |_| hovered.set(Some(neuron))
                            on:blur=move |_| hovered.set(None)>
                            <NeuronMap picture=picture neuron=neuron style=style />
                        </div>
                    }
                })
            }).collect_view();
            let more = layout.widths.iter().enumerate().filter(|(_, w)| **w > SHOWN).map(|(column, w)| {
                let (x, y) = node_position(Neuron { column, index: SHOWN });
                view! { <span class="more" style:left=format!("{x}px") style:top=format!("{y}px")>{format!("+{} more", w - SHOWN)}</span> }
            }).collect_view();
            view! {
                <div class="network" style:width=format!("{width}px") style:height=format!("{height}px")>
                    <svg class="links" width=width height=height role="img"
                        aria-label="Weights: blue positive, orange negative, thicker for larger; click one to change it">
                        {links}
                    </svg>
                    {neurons}
                    {more}
                </div>
            }
        })
    }
}
