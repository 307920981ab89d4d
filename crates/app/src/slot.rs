//! Where a view keeps its model: outside the reactive system (the engine is
//! not `Send`), loaded the first time the view opens — the user's own saved
//! model if there is one, else the pretrained one — and lent out while an
//! `await` needs it, so that no `RefCell` borrow is ever held across one.

use std::cell::RefCell;
use std::thread::LocalKey;

use leptos::prelude::*;
use leptos::task::spawn_local;
use neuroglow_core::{CpuBackend, Model};

use crate::files::load_model;
use crate::store;
use crate::training::copy_of;

pub type Cell = RefCell<Option<Model<CpuBackend>>>;

/// A view's model, by the thread-local that holds it.
#[derive(Clone, Copy)]
pub struct ModelSlot {
    cell: &'static LocalKey<Cell>,
    /// The pretrained model it starts from, as named under `models/`; also
    /// the key of the user's own version in the browser's storage.
    pub name: &'static str,
    /// Bumped whenever the model is replaced (loaded, fine-tuned, imported).
    pub version: RwSignal<u64>,
    /// Whether the model is the user's own (trained or imported, and saved).
    pub own: RwSignal<bool>,
}

impl ModelSlot {
    pub fn new(cell: &'static LocalKey<Cell>, name: &'static str) -> Self {
        Self { cell, name, version: RwSignal::new(0), own: RwSignal::new(false) }
    }

    /// The directory of the pretrained model's files.
    pub fn pretrained_url(&self) -> String {
        format!("models/{}/", self.name)
    }

    pub fn is_loaded(&self) -> bool {
        self.cell.with(|m| m.borrow().is_some())
    }

    /// Lends the model to `f`; `None` when there is none (yet).
    pub fn with<T>(&self, f: impl FnOnce(&mut Model<CpuBackend>) -> T) -> Option<T> {
        self.cell.with(|m| m.borrow_mut().as_mut().map(f))
    }

    /// Installs `model` and tells whoever shows it.
    pub fn set(&self, model: Model<CpuBackend>) {
        self.cell.with(|m| *m.borrow_mut() = Some(model));
        self.version.update(|v| *v += 1);
    }

    /// Takes the model out while an `await` needs it; [`ModelSlot::put_back`] returns it.
    pub fn take(&self) -> Result<Model<CpuBackend>, String> {
        self.cell.with(|m| m.borrow_mut().take()).ok_or_else(|| "the model is busy or not loaded yet".into())
    }

    pub fn put_back(&self, model: Model<CpuBackend>) {
        self.cell.with(|m| *m.borrow_mut() = Some(model));
    }

    /// A copy to train while the model keeps answering.
    pub async fn copy(&self) -> Result<Model<CpuBackend>, String> {
        let mut model = self.take()?;
        let copy = copy_of(&mut model).await;
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

    /// Saves the current model in the browser, so a reload finds it.
    pub async fn keep(&self) -> Result<(), String> {
        let mut model = self.take()?;
        let files = model.to_files().await;
        self.put_back(model);
        let files = files.map_err(|e| e.to_string())?;
        self.own.set(true);
        store::save(self.name, &files).await.map_err(|e| format!("the model is trained but not saved: {e}"))
    }

    /// Forgets the user's own model and loads the pretrained one.
    pub async fn load_pretrained(&self) -> Result<(), String> {
        let model = load_model(&self.pretrained_url()).await?;
        store::remove(self.name).await?;
        self.own.set(false);
        self.set(model);
        Ok(())
    }

    /// The user's saved model if there is a readable one, else the pretrained one.
    async fn load_first(&self) -> Result<(), String> {
        let saved = store::load(self.name).await.ok().flatten();
        let problem = match saved.map(|f| Model::from_files(&f.json, &f.safetensors, CpuBackend::new())) {
            Some(Ok(model)) => {
                self.own.set(true);
                self.set(model);
                return Ok(());
            }
            Some(Err(e)) => Some(format!("your saved model could not be read ({e}); the pretrained one is loaded")),
            None => None,
        };
        self.set(load_model(&self.pretrained_url()).await?);
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
