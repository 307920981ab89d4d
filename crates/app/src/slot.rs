//! Where a view keeps its model: in local (non-`Send`) storage owned by the
//! view, loaded the first time the view opens — the user's own saved model if
//! there is one, else the one it starts from — and lent out while an `await`
//! needs it, so that no borrow is ever held across one.

use leptos::prelude::*;
use leptos::task::spawn_local;
use neuroglow_core::{CpuBackend, Model};

use crate::files::{checked_model, load_model};
use crate::store;

/// What a slot says when its view has been removed from the page (an
/// embedded demo whose element went away while a task still ran).
const GONE: &str = "the demo was removed from the page";

/// The kind of model a view can use.
#[derive(Clone, Copy)]
pub struct ModelKind {
    pub fits: fn(&Model<CpuBackend>) -> bool,
    /// What such a model is, for the message when one does not fit.
    pub what: &'static str,
}

/// A view's model.
#[derive(Clone, Copy)]
pub struct ModelSlot {
    model: StoredValue<Option<Model<CpuBackend>>, LocalStorage>,
    /// The directory of the model's files it starts from, ending in `/`.
    source: StoredValue<String>,
    /// The key of the user's own version in the browser's storage; `None`
    /// for models that are never kept (embedded demos).
    saved_as: Option<&'static str>,
    /// Checked on models loaded from elsewhere than the shipped files.
    kind: Option<ModelKind>,
    /// Bumped whenever the model is replaced (loaded, fine-tuned, imported).
    pub version: RwSignal<u64>,
    /// Whether the model is the user's own (trained or imported, and saved).
    pub own: RwSignal<bool>,
}

impl ModelSlot {
    /// The pretrained model `name` (under `models/`), or the user's own
    /// version of it saved in the browser under the same name.
    pub fn pretrained(name: &'static str) -> Self {
        Self::new(format!("models/{name}/"), Some(name), None)
    }

    /// The model in the directory at `url` (ending in `/`), which must be of
    /// `kind`; never saved.
    pub fn at(url: String, kind: ModelKind) -> Self {
        Self::new(url, None, Some(kind))
    }

    fn new(source: String, saved_as: Option<&'static str>, kind: Option<ModelKind>) -> Self {
        Self {
            model: StoredValue::new_local(None),
            source: StoredValue::new(source),
            saved_as,
            kind,
            version: RwSignal::new(0),
            own: RwSignal::new(false),
        }
    }

    /// The directory of the files the model starts from, ending in `/`.
    pub fn source_url(&self) -> String {
        self.source.try_get_value().unwrap_or_default()
    }

    pub fn is_loaded(&self) -> bool {
        self.model.try_with_value(Option::is_some).unwrap_or(false)
    }

    /// Lends the model to `f`; `None` when there is none (yet).
    pub fn with<T>(&self, f: impl FnOnce(&mut Model<CpuBackend>) -> T) -> Option<T> {
        self.model.try_update_value(|m| m.as_mut().map(f)).flatten()
    }

    /// Installs `model` and tells whoever shows it.
    pub fn set(&self, model: Model<CpuBackend>) {
        self.put_back(model);
        self.version.update(|v| *v += 1);
    }

    /// Takes the model out while an `await` needs it; [`ModelSlot::put_back`] returns it.
    pub fn take(&self) -> Result<Model<CpuBackend>, String> {
        self.model
            .try_update_value(Option::take)
            .ok_or(GONE)?
            .ok_or_else(|| "the model is busy or not loaded yet".into())
    }

    pub fn put_back(&self, model: Model<CpuBackend>) {
        self.model.try_set_value(Some(model));
    }

    /// A copy to train while the model keeps answering.
    pub async fn copy(&self) -> Result<Model<CpuBackend>, String> {
        let mut model = self.take()?;
        let copy = model.copy_on(CpuBackend::new()).await.map_err(|e| e.to_string());
        self.put_back(model);
        copy
    }

    /// Gives the model trained weights and saves it as the user's own.
    pub async fn adopt(&self, weights: &[(String, neuroglow_core::Tensor)]) -> Result<(), String> {
        self.with(|m| m.set_weights(weights))
            .ok_or("the model was busy and could not take the trained weights")?
            .map_err(|e| e.to_string())?;
        self.version.update(|v| *v += 1);
        self.keep().await
    }

    /// Saves the current model in the browser, with its optimizer's state so
    /// that fine-tuning after a reload continues exactly (for slots that keep
    /// their model; others keep it only while on the page).
    pub async fn keep(&self) -> Result<(), String> {
        let Some(key) = self.saved_as else { return Ok(()) };
        let mut model = self.take()?;
        let files = model.to_files_for_training().await;
        self.put_back(model);
        let files = files.map_err(|e| e.to_string())?;
        self.own.set(true);
        store::save(key, &files).await.map_err(|e| format!("the model is trained but not saved: {e}"))
    }

    /// Forgets the user's own model and loads the pretrained one.
    pub async fn load_pretrained(&self) -> Result<(), String> {
        let model = load_model(&self.source_url()).await?;
        if let Some(key) = self.saved_as {
            store::remove(key).await?;
        }
        self.own.set(false);
        self.set(model);
        Ok(())
    }

    /// The user's saved model if there is a readable one, else the one it starts from.
    async fn load_first(&self) -> Result<(), String> {
        let saved = match self.saved_as {
            Some(key) => store::load(key).await.ok().flatten(),
            None => None,
        };
        let problem = match saved {
            Some(files) => match checked_model(&files.json, &files.safetensors).await {
                Ok(model) => {
                    self.own.set(true);
                    self.set(model);
                    return Ok(());
                }
                Err(e) => Some(format!("your saved model could not be used ({e}); the pretrained one is loaded")),
            },
            None => None,
        };
        let url = self.source_url();
        let model = load_model(&url).await?;
        if let Some(kind) = self.kind.filter(|kind| !(kind.fits)(&model)) {
            let (takes, gives) = (model.input_shape(), model.output_shape());
            return Err(format!("the model at {url} is not {}: it takes {takes:?} and gives {gives:?}", kind.what));
        }
        self.set(model);
        problem.map_or(Ok(()), Err)
    }

    /// Loads the model once `opened` (the view has been shown).
    pub fn load_when_opened(&self, opened: Signal<bool>, error: WriteSignal<Option<String>>) {
        let slot = *self;
        Effect::new(move |_| {
            if opened.get() && !slot.is_loaded() {
                spawn_local(async move {
                    if let Err(e) = slot.load_first().await {
                        error.set(Some(e));
                    }
                });
            }
        });
    }
}
