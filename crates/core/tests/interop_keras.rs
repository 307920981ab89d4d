//! Keras 3's `.keras` files natively: every shipped model exported and
//! imported again is the same model, the layout is Keras's (checked against
//! Keras itself in `cargo xtask test`: `tests/oracle/keras_files.py`), and
//! damaged or foreign files give errors that say what is wrong.

#![cfg(feature = "keras")]

mod common;

use std::io::{Cursor, Read, Write};

use common::{block, DIGITS, SENTIMENT, SHAKESPEARE, WORDPIECE};
use neuroglow_core::interop::{keras, read_picked_files};
use neuroglow_core::{CpuBackend, Limits, Model};
use serde_json::{json, Value};

fn load(json: &str, weights: &[u8]) -> Model<CpuBackend> {
    Model::from_files(json, weights, CpuBackend::new()).expect("model loads")
}

fn export(model: &mut Model<CpuBackend>) -> Vec<u8> {
    let weights = block(model.weights()).unwrap();
    keras::export(model.spec(), &weights, None, &Limits::default()).unwrap()
}

/// The zip's entries, by name.
fn entries(bytes: &[u8]) -> Vec<(String, Vec<u8>)> {
    let mut zip = zip::ZipArchive::new(Cursor::new(bytes)).unwrap();
    (0..zip.len())
        .map(|i| {
            let mut entry = zip.by_index(i).unwrap();
            let mut data = Vec::new();
            entry.read_to_end(&mut data).unwrap();
            (entry.name().to_string(), data)
        })
        .collect()
}

fn rezip(entries: &[(String, Vec<u8>)]) -> Vec<u8> {
    let mut zip = zip::ZipWriter::new(Cursor::new(Vec::new()));
    for (name, data) in entries {
        zip.start_file(name.as_str(), zip::write::SimpleFileOptions::default()).unwrap();
        zip.write_all(data).unwrap();
    }
    zip.finish().unwrap().into_inner()
}

fn with_config(bytes: &[u8], edit: impl FnOnce(&mut Value)) -> Vec<u8> {
    let mut files = entries(bytes);
    let (_, config) = files.iter_mut().find(|(n, _)| n == "config.json").unwrap();
    let mut value: Value = serde_json::from_slice(config).unwrap();
    edit(&mut value);
    *config = value.to_string().into_bytes();
    rezip(&files)
}

fn import_error(bytes: &[u8]) -> String {
    match keras::import(bytes, &Limits::default()) {
        Ok(imported) => panic!("the import was taken: {}", &imported.files.json[..200]),
        Err(error) => error.to_string(),
    }
}

#[test]
fn every_shipped_model_comes_back_byte_for_byte() {
    for (json, weights) in [DIGITS, SENTIMENT, SHAKESPEARE, WORDPIECE] {
        let mut model = load(json, weights);
        let file = export(&mut model);
        assert!(keras::is_keras(&file));
        let back = keras::import(&file, &Limits::default()).unwrap();
        assert_eq!(back.files.safetensors, weights, "{}", model.spec().name);
        assert_eq!(back.files.json, model.spec().to_json());
        assert!(back.notes.is_empty());
    }
}

#[test]
fn the_file_is_laid_out_as_keras_3_lays_it_out() {
    let mut shakespeare = load(SHAKESPEARE.0, SHAKESPEARE.1);
    let file = export(&mut shakespeare);
    let names: Vec<String> = entries(&file).into_iter().map(|(n, _)| n).collect();
    assert_eq!(names, ["metadata.json", "config.json", "model.weights.h5", "assets/neuroglow.json"]);
    let config: Value = serde_json::from_slice(&entries(&file)[1].1).unwrap();
    let layers = &config["config"]["layers"];
    assert_eq!(layers[0]["class_name"], "InputLayer");
    assert_eq!(layers[0]["config"]["batch_shape"], json!([null, 64]));
    assert_eq!(layers[2]["build_config"]["input_shape"], json!([null, 64, 32]), "what the first LSTM is built for");
    assert_eq!(config["compile_config"]["optimizer"]["config"]["global_clipnorm"], json!(1.0));
    assert_eq!(config["compile_config"]["optimizer"]["config"]["learning_rate"], json!(0.01), "as written");
    let h5 = hdf5_pure::File::from_bytes(entries(&file)[2].1.clone()).unwrap();
    // Keys by class, numbered from the second on; an LSTM's weights on its cell.
    assert_eq!(h5.dataset("layers/lstm_2/cell/vars/1").unwrap().shape().unwrap(), [128, 512]);
    assert_eq!(h5.dataset("layers/embedding/vars/0").unwrap().shape().unwrap(), [70, 32]);
    assert_eq!(h5.dataset("layers/dense/vars/1").unwrap().read_f32().unwrap().len(), 70);
}

