//! The page: a header with the backend badge, a tab per view, and the views.
//! Every view stays mounted once opened (hidden when another is shown), so
//! switching tabs never interrupts training or loses a trained model; each
//! loads its model the first time it is shown.
//!
//! With `?embed=1` the page is made for an iframe in someone else's page:
//! one view (the `#view` in the address), no tabs, controls hidden as the
//! address says (see [`Controls`]), and a link to open the full playground.

use leptos::ev;
use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::backend::{BackendBadge, BackendState};
use crate::controls::Controls;
use crate::digits::{self, Digits};
use crate::generator::{self, Generator};
use crate::lab::Lab;
use crate::models::Models;
use crate::runtime::{location_hash, query_parameter, set_query_parameter};
use crate::sentiment::{self, Sentiment};
use crate::slot::ModelSlot;

/// The views, as `#name` in the address.
const VIEWS: [(&str, &str); 5] = [
    ("lab", "2-D lab"),
    ("text", "Text classifier"),
    ("generate", "Text generator"),
    ("digits", "Digits"),
    ("models", "Models"),
];

fn view_from_hash() -> &'static str {
    let hash = location_hash();
    VIEWS.iter().map(|(id, _)| *id).find(|id| *id == hash).unwrap_or("lab")
}

/// The views' models, for the models page to export, import and reset.
#[derive(Clone, Copy)]
pub struct ViewModels {
    pub sentiment: ModelSlot,
    pub generator: ModelSlot,
    pub digits: ModelSlot,
}

/// The address of this page outside its iframe.
fn full_playground_url() -> String {
    set_query_parameter("embed", None);
    let url = web_sys::window().and_then(|w| w.location().href().ok()).unwrap_or_default();
    set_query_parameter("embed", Some("1"));
    url
}

#[component]
pub fn App() -> impl IntoView {
    let embedded = query_parameter("embed").is_some_and(|v| v == "1");
    if embedded {
        Controls::from_url().provide();
    }
    let backend = BackendState::provide();
    let models = ViewModels { sentiment: sentiment::slot(), generator: generator::slot(), digits: digits::slot() };
    let current = RwSignal::new(view_from_hash());
    let _ = window_event_listener(ev::hashchange, move |_| current.set(view_from_hash()));
    // Say where training will run as soon as possible, and again on a switch.
    Effect::new(move |_| {
        backend.choice.track();
        backend.info.set(None);
        spawn_local(async move { backend.probe().await });
    });
    let hidden = move |id: &'static str| move || current.get() != id;
    // True from the first time a view is shown: it then loads its model.
    let opened = move |id: &'static str| {
        let memo = Memo::new(move |was: Option<&bool>| was.copied().unwrap_or(false) || current.get() == id);
        Signal::from(memo)
    };

    let header = if embedded {
        view! {
            <header class="embedded">
                <BackendBadge />
                <a class="open-full" href=full_playground_url() target="_blank" rel="noopener">"Open in Neuroglow ↗"</a>
            </header>
        }
        .into_any()
    } else {
        view! {
            <header>
                <h1>"Neuroglow"</h1>
                <p class="tagline">"Train neural networks in your browser. Nothing leaves your machine."</p>
                <BackendBadge />
            </header>
        }
        .into_any()
    };

    view! {
        {header}
        <nav aria-label="Views" hidden=embedded>
            {VIEWS.iter().map(|(id, title)| view! {
                <a href=format!("#{id}") aria-current=move || (current.get() == *id).then_some("page")>{*title}</a>
            }).collect_view()}
        </nav>
        <main>
            <div hidden=hidden("lab")><Lab opened=opened("lab") /></div>
            <div hidden=hidden("text")><Sentiment opened=opened("text") model=models.sentiment /></div>
            <div hidden=hidden("generate")><Generator opened=opened("generate") model=models.generator /></div>
            <div hidden=hidden("digits")><Digits opened=opened("digits") model=models.digits /></div>
            <div hidden=hidden("models")><Models opened=opened("models") models=models /></div>
        </main>
    }
}
