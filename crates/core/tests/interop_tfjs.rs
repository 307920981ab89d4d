//! The TF.js layers format, natively: every shipped model exported and
//! imported again is the same model, and broken or foreign files give
//! errors that say what is wrong. (That TF.js itself loads the exports and
//! computes the same numbers is checked against TF.js in `cargo xtask test`:
//! `tests/interop/tfjs_oracle.mjs`.)

mod common;

use std::collections::HashMap;

use common::{block, DIGITS, SENTIMENT, SHAKESPEARE, WORDPIECE};
use neuroglow_core::interop::tfjs::{self, Export, TfjsModel};
use neuroglow_core::{CpuBackend, Error, Limits, LossKind, Model, ModelSpec};
use serde_json::{json, Value};

fn load(json: &str, weights: &[u8]) -> Model<CpuBackend> {
    Model::from_files(json, weights, CpuBackend::new()).expect("model loads")
}

fn export(model: &mut Model<CpuBackend>, export: Export) -> TfjsModel {
    let weights = block(model.weights()).unwrap();
    tfjs::export(model.spec(), &weights, export, "group1").unwrap()
}

fn import(exported: &TfjsModel, loss: Option<LossKind>) -> Result<neuroglow_core::interop::Imported, Error> {
    let shards: HashMap<String, Vec<u8>> = exported.shards.iter().cloned().collect();
    tfjs::import(&exported.model_json, &|path| shards.get(path).cloned(), loss, &Limits::default())
}

fn document(exported: &TfjsModel) -> Value {
    serde_json::from_str(&exported.model_json).unwrap()
}

fn with_document(exported: &TfjsModel, edit: impl FnOnce(&mut Value)) -> TfjsModel {
    let mut value = document(exported);
    edit(&mut value);
    TfjsModel { model_json: value.to_string(), shards: exported.shards.clone() }
}

fn import_error(exported: &TfjsModel) -> String {
    import(exported, None).expect_err("the import is refused").to_string()
}

#[test]
fn every_shipped_model_comes_back_the_same() {
    for (json, weights) in [DIGITS, SENTIMENT, SHAKESPEARE, WORDPIECE] {
        let mut original = load(json, weights);
        let how = match original.spec().optimizer.global_clipnorm {
            Some(_) => Export::ForInference,
            None => Export::ForTraining,
        };
        let imported = import(&export(&mut original, how), None).unwrap();
        assert!(imported.notes.is_empty(), "{:?}", imported.notes);
        let mut back = load(&imported.files.json, &imported.files.safetensors);
        assert_eq!(back.spec(), original.spec(), "{}", original.spec().name);
        assert_eq!(block(back.weights()).unwrap(), block(original.weights()).unwrap());
    }
}

#[test]
fn the_export_is_a_tfjs_layers_model_with_its_training_config() {
    let mut sentiment = load(SENTIMENT.0, SENTIMENT.1);
    let exported = export(&mut sentiment, Export::ForTraining);
    let doc = document(&exported);
    assert_eq!(doc["format"], "layers-model");
    let layers = &doc["modelTopology"]["config"]["layers"];
    assert_eq!(layers[0]["class_name"], "Embedding");
    assert_eq!(layers[0]["config"]["batch_input_shape"], json!([null, 32]));
    assert_eq!(layers[1]["config"]["recurrent_activation"], "sigmoid", "TF.js's default gate is hard_sigmoid");
    assert_eq!(doc["trainingConfig"]["loss"], "binary_crossentropy");
    assert_eq!(doc["trainingConfig"]["optimizer_config"]["class_name"], "Adam");
    assert_eq!(
        doc["trainingConfig"]["optimizer_config"]["config"]["learningRate"],
        json!(0.001),
        "as written, not widened"
    );
    let manifest = &doc["weightsManifest"][0];
    assert_eq!(manifest["weights"][1]["name"], "lstm/kernel");
    let bytes: usize = exported.shards.iter().map(|(_, b)| b.len()).sum();
    assert_eq!(bytes, SENTIMENT.1.len() - header_bytes(SENTIMENT.1), "the shards hold exactly the weights");
    assert_eq!(manifest["paths"], json!(["group1-shard1of1.bin"]));
}

