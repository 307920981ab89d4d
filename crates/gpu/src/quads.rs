//! Whether a device may run the quad kernels (`matmul_quad.wgsl`,
//! `lstm_quad.wgsl`), which rely on how invocations are grouped into quads:
//! WebGPU leaves that to the implementation, so it is checked on the device,
//! once, when it opens.

use crate::kernels::source;
use crate::readback::map_for_reading;

/// Workgroups of 64 invocations the probe runs.
const GROUPS: usize = 2;
const INVOCATIONS: usize = 64 * GROUPS;

/// Whether `device`, opened with `Features::SUBGROUP`, forms quads as
/// the quad kernels assume: runs `quad_probe.wgsl` and checks what each
/// invocation saw. Anything going wrong, a compiler refusing the probe
/// included, means no; the device stays usable for every other kernel.
pub(crate) async fn quads_are_consecutive(device: &wgpu::Device, queue: &wgpu::Queue) -> bool {
    let internal = device.push_error_scope(wgpu::ErrorFilter::Internal);
    let validation = device.push_error_scope(wgpu::ErrorFilter::Validation);
    let readback = record_probe(device, queue);
    let refused = validation.pop().await.is_some() | internal.pop().await.is_some();
    if refused || map_for_reading(device, readback.slice(..)).await.is_err() {
        return false;
    }
    let members: Vec<u32> = match readback.slice(..).get_mapped_range() {
        Ok(view) => bytemuck::cast_slice(&view).to_vec(),
        Err(_) => return false,
    };
    readback.unmap();
    members.chunks_exact(4).enumerate().all(|(invocation, seen)| {
        let first = invocation % 64 / 4 * 4;
        seen.iter().enumerate().all(|(lane, &index)| index as usize == first + lane)
    })
}

/// Runs the probe and returns the buffer its results are copied to.
fn record_probe(device: &wgpu::Device, queue: &wgpu::Queue) -> wgpu::Buffer {
    let module = device.create_shader_module(wgpu::ShaderModuleDescriptor {
        label: Some("quad_probe"),
        source: wgpu::ShaderSource::Wgsl(source::QUAD_PROBE.into()),
    });
    let pipeline = device.create_compute_pipeline(&wgpu::ComputePipelineDescriptor {
        label: Some("quad_probe"),
        layout: None,
        module: &module,
        entry_point: Some("quad_probe"),
        compilation_options: Default::default(),
        cache: None,
    });
    let size = (INVOCATIONS * 4 * 4) as u64;
    let buffer =
        |usage| device.create_buffer(&wgpu::BufferDescriptor { label: None, size, usage, mapped_at_creation: false });
    let members = buffer(wgpu::BufferUsages::STORAGE | wgpu::BufferUsages::COPY_SRC);
    let readback = buffer(wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST);
    let bind_group = device.create_bind_group(&wgpu::BindGroupDescriptor {
        label: None,
        layout: &pipeline.get_bind_group_layout(0),
        entries: &[wgpu::BindGroupEntry { binding: 1, resource: members.as_entire_binding() }],
    });
    let mut encoder = device.create_command_encoder(&Default::default());
    {
        let mut pass = encoder.begin_compute_pass(&Default::default());
        pass.set_pipeline(&pipeline);
        pass.set_bind_group(0, &bind_group, &[]);
        pass.dispatch_workgroups(GROUPS as u32, 1, 1);
    }
    encoder.copy_buffer_to_buffer(&members, 0, &readback, 0, size);
    queue.submit([encoder.finish()]);
    readback
}
