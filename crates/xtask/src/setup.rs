//! Installs what the other commands need, once, and explains what to do when
//! it cannot. Nothing is downloaded from outside crates.io, npm and Debian.

use std::path::{Path, PathBuf};
use std::process::Command;

pub type Result<T = ()> = std::result::Result<T, String>;

/// Trunk 0.22 needs a newer rustc than Debian's machines have; 0.21.14 is verified.
const TRUNK_VERSION: &str = "0.21.14";

/// The repository root (the parent of `crates/`).
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).ancestors().nth(2).expect("crates/xtask is two levels down").to_path_buf()
}

/// Runs a command, echoing it first, and fails if it fails.
pub fn run(command: &mut Command) -> Result {
    eprintln!("$ {}", describe(command));
    let status = command.status().map_err(|e| format!("cannot start `{}`: {e}", describe(command)))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("`{}` failed ({status})", describe(command)))
    }
}

fn describe(command: &Command) -> String {
    std::iter::once(command.get_program())
        .chain(command.get_args())
        .map(|s| s.to_string_lossy())
        .collect::<Vec<_>>()
        .join(" ")
}

/// The first line a tool prints for `--version`, if it runs at all.
fn version_of(program: &str) -> Option<String> {
    let out = Command::new(program).arg("--version").output().ok()?;
    out.status.success().then(|| String::from_utf8_lossy(&out.stdout).lines().next().unwrap_or("").to_string())
}

pub fn step(title: &str) {
    eprintln!("\n==> {title}");
}

/// The wasm32 target for rustc, and rustfmt and clippy for the checks.
pub fn rust_target() -> Result {
    let out = Command::new("rustup").args(["target", "list", "--installed"]).output();
    match out {
        Ok(o) if String::from_utf8_lossy(&o.stdout).contains("wasm32-unknown-unknown") => {}
        Ok(_) => run(Command::new("rustup").args(["target", "add", "wasm32-unknown-unknown"]))?,
        Err(_) => {
            return Err("rustup is not installed; install Rust with rustup, or add the wasm32-unknown-unknown target to your toolchain".into())
        }
    }
    if version_of("rustfmt").is_none() || version_of("cargo-clippy").is_none() {
        run(Command::new("rustup").args(["component", "add", "rustfmt", "clippy"]))?;
    }
    Ok(())
}

/// The wasm-bindgen version pinned in Cargo.lock; the CLI must match it exactly.
pub fn wasm_bindgen_version() -> Result<String> {
    let lock =
        std::fs::read_to_string(root().join("Cargo.lock")).map_err(|e| format!("cannot read Cargo.lock: {e}"))?;
    let mut lines = lock.lines();
    while let Some(line) = lines.next() {
        if line == "name = \"wasm-bindgen\"" {
            if let Some(v) = lines.next().and_then(|l| l.strip_prefix("version = \"")) {
                return Ok(v.trim_end_matches('"').to_string());
            }
        }
    }
    Err("Cargo.lock has no wasm-bindgen package".into())
}

/// `wasm-bindgen-cli` at the Cargo.lock version and Trunk, built from crates.io.
pub fn cargo_tools() -> Result {
    let wb = wasm_bindgen_version()?;
    if version_of("wasm-bindgen").is_none_or(|v| !v.ends_with(&wb)) {
        step(&format!("installing wasm-bindgen-cli {wb} (a few minutes, once)"));
        // Its lockfile pins a crate version the registry mirrors refuse, so not --locked.
        run(Command::new("cargo").args(["install", "wasm-bindgen-cli", "--version", &wb]))?;
    }
    if version_of("trunk").is_none_or(|v| !v.ends_with(TRUNK_VERSION)) {
        step(&format!("installing trunk {TRUNK_VERSION} (about 20 minutes, once)"));
        run(Command::new("cargo").args(["install", "--locked", &format!("trunk@{TRUNK_VERSION}")]))?;
    }
    Ok(())
}

/// The npm packages in `tests/package.json`: wasm-opt (binaryen) and playwright-core.
pub fn npm_tools() -> Result {
    npm_install(&root().join("tests"))
}

