//! Draws a model's output over the plane with the data points on top, in
//! TensorFlow Playground's colours (orange for 0 or −1, blue for 1).

use neuroglow_core::{data::Dataset, Tensor};
use wasm_bindgen::JsCast;
use web_sys::{CanvasRenderingContext2d, HtmlCanvasElement};

/// The plane shown: `[-EXTENT, EXTENT]²`.
pub const EXTENT: f32 = 6.0;
/// Cells per side of the output grid.
pub const CELLS: usize = 40;

/// Centres of the grid cells, row by row from the top.
pub fn grid() -> Tensor {
    let step = 2.0 * EXTENT / CELLS as f32;
    let data = (0..CELLS)
        .flat_map(|row| (0..CELLS).map(move |col| (row, col)))
        .flat_map(|(row, col)| [-EXTENT + (col as f32 + 0.5) * step, EXTENT - (row as f32 + 0.5) * step])
        .collect();
    Tensor::new(vec![CELLS * CELLS, 2], data).expect("grid shape")
}

/// Blends orange (p = 0) through white to blue (p = 1).
fn rgb(p: f32) -> [u8; 3] {
    let (orange, blue) = ([245.0, 147.0, 34.0], [8.0, 119.0, 189.0]);
    let t = (p.clamp(0.0, 1.0) - 0.5) * 2.0;
    let (target, w) = if t < 0.0 { (orange, -t) } else { (blue, t) };
    [0, 1, 2].map(|i| (255.0 + (target[i] - 255.0) * w).round() as u8)
}

fn colour(p: f32, alpha: f32) -> String {
    let [r, g, b] = rgb(p);
    format!("rgba({r},{g},{b},{alpha})")
}

/// How values are shown.
#[derive(Clone, Copy)]
pub struct Style {
    /// Values are in `[-1, 1]` (regression targets), not probabilities.
    pub regression: bool,
    /// Colour the background by side of the boundary only.
    pub discretize: bool,
}

impl Style {
    /// A value as a shade from 0 (orange) to 1 (blue).
    fn shade(self, value: f32) -> f32 {
        if self.regression {
            (value + 1.0) / 2.0
        } else {
            value
        }
    }
}

fn context(canvas: &HtmlCanvasElement) -> Option<CanvasRenderingContext2d> {
    canvas.get_context("2d").ok().flatten().and_then(|c| c.dyn_into().ok())
}

/// Colours the canvas by `values`, one per grid cell (as [`grid`] orders them).
pub fn draw_map(canvas: &HtmlCanvasElement, values: &[f32], style: Style) {
    let Some(ctx) = context(canvas) else { return };
    let cell = canvas.width() as f64 / CELLS as f64;
    // The colours are translucent: start from a blank canvas each time.
    ctx.clear_rect(0.0, 0.0, canvas.width() as f64, canvas.height() as f64);
    for (i, v) in values.iter().enumerate() {
        let shade = style.shade(*v);
        let shade = if style.discretize { f32::from(u8::from(shade >= 0.5)) } else { shade };
        ctx.set_fill_style_str(&colour(shade, 0.85));
        ctx.fill_rect((i % CELLS) as f64 * cell, (i / CELLS) as f64 * cell, cell + 0.5, cell + 0.5);
    }
}

/// Paints `values` one pixel per grid cell, in one call: for canvases of
/// exactly [`CELLS`] × [`CELLS`] pixels (the network diagram's many small
/// maps), which CSS scales up.
pub fn draw_small_map(canvas: &HtmlCanvasElement, values: &[f32], style: Style) {
    let Some(ctx) = context(canvas) else { return };
    let pixels: Vec<u8> = values
        .iter()
        .flat_map(|v| {
            let [r, g, b] = rgb(style.shade(*v));
            [r, g, b, 217] // the large map's 0.85 opacity
        })
        .collect();
    let size = CELLS as u32;
    if let Ok(image) = web_sys::ImageData::new_with_u8_clamped_array_and_sh(wasm_bindgen::Clamped(&pixels), size, size)
    {
        let _ = ctx.put_image_data(&image, 0.0, 0.0);
    }
}

/// The model's output over the plane with the training (and test) points on top.
pub fn draw(canvas: &HtmlCanvasElement, predictions: &[f32], style: Style, train: &Dataset, test: Option<&Dataset>) {
    draw_map(canvas, predictions, style);
    let Some(ctx) = context(canvas) else { return };
    let size = canvas.width() as f64;
    let to_px = |v: f32| (v + EXTENT) as f64 / (2.0 * EXTENT) as f64 * size;
    for (set, stroke) in [(Some(train), "#fff"), (test, "#000")] {
        let Some(set) = set else { continue };
        ctx.set_stroke_style_str(stroke);
        for r in 0..set.len() {
            let (x, y) = (set.x.row(r)[0], set.x.row(r)[1]);
            ctx.begin_path();
            let _ = ctx.arc(to_px(x), size - to_px(y), 3.0, 0.0, std::f64::consts::TAU);
            ctx.set_fill_style_str(&colour(style.shade(set.y.data[r]), 1.0));
            ctx.fill();
            ctx.stroke();
        }
    }
}
