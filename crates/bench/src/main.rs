//! Native benchmark: `cargo run --release -p neuroglow-bench [-- --quick]`.

use neuroglow_bench::{run, WORKLOADS};
use neuroglow_core::{train::default_clock, CpuBackend};

fn main() {
    let quick = std::env::args().any(|a| a == "--quick");
    let (warmup, steps) = if quick { (1, 3) } else { (2, 10) };
    println!("{:<12} {:>14} {:>14} {:>16}", "workload", "first step ms", "step ms (med)", "inference ms");
    for workload in &WORKLOADS {
        match pollster::block_on(run(workload, CpuBackend::new(), warmup, steps, default_clock)) {
            Ok(t) => {
                println!("{:<12} {:>14.2} {:>14.2} {:>16.3}", t.workload, t.first_step_ms, t.step_ms, t.inference_ms)
            }
            Err(e) => println!("{:<12} failed: {e}", workload.name),
        }
    }
}
