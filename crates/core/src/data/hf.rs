//! HuggingFace `tokenizer.json` files (WordPiece, BPE, Unigram, ...) as a
//! model's tokenizer, through the `tokenizers` crate in its wasm-friendly
//! build, so the browser encodes exactly as the CLI does.
//!
//! The file's JSON is kept verbatim and stored inside `model.json`, which
//! keeps a model one self-contained pair of files.

use std::sync::Arc;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::error::{Error, Result};

/// A loaded `tokenizer.json`. Builds without the `huggingface` feature can
/// still read and write models that carry one, but not encode with it.
/// Cheap to clone: the parsed file is shared.
#[derive(Clone)]
pub struct HfTokenizer {
    source: Arc<serde_json::Value>,
    #[cfg(feature = "huggingface")]
    tokenizer: Arc<tokenizers::Tokenizer>,
}

impl HfTokenizer {
    /// Parses a `tokenizer.json`. Padding and truncation built into the file
    /// are switched off: the model's text encoder pads to its own `maxlen`.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self> {
        let invalid = |why: String| Error::Data(format!("not a usable tokenizer.json: {why}"));
        let mut source: serde_json::Value = serde_json::from_slice(bytes).map_err(|e| invalid(e.to_string()))?;
        if let Some(file) = source.as_object_mut() {
            file.insert("padding".into(), serde_json::Value::Null);
            file.insert("truncation".into(), serde_json::Value::Null);
        }
        Self::from_source(source)
    }

    #[cfg(feature = "huggingface")]
    fn from_source(source: serde_json::Value) -> Result<Self> {
        let tokenizer = serde_json::from_value(source.clone())
            .map_err(|e| Error::Data(format!("not a usable tokenizer.json: {e}")))?;
        Ok(Self { source: Arc::new(source), tokenizer: Arc::new(tokenizer) })
    }

    #[cfg(not(feature = "huggingface"))]
    fn from_source(source: serde_json::Value) -> Result<Self> {
        Ok(Self { source: Arc::new(source) })
    }

    /// Token ids of `text`, with the special tokens the file's post-processor
    /// adds (such as BERT's `[CLS]` and `[SEP]`).
    #[cfg(feature = "huggingface")]
    pub fn encode(&self, text: &str) -> Result<Vec<usize>> {
        let encoding = self
            .tokenizer
            .encode(text, true)
            .map_err(|e| Error::Data(format!("the tokenizer could not encode {text:?}: {e}")))?;
        Ok(encoding.get_ids().iter().map(|&id| id as usize).collect())
    }

    #[cfg(not(feature = "huggingface"))]
    pub fn encode(&self, _text: &str) -> Result<Vec<usize>> {
        Err(Error::InvalidModel(
            "this model uses a HuggingFace tokenizer, but this build of Neuroglow has no `huggingface` feature".into(),
        ))
    }

    /// Ids the tokenizer can produce, added tokens included.
    #[cfg(feature = "huggingface")]
    pub fn vocab_size(&self) -> usize {
        self.tokenizer.get_vocab_size(true)
    }

    /// The token of an id, if there is one.
    #[cfg(feature = "huggingface")]
    pub fn token(&self, id: usize) -> Option<String> {
        self.tokenizer.id_to_token(u32::try_from(id).ok()?)
    }
}

impl std::fmt::Debug for HfTokenizer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let model = self.source.pointer("/model/type").and_then(|t| t.as_str()).unwrap_or("unknown");
        f.debug_struct("HfTokenizer").field("model", &model).finish_non_exhaustive()
    }
}

impl PartialEq for HfTokenizer {
    fn eq(&self, other: &Self) -> bool {
        self.source == other.source
    }
}

impl Serialize for HfTokenizer {
    fn serialize<S: Serializer>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error> {
        self.source.serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for HfTokenizer {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> std::result::Result<Self, D::Error> {
        let source = serde_json::Value::deserialize(deserializer)?;
        Self::from_source(source).map_err(serde::de::Error::custom)
    }
}

#[cfg(all(test, feature = "huggingface"))]
mod tests {
    use super::*;

    const BERT: &[u8] = include_bytes!("../../../../web/data/bert-uncased-tokenizer.json");

    #[test]
    fn bert_wordpiece_splits_unknown_words_into_pieces() {
        let t = HfTokenizer::from_bytes(BERT).unwrap();
        assert_eq!(t.vocab_size(), 30522);
        let ids = t.encode("Unbelievably GOOD!").unwrap();
        let tokens: Vec<String> = ids.iter().map(|&i| t.token(i).unwrap()).collect();
        assert_eq!(tokens.first().map(String::as_str), Some("[CLS]"));
        assert_eq!(tokens.last().map(String::as_str), Some("[SEP]"));
        assert!(tokens.iter().any(|t| t.starts_with("##")), "a word split into pieces: {tokens:?}");
        assert!(tokens.contains(&"good".to_string()), "lower-cased: {tokens:?}");
    }

    #[test]
    fn survives_a_round_trip_through_json() {
        let t = HfTokenizer::from_bytes(BERT).unwrap();
        let again: HfTokenizer = serde_json::from_str(&serde_json::to_string(&t).unwrap()).unwrap();
        assert_eq!(again, t);
        assert_eq!(again.encode("a fine film").unwrap(), t.encode("a fine film").unwrap());
    }

    #[test]
    fn invalid_files_are_clear_errors() {
        let err = |b: &[u8]| HfTokenizer::from_bytes(b).unwrap_err().to_string();
        assert!(err(b"").starts_with("not a usable tokenizer.json:"), "{}", err(b""));
        assert!(err(b"{\"model\": 3}").starts_with("not a usable tokenizer.json:"));
        assert!(err(&BERT[..BERT.len() / 2]).starts_with("not a usable tokenizer.json:"));
    }
}
