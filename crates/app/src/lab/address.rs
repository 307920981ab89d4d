//! The lab's state in the page's address (`?dataset=xor&hidden=4,2&…`), so
//! that a link reproduces a run, seed included. One table lists every entry
//! with how it is read and written; the controls take their ranges and
//! choices from the same constants, so a link can set nothing the controls
//! cannot show.

use neuroglow_core::data::features::Feature;

use super::settings::{name_of, named, Display, Settings, DATASETS};
use crate::runtime::{query_parameter, set_query_parameters};

/// A slider's range: what its control offers and what a link may set.
#[derive(Clone, Copy, Debug)]
pub struct Range {
    pub min: f32,
    pub max: f32,
    pub step: f32,
}

impl Range {
    fn clamp(self, value: f32) -> Option<f32> {
        value.is_finite().then(|| value.clamp(self.min, self.max))
    }
}

pub const NOISE: Range = Range { min: 0.0, max: 0.5, step: 0.05 };
pub const TRAIN_SHARE: Range = Range { min: 0.1, max: 0.9, step: 0.1 };
pub const BATCH_SIZE: Range = Range { min: 1.0, max: 30.0, step: 1.0 };
/// The learning rates and regularization rates on offer, as the controls write them.
pub const LEARNING_RATES: [&str; 11] =
    ["0.00001", "0.0001", "0.001", "0.003", "0.01", "0.03", "0.1", "0.3", "1", "3", "10"];
pub const PENALTY_RATES: [&str; 10] = ["0", "0.001", "0.003", "0.01", "0.03", "0.1", "0.3", "1", "3", "10"];

/// `value` if it is one of `choices` (as a number: `0.030` is `0.03`).
fn one_of(choices: &[&str], value: &str) -> Option<f32> {
    let value: f32 = value.parse().ok()?;
    choices.iter().any(|c| c.parse() == Ok(value)).then_some(value)
}

/// Everything a lab link holds.
#[derive(Clone, PartialEq, Debug, Default)]
pub struct LabState {
    pub settings: Settings,
    pub display: Display,
}

/// One entry of the address: its name, how its value is read into the
/// state (a value it does not take leaves the default) and how it is written.
struct Entry {
    name: &'static str,
    read: fn(&mut LabState, &str),
    write: fn(&LabState) -> String,
}

/// Sets `field` to `value` if there is one.
fn set<T>(field: &mut T, value: Option<T>) {
    if let Some(value) = value {
        *field = value;
    }
}

const ENTRIES: [Entry; 14] = [
    Entry {
        name: "dataset",
        read: |s, v| set(&mut s.settings.dataset, DATASETS.iter().any(|(id, _)| *id == v).then(|| v.into())),
        write: |s| s.settings.dataset.clone(),
    },
    Entry {
        name: "noise",
        read: |s, v| set(&mut s.settings.noise, v.parse().ok().and_then(|n| NOISE.clamp(n))),
        write: |s| s.settings.noise.to_string(),
    },
    Entry {
        name: "train",
        read: |s, v| set(&mut s.settings.train_share, v.parse().ok().and_then(|n| TRAIN_SHARE.clamp(n))),
        write: |s| s.settings.train_share.to_string(),
    },
    Entry {
        name: "batch",
        read: |s, v| {
            let size = v.parse::<usize>().ok().and_then(|n| BATCH_SIZE.clamp(n as f32));
            set(&mut s.settings.batch_size, size.map(|n| n as usize))
        },
        write: |s| s.settings.batch_size.to_string(),
    },
    Entry {
        name: "features",
        read: |s, v| {
            let features: Vec<Feature> = v.split(',').filter_map(named).collect();
            set(&mut s.settings.features, (!features.is_empty()).then_some(features))
        },
        write: |s| s.settings.features.iter().map(name_of).collect::<Vec<_>>().join(","),
    },
    Entry {
        name: "hidden",
        // Checked when the model is built, where a wrong size gets its message.
        read: |s, v| s.settings.hidden = v.split(',').map(str::trim).collect::<Vec<_>>().join(", "),
        write: |s| s.settings.hidden.replace(' ', ""),
    },
    Entry {
        name: "activation",
        read: |s, v| set(&mut s.settings.activation, named(v)),
        write: |s| name_of(&s.settings.activation),
    },
    Entry {
        name: "optimizer",
        read: |s, v| set(&mut s.settings.optimizer, named(v)),
        write: |s| name_of(&s.settings.optimizer),
    },
    Entry {
        name: "lr",
        read: |s, v| set(&mut s.settings.learning_rate, one_of(&LEARNING_RATES, v)),
        write: |s| s.settings.learning_rate.to_string(),
    },
    Entry {
        name: "penalty",
        read: |s, v| set(&mut s.settings.penalty, named(v)),
        write: |s| name_of(&s.settings.penalty),
    },
    Entry {
        name: "penalty_rate",
        read: |s, v| set(&mut s.settings.penalty_rate, one_of(&PENALTY_RATES, v)),
        write: |s| s.settings.penalty_rate.to_string(),
    },
    Entry {
        name: "seed",
        read: |s, v| set(&mut s.settings.seed, v.parse().ok()),
        write: |s| s.settings.seed.to_string(),
    },
    Entry {
        name: "show_test",
        read: |s, v| s.display.show_test = v != "false",
        write: |s| s.display.show_test.to_string(),
    },
    Entry {
        name: "discretize",
        read: |s, v| s.display.discretize = v == "true",
        write: |s| s.display.discretize.to_string(),
    },
];

