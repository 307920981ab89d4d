//! What a `<neuroglow-demo>` element's attributes ask for, checked.

use neuroglow_app::backend::BackendChoice;
use neuroglow_app::controls::Controls;
use serde::Deserialize;

/// The element's attributes as the custom element hands them over (the
/// model's address already resolved against the host page).
#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct Attributes {
    pub task: Option<String>,
    /// The directory of `model.json` and `model.safetensors`.
    pub model: Option<String>,
    pub backend: Option<String>,
    #[serde(default)]
    pub trainable: bool,
    /// The controls to show, by name; each task has a few by default.
    pub controls: Option<String>,
    /// For the playground task: a lab link (or just its `?…` part).
    pub setup: Option<String>,
    /// The full playground's address, for the demo's footer link.
    pub home: Option<String>,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Task {
    Classify,
    Generate,
    Playground,
    Digits,
}

impl Task {
    fn parse(name: &str) -> Result<Self, String> {
        match name.trim() {
            "" | "classify" => Ok(Self::Classify),
            "generate" => Ok(Self::Generate),
            "playground" => Ok(Self::Playground),
            "digits" => Ok(Self::Digits),
            other => Err(format!("task=\"{other}\" is not a demo; use classify, generate, playground or digits")),
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Self::Classify => "classify",
            Self::Generate => "generate",
            Self::Playground => "playground",
            Self::Digits => "digits",
        }
    }

    /// The controls shown when the element names none.
    fn default_controls(self) -> &'static str {
        match self {
            Self::Classify => "words latency",
            Self::Generate => "length temperature",
            Self::Playground => "dataset features layers step reset stats",
            Self::Digits => "preview",
        }
    }
}

/// A demo's checked setup.
pub struct Setup {
    pub task: Task,
    /// The model's directory, ending in `/`.
    pub model: String,
    pub backend: BackendChoice,
    pub controls: Controls,
    pub lab_link: String,
    pub home: String,
}

impl Setup {
    pub fn new(attributes: Attributes) -> Result<Self, String> {
        let task = Task::parse(attributes.task.as_deref().unwrap_or_default())?;
        let model = attributes.model.unwrap_or_default();
        if model.trim().is_empty() && task != Task::Playground {
            return Err(format!(
                "task=\"{}\" needs a model=\"…\" attribute: the address of a model's directory (Neuroglow's \
                 files, or a TensorFlow.js layers model)",
                task.name()
            ));
        }
        let backend = match attributes.backend.as_deref().map(str::trim).unwrap_or("auto") {
            "auto" | "" => BackendChoice::Auto,
            "webgpu" => BackendChoice::WebGpu,
            "cpu" => BackendChoice::Cpu,
            other => return Err(format!("backend=\"{other}\" is not a backend; use auto, webgpu or cpu")),
        };
        let mut controls = attributes.controls.unwrap_or_else(|| task.default_controls().into());
        if attributes.trainable {
            controls.push_str(" fine-tune");
        }
        Ok(Self {
            task,
            model: directory(&model),
            backend,
            controls: Controls::only(&controls),
            lab_link: attributes.setup.unwrap_or_default(),
            home: attributes.home.unwrap_or_default(),
        })
    }
}

/// `…/model/`, also for `…/model` and `…/model/model.json`.
fn directory(url: &str) -> String {
    let url = url.trim();
    let url = url.strip_suffix("model.json").unwrap_or(url);
    if url.ends_with('/') {
        url.to_string()
    } else {
        format!("{url}/")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn setup(task: &str, model: &str) -> Result<Setup, String> {
        let attributes = Attributes { task: Some(task.into()), model: Some(model.into()), ..Default::default() };
        Setup::new(attributes)
    }

    #[test]
    fn a_model_address_names_its_directory() {
        for given in ["/m/sentiment", "/m/sentiment/", "/m/sentiment/model.json"] {
            assert_eq!(setup("classify", given).unwrap().model, "/m/sentiment/");
        }
    }

    #[test]
    fn unknown_tasks_and_backends_say_what_would_do() {
        let error = setup("translate", "/m/").err().unwrap();
        assert!(error.contains("classify, generate, playground or digits"), "{error}");
        let attributes = Attributes { backend: Some("tpu".into()), model: Some("/m/".into()), ..Default::default() };
        assert!(Setup::new(attributes).err().unwrap().contains("auto, webgpu or cpu"));
    }

    #[test]
    fn only_the_playground_needs_no_model() {
        assert!(setup("generate", " ").is_err());
        assert!(setup("playground", "").is_ok());
    }

    #[test]
    fn trainable_adds_fine_tuning_to_the_controls() {
        let attributes = Attributes {
            model: Some("/m/".into()),
            trainable: true,
            controls: Some("words".into()),
            ..Default::default()
        };
        let controls = Setup::new(attributes).unwrap().controls;
        assert!(controls.shows("words") && controls.shows("fine-tune") && controls.hides("latency"));
    }
}
