//! The commands themselves.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::server;
use crate::setup::{self, root, run, step, Result};

/// The flags every headless Chromium gets here (the network is closed).
pub const CHROMIUM_FLAGS: &str =
    "--headless --no-sandbox --disable-quic --no-first-run --disable-background-networking \
    --disable-component-update --disable-sync";

fn cargo() -> Command {
    let mut c = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    c.current_dir(root());
    c
}

/// Builds the playground with Trunk into `dist/`.
pub fn build_site() -> Result<PathBuf> {
    setup::rust_target()?;
    setup::cargo_tools()?;
    setup::npm_tools()?;
    step("building the playground (trunk build --release)");
    run(Command::new("trunk").args(["build", "--release"]).current_dir(root()).env("PATH", setup::tool_path()))?;
    report_size(&root().join("dist"));
    Ok(root().join("dist"))
}

/// Prints what a visitor downloads, raw and gzipped: the playground's wasm
/// and JavaScript, and the demo widget's (its wasm, glue and loader).
fn report_size(dist: &Path) {
    let files_in = |dir: &Path, keep: fn(&Path) -> bool| -> Vec<PathBuf> {
        let entries = std::fs::read_dir(dir).into_iter().flatten().flatten();
        entries.map(|e| e.path()).filter(|p| keep(p)).collect()
    };
    let is_code = |p: &Path| p.extension().is_some_and(|e| e == "wasm" || e == "js");
    report_bundle("playground", &files_in(dist, is_code));
    report_bundle("demo widget", &files_in(&dist.join("embed"), is_code));
}

fn report_bundle(name: &str, files: &[PathBuf]) {
    let size = |f: &PathBuf| std::fs::metadata(f).map_or(0, |m| m.len() as usize);
    let gzipped = |f: &PathBuf| Command::new("gzip").args(["-9", "-c"]).arg(f).output().map_or(0, |o| o.stdout.len());
    let (raw, packed) = (files.iter().map(size).sum::<usize>(), files.iter().map(gzipped).sum::<usize>());
    eprintln!("{name} wasm + JS: {} KB, {} KB gzipped", raw / 1024, packed / 1024);
}

pub fn serve() -> Result {
    setup::rust_target()?;
    setup::cargo_tools()?;
    setup::npm_tools()?;
    step("serving the playground on http://127.0.0.1:8080 (Ctrl-C to stop)");
    run(Command::new("trunk").args(["serve", "--release"]).current_dir(root()).env("PATH", setup::tool_path()))
}

