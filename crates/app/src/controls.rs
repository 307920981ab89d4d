//! Which of a view's controls are shown. The playground shows them all; an
//! embedded view shows what its host page chose: a demo widget lists the ones
//! it wants (`controls="dataset,play"`), an iframe of the playground hides
//! some (`?embed=1&hide=noise,seed`, or TensorFlow Playground's `noise_hide=true`).
//!
//! A control is named by its `data-control` attribute in the views.

use leptos::prelude::*;

#[derive(Clone, Debug, Default, PartialEq)]
pub struct Controls {
    /// Only these are shown, when set.
    only: Option<Vec<String>>,
    hidden: Vec<String>,
}

/// Splits `"a, b,c"` into names.
fn names(list: &str) -> Vec<String> {
    list.split([',', ' ']).map(str::trim).filter(|n| !n.is_empty()).map(String::from).collect()
}

impl Controls {
    /// Just the controls in `list` (comma- or space-separated).
    pub fn only(list: &str) -> Self {
        Self { only: Some(names(list)), hidden: Vec::new() }
    }

    /// All controls except those the address hides.
    pub fn from_url() -> Self {
        let Some(search) = web_sys::window().and_then(|w| w.location().search().ok()) else {
            return Self::default();
        };
        let Ok(params) = web_sys::UrlSearchParams::new_with_str(&search) else { return Self::default() };
        let mut hidden = params.get("hide").map(|list| names(&list)).unwrap_or_default();
        let pairs = js_sys::try_iter(&params).ok().flatten().into_iter().flatten().filter_map(Result::ok);
        for pair in pairs {
            let pair = js_sys::Array::from(&pair);
            let (key, value) = (pair.get(0).as_string().unwrap_or_default(), pair.get(1).as_string());
            if let (Some(name), Some("true")) = (key.strip_suffix("_hide"), value.as_deref()) {
                hidden.push(name.to_string());
            }
        }
        Self { only: None, hidden }
    }

    /// Makes these the controls of the views built from here on.
    pub fn provide(self) {
        provide_context(self);
    }

    /// The controls in effect where a view is built (all, outside an embed).
    pub fn current() -> Self {
        use_context().unwrap_or_default()
    }

    pub fn shows(&self, name: &str) -> bool {
        !self.hidden.iter().any(|n| n == name) && self.only.as_ref().is_none_or(|only| only.iter().any(|n| n == name))
    }

    pub fn hides(&self, name: &str) -> bool {
        !self.shows(name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_list_shows_only_its_controls() {
        let controls = Controls::only("dataset, play");
        assert!(controls.shows("dataset") && controls.shows("play"));
        assert!(controls.hides("noise"));
    }

    #[test]
    fn by_default_everything_shows() {
        assert!(Controls::default().shows("noise"));
    }

    #[test]
    fn hidden_names_win() {
        let controls = Controls { only: None, hidden: names("noise seed") };
        assert!(controls.hides("seed") && controls.shows("dataset"));
    }
}