/// The size of a safetensors file's header (8 length bytes and the JSON).
fn header_bytes(safetensors: &[u8]) -> usize {
    8 + u64::from_le_bytes(safetensors[..8].try_into().unwrap()) as usize
}

#[test]
fn weights_over_four_mib_are_cut_into_shards_as_tfjs_does() {
    let json = r#"{"input_shape": [1000], "loss": "mean_squared_error",
        "layers": [{"type": "dense", "units": 1100}, {"type": "dense", "units": 1}]}"#;
    let mut model = Model::new(serde_json::from_str::<ModelSpec>(json).unwrap(), CpuBackend::new()).unwrap();
    let exported = export(&mut model, Export::ForTraining);
    let names: Vec<&str> = exported.shards.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["group1-shard1of2.bin", "group1-shard2of2.bin"]);
    assert_eq!(exported.shards[0].1.len(), 4 * 1024 * 1024);
    let back = import(&exported, None).unwrap();
    let mut back = load(&back.files.json, &back.files.safetensors);
    assert_eq!(block(back.weights()).unwrap(), block(model.weights()).unwrap());
}

#[test]
fn gradient_clipping_cannot_go_to_tfjs_for_training() {
    let mut shakespeare = load(SHAKESPEARE.0, SHAKESPEARE.1);
    let weights = block(shakespeare.weights()).unwrap();
    let error = tfjs::export(shakespeare.spec(), &weights, Export::ForTraining, "group1").unwrap_err().to_string();
    assert!(error.contains("global_clipnorm") && error.contains("inference only"), "{error}");
    let inference = tfjs::export(shakespeare.spec(), &weights, Export::ForInference, "group1").unwrap();
    assert!(document(&inference).get("trainingConfig").is_none());
}

/// What TF.js writes for a model it built: its own layer names, every
/// option spelled out, the loss in camelCase, Adam's moments in the file.
fn tfjs_written_model() -> TfjsModel {
    let topology = json!({"class_name": "Sequential", "config": {"name": "sequential_1", "layers": [
        {"class_name": "Embedding", "config": {"input_dim": 5, "output_dim": 2, "mask_zero": true, "input_length": 4,
            "embeddings_initializer": {"class_name": "RandomUniform", "config": {"minval": -0.05}},
            "embeddings_regularizer": null, "activity_regularizer": null, "embeddings_constraint": null,
            "name": "embedding_Embedding1", "trainable": true, "batch_input_shape": [null, 4]}},
        {"class_name": "LSTM", "config": {"name": "lstm_LSTM1", "trainable": true, "units": 3, "activation": "tanh",
            "recurrent_activation": "sigmoid", "use_bias": true, "kernel_initializer": {"class_name": "VarianceScaling"},
            "recurrent_initializer": {"class_name": "Orthogonal"}, "bias_initializer": {"class_name": "Zeros"},
            "unit_forget_bias": null, "kernel_regularizer": null, "recurrent_regularizer": null,
            "bias_regularizer": null, "activity_regularizer": null, "kernel_constraint": null,
            "recurrent_constraint": null, "bias_constraint": null, "dropout": 0, "recurrent_dropout": 0,
            "implementation": null, "return_sequences": false, "return_state": false, "go_backwards": false,
            "stateful": false, "unroll": false}},
        {"class_name": "Dense", "config": {"units": 1, "activation": "sigmoid", "use_bias": true,
            "kernel_regularizer": {"class_name": "L1L2", "config": {"l1": 0, "l2": 0.01}}, "bias_regularizer": null,
            "activity_regularizer": null, "kernel_constraint": null, "bias_constraint": null,
            "name": "dense_Dense1", "trainable": true}}]},
        "keras_version": "tfjs-layers 4.22.0", "backend": "tensor_flow.js"});
    let weights = [
        ("embedding_Embedding1/embeddings", vec![5, 2]),
        ("lstm_LSTM1/kernel", vec![2, 12]),
        ("lstm_LSTM1/recurrent_kernel", vec![3, 12]),
        ("lstm_LSTM1/bias", vec![12]),
        ("dense_Dense1/kernel", vec![3, 1]),
        ("dense_Dense1/bias", vec![1]),
    ];
    let mut specs: Vec<Value> =
        weights.iter().map(|(name, shape)| json!({"name": name, "shape": shape, "dtype": "float32"})).collect();
    specs.push(json!({"name": "iter", "shape": [], "dtype": "int32", "group": "optimizer"}));
    specs.push(json!({"name": "dense_Dense1/bias/m", "shape": [1], "dtype": "float32", "group": "optimizer"}));
    let floats: usize = weights.iter().map(|(_, s)| s.iter().product::<usize>()).sum();
    let mut bytes: Vec<u8> = (0..floats).flat_map(|i| ((i as f32 * 0.37).sin()).to_le_bytes()).collect();
    bytes.extend(7i32.to_le_bytes());
    bytes.extend(0.5f32.to_le_bytes());
    let doc = json!({"format": "layers-model", "generatedBy": "TensorFlow.js tfjs-layers v4.22.0", "convertedBy": null,
        "modelTopology": topology, "weightsManifest": [{"paths": ["weights.bin"], "weights": specs}],
        "trainingConfig": {"loss": "binaryCrossentropy", "metrics": ["accuracy"],
            "optimizer_config": {"class_name": "Adam", "config": {"learningRate": 0.01, "beta1": 0.9, "beta2": 0.999, "epsilon": 1e-7}}}});
    TfjsModel { model_json: doc.to_string(), shards: vec![("weights.bin".into(), bytes)] }
}

