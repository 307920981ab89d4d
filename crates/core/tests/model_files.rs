//! model.json + model.safetensors: round trips and every way a file can be wrong.

mod common;

use common::{block, model, needle_sequences};
use neuroglow_core::{io, CpuBackend, Error, Model, Tensor};

const SENTIMENT: &str = r#"{"name": "tiny-sentiment", "input_shape": [6], "seed": 4, "loss": "binary_crossentropy",
    "layers": [
        {"type": "embedding", "input_dim": 12, "output_dim": 4, "mask_zero": true},
        {"type": "lstm", "units": 5},
        {"type": "dense", "units": 1, "activation": "sigmoid"}]}"#;

fn files() -> io::ModelFiles {
    block(model(SENTIMENT).to_files()).unwrap()
}

fn load(json: &str, weights: &[u8]) -> Result<Model<CpuBackend>, Error> {
    Model::from_files(json, weights, CpuBackend::new())
}

#[test]
fn save_then_load_predicts_identically() {
    let data = needle_sequences(10, 6, 12, 2, 3);
    let mut original = model(SENTIMENT);
    let f = block(original.to_files()).unwrap();
    let mut loaded = load(&f.json, &f.safetensors).unwrap();
    assert_eq!(loaded.spec(), original.spec());
    assert_eq!(block(loaded.predict(&data.x, 4)).unwrap(), block(original.predict(&data.x, 7)).unwrap());
    assert_eq!(block(loaded.to_files()).unwrap(), f, "saving again changes nothing");
}

#[test]
fn weights_use_keras_names_and_layouts() {
    let shapes = model(SENTIMENT).weight_shapes();
    let expected = [
        ("embedding/embeddings", vec![12, 4]),
        ("lstm/kernel", vec![4, 20]),
        ("lstm/recurrent_kernel", vec![5, 20]),
        ("lstm/bias", vec![20]),
        ("dense/kernel", vec![5, 1]),
        ("dense/bias", vec![1]),
    ];
    let expected: Vec<(String, Vec<usize>)> = expected.into_iter().map(|(n, s)| (n.to_string(), s)).collect();
    assert_eq!(shapes, expected);
    let weights = io::decode_weights(&files().safetensors).unwrap();
    let bias = &weights.iter().find(|(n, _)| n == "lstm/bias").unwrap().1;
    assert_eq!(&bias.data[5..10], &[1.0; 5], "forget-gate bias starts at 1");
}

#[test]
fn truncated_or_garbage_weights_are_reported() {
    let f = files();
    let truncated = &f.safetensors[..f.safetensors.len() - 10];
    let err = load(&f.json, truncated).err().unwrap();
    assert!(matches!(err, Error::WeightsFile(_)), "{err}");
    assert!(err.to_string().contains("is the file complete"), "{err}");
    assert!(matches!(load(&f.json, b"not a safetensors file at all").err().unwrap(), Error::WeightsFile(_)));
    assert!(matches!(load(&f.json, &[]).err().unwrap(), Error::WeightsFile(_)));
}

fn with_weights(edit: impl FnOnce(&mut Vec<(String, Tensor)>)) -> Vec<u8> {
    let mut weights = io::decode_weights(&files().safetensors).unwrap();
    edit(&mut weights);
    io::encode_weights(&weights).unwrap()
}

#[test]
fn a_wrong_shape_names_the_tensor_and_both_shapes() {
    let bytes = with_weights(|w| {
        let t = w.iter_mut().find(|(n, _)| n == "lstm/kernel").unwrap();
        t.1 = Tensor::zeros(vec![4, 16]);
    });
    let err = load(&files().json, &bytes).err().unwrap();
    assert_eq!(err.to_string(), "tensor `lstm/kernel` has shape [4, 16] but the model expects [4, 20]");
}

#[test]
fn missing_and_extra_tensors_are_named() {
    let bytes = with_weights(|w| w.retain(|(n, _)| n != "dense/bias"));
    let err = load(&files().json, &bytes).err().unwrap();
    assert!(matches!(&err, Error::MissingTensor { name, .. } if name == "dense/bias"), "{err}");
    assert!(err.to_string().contains("expected f32 [1]"));
    let bytes = with_weights(|w| w.push(("dense_9/kernel".into(), Tensor::zeros(vec![1]))));
    let err = load(&files().json, &bytes).err().unwrap();
    assert!(matches!(&err, Error::UnexpectedTensor { name } if name == "dense_9/kernel"), "{err}");
}

#[test]
fn a_non_f32_tensor_is_refused() {
    use safetensors::{tensor::TensorView, Dtype};
    let bytes = vec![0u8; 8];
    let view = TensorView::new(Dtype::F64, vec![1], &bytes).unwrap();
    let file = safetensors::serialize([("dense/bias", view)], None).unwrap();
    let err = load(&files().json, &file).err().unwrap();
    assert_eq!(err, Error::WrongDtype { name: "dense/bias".into(), found: "F64".into() });
}

