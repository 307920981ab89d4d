//! Where a view keeps its model: outside the reactive system (the engine is
//! not `Send`), loaded the first time the view opens, lent out while an
//! `await` needs it so that no `RefCell` borrow is ever held across one.

use std::cell::RefCell;
use std::thread::LocalKey;

use leptos::prelude::*;
use leptos::task::spawn_local;
use neuroglow_core::{CpuBackend, Model};

use crate::files::load_model;
use crate::training::copy_of;

pub type Cell = RefCell<Option<Model<CpuBackend>>>;

/// A view's model, by the thread-local that holds it.
#[derive(Clone, Copy)]
pub struct ModelSlot {
    cell: &'static LocalKey<Cell>,
    /// Where its pretrained files are (a directory URL ending in `/`).
    pub pretrained: &'static str,
    /// Bumped whenever the model is replaced (loaded, fine-tuned, imported).
    pub version: RwSignal<u64>,
}

impl ModelSlot {
    pub fn new(cell: &'static LocalKey<Cell>, pretrained: &'static str, version: RwSignal<u64>) -> Self {
        Self { cell, pretrained, version }
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

    /// Gives the model trained weights.
    pub fn set_weights(&self, weights: &[(String, neuroglow_core::Tensor)]) -> Result<(), String> {
        self.with(|m| m.set_weights(weights))
            .ok_or("the model was busy and could not take the trained weights")?
            .map_err(|e| e.to_string())?;
        self.version.update(|v| *v += 1);
        Ok(())
    }

    /// (Re)loads the pretrained model.
    pub async fn load_pretrained(&self) -> Result<(), String> {
        self.set(load_model(self.pretrained).await?);
        Ok(())
    }

    /// Loads the pretrained model once `opened` (the view has been shown).
    pub fn load_when_opened(&self, opened: Signal<bool>, error: WriteSignal<Option<String>>) {
        let slot = *self;
        Effect::new(move |_| {
            if opened.get() && !slot.is_loaded() {
                spawn_local(async move {
                    if let Err(e) = slot.load_pretrained().await {
                        error.set(Some(e));
                    }
                });
            }
        });
    }
}