#[test]
fn a_model_tfjs_wrote_imports_with_its_names_settings_and_weights() {
    let imported = import(&tfjs_written_model(), None).unwrap();
    assert_eq!(imported.notes.len(), 1, "the optimizer's state is left out, and said so");
    assert!(imported.notes[0].contains("optimizer"), "{:?}", imported.notes);
    let mut model = load(&imported.files.json, &imported.files.safetensors);
    let spec = model.spec().clone();
    assert_eq!(spec.input_shape, [4]);
    assert_eq!(spec.loss, LossKind::BinaryCrossentropy);
    assert_eq!(spec.optimizer.learning_rate(), 0.01);
    assert_eq!(spec.layers[1].name, "lstm_LSTM1");
    let weights = block(model.weights()).unwrap();
    assert_eq!(weights[1].0, "lstm_LSTM1/kernel");
    assert_eq!(weights[1].1.data[1], (0.37f32 * 11.0).sin());
}

#[test]
fn what_tensorflowjs_converter_writes_from_keras_imports_too() {
    // The converter wraps the Keras model, names LSTM weights after the
    // cell, and puts the Keras training config beside the model.
    let written = tfjs_written_model();
    let converted = with_document(&written, |doc| {
        let mut topology = doc["modelTopology"].take();
        let training = doc["trainingConfig"].take();
        for spec in doc["weightsManifest"][0]["weights"].as_array_mut().unwrap() {
            let name = spec["name"].as_str().unwrap().replace("lstm_LSTM1/", "lstm_LSTM1/lstm_cell/");
            spec["name"] = json!(name);
        }
        topology["config"]["layers"][0]["config"]["dtype"] =
            json!({"module": "keras", "class_name": "DTypePolicy", "config": {"name": "float32"}});
        doc["modelTopology"] = json!({"keras_version": "2.15.0", "backend": "tensorflow", "model_config": topology,
            "training_config": {"loss": "binary_crossentropy", "optimizer_config": {"class_name": "Adam",
                "config": {"name": "Adam", "learning_rate": 0.02, "beta_1": 0.9, "beta_2": 0.999, "epsilon": 1e-7, "amsgrad": false}}}});
        let _ = training;
        doc.as_object_mut().unwrap().remove("trainingConfig");
    });
    let imported = import(&converted, None).unwrap();
    let mut converted_model = load(&imported.files.json, &imported.files.safetensors);
    let original = import(&written, None).unwrap();
    let mut written_model = load(&original.files.json, &original.files.safetensors);
    assert_eq!(block(converted_model.weights()).unwrap(), block(written_model.weights()).unwrap());
    assert_eq!(converted_model.spec().optimizer.learning_rate(), 0.02);
}

