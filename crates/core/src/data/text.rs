//! Text to token ids: a Keras-style word tokenizer, `pad_sequences`, a
//! character vocabulary for generation, and the [`TextEncoder`] a text model
//! stores to turn raw text into its input.

use std::collections::HashMap;
use std::sync::OnceLock;

use serde::{Deserialize, Serialize};

use super::hf::HfTokenizer;
use crate::error::{Error, Result};
use crate::tensor::Tensor;

/// Keras's default `filters`: characters replaced by spaces before splitting.
pub const DEFAULT_FILTERS: &str = "!\"#$%&()*+,-./:;<=>?@[\\]^_`{|}~\t\n";

/// A word-level tokenizer with Keras's `Tokenizer` semantics: index 0 is
/// reserved for padding, the optional out-of-vocabulary token takes index 1,
/// then words by descending frequency (ties in order of first appearance).
/// With `num_words`, only indices below it are produced.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WordTokenizer {
    pub num_words: Option<usize>,
    pub oov_token: Option<String>,
    pub lower: bool,
    pub filters: String,
    /// Words in index order: `words[0]` has index 1.
    words: Vec<String>,
    /// Word → index, built from `words` on first use.
    #[serde(skip)]
    lookup: OnceLock<HashMap<String, usize>>,
}

impl PartialEq for WordTokenizer {
    fn eq(&self, other: &Self) -> bool {
        (&self.num_words, &self.oov_token, self.lower, &self.filters, &self.words)
            == (&other.num_words, &other.oov_token, other.lower, &other.filters, &other.words)
    }
}

impl WordTokenizer {
    /// An empty tokenizer with Keras's defaults (`lower`, default filters).
    pub fn new(num_words: Option<usize>, oov_token: Option<&str>) -> Self {
        Self {
            num_words,
            oov_token: oov_token.map(str::to_string),
            lower: true,
            filters: DEFAULT_FILTERS.into(),
            words: Vec::new(),
            lookup: OnceLock::new(),
        }
    }

    /// Lowercases (if asked), replaces filtered characters with spaces and splits.
    pub fn split(&self, text: &str) -> Vec<String> {
        let cleaned: String = text
            .chars()
            .map(|c| if self.filters.contains(c) { ' ' } else { c })
            .flat_map(|c| if self.lower { c.to_lowercase().collect::<Vec<_>>() } else { vec![c] })
            .collect();
        cleaned.split_whitespace().map(str::to_string).collect()
    }

    /// Builds the vocabulary from `texts`.
    pub fn fit<S: AsRef<str>>(&mut self, texts: &[S]) {
        let mut counts: Vec<(String, usize)> = Vec::new();
        let mut position: HashMap<String, usize> = HashMap::new();
        for text in texts {
            for word in self.split(text.as_ref()) {
                match position.get(&word) {
                    Some(&i) => counts[i].1 += 1,
                    None => {
                        position.insert(word.clone(), counts.len());
                        counts.push((word, 1));
                    }
                }
            }
        }
        // A stable sort keeps first-appearance order among equal counts.
        counts.sort_by_key(|(_, count)| std::cmp::Reverse(*count));
        let words = counts.into_iter().map(|(w, _)| w).filter(|w| Some(w) != self.oov_token.as_ref());
        self.words = self.oov_token.iter().cloned().chain(words).collect();
        self.lookup = OnceLock::new();
    }

    /// Words in index order: `words()[0]` has index 1.
    pub fn words(&self) -> &[String] {
        &self.words
    }

    /// The index of `word`, if it is in the vocabulary and below `num_words`.
    pub fn index_of(&self, word: &str) -> Option<usize> {
        let lookup =
            self.lookup.get_or_init(|| self.words.iter().enumerate().map(|(i, w)| (w.clone(), i + 1)).collect());
        let index = *lookup.get(word)?;
        self.num_words.is_none_or(|n| index < n).then_some(index)
    }

