//! Where models train: the user's choice (auto, WebGPU or CPU; `?backend=`
//! in the URL and the switch in the header) and what the badge shows.

use leptos::prelude::*;
use neuroglow_core::{CpuBackend, Model};
use neuroglow_gpu::{AutoModel, Engine, GpuBackend};

use crate::controls::Controls;
use crate::runtime::{query_parameter, set_query_parameter};

const CPU_CHOSEN: &str = "the CPU was chosen (backend=cpu)";

/// What the user asked for.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum BackendChoice {
    /// WebGPU whenever an adapter and a device can be had, else the CPU.
    Auto,
    WebGpu,
    Cpu,
}

impl BackendChoice {
    pub fn from_url() -> Self {
        Self::parse(query_parameter("backend").as_deref().unwrap_or("auto"))
    }

    pub fn parse(value: &str) -> Self {
        match value {
            "cpu" => Self::Cpu,
            "webgpu" => Self::WebGpu,
            _ => Self::Auto,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Auto => "auto",
            Self::WebGpu => "webgpu",
            Self::Cpu => "cpu",
        }
    }
}

/// Where the model trains, for the badge.
#[derive(Clone, PartialEq, Debug)]
pub struct BackendInfo {
    /// `webgpu` or `cpu`, as the badge's `data-backend`.
    pub kind: &'static str,
    pub label: String,
    /// Why the CPU, when it is.
    pub reason: Option<String>,
}

/// The page-wide backend state, shared through Leptos context.
#[derive(Clone, Copy)]
pub struct BackendState {
    pub choice: RwSignal<BackendChoice>,
    /// Where the last model was placed; `None` until the first is.
    pub info: RwSignal<Option<BackendInfo>>,
}

impl BackendState {
    /// The state for the views built from here on, starting from the address's choice.
    pub fn provide() -> Self {
        Self::provide_with(BackendChoice::from_url())
    }

    pub fn provide_with(choice: BackendChoice) -> Self {
        let state = Self { choice: RwSignal::new(choice), info: RwSignal::new(None) };
        provide_context(state);
        state
    }

    pub fn get() -> Self {
        expect_context()
    }

    /// Changes the choice and records it in the URL, so a link keeps it.
    pub fn choose(&self, choice: BackendChoice) {
        set_query_parameter("backend", (choice != BackendChoice::Auto).then_some(choice.as_str()));
        self.choice.set(choice);
    }

    /// Puts `model` where the user's choice says and updates the badge.
    pub async fn place(&self, model: Model<CpuBackend>) -> Result<AutoModel, String> {
        let placed = match self.choice.get_untracked() {
            BackendChoice::Cpu => AutoModel::on_cpu(model, CPU_CHOSEN).await,
            BackendChoice::Auto | BackendChoice::WebGpu => AutoModel::new(model).await,
        }
        .map_err(|e| e.to_string())?;
        self.show(&placed);
        Ok(placed)
    }

    /// Updates the badge after training (the model may have fallen back).
    pub fn show(&self, model: &AutoModel) {
        self.info.set(Some(describe(model)));
    }

    /// Opens the GPU once to tell the user where training will run, before
    /// any model is built.
    pub async fn probe(&self) {
        let info = match self.choice.get_untracked() {
            BackendChoice::Cpu => cpu_info(Some(CPU_CHOSEN.into())),
            _ => match GpuBackend::new().await {
                Ok(_) => gpu_info(),
                Err(why) => cpu_info(Some(why.to_string())),
            },
        };
        if self.info.get_untracked().is_none() {
            self.info.set(Some(info));
        }
    }
}

fn describe(model: &AutoModel) -> BackendInfo {
    match model.engine() {
        Engine::Gpu(_) => gpu_info(),
        Engine::Cpu(_) => cpu_info(model.fallback().map(String::from)),
    }
}

fn gpu_info() -> BackendInfo {
    BackendInfo { kind: "webgpu", label: "GPU (WebGPU)".into(), reason: None }
}

fn cpu_info(reason: Option<String>) -> BackendInfo {
    BackendInfo { kind: "cpu", label: "CPU (WebAssembly)".into(), reason }
}

/// The badge and the switch, for the page header.
#[component]
pub fn BackendBadge() -> impl IntoView {
    let state = BackendState::get();
    let controls = Controls::current();
    view! {
        <div class="backend">
            {move || state.info.get().map(|b| {
                let reason = b.reason.clone().map(|r| view! { <small class="reason">{format!(" — {r}")}</small> });
                view! {
                    <span class="badge" data-backend=b.kind title=b.reason.unwrap_or_default()>
                        {b.label}
                        {reason}
                    </span>
                }
            })}
            <label class="switch" data-control="backend-switch" hidden=controls.hides("backend-switch")>"Train on "
                <select on:change=move |ev| state.choose(BackendChoice::parse(&event_target_value(&ev)))
                    prop:value=move || state.choice.get().as_str()>
                    <option value="auto">"best available"</option>
                    <option value="webgpu">"WebGPU"</option>
                    <option value="cpu">"CPU"</option>
                </select>
            </label>
        </div>
    }
}