#[test]
fn a_model_without_training_config_needs_its_loss_named() {
    let bare = with_document(&tfjs_written_model(), |doc| {
        doc.as_object_mut().unwrap().remove("trainingConfig");
    });
    let error = import_error(&bare);
    assert!(error.contains("trained with is unknown") && error.contains("--loss"), "{error}");
    let imported = import(&bare, Some(LossKind::BinaryCrossentropy)).unwrap();
    load(&imported.files.json, &imported.files.safetensors);
}

#[test]
fn options_neuroglow_does_not_compute_are_named() {
    let written = tfjs_written_model();
    let lstm = "/modelTopology/config/layers/1/config";
    let dense = "/modelTopology/config/layers/2/config";
    let cases = [
        (lstm, "recurrent_activation", json!("hard_sigmoid"), "recurrentActivation: 'sigmoid'"),
        (lstm, "go_backwards", json!(true), "`go_backwards`"),
        (lstm, "recurrent_dropout", json!(0.25), "`recurrent_dropout`"),
        (dense, "activation", json!("elu"), "\"elu\" is not one Neuroglow has"),
        (dense, "kernel_constraint", json!({"class_name": "MaxNorm"}), "`kernel_constraint`"),
        (dense, "some_new_option", json!(1), "`some_new_option` is an option Neuroglow does not know"),
        (
            "/modelTopology/config/layers/2",
            "class_name",
            json!("Conv1D"),
            "`Conv1D` is a layer Neuroglow does not have",
        ),
        ("/modelTopology/config/layers/0/config", "batch_input_shape", json!([null, null]), "fixed input shape"),
        ("/modelTopology", "class_name", json!("Model"), "`Sequential` models"),
        ("", "format", json!("graph-model"), "not graph models"),
        ("/trainingConfig/optimizer_config", "class_name", json!("Adagrad"), "`Adagrad` is not one Neuroglow has"),
        ("/trainingConfig", "loss", json!("hinge"), "\"hinge\" is not one Neuroglow has"),
    ];
    for (parent, key, value, expected) in cases {
        let edited = with_document(&written, |doc| {
            doc.pointer_mut(parent).and_then(Value::as_object_mut).unwrap().insert(key.into(), value);
        });
        let error = import_error(&edited);
        assert!(error.contains(expected), "{parent}/{key}: {error}");
    }
    let layer = import_error(&with_document(&written, |doc| {
        doc["modelTopology"]["config"]["layers"][1]["config"]["stateful"] = json!(true)
    }));
    assert!(layer.contains("layer 1 (`lstm_LSTM1`)"), "the error says which layer: {layer}");
}

#[test]
fn shards_that_do_not_add_up_are_refused_with_what_is_wrong() {
    let written = tfjs_written_model();
    let mut short = written.clone();
    short.shards[0].1.truncate(40);
    assert!(import_error(&short).contains("more bytes than its shards hold"), "{}", import_error(&short));
    let mut long = written.clone();
    long.shards[0].1.extend([0; 8]);
    assert!(import_error(&long).contains("its shards hold"), "{}", import_error(&long));
    let missing = TfjsModel { shards: vec![], ..written.clone() };
    assert!(import_error(&missing).contains("shard `weights.bin` is missing"), "{}", import_error(&missing));
    let quantized = with_document(&written, |doc| {
        doc["weightsManifest"][0]["weights"][0]["quantization"] = json!({"dtype": "uint8", "scale": 0.1, "min": 0});
    });
    assert!(import_error(&quantized).contains("quantized"), "{}", import_error(&quantized));
    let huge = with_document(&written, |doc| {
        doc["weightsManifest"][0]["weights"][0]["shape"] = json!([1u64 << 40, 1u64 << 40])
    });
    assert!(
        import_error(&huge).contains("overflows") || import_error(&huge).contains("more bytes"),
        "{}",
        import_error(&huge)
    );
    let foreign = with_document(&written, |doc| doc["weightsManifest"][0]["weights"][0]["name"] = json!("conv/kernel"));
    assert!(import_error(&foreign).contains("`conv/kernel`"), "{}", import_error(&foreign));
}

