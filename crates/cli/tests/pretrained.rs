//! The shipped pretrained models: `neuroglow pretrain` rebuilds them byte for
//! byte, and their cards' metrics hold when re-measured on the shipped test splits.

use std::path::{Path, PathBuf};
use std::process::Command;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn neuroglow(args: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_neuroglow")).current_dir(repo()).args(args).output().unwrap();
    assert!(out.status.success(), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

fn card(name: &str) -> serde_json::Value {
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(repo().join(format!("web/models/{name}/model.json"))).unwrap())
            .unwrap();
    json["metadata"]["card"].clone()
}

/// Rebuilds recipe `name` into a scratch directory and compares every file.
fn reproduces(name: &str) {
    let out = std::env::temp_dir().join(format!("neuroglow-pretrain-{}/{name}", std::process::id()));
    neuroglow(&["pretrain", name, "--out", out.to_str().unwrap()]);
    for file in ["model.json", "model.safetensors", "card.md", card(name)["test_file"].as_str().unwrap()] {
        let committed = std::fs::read(repo().join(format!("web/models/{name}/{file}"))).unwrap();
        assert!(std::fs::read(out.join(file)).unwrap() == committed, "{name}/{file} differs from the committed file");
    }
}

// One test per recipe, so that they train in parallel.
#[test]
fn pretrain_reproduces_digits_mlp() {
    reproduces("digits-mlp");
}

#[test]
fn pretrain_reproduces_sentiment_lstm() {
    reproduces("sentiment-lstm");
}

#[test]
fn pretrain_reproduces_sentiment_wordpiece() {
    reproduces("sentiment-wordpiece");
}

#[test]
fn pretrain_reproduces_shakespeare_char() {
    reproduces("shakespeare-char");
}

#[test]
fn every_recipe_has_a_reproduction_test_and_a_committed_model() {
    let source = include_str!("pretrained.rs");
    for name in neuroglow_cli::pretrain::RECIPES {
        assert!(source.contains(&format!("reproduces(\"{name}\")")), "no reproduction test for {name}");
        assert!(repo().join(format!("web/models/{name}/model.json")).exists(), "{name} is not committed");
    }
}

/// The value after `key: ` on the first line of `neuroglow evaluate`'s output.
fn metric(line: &str, key: &str) -> f64 {
    let first = line.lines().next().unwrap();
    first.split(&format!("{key}: ")).nth(1).unwrap().split(' ').next().unwrap().parse().unwrap()
}

#[test]
fn cards_match_a_fresh_evaluation_on_the_test_split() {
    for name in neuroglow_cli::pretrain::RECIPES {
        let card = card(name);
        let model = format!("web/models/{name}");
        let line = neuroglow(&["evaluate", &model, &format!("{model}/{}", card["test_file"].as_str().unwrap())]);
        for key in ["accuracy", "loss"] {
            let (measured, on_card) = (metric(&line, key), card[format!("test_{key}")].as_f64().unwrap());
            assert!(
                (measured - on_card).abs() <= 0.01,
                "{name}: card says {key} {on_card}, evaluation gives {measured}"
            );
        }
        assert!(card["weights_bytes"].as_u64().unwrap() <= 2 << 20, "{name} weighs over 2 MB");
    }
    assert!(card("digits-mlp")["test_accuracy"].as_f64().unwrap() >= 0.95);
    assert!(card("sentiment-lstm")["test_accuracy"].as_f64().unwrap() >= 0.78);
    assert!(card("sentiment-wordpiece")["test_accuracy"].as_f64().unwrap() >= 0.78);
}

#[test]
fn the_character_model_reports_bits_per_character_and_writes_shakespeare() {
    let out = neuroglow(&["evaluate", "web/models/shakespeare-char", "web/models/shakespeare-char/valid.txt"]);
    let bits: f64 = out.lines().nth(1).unwrap().strip_prefix("bits per character: ").unwrap().parse().unwrap();
    let on_card = card("shakespeare-char")["test_bits_per_char"].as_f64().unwrap();
    assert!((bits - on_card).abs() <= 0.01, "card says {on_card} bits/char, evaluation gives {bits}");
    let text = neuroglow(&[
        "generate",
        "web/models/shakespeare-char",
        "--prompt",
        "KING HENRY:\n",
        "--length",
        "400",
        "--temperature",
        "0.5",
        "--seed",
        "3",
    ]);
    // A speaker's name in capitals followed by a colon, and common English words.
    let speakers = text.lines().skip(1).filter(|l| l.ends_with(':') && l.chars().any(char::is_uppercase)).count();
    let words = text.split_whitespace().filter(|w| ["the", "and", "to", "of", "I", "my", "you"].contains(w)).count();
    assert!(speakers >= 1 && words >= 5, "not Shakespeare-like enough:\n{text}");
}

#[test]
fn the_sentiment_models_read_the_mood_of_a_sentence() {
    let input = std::env::temp_dir().join(format!("neuroglow-sentences-{}.txt", std::process::id()));
    std::fs::write(&input, "a wonderful, moving film\nboring and awful, a waste of time\n").unwrap();
    for model in ["web/models/sentiment-lstm", "web/models/sentiment-wordpiece"] {
        let out = neuroglow(&["predict", model, input.to_str().unwrap()]);
        let p: Vec<f32> = out.lines().map(|l| l.parse().unwrap()).collect();
        assert!(p[0] > 0.5 && p[1] < 0.5, "{model}: {p:?}");
    }
}
