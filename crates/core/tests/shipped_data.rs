//! The data files under `web/data/` parse with Neuroglow's own tools and hold
//! what `web/data/NOTICE.md` says they hold.

use neuroglow_core::data::csv::{parse, CsvOptions, LabelColumn};
use neuroglow_core::data::text::{CharVocab, WordTokenizer};
use neuroglow_core::data::Dataset;

fn read(file: &str) -> String {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../web/data/");
    std::fs::read_to_string(format!("{path}{file}")).unwrap_or_else(|e| panic!("{file}: {e}"))
}

#[test]
fn tabular_sets_have_their_documented_shapes_and_classes() {
    let cases = [
        ("iris.csv", "species", 150, 4, vec![50, 50, 50]),
        ("wine.csv", "class", 178, 13, vec![59, 71, 48]),
        ("breast_cancer.csv", "diagnosis", 569, 30, vec![212, 357]),
        ("digits.csv", "digit", 1797, 64, vec![178, 182, 177, 183, 181, 182, 181, 179, 174, 180]),
    ];
    for (file, label, rows, features, classes) in cases {
        let options = CsvOptions { label: LabelColumn::Name(label.into()), drop_invalid_rows: false };
        let table = parse(&read(file), &options).unwrap();
        assert_eq!(table.features.shape, vec![rows, features], "{file}");
        let data = Dataset::new(table.features, table.labels).unwrap();
        assert_eq!(data.class_counts(), classes, "{file}");
    }
}

#[test]
fn sentiment_sentences_are_labelled_and_tokenize() {
    let text = read("sentiment.tsv");
    let mut lines = text.lines();
    assert_eq!(lines.next(), Some("label\tsource\ttext"));
    let rows: Vec<(&str, &str)> = lines
        .map(|l| l.split_once('\t').map(|(label, rest)| (label, rest.split_once('\t').unwrap().1)).unwrap())
        .collect();
    assert_eq!(rows.len(), 3000);
    assert_eq!(rows.iter().filter(|(label, _)| *label == "1").count(), 1500);
    assert!(rows.iter().all(|(label, text)| (*label == "0" || *label == "1") && !text.is_empty()));
    let mut tokenizer = WordTokenizer::new(Some(10_000), Some("<OOV>"));
    tokenizer.fit(&rows.iter().map(|(_, t)| *t).collect::<Vec<_>>());
    assert!(tokenizer.words().len() > 4000, "{} distinct words", tokenizer.words().len());
    assert_eq!(tokenizer.word(2), Some("the"));
}

#[test]
fn shakespeare_is_a_megabyte_of_plain_dialogue() {
    let text = read("shakespeare.txt");
    assert!((1_000_000..1_300_000).contains(&text.len()), "{} bytes", text.len());
    assert!(!text.contains("**") && !text.contains('#'), "markdown left in the text");
    assert!(text.contains("\nHIPPOLYTA:\n"));
    let vocab = CharVocab::fit(&text).unwrap();
    assert!((60..100).contains(&vocab.len()), "{} characters", vocab.len());
}

#[test]
fn the_tokenizer_json_has_no_fixed_padding() {
    let json: serde_json::Value = serde_json::from_str(&read("bert-uncased-tokenizer.json")).unwrap();
    assert!(json["padding"].is_null() && json["truncation"].is_null());
    assert_eq!(json["model"]["vocab"].as_object().unwrap().len(), 30_522);
}
