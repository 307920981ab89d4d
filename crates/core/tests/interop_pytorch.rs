//! The PyTorch export natively: PyTorch's names and layouts, model.py's
//! module matching them, and the state_dict coming back as the same model.
//! (That model.py computes Neuroglow's outputs is checked in `cargo xtask
//! test` by `tests/oracle/pytorch_export.py`, on a NumPy transcription of
//! the torch API.)

mod common;

use std::collections::HashMap;

use common::{block, DIGITS, SENTIMENT, SHAKESPEARE, WORDPIECE};
use neuroglow_core::interop::{pytorch, read_picked_files};
use neuroglow_core::io::{decode_weights, encode_tensors};
use neuroglow_core::{CpuBackend, Limits, Model, ModelSpec, Tensor};

fn load(json: &str, weights: &[u8]) -> Model<CpuBackend> {
    Model::from_files(json, weights, CpuBackend::new()).expect("model loads")
}

fn export(model: &mut Model<CpuBackend>) -> pytorch::PytorchModel {
    let weights = block(model.weights()).unwrap();
    pytorch::export(model.spec(), &weights).unwrap()
}

fn tensors(bytes: &[u8]) -> HashMap<String, Tensor> {
    decode_weights(bytes).unwrap().into_iter().collect()
}

#[test]
fn every_shipped_model_comes_back_byte_for_byte() {
    for (json, weights) in [DIGITS, SENTIMENT, SHAKESPEARE, WORDPIECE] {
        let mut model = load(json, weights);
        let exported = export(&mut model);
        assert!(pytorch::is_state_dict(&exported.state_dict));
        let back = pytorch::import(&exported.model_json, &exported.state_dict, &Limits::default()).unwrap();
        assert_eq!(back.files.safetensors, weights, "{}", model.spec().name);
        assert_eq!(back.files.json, model.spec().to_json());
    }
}

#[test]
fn weights_take_pytorchs_names_and_layout() {
    let mut sentiment = load(SENTIMENT.0, SENTIMENT.1);
    let ours: HashMap<String, Tensor> = block(sentiment.weights()).unwrap().into_iter().collect();
    let exported = export(&mut sentiment);
    let theirs = tensors(&exported.state_dict);
    let mut names: Vec<&str> = theirs.keys().map(String::as_str).collect();
    names.sort();
    assert_eq!(
        names,
        [
            "dense.bias",
            "dense.weight",
            "embedding.weight",
            "lstm.bias_hh_l0",
            "lstm.bias_ih_l0",
            "lstm.weight_hh_l0",
            "lstm.weight_ih_l0"
        ]
    );
    let kernel = &ours["lstm/kernel"];
    let weight_ih = &theirs["lstm.weight_ih_l0"];
    assert_eq!(weight_ih.shape, [512, 16], "[4·units, inputs]");
    // Row g·128 + j of weight_ih is unit j of gate g (i, f, g, o), column i of Keras's kernel.
    for (row, input) in [(0, 0), (130, 3), (300, 15), (511, 7)] {
        assert_eq!(weight_ih.data[row * 16 + input], kernel.data[input * 512 + row]);
    }
    assert_eq!(theirs["lstm.bias_ih_l0"], ours["lstm/bias"]);
    assert!(theirs["lstm.bias_hh_l0"].data.iter().all(|&b| b == 0.0));
    assert_eq!(theirs["dense.weight"].shape, [1, 128]);
    assert_eq!(theirs["embedding.weight"], ours["embedding/embeddings"]);
}

#[test]
fn model_py_builds_the_matching_module() {
    let mut shakespeare = load(SHAKESPEARE.0, SHAKESPEARE.1);
    let py = export(&mut shakespeare).model_py;
    for line in [
        "self.embedding = nn.Embedding(70, 32)",
        "self.lstm = nn.LSTM(32, 128, batch_first=True)",
        "self.lstm_2 = nn.LSTM(128, 128, batch_first=True)",
        "self.dense = nn.Linear(128, 70)",
        "mask = x != 0",
        "x = masked_lstm(self.lstm_1, x, mask, return_sequences=True)",
        "x = torch.softmax(self.dense(x), dim=-1)",
    ] {
        assert!(py.contains(line), "model.py lacks `{line}`:\n{py}");
    }
    for placeholder in ["{name}", "{init}", "{forward}", "{input}", "{input_shape}", "{version}"] {
        assert!(!py.contains(placeholder), "{placeholder} is left in model.py");
    }
}

