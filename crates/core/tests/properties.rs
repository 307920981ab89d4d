//! Properties of the data readers that must hold for any input: seeded
//! random tables and texts, many of each.

use neuroglow_core::data::csv::{self, CsvOptions};
use neuroglow_core::data::text::{pad_sequences, CharVocab, Side, WordTokenizer};
use neuroglow_core::rng::Rng;

const CASES: u64 = 500;

/// A random word of lowercase letters, sometimes with punctuation after it.
fn word(rng: &mut Rng) -> String {
    let letters: String = (0..1 + rng.below(7)).map(|_| (b'a' + rng.below(26) as u8) as char).collect();
    letters + ["", ",", ".", "!", ""][rng.below(5)]
}

#[test]
fn any_numeric_table_written_as_csv_reads_back_exactly() {
    for case in 0..CASES {
        let mut rng = Rng::derive(11, case);
        let (rows, columns) = (1 + rng.below(20), 2 + rng.below(5));
        let values: Vec<f32> =
            (0..rows * columns).map(|_| rng.normal() * 10f32.powi(rng.below(7) as i32 - 3)).collect();
        let header = rng.below(2) == 0;
        let mut text = String::new();
        if header {
            let names: Vec<String> = (0..columns).map(|c| format!("col{c}")).collect();
            text += &(names.join(",") + "\n");
        }
        for r in 0..rows {
            let fields: Vec<String> = values[r * columns..(r + 1) * columns]
                .iter()
                .map(|v| if rng.below(4) == 0 { format!("\"{v}\"") } else { v.to_string() })
                .collect();
            text += &(fields.join(",") + if rng.below(2) == 0 { "\n" } else { "\r\n" });
        }
        let table = csv::parse(&text, &CsvOptions::default()).unwrap_or_else(|e| panic!("case {case}: {e}\n{text}"));
        assert_eq!(table.features.shape, [rows, columns - 1], "case {case}");
        for r in 0..rows {
            let row = &values[r * columns..(r + 1) * columns];
            assert_eq!(table.features.row(r), &row[..columns - 1], "case {case}, row {r}");
            assert_eq!(table.labels.data[r], row[columns - 1], "case {case}, row {r}");
        }
    }
}

#[test]
fn a_word_tokenizer_gives_ids_inside_its_vocabulary() {
    for case in 0..CASES {
        let mut rng = Rng::derive(12, case);
        let texts: Vec<String> = (0..1 + rng.below(8))
            .map(|_| (0..1 + rng.below(12)).map(|_| word(&mut rng)).collect::<Vec<_>>().join(" "))
            .collect();
        let num_words = (rng.below(2) == 0).then(|| 2 + rng.below(20));
        let oov = (rng.below(2) == 0).then_some("<OOV>");
        let mut tokenizer = WordTokenizer::new(num_words, oov);
        tokenizer.fit(&texts);
        let unseen: String = (0..10).map(|_| word(&mut rng)).collect::<Vec<_>>().join(" ");
        for text in texts.iter().chain([&unseen]) {
            let ids = tokenizer.encode(text);
            assert!(ids.iter().all(|&id| id >= 1 && id < tokenizer.vocab_size()), "case {case}: {ids:?}");
            if oov.is_some() {
                assert_eq!(ids.len(), tokenizer.split(text).len(), "case {case}: every word gives an id");
            }
        }
        let mut seen = std::collections::HashSet::new();
        assert!(tokenizer.words().iter().all(|w| seen.insert(w)), "case {case}: words repeat");
    }
}

#[test]
fn padding_gives_maxlen_ids_and_keeps_the_chosen_end() {
    for case in 0..CASES {
        let mut rng = Rng::derive(13, case);
        let maxlen = 1 + rng.below(10);
        let sequences: Vec<Vec<usize>> =
            (0..1 + rng.below(5)).map(|_| (0..rng.below(15)).map(|_| 1 + rng.below(50)).collect()).collect();
        let (padding, truncating) = ([Side::Pre, Side::Post][rng.below(2)], [Side::Pre, Side::Post][rng.below(2)]);
        let x = pad_sequences(&sequences, maxlen, padding, truncating, 0.0).unwrap();
        assert_eq!(x.shape, [sequences.len(), maxlen]);
        for (row, seq) in sequences.iter().enumerate() {
            let ids: Vec<usize> = x.row(row).iter().filter(|&&v| v != 0.0).map(|&v| v as usize).collect();
            let kept = match (seq.len() > maxlen, truncating) {
                (false, _) => &seq[..],
                (true, Side::Pre) => &seq[seq.len() - maxlen..],
                (true, Side::Post) => &seq[..maxlen],
            };
            assert_eq!(ids, kept, "case {case}");
        }
    }
}

#[test]
fn a_character_vocabulary_round_trips_its_own_text() {
    for case in 0..CASES {
        let mut rng = Rng::derive(14, case);
        let alphabet: Vec<char> = "aé ,\n—Zq'\"xyz".chars().collect();
        let text: String = (0..1 + rng.below(60)).map(|_| alphabet[rng.below(alphabet.len())]).collect();
        let vocab = CharVocab::fit(&text).unwrap();
        assert!(vocab.chars.windows(2).all(|w| w[0] < w[1]), "case {case}: sorted, each once");
        let ids = vocab.encode(&text);
        assert!(ids.iter().all(|&id| (1..vocab.len()).contains(&id)), "case {case}");
        assert_eq!(vocab.decode(&ids), text, "case {case}");
    }
}
