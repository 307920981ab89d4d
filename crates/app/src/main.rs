//! The Neuroglow playground, compiled to WebAssembly and mounted on `<body>`.

mod chart;
mod heatmap;
mod lab;
mod runtime;

fn main() {
    console_error_panic_hook::set_once();
    leptos::mount::mount_to_body(lab::Lab);
}
