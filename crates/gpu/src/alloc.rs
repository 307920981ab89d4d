//! Every GPU buffer the backend makes is created here and counted, so that
//! tests can show memory stays flat: after the first step, training creates
//! no buffers at all.

use std::cell::Cell;

/// Buffers created so far and their total size.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Allocations {
    pub buffers: usize,
    pub bytes: u64,
}

pub struct Allocator {
    device: wgpu::Device,
    totals: Cell<Allocations>,
}

impl Allocator {
    pub fn new(device: wgpu::Device) -> Self {
        Self { device, totals: Cell::default() }
    }

    pub fn create(&self, label: &str, size: u64, usage: wgpu::BufferUsages) -> wgpu::Buffer {
        let totals = self.totals.get();
        self.totals.set(Allocations { buffers: totals.buffers + 1, bytes: totals.bytes + size });
        self.device.create_buffer(&wgpu::BufferDescriptor {
            label: Some(label),
            size,
            usage,
            mapped_at_creation: false,
        })
    }

    pub fn totals(&self) -> Allocations {
        self.totals.get()
    }
}
