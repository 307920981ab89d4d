//! Records kernel dispatches and copies into one command encoder per
//! submission, in the manner of wgpu's `repeated_compute` example.

use crate::alloc::Allocator;
use crate::bind_groups::BindGroups;
use crate::kernels::{Kernel, Kernels};
use crate::params::ParamArena;

/// Invocations per workgroup of the one-dimensional kernels.
const WORKGROUP: usize = 256;
/// WebGPU's default `maxComputeWorkgroupsPerDimension`.
const MAX_GROUPS: usize = 65_535;

pub struct Recorder {
    pub device: wgpu::Device,
    pub queue: wgpu::Queue,
    pub allocator: Allocator,
    /// Whether the kernels that share loads within quads run
    /// (`matmul_quad.wgsl`, `lstm_quad.wgsl`).
    pub quad_kernels: bool,
    /// The device's compiled pipelines, shared with its other backends.
    pub kernels: Kernels,
    params: ParamArena,
    pub bind_groups: BindGroups,
    /// The compute pass that dispatches go into, open until a copy or the
    /// submission needs the encoder. (Declared first so that it ends before
    /// the encoder is dropped.)
    pass: Option<wgpu::ComputePass<'static>>,
    encoder: Option<wgpu::CommandEncoder>,
}

impl Recorder {
    pub fn new(device: wgpu::Device, queue: wgpu::Queue, kernels: Kernels, quad_kernels: bool) -> Self {
        let allocator = Allocator::new(device.clone());
        let params = ParamArena::default();
        let bind_groups = BindGroups::default();
        Self { device, queue, allocator, quad_kernels, kernels, params, bind_groups, pass: None, encoder: None }
    }

    /// The command encoder, for copies: ends the open compute pass.
    pub fn encoder(&mut self) -> &mut wgpu::CommandEncoder {
        self.pass = None;
        let device = &self.device;
        self.encoder.get_or_insert_with(|| device.create_command_encoder(&Default::default()))
    }

    /// The compute pass, opened if there is none. WebGPU orders the
    /// dispatches of a pass as if each had a pass of its own (every
    /// dispatch is its own synchronization scope), so one pass holds them
    /// all, which costs the host less than a pass per dispatch.
    fn pass(&mut self) -> &mut wgpu::ComputePass<'static> {
        if self.pass.is_none() {
            let pass = self.encoder().begin_compute_pass(&Default::default()).forget_lifetime();
            self.pass = Some(pass);
        }
        self.pass.as_mut().expect("opened above")
    }

    /// Runs a one-dimensional kernel over `invocations` indices.
    pub fn run(&mut self, kernel: Kernel, params: &[u32], buffers: &[(u32, &wgpu::Buffer)], invocations: usize) {
        if invocations == 0 {
            return;
        }
        let groups = invocations.div_ceil(WORKGROUP);
        let x = groups.min(MAX_GROUPS);
        self.dispatch(kernel, params, buffers, [x as u32, groups.div_ceil(x) as u32]);
    }

    /// Runs a kernel on an explicit grid of workgroups.
    pub fn dispatch(&mut self, kernel: Kernel, params: &[u32], buffers: &[(u32, &wgpu::Buffer)], groups: [u32; 2]) {
        let pipeline = self.kernels.pipeline(&self.device, kernel);
        let params = self.params.push(&self.allocator, params);
        let bind_group = self.bind_groups.get(&self.device, &pipeline, kernel, params, buffers);
        let pass = self.pass();
        pass.set_pipeline(&pipeline);
        pass.set_bind_group(0, &bind_group, &[]);
        pass.dispatch_workgroups(groups[0], groups[1], 1);
    }

    /// Sends everything recorded so far to the GPU.
    pub fn submit(&mut self) {
        self.pass = None;
        if let Some(encoder) = self.encoder.take() {
            self.params.upload(&self.queue);
            self.queue.submit([encoder.finish()]);
            self.bind_groups.end_submission();
        }
    }
}
