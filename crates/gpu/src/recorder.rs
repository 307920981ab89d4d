//! Records kernel dispatches and copies into one command encoder per
//! submission, in the manner of wgpu's `repeated_compute` example.

use crate::alloc::Allocator;
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
    encoder: Option<wgpu::CommandEncoder>,
}

impl Recorder {
    pub fn new(device: wgpu::Device, queue: wgpu::Queue, kernels: Kernels, quad_kernels: bool) -> Self {
        let allocator = Allocator::new(device.clone());
        Self { device, queue, allocator, quad_kernels, kernels, params: ParamArena::default(), encoder: None }
    }

    pub fn encoder(&mut self) -> &mut wgpu::CommandEncoder {
        let device = &self.device;
        self.encoder.get_or_insert_with(|| device.create_command_encoder(&Default::default()))
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
        let mut entries = vec![wgpu::BindGroupEntry { binding: 0, resource: wgpu::BindingResource::Buffer(params) }];
        entries.extend(
            buffers
                .iter()
                .map(|&(binding, buffer)| wgpu::BindGroupEntry { binding, resource: buffer.as_entire_binding() }),
        );
        let bind_group = self.device.create_bind_group(&wgpu::BindGroupDescriptor {
            label: None,
            layout: &pipeline.get_bind_group_layout(0),
            entries: &entries,
        });
        let mut pass = self.encoder().begin_compute_pass(&Default::default());
        pass.set_pipeline(&pipeline);
        pass.set_bind_group(0, &bind_group, &[]);
        pass.dispatch_workgroups(groups[0], groups[1], 1);
    }

    /// Sends everything recorded so far to the GPU.
    pub fn submit(&mut self) {
        if let Some(encoder) = self.encoder.take() {
            self.params.upload(&self.queue);
            self.queue.submit([encoder.finish()]);
        }
    }
}