    /// Token ids of one text; unknown words become the OOV index or are dropped.
    pub fn encode(&self, text: &str) -> Vec<usize> {
        let oov = self.oov_token.as_ref().map(|_| 1);
        self.split(text).iter().filter_map(|w| self.index_of(w).or(oov)).collect()
    }

    /// The word for an index (0 and unknown indices give `None`).
    pub fn word(&self, index: usize) -> Option<&str> {
        index.checked_sub(1).and_then(|i| self.words.get(i)).map(String::as_str)
    }

    /// Ids the model's embedding must accept: `num_words`, or the vocabulary size + 1.
    pub fn vocab_size(&self) -> usize {
        self.num_words.unwrap_or(self.words.len() + 1)
    }
}

/// Which end of a sequence padding or truncation applies to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Side {
    /// The start (Keras's default).
    #[default]
    Pre,
    Post,
}

/// Keras's `pad_sequences`: every sequence becomes exactly `maxlen` ids,
/// padded with `value` and truncated on the chosen sides.
pub fn pad_sequences(
    sequences: &[Vec<usize>],
    maxlen: usize,
    padding: Side,
    truncating: Side,
    value: f32,
) -> Result<Tensor> {
    if maxlen == 0 {
        return Err(Error::Data("maxlen must be at least 1".into()));
    }
    let mut data = Vec::with_capacity(sequences.len() * maxlen);
    for seq in sequences {
        let kept = if seq.len() <= maxlen {
            &seq[..]
        } else {
            match truncating {
                Side::Pre => &seq[seq.len() - maxlen..],
                Side::Post => &seq[..maxlen],
            }
        };
        let pad = std::iter::repeat_n(value, maxlen - kept.len());
        let ids = kept.iter().map(|&i| i as f32);
        match padding {
            Side::Pre => data.extend(pad.chain(ids)),
            Side::Post => data.extend(ids.chain(pad)),
        }
    }
    Tensor::new(vec![sequences.len(), maxlen], data)
}

/// Characters of a corpus, for character-level generation. Id 0 is kept for
/// characters the vocabulary has not seen.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CharVocab {
    /// `chars[i]` has id `i + 1`, in sorted order.
    pub chars: Vec<char>,
}

impl CharVocab {
    pub fn fit(text: &str) -> Result<Self> {
        let mut chars: Vec<char> = text.chars().collect();
        chars.sort_unstable();
        chars.dedup();
        if chars.is_empty() {
            return Err(Error::Data("the text is empty; a character vocabulary needs at least one character".into()));
        }
        Ok(Self { chars })
    }

    /// Ids including the unknown id 0.
    pub fn len(&self) -> usize {
        self.chars.len() + 1
    }

    pub fn is_empty(&self) -> bool {
        self.chars.is_empty()
    }

    pub fn encode(&self, text: &str) -> Vec<usize> {
        text.chars().map(|c| self.chars.binary_search(&c).map_or(0, |i| i + 1)).collect()
    }

    /// Text for ids; unknown ids become U+FFFD.
    pub fn decode(&self, ids: &[usize]) -> String {
        ids.iter().map(|&i| i.checked_sub(1).and_then(|i| self.chars.get(i)).copied().unwrap_or('\u{FFFD}')).collect()
    }
}

/// Next-character training pairs from a run of ids: consecutive windows of
/// `maxlen` ids, each with the id that follows every position (`[n, maxlen]`
/// targets, for a model that predicts at every step) or only its last one
/// (`[n, 1]`, for a model that predicts once per window).
pub fn next_char_windows(ids: &[usize], maxlen: usize, every_position: bool) -> Result<super::Dataset> {
    if maxlen == 0 {
        return Err(Error::Data("maxlen must be at least 1".into()));
    }
    let windows = ids.len().saturating_sub(1) / maxlen;
    if windows == 0 {
        return Err(Error::Data(format!(
            "the text has {} characters; windows of {maxlen} need at least {}",
            ids.len(),
            maxlen + 1
        )));
    }
    let as_f32 = |s: &[usize]| s.iter().map(|&i| i as f32).collect::<Vec<f32>>();
    let (mut x, mut y) = (Vec::new(), Vec::new());
    for w in 0..windows {
        let start = w * maxlen;
        x.extend(as_f32(&ids[start..start + maxlen]));
        let next = &ids[start + 1..start + maxlen + 1];
        y.extend(as_f32(if every_position { next } else { &next[maxlen - 1..] }));
    }
    let width = if every_position { maxlen } else { 1 };
    super::Dataset::new(Tensor::new(vec![windows, maxlen], x)?, Tensor::new(vec![windows, width], y)?)
}