#[test]
fn damaged_and_foreign_files_are_refused_with_what_is_wrong() {
    let mut sentiment = load(SENTIMENT.0, SENTIMENT.1);
    let file = export(&mut sentiment);
    assert!(import_error(&file[..file.len() / 2]).contains("not a readable zip"));
    let without_weights: Vec<_> = entries(&file).into_iter().filter(|(n, _)| n != "model.weights.h5").collect();
    assert!(import_error(&rezip(&without_weights)).contains("no readable model.weights.h5"));
    let mut garbled = entries(&file);
    garbled[2].1.truncate(100);
    assert!(import_error(&rezip(&garbled)).contains("model.weights.h5"), "{}", import_error(&rezip(&garbled)));
    let conv = with_config(&file, |c| c["config"]["layers"][1]["class_name"] = json!("Conv1D"));
    assert!(import_error(&conv).contains("`Conv1D` is a layer Neuroglow does not have"), "{}", import_error(&conv));
    let wider = with_config(&file, |c| c["config"]["layers"][2]["config"]["units"] = json!(64));
    let error = import_error(&wider);
    assert!(error.contains("lstm/kernel") && error.contains("[16, 256]"), "{error}");
    // Without a compile config, and without Neuroglow's settings (which carry the loss too).
    let uncompiled = with_config(&file, |c| c.as_object_mut().unwrap().remove("compile_config").map(drop).unwrap());
    let keras_only: Vec<_> = entries(&uncompiled).into_iter().filter(|(n, _)| !n.starts_with("assets/")).collect();
    let error = import_error(&rezip(&keras_only));
    assert!(error.contains("without `compile`"), "{error}");
    keras::import(&uncompiled, &Limits::default()).expect("Neuroglow's own settings name the loss");
    let nesterov = with_config(&file, |c| {
        c["compile_config"]["optimizer"] =
            json!({"class_name": "SGD", "config": {"learning_rate": 0.1, "nesterov": true}})
    });
    assert!(import_error(&nesterov).contains("`nesterov`"), "{}", import_error(&nesterov));
    let functional = with_config(&file, |c| c["class_name"] = json!("Functional"));
    assert!(import_error(&functional).contains("`Sequential` models"), "{}", import_error(&functional));
}

#[test]
fn a_keras_file_picked_in_the_page_imports() {
    let mut digits = load(DIGITS.0, DIGITS.1);
    let picked = [("digits.keras".to_string(), export(&mut digits))];
    assert_eq!(read_picked_files(&picked, &Limits::default()).unwrap().files.safetensors, DIGITS.1);
}

#[test]
fn the_optimizer_state_goes_out_and_comes_back() {
    let data = common::needle_sequences(24, 6, 12, 2, 5);
    let json = r#"{"input_shape": [6], "seed": 2, "loss": "binary_crossentropy",
        "optimizer": {"type": "adam", "learning_rate": 0.02},
        "layers": [{"type": "embedding", "input_dim": 12, "output_dim": 3, "mask_zero": true},
                   {"type": "lstm", "units": 4}, {"name": "head", "type": "dense", "units": 1, "activation": "sigmoid"}]}"#;
    let mut model = common::model(json);
    model.set_trainable("embedding", false).unwrap();
    let options = neuroglow_core::FitOptions { epochs: 2, batch_size: 8, ..Default::default() };
    block(model.fit(&data, None, &options, &mut |_| std::ops::ControlFlow::Continue(()))).unwrap();
    let state = block(model.optimizer_state()).unwrap().expect("the model has trained");
    let weights = block(model.weights()).unwrap();
    let file = keras::export(model.spec(), &weights, Some(&state), &Limits::default()).unwrap();
    let h5 = hdf5_pure::File::from_bytes(entries(&file)[2].1.clone()).unwrap();
    // The step count, the learning rate, then m and v of the LSTM's three and the head's two weights:
    // the frozen embedding's moments are not Keras's.
    assert_eq!(h5.group("optimizer/vars").unwrap().datasets().unwrap().len(), 2 + 2 * 5);
    assert_eq!(h5.dataset("optimizer/vars/0").unwrap().read_i32().unwrap(), [model.iterations() as i32]);
    let back = keras::import(&file, &Limits::default()).unwrap();
    let mut resumed = load(&back.files.json, &back.files.safetensors);
    assert_eq!(resumed.iterations(), model.iterations());
    let again = block(resumed.optimizer_state()).unwrap().unwrap();
    assert_eq!(again.slots, state.slots, "every moment, the frozen ones zero as they were");
    assert_eq!(again.beta_powers, state.beta_powers);
}

#[test]
fn each_entry_is_held_to_its_own_limit_and_the_error_names_it() {
    let mut digits = load(DIGITS.0, DIGITS.1);
    let file = export(&mut digits);
    let tight = Limits { max_json_bytes: 100, ..Limits::default() };
    let error = keras::import(&file, &tight).unwrap_err().to_string();
    assert!(error.contains("config.json in the .keras file") && error.contains("max_json_bytes"), "{error}");
}
