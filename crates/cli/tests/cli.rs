//! The `neuroglow` binary, run as a user would.

use std::path::PathBuf;
use std::process::{Command, Output};

use neuroglow_core::data::synthetic;

const MODEL: &str = r#"{"name": "circle", "input_shape": [2], "seed": 1, "loss": "binary_crossentropy",
    "optimizer": {"type": "adam", "learning_rate": 0.03},
    "layers": [
        {"type": "dense", "units": 8, "activation": "tanh"},
        {"type": "dense", "units": 1, "activation": "sigmoid"}]}"#;

/// A fresh directory with `model/model.json` and `circle.csv`.
fn workspace(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("neuroglow-cli-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("model")).unwrap();
    std::fs::write(dir.join("model/model.json"), MODEL).unwrap();
    let data = synthetic::circle(300, 0.0, 2);
    let mut csv = String::from("x1,x2,inside\n");
    for r in 0..data.len() {
        csv += &format!("{},{},{}\n", data.x.row(r)[0], data.x.row(r)[1], data.y.data[r]);
    }
    std::fs::write(dir.join("circle.csv"), csv).unwrap();
    dir
}

fn neuroglow(dir: &PathBuf, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_neuroglow")).current_dir(dir).args(args).output().unwrap()
}

fn stdout(o: &Output) -> String {
    assert!(o.status.success(), "failed: {}", String::from_utf8_lossy(&o.stderr));
    String::from_utf8(o.stdout.clone()).unwrap()
}

#[test]
fn train_prints_a_keras_log_and_saves_a_model_that_evaluates_and_predicts() {
    let dir = workspace("train");
    let out = stdout(&neuroglow(
        &dir,
        &[
            "train",
            "model",
            "circle.csv",
            "--epochs",
            "3",
            "--batch-size",
            "16",
            "--validation-split",
            "0.2",
            "--normalize",
            "--overwrite",
        ],
    ));
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines[0], "Epoch 1/3");
    assert_eq!(lines[2], "Epoch 2/3");
    let last = lines[5];
    assert!(last.starts_with("15/15 [==============================] - "), "{last}");
    for field in ["s ", "/step - loss: ", " - accuracy: ", " - val_loss: ", " - val_accuracy: "] {
        assert!(last.contains(field), "`{field}` missing from {last}");
    }
    assert_eq!(lines[6], "Saved the trained model to model");
    let json = std::fs::read_to_string(dir.join("model/model.json")).unwrap();
    assert!(json.contains("\"z_score\""), "the normalizer is saved with the model");

    let eval = stdout(&neuroglow(&dir, &["evaluate", "model", "circle.csv", "--label", "inside"]));
    assert!(eval.starts_with("loss: ") && eval.contains(" - accuracy: "), "{eval}");
    let precise = stdout(&neuroglow(&dir, &["evaluate", "model", "circle.csv", "--label", "inside", "--json"]));
    let precise: serde_json::Value = serde_json::from_str(&precise).unwrap();
    let rounded = format!(
        "loss: {:.4} - accuracy: {:.4}",
        precise["loss"].as_f64().unwrap(),
        precise["accuracy"].as_f64().unwrap()
    );
    assert_eq!(eval.trim(), rounded, "--json gives the same metrics at full precision");
    assert_eq!(precise["examples"], 300);

    std::fs::write(dir.join("points.csv"), "0,0\n6,6\n").unwrap();
    let predictions = stdout(&neuroglow(&dir, &["predict", "model", "points.csv"]));
    let p: Vec<f32> = predictions.lines().map(|l| l.parse().unwrap()).collect();
    assert_eq!(p.len(), 2);
    assert!(p.iter().all(|v| (0.0..=1.0).contains(v)));

    let summary = stdout(&neuroglow(&dir, &["summary", "model"]));
    assert!(summary.contains("dense (Dense)") && summary.contains("Total params: 33"), "{summary}");
}

