//! Native benchmark: `cargo run --release -p neuroglow-bench [-- --quick] [--only=NAME] [--no-quad]`.
//! Times every workload (or just NAME) on the CPU backend and, when wgpu
//! finds an adapter, on the GPU backend (`--no-quad`: without the quad
//! kernels, to compare them with the plain ones).

use neuroglow_bench::{run, Timing, WORKLOADS};
use neuroglow_core::{train::default_clock, Backend, CpuBackend};
use neuroglow_gpu::GpuBackend;

fn main() {
    let quick = std::env::args().any(|a| a == "--quick");
    let only = std::env::args().find_map(|a| a.strip_prefix("--only=").map(String::from));
    let (warmup, steps) = if quick { (1, 3) } else { (2, 10) };
    let quad = !std::env::args().any(|a| a == "--no-quad");
    let open_gpu = || {
        // Each workload's first step is timed cold, compiling every pipeline.
        neuroglow_gpu::forget_compiled_kernels();
        pollster::block_on(GpuBackend::new()).map(|mut gpu| {
            gpu.set_quad_kernels(quad);
            gpu
        })
    };
    let gpu_name = match open_gpu() {
        Ok(gpu) => Some(format!("{} (quad kernels: {})", gpu.name(), if gpu.quad_kernels() { "on" } else { "off" })),
        Err(e) => {
            println!("GPU backend skipped: {e}");
            None
        }
    };
    println!(
        "{:<12} {:<10} {:>14} {:>14} {:>14} {:>16}",
        "workload", "backend", "first step ms", "step ms (med)", "recording ms", "inference ms"
    );
    for workload in WORKLOADS.iter().filter(|w| only.as_ref().is_none_or(|name| *name == w.name)) {
        report("cpu", pollster::block_on(run(workload, CpuBackend::new(), warmup, steps, default_clock)));
        if gpu_name.is_some() {
            let gpu = open_gpu().expect("it opened above");
            report("gpu", pollster::block_on(run(workload, gpu, warmup, steps, default_clock)));
        }
    }
    if let Some(name) = gpu_name {
        println!("gpu: {name}");
    }
}

fn report(backend: &str, timing: Result<Timing, String>) {
    match timing {
        Ok(t) => println!(
            "{:<12} {:<10} {:>14.2} {:>14.2} {:>14.2} {:>16.3}",
            t.workload, backend, t.first_step_ms, t.step_ms, t.record_ms, t.inference_ms
        ),
        Err(e) => println!("{backend}: failed: {e}"),
    }
}