#[test]
fn layer_names_become_python_attributes() {
    let json = r#"{"input_shape": [3], "loss": "mean_squared_error", "layers": [
        {"name": "forward", "type": "dense", "units": 2},
        {"name": "1st-layer", "type": "dense", "units": 2, "use_bias": false},
        {"name": "1st_layer", "type": "dropout", "rate": 0.5},
        {"name": "out", "type": "dense", "units": 1, "trainable": false}]}"#;
    let mut model = Model::new(serde_json::from_str::<ModelSpec>(json).unwrap(), CpuBackend::new()).unwrap();
    let exported = export(&mut model);
    for line in [
        "self.layer_forward = nn.Linear(3, 2)",
        "self.layer_1st_layer = nn.Linear(2, 2, bias=False)",
        "self.layer_1st_layer_1 = nn.Dropout(0.5)",
        "self.out.requires_grad_(False)",
    ] {
        assert!(exported.model_py.contains(line), "model.py lacks `{line}`:\n{}", exported.model_py);
    }
    let names = tensors(&exported.state_dict);
    assert!(names.contains_key("layer_forward.weight") && !names.contains_key("layer_1st_layer.bias"));
    let back = pytorch::import(&exported.model_json, &exported.state_dict, &Limits::default()).unwrap();
    let mut back = load(&back.files.json, &back.files.safetensors);
    assert_eq!(block(back.weights()).unwrap(), block(model.weights()).unwrap());
}

#[test]
fn a_state_dict_trained_in_pytorch_sums_its_two_lstm_biases() {
    let mut sentiment = load(SENTIMENT.0, SENTIMENT.1);
    let exported = export(&mut sentiment);
    let mut state: Vec<(String, Tensor)> = decode_weights(&exported.state_dict).unwrap();
    for (name, tensor) in &mut state {
        if name == "lstm.bias_hh_l0" {
            tensor.data.iter_mut().enumerate().for_each(|(i, b)| *b = i as f32 * 0.25);
        }
    }
    let edited = encode_tensors(&state, "pt").unwrap();
    let back = pytorch::import(&exported.model_json, &edited, &Limits::default()).unwrap();
    let bias = &tensors(&back.files.safetensors)["lstm/bias"];
    let original = &tensors(SENTIMENT.1)["lstm/bias"];
    assert_eq!(bias.data[8], original.data[8] + 2.0);
}

#[test]
fn a_state_dict_of_another_model_is_refused_with_the_tensor_named() {
    let mut digits = load(DIGITS.0, DIGITS.1);
    let exported = export(&mut digits);
    let mut sentiment = load(SENTIMENT.0, SENTIMENT.1);
    let other = export(&mut sentiment);
    let error = pytorch::import(&exported.model_json, &other.state_dict, &Limits::default()).unwrap_err().to_string();
    assert!(error.contains("dense.weight") || error.contains("embedding.weight"), "{error}");
    let mut state = decode_weights(&exported.state_dict).unwrap();
    let (_, weight) = state.iter_mut().find(|(name, _)| name == "dense.weight").unwrap();
    *weight = Tensor::new(vec![weight.shape[1], weight.shape[0]], weight.data.clone()).unwrap();
    let transposed = encode_tensors(&state, "pt").unwrap();
    let error = pytorch::import(&exported.model_json, &transposed, &Limits::default()).unwrap_err().to_string();
    assert!(error.contains("has shape"), "{error}");
    assert!(!pytorch::is_state_dict(DIGITS.1), "Neuroglow's own weights are not a state_dict");
}

#[test]
fn picked_pytorch_files_import_in_the_page() {
    let mut digits = load(DIGITS.0, DIGITS.1);
    let exported = export(&mut digits);
    let picked = [
        ("model.json".to_string(), exported.model_json.into_bytes()),
        ("state_dict.safetensors".to_string(), exported.state_dict),
        ("model.py".to_string(), exported.model_py.into_bytes()),
    ];
    let imported = read_picked_files(&picked, &Limits::default()).unwrap();
    assert_eq!(imported.files.safetensors, DIGITS.1);
}
