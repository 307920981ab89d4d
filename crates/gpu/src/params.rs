//! Kernel parameters (sizes, offsets, hyperparameters) for a whole
//! submission live in one arena of uniform buffers: each dispatch takes the
//! next 256-byte slot, the host copy is uploaded once at submit, and the
//! slots are reused by the next submission. No buffer is created per step.

use std::num::NonZeroU64;

use crate::alloc::Allocator;

/// WebGPU's default `minUniformBufferOffsetAlignment`.
const SLOT: usize = 256;
const SLOTS_PER_CHUNK: usize = 1024;

#[derive(Default)]
pub struct ParamArena {
    chunks: Vec<wgpu::Buffer>,
    /// Host copies of the slots used since the last upload.
    staged: Vec<u8>,
}

impl ParamArena {
    /// Stores `words` in the next free slot and returns its binding.
    pub fn push(&mut self, allocator: &Allocator, words: &[u32]) -> wgpu::BufferBinding<'_> {
        assert!(words.len() * 4 <= SLOT, "kernel parameters fit one slot");
        let slot = self.staged.len() / SLOT;
        let (chunk, within) = (slot / SLOTS_PER_CHUNK, slot % SLOTS_PER_CHUNK);
        if chunk == self.chunks.len() {
            let usage = wgpu::BufferUsages::UNIFORM | wgpu::BufferUsages::COPY_DST;
            self.chunks.push(allocator.create("kernel parameters", (SLOT * SLOTS_PER_CHUNK) as u64, usage));
        }
        let start = self.staged.len();
        self.staged.resize(start + SLOT, 0);
        self.staged[start..start + words.len() * 4].copy_from_slice(bytemuck::cast_slice(words));
        wgpu::BufferBinding {
            buffer: &self.chunks[chunk],
            offset: (within * SLOT) as u64,
            size: NonZeroU64::new(SLOT as u64),
        }
    }

    /// Uploads the slots used since the last call; queue order makes them
    /// visible to the submission that follows.
    pub fn upload(&mut self, queue: &wgpu::Queue) {
        for (chunk, bytes) in self.staged.chunks(SLOT * SLOTS_PER_CHUNK).enumerate() {
            queue.write_buffer(&self.chunks[chunk], 0, bytes);
        }
        self.staged.clear();
    }
}
