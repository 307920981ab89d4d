//! Numeric CSV tables: header detection, a label column, and errors that name
//! the row and column at fault.

use crate::error::{Error, Result};
use crate::tensor::Tensor;

/// Which column holds the targets.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum LabelColumn {
    /// The last column.
    #[default]
    Last,
    Index(usize),
    Name(String),
}

/// How to read a CSV file.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CsvOptions {
    pub label: LabelColumn,
    /// Skip rows with a missing or non-numeric value instead of failing;
    /// [`Table::dropped`] says which and why.
    pub drop_invalid_rows: bool,
}

/// A parsed table split into features and labels.
#[derive(Debug, Clone, PartialEq)]
pub struct Table {
    /// Column names: from the header row, or `column_1`, … when there is none.
    pub feature_names: Vec<String>,
    pub label_name: String,
    /// `[rows, features]`
    pub features: Tensor,
    /// `[rows, 1]`
    pub labels: Tensor,
    /// One message per row skipped with [`CsvOptions::drop_invalid_rows`].
    pub dropped: Vec<String>,
}

/// Parses comma-separated numbers. The first line is a header when any of its
/// fields is not a number. Blank lines are skipped; fields may be quoted.
pub fn parse(text: &str, options: &CsvOptions) -> Result<Table> {
    let mut lines = text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty());
    let Some((_, first)) = lines.next() else {
        return Err(Error::Data("the CSV file is empty".into()));
    };
    let first_fields = split_line(first);
    let has_header = first_fields.iter().any(|f| f.parse::<f32>().is_err());
    let columns = first_fields.len();
    let names: Vec<String> = if has_header {
        first_fields.iter().map(|s| s.to_string()).collect()
    } else {
        (1..=columns).map(|i| format!("column_{i}")).collect()
    };
    if columns < 2 {
        return Err(Error::Data("the CSV needs at least two columns: features and a label".into()));
    }
    let label_index = match &options.label {
        LabelColumn::Last => columns - 1,
        LabelColumn::Index(i) if *i < columns => *i,
        LabelColumn::Index(i) => {
            return Err(Error::Data(format!(
                "label column {i} does not exist; the CSV has {columns} columns (0-based)"
            )))
        }
        LabelColumn::Name(n) => names
            .iter()
            .position(|c| c == n)
            .ok_or_else(|| Error::Data(format!("no column named `{n}`; the columns are: {}", names.join(", "))))?,
    };
    let data_lines = if has_header { None } else { Some((0, first)) };
    let (mut features, mut labels, mut rows, mut dropped) = (Vec::new(), Vec::new(), 0, Vec::new());
    for (line_index, line) in data_lines.into_iter().chain(lines) {
        match parse_row(line, line_index + 1, &names) {
            Ok(values) => {
                for (c, value) in values.into_iter().enumerate() {
                    if c == label_index {
                        labels.push(value)
                    } else {
                        features.push(value)
                    }
                }
                rows += 1;
            }
            Err(problem) if options.drop_invalid_rows => dropped.push(problem),
            Err(problem) => return Err(Error::Data(problem)),
        }
    }
    if rows == 0 {
        return Err(Error::Data("the CSV has a header but no data rows".into()));
    }
    let label_name = names[label_index].clone();
    let feature_names = names.into_iter().enumerate().filter(|(i, _)| *i != label_index).map(|(_, n)| n).collect();
    Ok(Table {
        feature_names,
        label_name,
        features: Tensor::new(vec![rows, columns - 1], features)?,
        labels: Tensor::new(vec![rows, 1], labels)?,
        dropped,
    })
}

/// The numbers of one data line, or what is wrong with it.
fn parse_row(line: &str, line_number: usize, names: &[String]) -> Result<Vec<f32>, String> {
    let fields = split_line(line);
    if fields.len() != names.len() {
        return Err(format!(
            "line {line_number} has {} fields, expected {} like the first line",
            fields.len(),
            names.len()
        ));
    }
    fields
        .iter()
        .zip(names)
        .map(|(field, name)| {
            field.parse::<f32>().ok().filter(|v| v.is_finite()).ok_or_else(|| {
                let what = if field.is_empty() { "is empty".to_string() } else { format!("{field:?} is not a number") };
                format!("line {line_number}, column `{name}`: {what}")
            })
        })
        .collect()
}