impl LabState {
    /// The state that `get` (an entry's value by name) describes, each
    /// missing or unreadable entry at its default.
    pub fn read(get: impl Fn(&str) -> Option<String>) -> Self {
        let mut state = Self::default();
        for entry in &ENTRIES {
            if let Some(value) = get(entry.name) {
                (entry.read)(&mut state, &value);
            }
        }
        state
    }

    /// Every entry's name and value.
    pub fn entries(&self) -> Vec<(&'static str, String)> {
        ENTRIES.iter().map(|entry| (entry.name, (entry.write)(self))).collect()
    }

    /// Writes the state into the page's address (without reloading).
    pub fn write_address(&self) {
        let pairs: Vec<(&str, Option<String>)> = self.entries().into_iter().map(|(n, v)| (n, Some(v))).collect();
        set_query_parameters(&pairs);
    }
}

/// Where a lab's state is read from: the page's address, or a link's query
/// string (`?dataset=xor&hidden=4,2`) handed to an embedded lab.
pub enum Source {
    Address,
    Query(web_sys::UrlSearchParams),
}

impl Source {
    /// The source of a lab link (its `?…` part; the rest is ignored).
    pub fn link(link: &str) -> Self {
        let query = link.split_once('?').map_or(link, |(_, q)| q);
        let query = query.split('#').next().unwrap_or_default();
        web_sys::UrlSearchParams::new_with_str(query).map_or(Self::Address, Self::Query)
    }

    pub fn read(&self) -> LabState {
        LabState::read(|name| match self {
            Self::Address => query_parameter(name),
            Self::Query(params) => params.get(name),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use neuroglow_core::Activation;

    use crate::lab::settings::{OptimizerChoice, Penalty};

    fn read(pairs: &[(&str, &str)]) -> LabState {
        LabState::read(|name| pairs.iter().find(|(n, _)| *n == name).map(|(_, v)| v.to_string()))
    }

    #[test]
    fn an_empty_address_is_the_default_lab() {
        assert_eq!(read(&[]), LabState::default());
    }

    #[test]
    fn what_is_written_reads_back_the_same() {
        let settings = Settings {
            dataset: "spiral".into(),
            noise: 0.25,
            train_share: 0.7,
            batch_size: 30,
            features: vec![Feature::X1, Feature::X1Squared, Feature::SinX2],
            hidden: "6, 3, 2".into(),
            activation: Activation::Relu,
            optimizer: OptimizerChoice::Sgd,
            learning_rate: 0.3,
            penalty: Penalty::L2,
            penalty_rate: 0.01,
            seed: 42,
        };
        let state = LabState { settings, display: Display { show_test: false, discretize: true } };
        let written = state.entries();
        assert_eq!(written.len(), ENTRIES.len());
        let pairs: Vec<(&str, &str)> = written.iter().map(|(n, v)| (*n, v.as_str())).collect();
        assert_eq!(read(&pairs), state);
    }

    #[test]
    fn a_link_sets_only_what_the_controls_offer() {
        let state =
            read(&[("batch", "100"), ("noise", "2"), ("train", "0.01"), ("lr", "0.05"), ("penalty_rate", "NaN")]);
        assert_eq!(state.settings.batch_size, BATCH_SIZE.max as usize, "the batch slider stops at 30");
        assert_eq!(state.settings.noise, NOISE.max);
        assert_eq!(state.settings.train_share, TRAIN_SHARE.min);
        let default = Settings::default();
        assert_eq!(state.settings.learning_rate, default.learning_rate, "0.05 is not on offer");
        assert_eq!(state.settings.penalty_rate, default.penalty_rate);
        assert_eq!(read(&[("lr", "0.30"), ("noise", "inf")]).settings.learning_rate, 0.3);
        assert_eq!(read(&[("noise", "inf")]).settings.noise, default.noise);
    }

    #[test]
    fn unreadable_entries_keep_their_defaults() {
        let state = read(&[("dataset", "moons"), ("features", "x9"), ("activation", "gelu"), ("seed", "-1")]);
        assert_eq!(state, LabState::default());
        assert_eq!(read(&[("hidden", "4,2")]).settings.hidden, "4, 2");
    }
}
