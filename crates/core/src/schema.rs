//! Reading `model.json` strictly.
//!
//! A field Neuroglow does not know is an error that names it, never silently
//! ignored: a model brought from Keras with `go_backwards` or a
//! `hard_sigmoid` gate would otherwise load and compute something else. The
//! Keras options Neuroglow does not implement get their own message, so
//! that the reader learns it is a missing feature rather than a typo.
//! Options whose value is what Neuroglow computes anyway (an LSTM's `tanh`)
//! are accepted and dropped.

use serde::de::Error as _;
use serde::{Deserialize, Deserializer};
use serde_json::{Map, Value};

use crate::layers::{LayerConfig, LayerKind};
use crate::optim::{OptimizerConfig, OptimizerKind};

/// Keras layer options that Neuroglow accepts only with one value: the one
/// its layers compute. `None` accepts any value (the option does not change
/// the numbers).
const FIXED_OPTIONS: &[(&str, &str, Option<&str>)] = &[
    ("lstm", "activation", Some("\"tanh\"")),
    ("lstm", "recurrent_activation", Some("\"sigmoid\"")),
    ("lstm", "use_bias", Some("true")),
    ("lstm", "unit_forget_bias", Some("true")),
    ("lstm", "implementation", None),
];

/// Keras options that Neuroglow does not implement, by layer type (`*`: any).
const UNSUPPORTED_OPTIONS: &[(&str, &str)] = &[
    ("lstm", "go_backwards"),
    ("lstm", "stateful"),
    ("lstm", "unroll"),
    ("lstm", "return_state"),
    ("lstm", "dropout"),
    ("lstm", "recurrent_dropout"),
    ("lstm", "recurrent_regularizer"),
    ("lstm", "recurrent_constraint"),
    ("lstm", "recurrent_initializer"),
    ("lstm", "time_major"),
    ("embedding", "embeddings_initializer"),
    ("embedding", "embeddings_regularizer"),
    ("embedding", "embeddings_constraint"),
    ("embedding", "sparse"),
    ("dropout", "noise_shape"),
    ("*", "kernel_initializer"),
    ("*", "bias_initializer"),
    ("*", "bias_regularizer"),
    ("*", "activity_regularizer"),
    ("*", "kernel_constraint"),
    ("*", "bias_constraint"),
    ("*", "lora_rank"),
    ("*", "dtype"),
];

/// Keras optimizer options that Neuroglow does not implement.
const UNSUPPORTED_OPTIMIZER_OPTIONS: &[(&str, &str)] = &[
    ("clipnorm", "use `global_clipnorm`, which clips all gradients together"),
    ("clipvalue", "use `global_clipnorm`"),
    ("weight_decay", "use a `kernel_regularizer` on the Dense layers"),
    ("amsgrad", "remove it (plain Adam is what Neuroglow computes)"),
    ("nesterov", "remove it (plain momentum is what Neuroglow computes)"),
    ("use_ema", "remove it"),
    ("loss_scale_factor", "remove it"),
    ("gradient_accumulation_steps", "remove it"),
];

/// Takes `key` out of `map`, deserialized, or `default` when absent.
fn take<T: serde::de::DeserializeOwned, E: serde::de::Error>(
    map: &mut Map<String, Value>,
    key: &str,
    default: T,
) -> Result<T, E> {
    match map.remove(key) {
        None => Ok(default),
        Some(value) => serde_json::from_value(value).map_err(|e| E::custom(format!("field `{key}`: {e}"))),
    }
}

impl<'de> Deserialize<'de> for LayerConfig {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let mut map = Map::deserialize(deserializer)?;
        let name: String = take(&mut map, "name", String::new())?;
        let trainable: bool = take(&mut map, "trainable", true)?;
        let kind = map.get("type").and_then(Value::as_str).unwrap_or_default().to_string();
        for (layer, option, accepted) in FIXED_OPTIONS {
            if *layer != kind {
                continue;
            }
            let Some(value) = map.remove(*option) else { continue };
            if let Some(accepted) = accepted.filter(|a| serde_json::from_str::<Value>(a).ok().as_ref() != Some(&value))
            {
                return Err(D::Error::custom(format!(
                    "`{option}` is {value}, but Neuroglow's {kind} computes {accepted} only; \
                     a model trained with another value would give other results here"
                )));
            }
        }
        if let Some((_, option)) = UNSUPPORTED_OPTIONS
            .iter()
            .find(|(layer, option)| (*layer == kind || *layer == "*") && map.contains_key(*option))
        {
            return Err(D::Error::custom(format!(
                "`{option}` is a Keras option that Neuroglow's {kind} layer does not support; \
                 remove it if the model does not need it (with it, it would compute something else)"
            )));
        }
        let kind = LayerKind::deserialize(Value::Object(map)).map_err(D::Error::custom)?;
        Ok(LayerConfig { name, trainable, kind })
    }
}

