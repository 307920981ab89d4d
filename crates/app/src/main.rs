//! The Neuroglow playground, compiled to WebAssembly and mounted on `<body>`.

mod app;
mod backend;
mod chart;
mod digits;
mod files;
mod generator;
mod heatmap;
mod lab;
mod models;
mod report;
mod runtime;
mod sentiment;
mod slot;
mod store;
mod training;

fn main() {
    console_error_panic_hook::set_once();
    leptos::mount::mount_to_body(app::App);
}