/// How a text model turns raw text into its input ids; stored in
/// `model.json` so inference encodes exactly as training did.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum TextEncoder {
    /// Word ids from a Keras-style tokenizer, padded to `maxlen`.
    Words {
        tokenizer: WordTokenizer,
        maxlen: usize,
        #[serde(default)]
        padding: Side,
        #[serde(default)]
        truncating: Side,
    },
    /// Character ids; inputs are the last `maxlen` characters, padded in front.
    Chars { vocab: CharVocab, maxlen: usize },
    /// Ids from a HuggingFace `tokenizer.json` (stored whole), padded with
    /// id 0 (BERT's `[PAD]`) to `maxlen`.
    HuggingFace {
        tokenizer: HfTokenizer,
        maxlen: usize,
        #[serde(default)]
        padding: Side,
        #[serde(default)]
        truncating: Side,
    },
}

impl TextEncoder {
    /// `[texts, maxlen]` ids. Empty (or whitespace-only) texts are an error.
    pub fn encode(&self, texts: &[&str]) -> Result<Tensor> {
        if let Some(i) = texts.iter().position(|t| t.trim().is_empty()) {
            return Err(Error::Data(format!("text {} is empty; type some words first", i + 1)));
        }
        let sequences = texts.iter().map(|t| self.ids(t)).collect::<Result<Vec<_>>>()?;
        match self {
            TextEncoder::Words { maxlen, padding, truncating, .. }
            | TextEncoder::HuggingFace { maxlen, padding, truncating, .. } => {
                pad_sequences(&sequences, *maxlen, *padding, *truncating, 0.0)
            }
            TextEncoder::Chars { maxlen, .. } => pad_sequences(&sequences, *maxlen, Side::Pre, Side::Pre, 0.0),
        }
    }

    /// The ids of one text, unpadded.
    pub fn ids(&self, text: &str) -> Result<Vec<usize>> {
        match self {
            TextEncoder::Words { tokenizer, .. } => Ok(tokenizer.encode(text)),
            TextEncoder::Chars { vocab, .. } => Ok(vocab.encode(text)),
            TextEncoder::HuggingFace { tokenizer, .. } => tokenizer.encode(text),
        }
    }

    /// How many ids the encoder can produce (`0..count`), where it can tell.
    pub fn id_count(&self) -> Option<usize> {
        match self {
            TextEncoder::Words { tokenizer, .. } => Some(tokenizer.vocab_size()),
            TextEncoder::Chars { vocab, .. } => Some(vocab.len()),
            #[cfg(feature = "huggingface")]
            TextEncoder::HuggingFace { tokenizer, .. } => Some(tokenizer.vocab_size()),
            #[cfg(not(feature = "huggingface"))]
            TextEncoder::HuggingFace { .. } => None,
        }
    }

    /// Checks what a stored encoder must satisfy to encode correctly: a
    /// sorted character vocabulary without repeats (ids are found by binary
    /// search), tokenizer words without repeats.
    pub fn check(&self) -> Result<()> {
        let invalid = |why: String| Err(Error::InvalidModel(format!("text_encoder: {why}")));
        match self {
            TextEncoder::Chars { vocab, .. } => {
                if let Some(i) = vocab.chars.windows(2).position(|w| w[0] >= w[1]) {
                    let (a, b) = (vocab.chars[i], vocab.chars[i + 1]);
                    let why = if a == b { "repeats" } else { "is out of order at" };
                    return invalid(format!(
                        "the character vocabulary {why} {b:?} (position {}); it must be sorted with each character once",
                        i + 1
                    ));
                }
                if vocab.chars.is_empty() {
                    return invalid("the character vocabulary is empty".into());
                }
            }
            TextEncoder::Words { tokenizer, .. } => {
                let mut seen = std::collections::HashSet::new();
                if let Some(word) = tokenizer.words().iter().find(|w| !seen.insert(w.as_str())) {
                    return invalid(format!("the tokenizer lists the word {word:?} twice; each word needs one id"));
                }
            }
            TextEncoder::HuggingFace { .. } => {}
        }
        Ok(())
    }

