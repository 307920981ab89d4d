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

#[test]
fn pretrain_reproduces_the_committed_files() {
    for name in neuroglow_cli::pretrain::RECIPES {
        let out = std::env::temp_dir().join(format!("neuroglow-pretrain-{}/{name}", std::process::id()));
        neuroglow(&["pretrain", name, "--out", out.to_str().unwrap()]);
        for file in ["model.json", "model.safetensors", "card.md", card(name)["test_file"].as_str().unwrap()] {
            let committed = std::fs::read(repo().join(format!("web/models/{name}/{file}"))).unwrap();
            assert!(
                std::fs::read(out.join(file)).unwrap() == committed,
                "{name}/{file} differs from the committed file"
            );
        }
    }
}

#[test]
fn cards_match_a_fresh_evaluation_on_the_test_split() {
    for name in neuroglow_cli::pretrain::RECIPES {
        let card = card(name);
        let model = format!("web/models/{name}");
        let line = neuroglow(&["evaluate", &model, &format!("{model}/{}", card["test_file"].as_str().unwrap())]);
        let accuracy: f64 = line.split("accuracy: ").nth(1).unwrap().trim().parse().unwrap();
        let on_card = card["test_accuracy"].as_f64().unwrap();
        assert!((accuracy - on_card).abs() <= 0.01, "{name}: card says {on_card}, evaluation gives {accuracy}");
        assert!(card["weights_bytes"].as_u64().unwrap() <= 2 << 20, "{name} weighs over 2 MB");
    }
    assert!(card("digits-mlp")["test_accuracy"].as_f64().unwrap() >= 0.95);
    assert!(card("sentiment-lstm")["test_accuracy"].as_f64().unwrap() >= 0.78);
}

#[test]
fn the_sentiment_model_reads_the_mood_of_a_sentence() {
    let input = std::env::temp_dir().join(format!("neuroglow-sentences-{}.txt", std::process::id()));
    std::fs::write(&input, "a wonderful, moving film\nboring and awful, a waste of time\n").unwrap();
    let out = neuroglow(&["predict", "web/models/sentiment-lstm", input.to_str().unwrap()]);
    let p: Vec<f32> = out.lines().map(|l| l.parse().unwrap()).collect();
    assert!(p[0] > 0.5 && p[1] < 0.5, "{p:?}");
}
