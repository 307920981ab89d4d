//! One demo: the playground view its task calls for, holding only the
//! controls it shows, with a footer saying where it runs.

use leptos::prelude::*;
use leptos::task::spawn_local;
use neuroglow_app::backend::{BackendBadge, BackendState};
use neuroglow_app::digits::{self, Digits};
use neuroglow_app::generator::{self, Generator};
use neuroglow_app::lab::Lab;
use neuroglow_app::sentiment::{self, Sentiment};
use neuroglow_app::slot::ModelSlot;

use crate::attributes::{Attributes, Setup, Task};

/// What went wrong, shown in the demo's box.
pub fn problem(message: String) -> impl IntoView {
    view! { <p class="error" role="alert">{format!("This demo cannot start: {message}")}</p> }
}

#[component]
pub fn Demo(attributes: Attributes) -> impl IntoView {
    let setup = match Setup::new(attributes) {
        Ok(setup) => setup,
        Err(message) => return problem(message).into_any(),
    };
    setup.controls.provide();
    let backend = BackendState::provide_with(setup.backend);
    spawn_local(async move { backend.probe().await });
    // A demo is built when it scrolls into view: its model loads at once.
    let opened = Signal::stored(true);
    let url = setup.model;
    let body = match setup.task {
        Task::Classify => view! { <Sentiment opened model=ModelSlot::at(url, sentiment::KIND) /> }.into_any(),
        Task::Generate => view! { <Generator opened model=ModelSlot::at(url, generator::KIND) /> }.into_any(),
        Task::Digits => view! { <Digits opened model=ModelSlot::at(url, digits::KIND) /> }.into_any(),
        Task::Playground => view! { <Lab opened setup=setup.lab_link /> }.into_any(),
    };
    view! {
        <div class="demo" data-task=setup.task.name()>
            {body}
            <footer class="demo-footer">
                <BackendBadge />
                <a href=setup.home target="_blank" rel="noopener">"Made with Neuroglow ↗"</a>
            </footer>
        </div>
    }
    .into_any()
}
