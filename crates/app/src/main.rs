//! The Neuroglow playground, compiled to WebAssembly and mounted on `<body>`.

fn main() {
    console_error_panic_hook::set_once();
    leptos::mount::mount_to_body(neuroglow_app::App);
}
