//! Bind groups, made once and reused. Every training step dispatches the
//! same kernels on the same buffers with the same parameter slots, so after
//! the first step each dispatch finds its bind group here instead of asking
//! the device for a new one: hundreds fewer calls into WebGPU per LSTM step,
//! all of them host work on the page's thread.

use std::collections::HashMap;

use crate::kernels::Kernel;

/// Past this many bind groups, those that the last few submissions did not
/// use are let go, with the buffers they hold on to (say, buffers a model
/// has since replaced by larger ones). The largest playground models use a
/// few thousand: a step's, validation's and inference's.
const CAPACITY: usize = 8192;
/// How many submissions "the last few" are.
const RECENT: u64 = 4;

/// What a dispatch binds: its kernel, its parameter slot and its buffers.
#[derive(PartialEq, Eq, Hash)]
struct Key {
    kernel: Kernel,
    params: (wgpu::Buffer, u64),
    buffers: Vec<(u32, wgpu::Buffer)>,
}

struct Entry {
    group: wgpu::BindGroup,
    /// The submission that last used it.
    used: u64,
}

#[derive(Default)]
pub struct BindGroups {
    cache: HashMap<Key, Entry>,
    /// Submissions so far.
    submission: u64,
    /// Bind groups created so far.
    created: usize,
}

impl BindGroups {
    /// The bind group of `kernel` (compiled as `pipeline`) with its
    /// parameters in `params` and `buffers` at their bindings.
    pub fn get(
        &mut self,
        device: &wgpu::Device,
        pipeline: &wgpu::ComputePipeline,
        kernel: Kernel,
        params: wgpu::BufferBinding<'_>,
        buffers: &[(u32, &wgpu::Buffer)],
    ) -> wgpu::BindGroup {
        let key = Key {
            kernel,
            params: (params.buffer.clone(), params.offset),
            buffers: buffers.iter().map(|&(binding, buffer)| (binding, buffer.clone())).collect(),
        };
        let (submission, created) = (self.submission, &mut self.created);
        let entry = self.cache.entry(key).or_insert_with(|| {
            *created += 1;
            let mut entries =
                vec![wgpu::BindGroupEntry { binding: 0, resource: wgpu::BindingResource::Buffer(params) }];
            entries.extend(
                buffers
                    .iter()
                    .map(|&(binding, buffer)| wgpu::BindGroupEntry { binding, resource: buffer.as_entire_binding() }),
            );
            let group = device.create_bind_group(&wgpu::BindGroupDescriptor {
                label: None,
                layout: &pipeline.get_bind_group_layout(0),
                entries: &entries,
            });
            Entry { group, used: submission }
        });
        entry.used = submission;
        entry.group.clone()
    }

    pub fn created(&self) -> usize {
        self.created
    }

    /// Marks the end of a submission; past capacity, lets go of the bind
    /// groups that recent ones did not use.
    pub fn end_submission(&mut self) {
        self.submission += 1;
        if self.cache.len() > CAPACITY {
            let now = self.submission;
            self.cache.retain(|_, entry| now - entry.used <= RECENT);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::device::SharedDevice;
    use crate::recorder::Recorder;

    #[test]
    fn past_capacity_the_bind_groups_unused_of_late_are_let_go() {
        let shared =
            pollster::block_on(SharedDevice::get()).expect("a GPU (lavapipe: apt-get install mesa-vulkan-drivers)");
        let mut gpu = Recorder::new(shared.device, shared.queue, shared.kernels, false);
        let dst = gpu.allocator.create("filled", 4, wgpu::BufferUsages::STORAGE);
        // Each fill of a submission has its own parameter slot, so its own bind group.
        let submit_fills = |gpu: &mut Recorder, count: usize| {
            for _ in 0..count {
                crate::layout::fill(gpu, &dst, 1, 0.0);
            }
            gpu.submit();
        };
        submit_fills(&mut gpu, CAPACITY + 1);
        assert_eq!(gpu.bind_groups.created(), CAPACITY + 1);
        for _ in 0..=RECENT {
            submit_fills(&mut gpu, 1);
        }
        assert_eq!(gpu.bind_groups.cache.len(), 1, "only the first slot's bind group was used of late");
        assert_eq!(gpu.bind_groups.created(), CAPACITY + 1, "the first slot's bind group was reused");
    }
}
