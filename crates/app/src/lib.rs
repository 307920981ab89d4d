//! The Neuroglow playground's views, and what they share: the playground
//! binary mounts them all; the demo widget (`neuroglow-widget`) mounts one at
//! a time inside a host page's custom element.

mod app;
pub mod backend;
mod chart;
pub mod controls;
pub mod digits;
mod files;
pub mod generator;
mod heatmap;
pub mod lab;
mod models;
mod predict;
mod report;
pub mod runtime;
pub mod sentiment;
pub mod slot;
mod store;
mod training;

pub use app::App;