#[test]
fn non_finite_weights_and_mismatched_shapes_are_caught_when_loading() {
    let written = tfjs_written_model();
    let mut nan = written.clone();
    nan.shards[0].1[4..8].copy_from_slice(&f32::NAN.to_le_bytes());
    let imported = import(&nan, None).unwrap();
    let error = Model::from_files(&imported.files.json, &imported.files.safetensors, CpuBackend::new()).err().unwrap();
    assert!(
        error.to_string().contains("embedding_Embedding1/embeddings") && error.to_string().contains("NaN"),
        "{error}"
    );
    let reshaped = with_document(&written, |doc| {
        doc["weightsManifest"][0]["weights"][0]["shape"] = json!([2, 5]);
    });
    let imported = import(&reshaped, None).unwrap();
    let error = Model::from_files(&imported.files.json, &imported.files.safetensors, CpuBackend::new()).err().unwrap();
    assert!(error.to_string().contains("[5, 2]"), "{error}");
}

#[test]
fn a_manifest_cannot_point_outside_the_models_folder() {
    let written = tfjs_written_model();
    for hostile in ["../secret.bin", "/etc/passwd", "a/../../b", "https://elsewhere.example/w.bin", "", "c:\\w.bin"] {
        let edited = with_document(&written, |doc| doc["weightsManifest"][0]["paths"][0] = json!(hostile));
        let error = import_error(&edited);
        assert!(error.contains("not a file beside model.json"), "{hostile}: {error}");
        assert!(tfjs::shard_paths(&edited.model_json).is_err(), "{hostile}");
    }
    // What TF.js's converter and its browser download write.
    for fine in ["group1-shard1of1.bin", "./model.weights.bin", "weights/part.bin"] {
        let edited = with_document(&written, |doc| doc["weightsManifest"][0]["paths"][0] = json!(fine));
        assert_eq!(tfjs::shard_paths(&edited.model_json).unwrap(), [fine]);
    }
}

#[test]
fn picked_files_are_told_apart_by_their_contents() {
    use neuroglow_core::interop::read_picked_files;
    let limits = Limits::default();
    let mut digits = load(DIGITS.0, DIGITS.1);
    let weights = block(digits.weights()).unwrap();
    let exported = tfjs::export(digits.spec(), &weights, Export::ForTraining, "digits-mlp").unwrap();
    let mut picked = vec![("digits-mlp.json".to_string(), exported.model_json.clone().into_bytes())];
    picked.extend(exported.shards.clone());
    let from_tfjs = read_picked_files(&picked, &limits).unwrap();
    let from_ours = read_picked_files(
        &[("weights.safetensors".into(), DIGITS.1.to_vec()), ("any name.json".into(), DIGITS.0.as_bytes().to_vec())],
        &limits,
    )
    .unwrap();
    let mut a = load(&from_tfjs.files.json, &from_tfjs.files.safetensors);
    let mut b = load(&from_ours.files.json, &from_ours.files.safetensors);
    assert_eq!(block(a.weights()).unwrap(), block(b.weights()).unwrap());

    let error = read_picked_files(&picked[..1], &limits).unwrap_err().to_string();
    assert!(error.contains("shard `digits-mlp-shard1of1.bin` is missing"), "{error}");
    for alone in [vec![("model.json".to_string(), DIGITS.0.as_bytes().to_vec())], vec![]] {
        let error = read_picked_files(&alone, &limits).unwrap_err().to_string();
        assert!(error.contains("pick a model's files together"), "{error}");
    }
}

#[test]
fn two_manifest_weights_for_one_parameter_are_refused() {
    // Found by the fuzz test: both names end in the Dense layer's `bias`.
    let written = tfjs_written_model();
    let twice = with_document(&written, |doc| {
        doc["weightsManifest"][0]["weights"][4] =
            json!({"name": "dense_Dense1/extra/bias", "shape": [3], "dtype": "float32"});
    });
    let error = import_error(&twice);
    assert!(error.contains("a second weight for `dense_Dense1/bias`"), "{error}");
}