/// `layers` of `model.json`, each read with its position in the error.
pub(crate) fn layers<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Vec<LayerConfig>, D::Error> {
    let values = Vec::<Value>::deserialize(deserializer)?;
    values
        .into_iter()
        .enumerate()
        .map(|(i, value)| {
            let name = value.get("name").and_then(Value::as_str).map(|n| format!(" (`{n}`)")).unwrap_or_default();
            LayerConfig::deserialize(value).map_err(|e| D::Error::custom(format!("layers[{i}]{name}: {e}")))
        })
        .collect()
}

impl<'de> Deserialize<'de> for OptimizerConfig {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let mut map = Map::deserialize(deserializer)?;
        let global_clipnorm: Option<f32> = take(&mut map, "global_clipnorm", None)?;
        if let Some((option, what)) = UNSUPPORTED_OPTIMIZER_OPTIONS.iter().find(|(o, _)| map.contains_key(*o)) {
            return Err(D::Error::custom(format!(
                "optimizer: `{option}` is a Keras option that Neuroglow does not support; {what}"
            )));
        }
        let kind =
            OptimizerKind::deserialize(Value::Object(map)).map_err(|e| D::Error::custom(format!("optimizer: {e}")))?;
        Ok(OptimizerConfig { kind, global_clipnorm })
    }
}

#[cfg(test)]
mod tests {
    use crate::ModelSpec;

    fn spec_error(layer: &str) -> String {
        let json = format!(
            r#"{{"input_shape": [4], "layers": [{{"type": "embedding", "input_dim": 9, "output_dim": 2}}, {layer}],
                "loss": "binary_crossentropy"}}"#
        );
        ModelSpec::from_json(&json).unwrap_err().to_string()
    }

    #[test]
    fn a_misspelt_field_is_named() {
        let error = spec_error(r#"{"type": "lstm", "units": 2, "mask_zeros": true}"#);
        assert!(error.contains("layers[1]") && error.contains("unknown field `mask_zeros`"), "{error}");
    }

    #[test]
    fn keras_options_neuroglow_lacks_are_named_as_unsupported() {
        for option in [r#""go_backwards": true"#, r#""recurrent_dropout": 0.2"#, r#""stateful": false"#] {
            let error = spec_error(&format!(r#"{{"type": "lstm", "name": "rnn", "units": 2, {option}}}"#));
            assert!(error.contains("layers[1] (`rnn`)") && error.contains("does not support"), "{error}");
        }
    }

    #[test]
    fn a_gate_other_than_sigmoid_is_refused_and_sigmoid_is_accepted() {
        let error = spec_error(r#"{"type": "lstm", "units": 2, "recurrent_activation": "hard_sigmoid"}"#);
        assert!(error.contains("\"hard_sigmoid\"") && error.contains("\"sigmoid\" only"), "{error}");
        let json = r#"{"input_shape": [4], "loss": "binary_crossentropy", "layers": [
            {"type": "embedding", "input_dim": 9, "output_dim": 2},
            {"type": "lstm", "units": 1, "recurrent_activation": "sigmoid", "activation": "tanh", "implementation": 2}]}"#;
        ModelSpec::from_json(json).unwrap();
    }

    #[test]
    fn unknown_fields_are_errors_at_every_level() {
        let top = r#"{"input_shape": [2], "layers": [{"type": "dense", "units": 1}], "loss": "mean_squared_error", "epochs": 3}"#;
        assert!(ModelSpec::from_json(top).unwrap_err().to_string().contains("unknown field `epochs`"));
        let optimizer = r#"{"input_shape": [2], "layers": [{"type": "dense", "units": 1}], "loss": "mean_squared_error",
            "optimizer": {"type": "adam", "learning_rate": 0.1, "amsgrad": true}}"#;
        let error = ModelSpec::from_json(optimizer).unwrap_err().to_string();
        assert!(error.contains("`amsgrad`") && error.contains("does not support"), "{error}");
        let typo = r#"{"input_shape": [2], "layers": [{"type": "dense", "units": 1}], "loss": "mean_squared_error",
            "optimizer": {"type": "sgd", "learning_rte": 0.1}}"#;
        assert!(ModelSpec::from_json(typo).unwrap_err().to_string().contains("unknown field `learning_rte`"));
    }
}