pub fn test() -> Result {
    setup::rust_target()?;
    setup::cargo_tools()?;
    setup::npm_tools()?;
    setup::debian_packages()?;

    step("formatting (cargo fmt --check)");
    run(cargo().args(["fmt", "--all", "--", "--check"]))?;

    step("lints (clippy, native and wasm32)");
    run(cargo().args(["clippy", "--workspace", "--all-targets", "--", "-D", "warnings"]))?;
    let wasm_crates = ["-p", "neuroglow-app", "-p", "neuroglow-widget", "-p", "neuroglow-bench", "-p", "neuroglow-gpu"];
    run(cargo().arg("clippy").args(wasm_crates).args(["--target", "wasm32-unknown-unknown", "--", "-D", "warnings"]))?;

    step("native tests");
    run(cargo().args(["test", "--workspace"]))?;

    step("oracles: Neuroglow's numbers against Keras 3 (JAX, CPU)");
    let python = setup::oracle_venv()?;
    run(cargo().args(["build", "-p", "neuroglow-cli"]))?;
    run(Command::new(&python)
        .arg("masked_losses.py")
        .arg(root().join("target/debug/neuroglow"))
        .arg(root().join("target/oracle"))
        .current_dir(root().join("tests/oracle"))
        .env("KERAS_BACKEND", "jax")
        .env("JAX_PLATFORMS", "cpu"))?;

    step("oracles: .keras export and import against Keras 3 (JAX, CPU)");
    run(&mut oracle(&python, "tests/oracle", "keras_files.py", "oracle-keras"))?;
    step("oracles: the PyTorch export's model.py against torch's documented semantics (NumPy)");
    run(&mut oracle(&python, "tests/oracle", "pytorch_export.py", "oracle-pytorch"))?;
    step("oracles: TF.js import and export against TensorFlow.js (npm, CPU backend)");
    setup::npm_install(&root().join("tests/interop"))?;
    run(&mut oracle(Path::new("node"), "tests/interop", "tfjs_oracle.mjs", "oracle-tfjs"))?;

    step("wasm32 tests (Node.js)");
    let fingerprint =
        pollster::block_on(neuroglow_core::determinism::reference_fingerprint()).map_err(|e| e.to_string())?;
    run(cargo()
        .args(["test", "-p", "neuroglow-core", "--target", "wasm32-unknown-unknown", "--test", "wasm"])
        .env("NEUROGLOW_NATIVE_FINGERPRINT", fingerprint.to_string())
        .env("CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER", "wasm-bindgen-test-runner"))?;

    step("wasm32 tests (headless Chromium, WebGPU on SwiftShader)");
    let wasm_test = ["test", "--target", "wasm32-unknown-unknown", "--test"];
    run(cargo()
        .args(wasm_test)
        .args(["browser", "-p", "neuroglow-core"])
        .env("NEUROGLOW_NATIVE_TOKEN_FINGERPRINT", native_token_fingerprint()?.to_string())
        .envs(browser_test_runner(true)?))?;
    // Every kernel's CPU parity, and whole training runs, on the browser's WebGPU.
    run(cargo()
        .args(wasm_test)
        .args(["browser", "--test", "parity", "-p", "neuroglow-gpu"])
        .envs(browser_test_runner(true)?))?;
    step("wasm32 tests (headless Chromium without WebGPU: the CPU fallback)");
    run(cargo()
        .args(wasm_test)
        .args(["browser_without_webgpu", "-p", "neuroglow-gpu"])
        .envs(browser_test_runner(false)?))?;

    let dist = build_site()?;
    step("browser tests (headless Chromium)");
    let url = server::serve(dist)?;
    run(Command::new("node")
        .args(["--test", "--test-concurrency=1", "e2e/"])
        .current_dir(root().join("tests"))
        .env("NEUROGLOW_URL", url)
        .env("NEUROGLOW_CLI", root().join("target/debug/neuroglow"))
        .env("CHROMIUM_FLAGS", CHROMIUM_FLAGS))
}

/// An export oracle: `program SCRIPT NEUROGLOW REPO SCRATCH` run in `dir`,
/// with Keras on JAX's CPU backend for the Python ones.
fn oracle(program: &Path, dir: &str, script: &str, scratch: &str) -> Command {
    let mut command = Command::new(program);
    command
        .arg(script)
        .arg(root().join("target/debug/neuroglow"))
        .arg(root())
        .arg(root().join("target").join(scratch))
        .current_dir(root().join(dir))
        .env("KERAS_BACKEND", "jax")
        .env("JAX_PLATFORMS", "cpu");
    command
}

/// TensorFlow.js and its backends, from npm, for the comparison page.
fn copy_tfjs(dir: &Path) -> Result {
    setup::npm_install(&root().join("tests/bench"))?;
    std::fs::create_dir_all(dir).map_err(|e| e.to_string())?;
    let modules = root().join("tests/bench/node_modules/@tensorflow");
    let files = [
        "tfjs/dist/tf.min.js",
        "tfjs-backend-webgpu/dist/tf-backend-webgpu.min.js",
        "tfjs-backend-wasm/dist/tf-backend-wasm.min.js",
        "tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm",
        "tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm",
        "tfjs-backend-wasm/dist/tfjs-backend-wasm-threaded-simd.wasm",
    ];
    for file in files {
        let from = modules.join(file);
        let name = from.file_name().expect("a file name").to_owned();
        std::fs::copy(&from, dir.join(name)).map_err(|e| format!("cannot copy {}: {e}", from.display()))?;
    }
    Ok(())
}