#[test]
fn bad_input_gives_one_clear_line_and_a_failing_exit_code() {
    let dir = workspace("bad");
    std::fs::write(dir.join("bad.csv"), "x1,x2,label\n1,2,0\n3,oops,1\n").unwrap();
    let cases: [(&[&str], &str); 9] = [
        (&["train", "model", "bad.csv", "--out", "t"], "error: line 3, column `x2`: \"oops\" is not a number"),
        (&["train", "model", "missing.csv", "--out", "t"], "error: cannot read missing.csv"),
        (&["evaluate", "nowhere", "circle.csv"], "error: model.json is invalid: cannot read nowhere/model.json"),
        (&["train", "model", "circle.csv", "--out", "t", "--label", "colour"], "error: no column named `colour`"),
        (&["train", "model", "circle.csv"], "error: say where to save the trained model: --out DIR, or --overwrite"),
        (
            &["train", "model", "circle.csv", "--out", "t", "--validation-split=-0.5"],
            "error: the validation split is -0.5",
        ),
        (&["train", "model", "circle.csv", "--out", "t", "--learning-rate", "NaN"], "error: the learning rate is NaN"),
        (
            &["summary", "model", "--limit", "max_parameters=10"],
            "error: model: layer 0 (`dense`): the number of weights",
        ),
        (
            &["summary", "model", "--limit", "max_layers=1"],
            "error: model: the number of layers is 2, over the limit of 1",
        ),
    ];
    let lenient = neuroglow(&dir, &["train", "model", "bad.csv", "--out", "t", "--epochs", "1", "--drop-invalid-rows"]);
    assert!(lenient.status.success());
    let note = String::from_utf8(lenient.stderr).unwrap();
    assert!(note.starts_with("Dropped 1 invalid row(s); the first: line 3, column `x2`"), "{note}");
    for (args, expected) in cases {
        let o = neuroglow(&dir, args);
        let err = String::from_utf8(o.stderr).unwrap();
        assert!(!o.status.success(), "{args:?} succeeded");
        assert!(err.starts_with(expected), "{args:?}: {err}");
        assert_eq!(err.lines().count(), 1, "{err}");
        if args.contains(&"--limit") {
            assert!(err.contains("or raise the limit with --limit max_"), "{err}");
        }
    }
}

#[test]
fn a_model_exported_to_tfjs_imports_back_and_predicts_the_same() {
    let dir = workspace("tfjs");
    stdout(&neuroglow(&dir, &["train", "model", "circle.csv", "--epochs", "2", "--normalize", "--out", "trained"]));
    let wrote = stdout(&neuroglow(&dir, &["export", "trained", "--format", "tfjs", "--out", "web"]));
    assert_eq!(wrote.trim(), "Wrote trained as a TensorFlow.js layers model to web");
    let tfjs: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("web/model.json")).unwrap()).unwrap();
    assert_eq!(tfjs["format"], "layers-model");
    assert!(dir.join("web/group1-shard1of1.bin").exists());
    assert_eq!(
        stdout(&neuroglow(&dir, &["import", "web/model.json", "--out", "back"])).trim(),
        "Imported web/model.json into back"
    );

    std::fs::write(dir.join("points.csv"), "0,0\n6,6\n-1.5,2\n").unwrap();
    let original = stdout(&neuroglow(&dir, &["predict", "trained", "points.csv", "--json"]));
    assert_eq!(stdout(&neuroglow(&dir, &["predict", "back", "points.csv", "--json"])), original);
    let rows: Vec<Vec<f32>> = serde_json::from_str(&original).unwrap();
    assert_eq!(rows.len(), 3, "{original}");

    let again = neuroglow(&dir, &["export", "trained", "--format", "tfjs", "--out", "web"]);
    assert!(String::from_utf8(again.stderr).unwrap().contains("is not empty"), "nothing is overwritten");
    let onto_itself = neuroglow(&dir, &["export", "trained", "--format", "tfjs", "--out", "trained"]);
    assert!(!onto_itself.status.success(), "a TF.js model.json would replace the model's own");
}

#[test]
fn a_model_exported_for_pytorch_imports_back_with_the_same_weights() {
    let dir = workspace("pytorch");
    stdout(&neuroglow(&dir, &["train", "model", "circle.csv", "--epochs", "1", "--out", "trained"]));
    let wrote = stdout(&neuroglow(&dir, &["export", "trained", "--format", "pytorch", "--out", "torch"]));
    assert_eq!(wrote.trim(), "Wrote trained as a PyTorch state_dict with its model.py to torch");
    for file in ["model.py", "model.json", "state_dict.safetensors"] {
        assert!(dir.join("torch").join(file).exists(), "{file}");
    }
    stdout(&neuroglow(&dir, &["import", "torch", "--out", "back"]));
    // The weights come back bit for bit (the trained model's file also holds its optimizer's state,
    // which a state_dict does not carry).
    let weights = |d: &str| {
        let bytes = std::fs::read(dir.join(d).join("model.safetensors")).unwrap();
        let tensors = neuroglow_core::io::decode_weights(&bytes).unwrap();
        tensors.into_iter().filter(|(name, _)| !name.starts_with("optimizer/")).collect::<Vec<_>>()
    };
    assert_eq!(weights("back"), weights("trained"));
    assert_eq!(weights("back").len(), 4);
}
