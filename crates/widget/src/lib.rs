//! # neuroglow-widget
//!
//! The engine behind `<neuroglow-demo>`, the element a documentation author
//! drops into a page to show a live model. The element itself is a small
//! hand-written module, `web/embed/neuroglow-demo.js`: it gives each element
//! a shadow root, loads this wasm once per page when the first element
//! scrolls into view, and calls [`mount`] for each one (again whenever an
//! attribute changes). The views are the playground's own, showing only the
//! controls a demo needs.

mod attributes;
mod demo;

use leptos::mount::{mount_to, UnmountHandle};
use leptos::prelude::*;
use leptos::tachys::view::any_view::AnyViewState;
use wasm_bindgen::prelude::*;

/// A demo on the page; dropping it (or [`MountedDemo::unmount`]) removes it.
#[wasm_bindgen]
pub struct MountedDemo {
    _view: UnmountHandle<AnyViewState>,
}

#[wasm_bindgen]
impl MountedDemo {
    /// Removes the demo's view and stops its work.
    pub fn unmount(self) {}
}

/// Builds a demo inside `root` from the element's attributes (an object of
/// strings, see [`attributes::Attributes`]). Never throws: a problem with
/// the attributes or the model is shown inside the demo's box.
#[wasm_bindgen]
pub fn mount(root: web_sys::HtmlElement, attributes: JsValue) -> MountedDemo {
    console_error_panic_hook::set_once();
    let attributes = serde_wasm_bindgen::from_value(attributes);
    let view = mount_to(root, move || match attributes {
        Ok(attributes) => view! { <demo::Demo attributes=attributes /> }.into_any(),
        Err(e) => demo::problem(format!("the demo's attributes could not be read: {e}")).into_any(),
    });
    MountedDemo { _view: view }
}
