//! A small SVG line chart of training and test (or validation) loss per epoch.

use leptos::prelude::*;

const WIDTH: f64 = 320.0;
const HEIGHT: f64 = 120.0;

/// SVG polyline points for `values`, scaled so that `max` is the top edge.
fn points(values: &[f32], max: f32) -> String {
    let n = values.len().max(2) - 1;
    values
        .iter()
        .enumerate()
        .map(|(i, v)| format!("{:.1},{:.1}", i as f64 * WIDTH / n as f64, HEIGHT - (*v / max) as f64 * HEIGHT * 0.92))
        .collect::<Vec<_>>()
        .join(" ")
}

#[component]
pub fn LossChart(
    #[prop(into)] train: Signal<Vec<f32>>,
    #[prop(into)] test: Signal<Vec<f32>>,
    /// What the chart shows, for screen readers.
    label: &'static str,
) -> impl IntoView {
    let max = move || train.with(|a| test.with(|b| a.iter().chain(b).copied().fold(1e-6f32, f32::max)));
    view! {
        <svg class="chart" viewBox=format!("0 0 {WIDTH} {HEIGHT}") role="img" aria-label=label>
            <polyline class="train" points=move || train.with(|v| points(v, max())) />
            <polyline class="test" points=move || test.with(|v| points(v, max())) />
        </svg>
    }
}