/// `npm ci` in `dir` unless its node_modules is newer than its lockfile.
pub fn npm_install(dir: &std::path::Path) -> Result {
    let installed = dir.join("node_modules/.package-lock.json");
    let fresh = match (std::fs::metadata(&installed), std::fs::metadata(dir.join("package-lock.json"))) {
        (Ok(i), Ok(l)) => i.modified().ok() >= l.modified().ok(),
        _ => false,
    };
    if !fresh {
        if version_of("npm").is_none() {
            return Err("npm is missing: install Node.js 18 or newer (Debian: apt-get install nodejs npm)".into());
        }
        step(&format!("installing npm packages in {}", dir.strip_prefix(root()).unwrap_or(dir).display()));
        run(Command::new("npm").args(["ci", "--no-audit", "--no-fund"]).current_dir(dir))?;
    }
    Ok(())
}

/// PATH with npm's tool binaries first, so Trunk finds wasm-opt 132 there.
pub fn tool_path() -> String {
    let bin = root().join("tests/node_modules/.bin");
    format!("{}:{}", bin.display(), std::env::var("PATH").unwrap_or_default())
}

/// Debian packages: the browser and its driver for browser tests, Mesa's
/// Vulkan drivers (lavapipe) for native GPU tests, and Python's venv for
/// the oracles.
pub fn debian_packages() -> Result {
    let wanted = [("chromium", "/usr/bin/chromium"), ("chromium-driver", "/usr/bin/chromedriver")];
    let missing: Vec<&str> = wanted.iter().filter(|(_, path)| !Path::new(path).exists()).map(|(p, _)| *p).collect();
    let vulkan = Path::new("/usr/share/vulkan/icd.d/lvp_icd.x86_64.json").exists()
        || Path::new("/usr/share/vulkan/icd.d")
            .read_dir()
            .is_ok_and(|mut d| d.any(|e| e.is_ok_and(|e| e.file_name().to_string_lossy().starts_with("lvp"))));
    let venv =
        Command::new(system_python()).args(["-c", "import ensurepip, venv"]).output().is_ok_and(|o| o.status.success());
    let missing: Vec<&str> = missing
        .into_iter()
        .chain((!vulkan).then_some("mesa-vulkan-drivers"))
        .chain((!venv).then_some("python3-venv"))
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    let is_root = Command::new("id").arg("-u").output().is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0");
    if !is_root {
        return Err(format!("missing Debian packages; run: sudo apt-get install {}", missing.join(" ")));
    }
    step(&format!("installing {}", missing.join(", ")));
    run(Command::new("apt-get").args(["update", "-q"]))?;
    run(Command::new("apt-get").args(["install", "-y", "-q"]).args(&missing).env("DEBIAN_FRONTEND", "noninteractive"))
}

/// The oracles' Python packages (Keras 3 on JAX, pinned in
/// `tests/oracle/requirements.txt`), in a venv of the project's own under
/// `.tools/`; rebuilt only when the requirements change. Returns its Python.
pub fn oracle_venv() -> Result<PathBuf> {
    let requirements = root().join("tests/oracle/requirements.txt");
    let venv = root().join(".tools/oracle-venv");
    let python = venv.join("bin/python");
    let stamp = venv.join("installed-requirements.txt");
    let wanted = std::fs::read(&requirements).map_err(|e| format!("cannot read {}: {e}", requirements.display()))?;
    if std::fs::read(&stamp).is_ok_and(|installed| installed == wanted) && python.exists() {
        return Ok(python);
    }
    step("installing the oracles' Python packages (Keras, JAX) from PyPI (a few minutes, once)");
    let _ = std::fs::remove_dir_all(&venv);
    run(Command::new(system_python()).args(["-m", "venv"]).arg(&venv))?;
    run(Command::new(&python)
        .args(["-m", "pip", "install", "-q", "--disable-pip-version-check", "-r"])
        .arg(&requirements))?;
    std::fs::write(&stamp, wanted).map_err(|e| format!("cannot write {}: {e}", stamp.display()))?;
    Ok(python)
}

/// Debian's Python: a `python3` earlier on PATH (pyenv, conda) may lack
/// `venv` or be a shim.
fn system_python() -> &'static str {
    if Path::new("/usr/bin/python3").exists() {
        "/usr/bin/python3"
    } else {
        "python3"
    }
}
