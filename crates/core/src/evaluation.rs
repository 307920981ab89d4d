//! A classifier's report card on held-out data: accuracy, precision, recall
//! and F1 per class, the confusion matrix, and the examples it got most wrong.

use crate::error::{Error, Result};
use crate::tensor::Tensor;

/// How well one class is recognised.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ClassScores {
    /// Of the examples predicted as this class, the share that are.
    pub precision: f32,
    /// Of the examples of this class, the share predicted as it.
    pub recall: f32,
    /// Harmonic mean of precision and recall.
    pub f1: f32,
    /// Examples of this class.
    pub support: usize,
}

/// One misclassified example.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Mistake {
    /// Its row in the evaluated data.
    pub row: usize,
    pub actual: usize,
    pub predicted: usize,
    /// The probability the model gave the actual class (low is bad).
    pub actual_probability: f32,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ClassificationReport {
    pub accuracy: f32,
    /// `confusion[actual][predicted]` counts examples.
    pub confusion: Vec<Vec<usize>>,
    pub per_class: Vec<ClassScores>,
    /// Misclassified examples, the most confidently wrong first.
    pub worst: Vec<Mistake>,
}

impl ClassificationReport {
    /// Compares a model's `probabilities` (one sigmoid output per row for two
    /// classes, or one column per class) with the `labels` it was trained on
    /// (0/1, class ids, or one-hot rows). Keeps the `keep_worst` worst mistakes.
    pub fn new(probabilities: &Tensor, labels: &Tensor, keep_worst: usize) -> Result<Self> {
        let rows = probabilities.rows();
        if labels.rows() != rows {
            return Err(Error::Data(format!("{rows} predictions but {} labels", labels.rows())));
        }
        if rows == 0 {
            return Err(Error::Data("there are no examples to evaluate".into()));
        }
        let width = probabilities.row_len();
        let classes = width.max(2);
        // Each example's probability for every class.
        let class_probabilities = |row: usize| -> Vec<f32> {
            let p = probabilities.row(row);
            if width == 1 {
                vec![1.0 - p[0], p[0]]
            } else {
                p.to_vec()
            }
        };
        let actual_class = |row: usize| -> Result<usize> {
            let y = labels.row(row);
            let class = match y.len() {
                1 if width == 1 => usize::from(y[0] >= 0.5),
                1 => y[0] as usize,
                n if n == width => argmax(y),
                n => return Err(Error::Data(format!("labels have {n} columns but the model predicts {width}"))),
            };
            if class >= classes || y[0] < 0.0 {
                return Err(Error::Data(format!(
                    "row {}: label {} is not a class from 0 to {}",
                    row + 1,
                    y[0],
                    classes - 1
                )));
            }
            Ok(class)
        };

        let mut confusion = vec![vec![0; classes]; classes];
        let mut mistakes = Vec::new();
        for row in 0..rows {
            let p = class_probabilities(row);
            let (actual, predicted) = (actual_class(row)?, argmax(&p));
            confusion[actual][predicted] += 1;
            if actual != predicted {
                mistakes.push(Mistake { row, actual, predicted, actual_probability: p[actual] });
            }
        }
        mistakes.sort_by(|a, b| a.actual_probability.total_cmp(&b.actual_probability).then(a.row.cmp(&b.row)));
        mistakes.truncate(keep_worst);

        let correct: usize = (0..classes).map(|c| confusion[c][c]).sum();
        let per_class = (0..classes)
            .map(|c| {
                let hits = confusion[c][c] as f32;
                let support: usize = confusion[c].iter().sum();
                let predicted: usize = confusion.iter().map(|row| row[c]).sum();
                let precision = ratio(hits, predicted as f32);
                let recall = ratio(hits, support as f32);
                ClassScores { precision, recall, f1: ratio(2.0 * precision * recall, precision + recall), support }
            })
            .collect();
        Ok(Self { accuracy: correct as f32 / rows as f32, confusion, per_class, worst: mistakes })
    }
}

/// `a / b`, and 0 when nothing was counted (as scikit-learn reports it).
fn ratio(a: f32, b: f32) -> f32 {
    if b > 0.0 {
        a / b
    } else {
        0.0
    }
}

/// Index of the largest value (the first, on ties).
fn argmax(values: &[f32]) -> usize {
    values.iter().enumerate().fold(0, |best, (i, v)| if *v > values[best] { i } else { best })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tensor(rows: usize, data: &[f32]) -> Tensor {
        Tensor::new(vec![rows, data.len() / rows], data.to_vec()).unwrap()
    }

    #[test]
    fn a_sigmoid_classifier_gets_the_scores_scikit_learn_would_give() {
        // Actual 1,1,1,0,0 ; predicted 1,0,1,0,1.
        let p = tensor(5, &[0.9, 0.2, 0.6, 0.1, 0.7]);
        let y = tensor(5, &[1.0, 1.0, 1.0, 0.0, 0.0]);
        let report = ClassificationReport::new(&p, &y, 10).unwrap();
        assert_eq!(report.confusion, vec![vec![1, 1], vec![1, 2]]);
        assert!((report.accuracy - 0.6).abs() < 1e-6);
        let positive = report.per_class[1];
        assert!((positive.precision - 2.0 / 3.0).abs() < 1e-6);
        assert!((positive.recall - 2.0 / 3.0).abs() < 1e-6);
        assert!((positive.f1 - 2.0 / 3.0).abs() < 1e-6);
        assert_eq!(positive.support, 3);
        let negative = report.per_class[0];
        assert_eq!((negative.precision, negative.recall, negative.f1), (0.5, 0.5, 0.5));
        // The 0.2 given to a positive is a worse miss than the 0.3 given to a negative.
        let rows: Vec<usize> = report.worst.iter().map(|m| m.row).collect();
        assert_eq!(rows, vec![1, 4]);
        assert!((report.worst[0].actual_probability - 0.2).abs() < 1e-6);
    }

    #[test]
    fn softmax_outputs_take_class_ids_or_one_hot_labels() {
        let p = tensor(3, &[0.7, 0.2, 0.1, 0.1, 0.1, 0.8, 0.5, 0.4, 0.1]);
        let ids = tensor(3, &[0.0, 2.0, 1.0]);
        let one_hot = tensor(3, &[1.0, 0.0, 0.0, 0.0, 0.0, 1.0, 0.0, 1.0, 0.0]);
        let a = ClassificationReport::new(&p, &ids, 5).unwrap();
        assert_eq!(a, ClassificationReport::new(&p, &one_hot, 5).unwrap());
        assert_eq!(a.confusion, vec![vec![1, 0, 0], vec![1, 0, 0], vec![0, 0, 1]]);
        // Class 1 is never predicted: precision 0, not NaN.
        assert_eq!(a.per_class[1], ClassScores { precision: 0.0, recall: 0.0, f1: 0.0, support: 1 });
        assert_eq!(a.worst, vec![Mistake { row: 2, actual: 1, predicted: 0, actual_probability: 0.4 }]);
    }

    #[test]
    fn mismatched_or_impossible_labels_are_reported() {
        let p = tensor(2, &[0.7, 0.3, 0.2, 0.8]);
        let err = ClassificationReport::new(&p, &tensor(1, &[0.0]), 1).unwrap_err().to_string();
        assert!(err.contains("2 predictions but 1 labels"), "{err}");
        let err = ClassificationReport::new(&p, &tensor(2, &[0.0, 5.0]), 1).unwrap_err().to_string();
        assert!(err.contains("row 2: label 5 is not a class from 0 to 1"), "{err}");
    }
}