    /// Sequence length the model takes.
    pub fn maxlen(&self) -> usize {
        match self {
            TextEncoder::Words { maxlen, .. }
            | TextEncoder::Chars { maxlen, .. }
            | TextEncoder::HuggingFace { maxlen, .. } => *maxlen,
        }
    }
}

/// Parses labelled lines `label<TAB>text` (extra middle columns, such as a
/// source, are ignored; a first line whose label is not a number is a header).
pub fn parse_labelled_lines(input: &str) -> Result<Vec<(f32, String)>> {
    let mut rows = Vec::new();
    for (i, line) in input.lines().enumerate().filter(|(_, l)| !l.trim().is_empty()) {
        let (label, rest) = line
            .split_once('\t')
            .ok_or_else(|| Error::Data(format!("line {}: expected `label<TAB>text`, found no tab", i + 1)))?;
        let text = rest.rsplit('\t').next().unwrap_or(rest).trim();
        match label.trim().parse::<f32>() {
            Ok(value) if value.is_finite() && !text.is_empty() => rows.push((value, text.to_string())),
            Ok(_) if text.is_empty() => return Err(Error::Data(format!("line {}: the text is empty", i + 1))),
            _ if i == 0 => {} // a header
            _ => return Err(Error::Data(format!("line {}: label {:?} is not a number", i + 1, label.trim()))),
        }
    }
    if rows.is_empty() {
        return Err(Error::Data("no labelled lines found; write one `label<TAB>text` per line".into()));
    }
    Ok(rows)
}

/// Parses a labelled CSV, `label,text` per record, as spreadsheets save it:
/// a text with commas, quotes or line breaks is quoted (`"…"`, a quote inside
/// doubled). Extra middle columns are ignored and a first record whose label
/// is not a number is a header, as in [`parse_labelled_lines`].
pub fn parse_labelled_csv(input: &str) -> Result<Vec<(f32, String)>> {
    let lines: Vec<String> = csv_records(input)?
        .into_iter()
        .filter(|fields| fields.iter().any(|f| !f.trim().is_empty()))
        .map(|fields| {
            let text = fields.last().map(|t| t.replace(['\t', '\n', '\r'], " ")).unwrap_or_default();
            format!("{}\t{text}", fields[0])
        })
        .collect();
    parse_labelled_lines(&lines.join("\n"))
}