/// The shipped BERT tokenizer's ids for the shipped sentiment sentences,
/// computed natively for the browser test to compare against.
fn native_token_fingerprint() -> Result<u64> {
    let data = root().join("web/data");
    let read = |file: &str| std::fs::read(data.join(file)).map_err(|e| format!("cannot read web/data/{file}: {e}"));
    let sentences = String::from_utf8(read("sentiment.tsv")?).map_err(|e| e.to_string())?;
    let rows = neuroglow_core::data::text::parse_labelled_lines(&sentences).map_err(|e| e.to_string())?;
    let texts: Vec<&str> = rows.iter().map(|(_, text)| text.as_str()).collect();
    neuroglow_core::determinism::token_fingerprint(&read("bert-uncased-tokenizer.json")?, &texts)
        .map_err(|e| e.to_string())
}

/// Environment for `wasm-bindgen-test-runner` to drive Debian's headless
/// Chromium through chromedriver, with WebGPU on SwiftShader or without an adapter.
fn browser_test_runner(webgpu: bool) -> Result<Vec<(&'static str, String)>> {
    let mut args: Vec<&str> = CHROMIUM_FLAGS.split_whitespace().collect();
    if webgpu {
        args.push("--enable-unsafe-webgpu");
    }
    let profile = std::env::temp_dir().join(format!("neuroglow-chromium-{}-{webgpu}", std::process::id()));
    let user_data_dir = format!("--user-data-dir={}", profile.display());
    args.push(&user_data_dir);
    let capabilities = serde_json::json!({ "goog:chromeOptions": { "binary": "/usr/bin/chromium", "args": args } });
    let file = root().join(format!("target/webdriver-{}.json", if webgpu { "webgpu" } else { "no-webgpu" }));
    std::fs::write(&file, capabilities.to_string()).map_err(|e| format!("cannot write {}: {e}", file.display()))?;
    Ok(vec![
        ("CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER", "wasm-bindgen-test-runner".into()),
        ("CHROMEDRIVER", "/usr/bin/chromedriver".into()),
        ("WASM_BINDGEN_TEST_WEBDRIVER_JSON", file.display().to_string()),
        // The runner gives a whole test binary 20 s by default; the WebGPU parity
        // suite takes about that on two idle cores (SwiftShader compiles every
        // pipeline), so a busier machine would be cut off mid-suite.
        ("WASM_BINDGEN_TEST_TIMEOUT", "600".into()),
    ])
}

pub fn bench(args: &[String]) -> Result {
    let quick = args.iter().any(|a| a == "--quick");
    step("native CPU benchmark");
    let mut native = cargo();
    native.args(["run", "--release", "-p", "neuroglow-bench", "--"]);
    if quick {
        native.arg("--quick");
    }
    run(&mut native)?;

    setup::rust_target()?;
    setup::cargo_tools()?;
    setup::npm_tools()?;
    setup::debian_packages()?;
    step("building the browser benchmark");
    run(cargo().args(["build", "--release", "-p", "neuroglow-bench", "--lib", "--target", "wasm32-unknown-unknown"]))?;
    let out = root().join("target/bench-web");
    run(Command::new("wasm-bindgen")
        .args(["--target", "web", "--no-typescript", "--out-dir"])
        .arg(&out)
        .arg(root().join("target/wasm32-unknown-unknown/release/neuroglow_bench.wasm")))?;
    for page in ["index.html", "tfjs.html", "tfjs-bench.js"] {
        std::fs::copy(root().join("tests/bench").join(page), out.join(page)).map_err(|e| e.to_string())?;
    }
    copy_tfjs(&out.join("tfjs"))?;
    step("browser benchmark (headless Chromium)");
    let url = server::serve(out)?;
    run(Command::new("node")
        .arg("bench/run.mjs")
        .args(quick.then_some("--quick"))
        .current_dir(root().join("tests"))
        .env("NEUROGLOW_BENCH_URL", url)
        .env("CHROMIUM_FLAGS", CHROMIUM_FLAGS))
}