#[test]
fn bad_model_json_says_what_and_where() {
    let weights = files().safetensors;
    let err = load("{\"input_shape\": [6], ", &weights).err().unwrap();
    assert!(matches!(err, Error::ModelJson(_)) && err.to_string().contains("line 1"), "{err}");
    let unknown = SENTIMENT.replace("\"type\": \"lstm\"", "\"type\": \"conv2d\"");
    let err = load(&unknown, &weights).err().unwrap();
    assert!(err.to_string().contains("unknown variant `conv2d`"), "{err}");
    let future = SENTIMENT.replacen('{', "{\"version\": 7, ", 1);
    assert!(load(&future, &weights).err().unwrap().to_string().contains("reads version 1"));
    let no_loss = SENTIMENT.replace("\"loss\": \"binary_crossentropy\",", "");
    assert!(load(&no_loss, &weights).err().unwrap().to_string().contains("missing field `loss`"));
}

#[test]
fn models_that_cannot_be_built_are_explained() {
    let err =
        |json: &str| Model::new(serde_json::from_str(json).unwrap(), CpuBackend::new()).err().unwrap().to_string();
    assert!(err(r#"{"input_shape": [3], "loss": "mean_squared_error", "layers": []}"#).contains("no layers"));
    assert!(err(r#"{"input_shape": [3], "loss": "mean_squared_error", "layers": [{"type": "lstm", "units": 2}]}"#)
        .contains("an LSTM takes sequences"));
    assert!(err(
        r#"{"input_shape": [3], "loss": "categorical_crossentropy", "layers": [{"type": "dense", "units": 1}]}"#
    )
    .contains("needs at least 2 output classes"));
    assert!(err(r#"{"input_shape": [3], "loss": "mean_squared_error", "layers": [
        {"name": "a", "type": "dense", "units": 1}, {"name": "a", "type": "dense", "units": 1}]}"#)
    .contains("two layers are named `a`"));
}

/// Training without shuffling: the batches of a resumed run are then the
/// ones the uninterrupted run sees (each epoch's shuffle follows the last).
fn fit(model: &mut Model<CpuBackend>, data: &neuroglow_core::data::Dataset, epochs: usize) {
    let options = neuroglow_core::FitOptions { epochs, batch_size: 8, shuffle: false, ..Default::default() };
    block(model.fit(data, None, &options, &mut |_| std::ops::ControlFlow::Continue(()))).unwrap();
}

#[test]
fn training_saved_with_its_optimizer_state_resumes_exactly() {
    let data = needle_sequences(40, 6, 12, 2, 5);
    for optimizer in
        [r#"{"type": "adam", "learning_rate": 0.05}"#, r#"{"type": "sgd", "learning_rate": 0.3, "momentum": 0.9}"#]
    {
        let spec = SENTIMENT.replace(r#""seed": 4,"#, &format!(r#""seed": 4, "optimizer": {optimizer},"#));
        let mut straight = model(&spec);
        fit(&mut straight, &data, 2);
        let mut first = model(&spec);
        fit(&mut first, &data, 1);
        let saved = block(first.to_files_for_training()).unwrap();
        let mut resumed = load(&saved.json, &saved.safetensors).unwrap();
        assert_eq!(resumed.iterations(), first.iterations(), "{optimizer}");
        fit(&mut resumed, &data, 1);
        assert_eq!(block(resumed.weights()).unwrap(), block(straight.weights()).unwrap(), "{optimizer}: bit for bit");
        // Without the state, the second epoch starts the optimizer afresh and ends elsewhere.
        let plain = block(first.to_files()).unwrap();
        let mut restarted = load(&plain.json, &plain.safetensors).unwrap();
        fit(&mut restarted, &data, 1);
        assert_ne!(block(restarted.weights()).unwrap(), block(straight.weights()).unwrap());
    }
}

#[test]
fn optimizer_state_of_another_optimizer_is_refused_with_what_to_do() {
    let data = needle_sequences(16, 6, 12, 2, 5);
    let mut adam = model(SENTIMENT);
    fit(&mut adam, &data, 1);
    let saved = block(adam.to_files_for_training()).unwrap();
    let sgd = saved.json.replace(r#""type": "adam""#, r#""type": "sgd""#);
    let sgd = sgd
        .replace(r#""beta_1": 0.9,"#, "")
        .replace(r#""beta_2": 0.999,"#, "")
        .replace(r#""epsilon": 1e-7"#, r#""momentum": 0.0"#);
    let error = load(&sgd, &saved.safetensors).err().unwrap().to_string();
    assert!(error.contains(r#"state of a "adam" optimizer"#) && error.contains("back to"), "{error}");
    assert!(saved.safetensors.len() > 2 * files().safetensors.len(), "Adam's two moments travel with the weights");
}
