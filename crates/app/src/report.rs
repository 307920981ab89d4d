//! Shows a [`ClassificationReport`]: accuracy, precision / recall / F1 per
//! class, the confusion matrix and the worst-misclassified examples.

use leptos::prelude::*;
use neuroglow_core::evaluation::ClassificationReport;

/// How many misclassified examples a report lists.
pub const WORST_SHOWN: usize = 5;

/// What is evaluated: the report plus how to name classes and examples.
#[derive(Clone)]
pub struct Evaluation {
    /// e.g. "held-out test set (450 sentences)".
    pub what: String,
    pub report: ClassificationReport,
    pub class_names: Vec<String>,
    /// Each worst example as the user would recognise it (its text, …).
    pub worst_examples: Vec<String>,
}

impl Evaluation {
    /// `describe(row)` names an evaluated example.
    pub fn new(
        what: String,
        report: ClassificationReport,
        class_names: Vec<String>,
        describe: impl Fn(usize) -> String,
    ) -> Self {
        let worst_examples = report.worst.iter().map(|m| describe(m.row)).collect();
        Self { what, report, class_names, worst_examples }
    }
}

fn percent(v: f32) -> String {
    format!("{:.1} %", v * 100.0)
}

#[component]
pub fn ReportView(evaluation: Evaluation) -> impl IntoView {
    let Evaluation { what, report, class_names, worst_examples } = evaluation;
    let name = move |c: usize| class_names.get(c).cloned().unwrap_or_else(|| c.to_string());
    let per_class = report
        .per_class
        .iter()
        .enumerate()
        .map(|(c, s)| {
            view! {
                <tr>
                    <th scope="row">{name(c)}</th>
                    <td>{format!("{:.3}", s.precision)}</td>
                    <td>{format!("{:.3}", s.recall)}</td>
                    <td>{format!("{:.3}", s.f1)}</td>
                    <td>{s.support}</td>
                </tr>
            }
        })
        .collect_view();
    let header = (0..report.confusion.len()).map(|c| view! { <th scope="col">{name(c)}</th> }).collect_view();
    let confusion = report
        .confusion
        .iter()
        .enumerate()
        .map(|(actual, row)| {
            let cells = row
                .iter()
                .enumerate()
                .map(|(predicted, n)| view! { <td class:hit=actual == predicted>{*n}</td> })
                .collect_view();
            view! { <tr><th scope="row">{name(actual)}</th>{cells}</tr> }
        })
        .collect_view();
    let worst = report
        .worst
        .iter()
        .zip(worst_examples)
        .map(|(m, example)| {
            view! {
                <li>
                    <q>{example}</q>
                    {format!(" — is {}, predicted {} (gave {} to {})", name(m.actual), name(m.predicted),
                        percent(m.actual_probability), name(m.actual))}
                </li>
            }
        })
        .collect_view();
    view! {
        <section class="report" aria-label="Evaluation" data-accuracy=report.accuracy.to_string()>
            <h3>{format!("Evaluation on the {what}")}</h3>
            <p>"Accuracy "<b>{percent(report.accuracy)}</b></p>
            <table>
                <caption>"Per class"</caption>
                <thead><tr><th scope="col">"class"</th><th scope="col">"precision"</th><th scope="col">"recall"</th>
                    <th scope="col">"F1"</th><th scope="col">"examples"</th></tr></thead>
                <tbody>{per_class}</tbody>
            </table>
            <table class="confusion">
                <caption>"Confusion matrix (rows: actual class, columns: predicted)"</caption>
                <thead><tr><td></td>{header}</tr></thead>
                <tbody>{confusion}</tbody>
            </table>
            <h4>"Most confidently wrong"</h4>
            <ol class="worst">{worst}</ol>
        </section>
    }
}
