//! # neuroglow-gpu
//!
//! The GPU backend of the Neuroglow engine: every operation of
//! [`neuroglow_core::Backend`] as a WGSL compute kernel (the sources live in
//! the repository's top-level `shaders/` folder), run through `wgpu` on
//! WebGPU in the browser and on Vulkan, Metal or DX12 natively.
//!
//! A training step is recorded into one command encoder and sent as one
//! submission; loss and metrics come back through an asynchronous read, the
//! only point where the host waits. When no adapter is available,
//! [`GpuBackend::new`] returns an error; [`AutoModel`] handles that for you,
//! moving to the CPU backend (weights and optimizer state included) when
//! the GPU is missing or lost, and saying why.
//!
//! ```no_run
//! use neuroglow_core::{Model, ModelSpec};
//! use neuroglow_gpu::GpuBackend;
//!
//! # async fn demo(spec: ModelSpec) -> Result<(), Box<dyn std::error::Error>> {
//! let backend = GpuBackend::new().await?;
//! let model = Model::new(spec, backend)?;
//! # Ok(()) }
//! ```

mod alloc;
mod backend;
mod bind_groups;
mod device;
mod fallback;
mod kernels;
mod layout;
mod lstm;
mod matmul;
mod params;
mod quads;
mod readback;
mod recorder;
mod subgroups;

pub use alloc::Allocations;
pub use backend::{GpuBackend, GpuBuffer, GpuUnavailable};
pub use device::forget_compiled_kernels;
pub use fallback::{AutoModel, Engine};