/// Splits on commas outside double quotes and strips the quotes.
fn split_line(line: &str) -> Vec<String> {
    let mut fields = vec![String::new()];
    let mut quoted = false;
    for ch in line.trim_end_matches('\r').chars() {
        match ch {
            '"' => quoted = !quoted,
            ',' if !quoted => fields.push(String::new()),
            _ => fields.last_mut().expect("non-empty").push(ch),
        }
    }
    fields.into_iter().map(|f| f.trim().to_string()).collect()
}

/// One-hot rows from integer class labels `[rows, 1]`.
pub fn one_hot(labels: &Tensor, classes: usize) -> Result<Tensor> {
    let mut data = vec![0.0; labels.rows() * classes];
    for (r, &label) in labels.data.iter().enumerate() {
        if label.fract() != 0.0 || label < 0.0 || label as usize >= classes {
            return Err(Error::Data(format!("row {}: label {label} is not a class in 0..{classes}", r + 1)));
        }
        data[r * classes + label as usize] = 1.0;
    }
    Tensor::new(vec![labels.rows(), classes], data)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn label(label: LabelColumn) -> CsvOptions {
        CsvOptions { label, drop_invalid_rows: false }
    }

    #[test]
    fn parses_header_and_label_column() {
        let t = parse("a,b,label\n1,2,0\n3,\"4\",1\n\n", &label(LabelColumn::Name("label".into()))).unwrap();
        assert_eq!(t.feature_names, vec!["a", "b"]);
        assert_eq!(t.features.data, vec![1.0, 2.0, 3.0, 4.0]);
        assert_eq!(t.labels.data, vec![0.0, 1.0]);
        let t = parse("1,2,0\n3,4,1", &label(LabelColumn::Index(0))).unwrap();
        assert_eq!(t.labels.data, vec![1.0, 3.0]);
        assert_eq!(t.feature_names, vec!["column_2", "column_3"]);
    }

    #[test]
    fn bad_input_names_the_place() {
        let err = |text: &str| parse(text, &CsvOptions::default()).unwrap_err().to_string();
        assert_eq!(err(""), "the CSV file is empty");
        assert!(err("a,b\n1,2\n3\n").contains("line 3 has 1 fields, expected 2"));
        assert!(err("a,b\n1,x\n").contains("line 2, column `b`: \"x\" is not a number"));
        assert!(err("a,b\n").contains("no data rows"));
        assert!(parse("a,b\n1,2", &label(LabelColumn::Name("c".into())))
            .unwrap_err()
            .to_string()
            .contains("no column named `c`"));
    }

    #[test]
    fn empty_fields_are_named_as_such() {
        let err = parse("a,b\n1,\n", &CsvOptions::default()).unwrap_err();
        assert_eq!(err.to_string(), "line 2, column `b`: is empty");
    }

    #[test]
    fn invalid_rows_can_be_dropped_and_are_reported() {
        let options = CsvOptions { drop_invalid_rows: true, ..CsvOptions::default() };
        let t = parse("a,b\n1,2\n3,x\n4\n5,6\n", &options).unwrap();
        assert_eq!(t.features.data, vec![1.0, 5.0]);
        assert_eq!(
            t.dropped,
            vec!["line 3, column `b`: \"x\" is not a number", "line 4 has 1 fields, expected 2 like the first line"]
        );
    }

    #[test]
    fn one_hot_rejects_non_classes() {
        let labels = Tensor::new(vec![2, 1], vec![1.0, 0.0]).unwrap();
        assert_eq!(one_hot(&labels, 2).unwrap().data, vec![0.0, 1.0, 1.0, 0.0]);
        assert!(one_hot(&labels, 1).is_err());
    }
}