/// Splits CSV text into records of fields.
fn csv_records(input: &str) -> Result<Vec<Vec<String>>> {
    let (mut records, mut fields, mut field) = (Vec::new(), Vec::new(), String::new());
    let mut chars = input.chars().peekable();
    let mut quoted = false;
    while let Some(c) = chars.next() {
        match (quoted, c) {
            (true, '"') if chars.peek() == Some(&'"') => {
                chars.next();
                field.push('"');
            }
            (true, '"') => quoted = false,
            (true, c) => field.push(c),
            (false, '"') if field.trim().is_empty() => {
                field.clear();
                quoted = true;
            }
            (false, ',') => fields.push(std::mem::take(&mut field)),
            (false, '\n') => {
                fields.push(std::mem::take(&mut field));
                records.push(std::mem::take(&mut fields));
            }
            (false, '\r') => {}
            (false, c) => field.push(c),
        }
    }
    if quoted {
        return Err(Error::Data("the CSV ends inside a quoted text; a closing \" is missing".into()));
    }
    if !field.is_empty() || !fields.is_empty() {
        fields.push(field);
        records.push(fields);
    }
    Ok(records)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labelled_csv_reads_quoted_texts_and_skips_a_header() {
        let csv = "label,text\r\n1,plain words\n0,\"commas, \"\"quotes\"\"\nand a break\"\n\n";
        let rows = parse_labelled_csv(csv).unwrap();
        assert_eq!(rows, [(1.0, "plain words".to_string()), (0.0, "commas, \"quotes\" and a break".to_string())]);
        assert!(parse_labelled_csv("1,\"never closed").unwrap_err().to_string().contains("closing"));
    }

    #[test]
    fn word_tokenizer_follows_keras() {
        let mut t = WordTokenizer::new(None, Some("<OOV>"));
        t.fit(&["The cat sat.", "The dog sat on the mat!"]);
        // the ×3, sat ×2, then cat, dog, on, mat in order of appearance.
        assert_eq!(t.words(), ["<OOV>", "the", "sat", "cat", "dog", "on", "mat"]);
        assert_eq!(t.encode("THE cat, the bird"), vec![2, 4, 2, 1]);
        assert_eq!(t.word(4), Some("cat"));
        let mut small = WordTokenizer::new(Some(4), None);
        small.fit(&["a a a b b c d"]);
        assert_eq!(small.encode("a b c d e"), vec![1, 2, 3], "only ids below num_words; unknown words dropped");
        assert_eq!(small.vocab_size(), 4);
    }

    #[test]
    fn pad_sequences_pads_and_truncates_on_either_side() {
        let seqs = vec![vec![1, 2, 3, 4], vec![5]];
        assert_eq!(
            pad_sequences(&seqs, 3, Side::Pre, Side::Pre, 0.0).unwrap().data,
            vec![2.0, 3.0, 4.0, 0.0, 0.0, 5.0]
        );
        assert_eq!(
            pad_sequences(&seqs, 3, Side::Post, Side::Post, 0.0).unwrap().data,
            vec![1.0, 2.0, 3.0, 5.0, 0.0, 0.0]
        );
        assert_eq!(
            pad_sequences(&seqs, 0, Side::Pre, Side::Pre, 0.0).unwrap_err().to_string(),
            "maxlen must be at least 1"
        );
    }

    #[test]
    fn next_char_windows_pair_each_position_with_the_next_id() {
        let ids: Vec<usize> = (1..=8).collect();
        let every = next_char_windows(&ids, 3, true).unwrap();
        assert_eq!(every.x.data, vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0]);
        assert_eq!(every.y.data, vec![2.0, 3.0, 4.0, 5.0, 6.0, 7.0]);
        let last = next_char_windows(&ids, 3, false).unwrap();
        assert_eq!(last.y.shape, vec![2, 1]);
        assert_eq!(last.y.data, vec![4.0, 7.0]);
        assert!(next_char_windows(&ids, 0, true).is_err());
        assert_eq!(
            next_char_windows(&ids, 8, true).unwrap_err().to_string(),
            "the text has 8 characters; windows of 8 need at least 9"
        );
    }

    #[test]
    fn char_vocab_round_trips_and_marks_unknowns() {
        let v = CharVocab::fit("to be, or not").unwrap();
        assert_eq!(v.decode(&v.encode("not to be")), "not to be");
        assert_eq!(v.decode(&v.encode("bex")), "be\u{FFFD}");
        assert!(CharVocab::fit("").is_err());
    }

    #[test]
    fn labelled_lines_with_header_and_errors() {
        let rows = parse_labelled_lines("label\tsource\ttext\n1\timdb\tGreat film\n0\tyelp\tCold food\n").unwrap();
        assert_eq!(rows, vec![(1.0, "Great film".to_string()), (0.0, "Cold food".to_string())]);
        let err = |s: &str| parse_labelled_lines(s).unwrap_err().to_string();
        assert_eq!(err("1\tok\nno tab here"), "line 2: expected `label<TAB>text`, found no tab");
        assert_eq!(err("1\tok\nx\tbad"), "line 2: label \"x\" is not a number");
        assert_eq!(err("1\t  "), "line 1: the text is empty");
        assert!(err("").contains("no labelled lines"));
    }
}
