//! [`GpuBackend`]: the engine's [`Backend`] operations as WGSL kernels.

use std::sync::{Arc, Mutex};

use neuroglow_core::backend::{AdamStep, LossOp, LstmBackward, LstmForward, MatmulSpec, Regularizer};
use neuroglow_core::{Activation, Backend, Error, LossKind};

use crate::alloc::{Allocations, Allocator};
use crate::device::{Failure, SharedDevice};
use crate::kernels::Kernel;
use crate::readback::{map_for_reading, MapFailure};
use crate::recorder::Recorder;

/// A flat f32 array in GPU memory.
pub struct GpuBuffer {
    pub(crate) buffer: wgpu::Buffer,
    len: usize,
}

impl GpuBuffer {
    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}

/// Why no GPU backend could be made; the caller falls back to the CPU.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GpuUnavailable {
    /// In plain words, for the page.
    pub reason: String,
    /// What wgpu said, for logs and bug reports.
    pub detail: String,
}

impl std::fmt::Display for GpuUnavailable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "no usable GPU: {}", self.reason)
    }
}

impl std::error::Error for GpuUnavailable {}

/// Trains and runs models on a GPU through wgpu (WebGPU in the browser,
/// Vulkan, Metal or DX12 natively). Work is recorded into one command buffer
/// and sent at [`Backend::submit`]; [`Backend::read`] is the only wait.
pub struct GpuBackend {
    gpu: Recorder,
    name: String,
    /// Whether the device can run the quad kernels.
    quads: bool,
    /// What went wrong on the device, reported at the next read.
    failure: Arc<Mutex<Failure>>,
    /// Bound where a kernel's optional input is absent.
    placeholder: wgpu::Buffer,
    /// Per-row loss statistics: `[rows, 3]`, grown on demand.
    row_stats: GpuBuffer,
    /// Chains of repeated ids for the embedding gradient: `[2, count]`, grown on demand.
    links: GpuBuffer,
    /// The squared global gradient norm while clipping.
    norm: GpuBuffer,
    /// Where reads land before mapping, grown on demand.
    staging: Option<wgpu::Buffer>,
}

impl GpuBackend {
    /// A backend on the page's (or thread's) GPU device, opened on first use
    /// and shared with every other backend. Fails (never panics) when there
    /// is no GPU, so the caller can fall back to the CPU.
    pub async fn new() -> Result<Self, GpuUnavailable> {
        let SharedDevice { device, queue, name, quads, kernels, failure } = SharedDevice::get().await?;
        let gpu = Recorder::new(device, queue, kernels, quads);
        let storage = |len: usize| storage_buffer(&gpu.allocator, len);
        let (placeholder, row_stats, links, norm) = (storage(1).buffer, storage(0), storage(0), storage(1));
        Ok(Self { gpu, name, quads, failure, placeholder, row_stats, links, norm, staging: None })
    }

    /// The wgpu device, for callers that add their own work.
    pub fn device(&self) -> &wgpu::Device {
        &self.gpu.device
    }

    /// Whether large matrix products and LSTM steps share their loads
    /// between the four invocations of a quad (`matmul_quad.wgsl`,
    /// `lstm_quad.wgsl`): on where the device offers subgroup operations
    /// and groups quads as the kernels assume.
    pub fn quad_kernels(&self) -> bool {
        self.gpu.quad_kernels
    }

    /// Turns the quad kernels off, or back on where the device allows it:
    /// for comparing the kernels.
    pub fn set_quad_kernels(&mut self, on: bool) {
        self.gpu.quad_kernels = on && self.quads;
    }

    /// Pipelines compiled so far on this backend's device, by all the
    /// backends that share it: a model trained a second time, or another of
    /// the same kinds of layers, compiles none.
    pub fn compiled_kernels(&self) -> usize {
        self.gpu.kernels.count()
    }

    /// GPU buffers created so far (none are created per training step).
    pub fn allocations(&self) -> Allocations {
        self.gpu.allocator.totals()
    }

    /// Bind groups created so far: after the first, a training step
    /// reuses its bind groups and creates none.
    pub fn bind_groups_created(&self) -> usize {
        self.gpu.bind_groups.created()
    }

    fn check_health(&self) -> neuroglow_core::Result<()> {
        let failure = self.failure.lock().map_err(|_| Error::Backend("the GPU error handler panicked".into()))?;
        // A lost device explains the validation errors that follow it.
        match failure.lost.as_ref().or(failure.error.as_ref()) {
            None => Ok(()),
            Some(message) => Err(Error::Backend(message.clone())),
        }
    }
}

fn storage_buffer(allocator: &Allocator, len: usize) -> GpuBuffer {
    let usage = wgpu::BufferUsages::STORAGE | wgpu::BufferUsages::COPY_SRC | wgpu::BufferUsages::COPY_DST;
    // wgpu refuses empty bindings.
    GpuBuffer { buffer: allocator.create("tensor", (len.max(1) * 4) as u64, usage), len }
}

fn bits(value: f32) -> u32 {
    value.to_bits()
}

fn activation_code(activation: Activation) -> u32 {
    match activation {
        Activation::Linear => 0,
        Activation::Relu => 1,
        Activation::Tanh => 2,
        Activation::Sigmoid => 3,
        Activation::Softmax => 4,
    }
}

fn loss_code(kind: LossKind) -> u32 {
    match kind {
        LossKind::BinaryCrossentropy => 0,
        LossKind::CategoricalCrossentropy => 1,
        LossKind::SparseCategoricalCrossentropy => 2,
        LossKind::MeanSquaredError => 3,
    }
}

impl Backend for GpuBackend {
    type Buffer = GpuBuffer;

    fn name(&self) -> String {
        self.name.clone()
    }

    fn alloc(&mut self, len: usize) -> GpuBuffer {
        // New buffers are zero-filled by wgpu.
        storage_buffer(&self.gpu.allocator, len)
    }

    fn write(&mut self, buffer: &mut GpuBuffer, data: &[f32]) {
        // Queue writes run before the next submission: send recorded work
        // first so that it still sees the old contents.
        self.gpu.submit();
        self.gpu.queue.write_buffer(&buffer.buffer, 0, bytemuck::cast_slice(data));
    }

    async fn read(&mut self, buffer: &GpuBuffer, len: usize) -> neuroglow_core::Result<Vec<f32>> {
        self.check_health()?;
        let size = (len.max(1) * 4) as u64;
        if self.staging.as_ref().is_none_or(|s| s.size() < size) {
            let usage = wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST;
            self.staging = Some(self.gpu.allocator.create("readback", size.next_power_of_two(), usage));
        }
        let staging = self.staging.clone().expect("made above");
        self.gpu.encoder().copy_buffer_to_buffer(&buffer.buffer, 0, &staging, 0, size);
        self.gpu.submit();
        match map_for_reading(&self.gpu.device, staging.slice(..size)).await {
            Ok(()) => {}
            Err(MapFailure::Wait(message)) => return Err(Error::Backend(message)),
            Err(MapFailure::Map(e)) => {
                // Usually the device is gone; say so if its callback already has.
                self.check_health()?;
                let message = format!("reading GPU memory failed ({e}); the GPU device was probably lost");
                // Natively the loss may not have been reported yet: make sure no
                // other backend is handed this device.
                if let Ok(mut failure) = self.failure.lock() {
                    failure.lost.get_or_insert(message.clone());
                }
                return Err(Error::Backend(message));
            }
        }
        let values = {
            let view = staging
                .slice(..size)
                .get_mapped_range()
                .map_err(|e| Error::Backend(format!("reading GPU memory failed: {e}")))?;
            bytemuck::cast_slice::<u8, f32>(&view)[..len].to_vec()
        };
        staging.unmap();
        self.check_health()?;
        Ok(values)
    }

    fn submit(&mut self) {
        self.gpu.submit();
    }

    fn fill(&mut self, buffer: &mut GpuBuffer, len: usize, value: f32) {
        crate::layout::fill(&mut self.gpu, &buffer.buffer, len, value);
    }

    fn copy(&mut self, src: &GpuBuffer, dst: &mut GpuBuffer, len: usize) {
        if len > 0 {
            self.gpu.encoder().copy_buffer_to_buffer(&src.buffer, 0, &dst.buffer, 0, (len * 4) as u64);
        }
    }

    fn matmul(&mut self, a: &GpuBuffer, b: &GpuBuffer, c: &mut GpuBuffer, spec: MatmulSpec) {
        crate::matmul::record(&mut self.gpu, (&a.buffer, 0), (&b.buffer, 0), (&c.buffer, 0), spec);
    }

    fn bias_activation(
        &mut self,
        pre: &mut GpuBuffer,
        bias: Option<&GpuBuffer>,
        out: &mut GpuBuffer,
        rows: usize,
        cols: usize,
        activation: Activation,
    ) {
        let params = [rows as u32, cols as u32, activation_code(activation), bias.is_some() as u32];
        let bias = bias.map_or(&self.placeholder, |b| &b.buffer);
        let buffers = [(1, &pre.buffer), (2, bias), (3, &out.buffer)];
        match activation {
            Activation::Softmax => self.gpu.run(Kernel::BiasSoftmax, &params, &buffers, rows),
            _ => self.gpu.run(Kernel::BiasActivation, &params, &buffers, rows * cols),
        }
    }

    fn activation_backward(
        &mut self,
        out: &GpuBuffer,
        grad: &mut GpuBuffer,
        rows: usize,
        cols: usize,
        activation: Activation,
    ) {
        let params = [rows as u32, cols as u32, activation_code(activation), 0];
        let buffers = [(3, &out.buffer), (4, &grad.buffer)];
        match activation {
            Activation::Linear => {}
            Activation::Softmax => self.gpu.run(Kernel::SoftmaxBackward, &params, &buffers, rows),
            _ => self.gpu.run(Kernel::ActivationBackward, &params, &buffers, rows * cols),
        }
    }

    fn column_sums(&mut self, x: &GpuBuffer, out: &mut GpuBuffer, rows: usize, cols: usize) {
        crate::layout::column_sums(&mut self.gpu, &x.buffer, &out.buffer, rows, cols);
    }

    fn swap_leading_axes(&mut self, src: &GpuBuffer, dst: &mut GpuBuffer, a: usize, b: usize, features: usize) {
        crate::layout::swap_leading_axes(&mut self.gpu, &src.buffer, &dst.buffer, a, b, features);
    }

    fn embedding_forward(
        &mut self,
        ids: &GpuBuffer,
        table: &GpuBuffer,
        out: &mut GpuBuffer,
        mask: Option<&mut GpuBuffer>,
        count: usize,
        vocab: usize,
        dim: usize,
    ) {
        let params = [count as u32, vocab as u32, dim as u32, mask.is_some() as u32];
        let mask = mask.map_or(&self.placeholder, |m| &m.buffer);
        let buffers = [(1, &ids.buffer), (2, &table.buffer), (3, &out.buffer), (4, mask)];
        self.gpu.run(Kernel::EmbeddingForward, &params, &buffers, count * dim);
    }

    fn embedding_backward(
        &mut self,
        ids: &GpuBuffer,
        grad_out: &GpuBuffer,
        grad_table: &mut GpuBuffer,
        count: usize,
        vocab: usize,
        dim: usize,
    ) {
        if self.links.len < 2 * count {
            self.links = storage_buffer(&self.gpu.allocator, 2 * count);
        }
        self.fill(grad_table, vocab * dim, 0.0);
        crate::layout::fill(&mut self.gpu, &self.links.buffer, 2 * count, 0.0);
        let params = [count as u32, vocab as u32, dim as u32, 0];
        self.gpu.run(Kernel::LinkRepeats, &params, &[(1, &ids.buffer), (7, &self.links.buffer)], count);
        let buffers = [(1, &ids.buffer), (5, &grad_out.buffer), (6, &grad_table.buffer), (7, &self.links.buffer)];
        self.gpu.run(Kernel::EmbeddingBackward, &params, &buffers, count * dim);
    }

    fn lstm_forward(&mut self, op: LstmForward<'_, GpuBuffer>) {
        crate::lstm::forward(&mut self.gpu, &self.placeholder, op);
    }

    fn lstm_backward(&mut self, op: LstmBackward<'_, GpuBuffer>) {
        crate::lstm::backward(&mut self.gpu, &self.placeholder, op);
    }

    fn dropout(&mut self, input: &GpuBuffer, output: &mut GpuBuffer, len: usize, rate: f32, seed: u32) {
        let params = [len as u32, bits(rate), 0, 0, 0, seed];
        self.gpu.run(Kernel::Dropout, &params, &[(1, &output.buffer), (2, &input.buffer)], len);
    }

    fn loss(&mut self, op: LossOp<'_, GpuBuffer>) {
        // Three numbers per row, then the number of rows that count.
        if self.row_stats.len < op.rows * 3 + 1 {
            self.row_stats = storage_buffer(&self.gpu.allocator, op.rows * 3 + 1);
        }
        let fused = op.kind.fuses_with(op.activation) as u32;
        let masked = op.mask.is_some() as u32;
        let params = [op.rows as u32, op.cols as u32, loss_code(op.kind), fused, masked, op.examples as u32];
        let mask = op.mask.map_or(&self.placeholder, |m| &m.buffer);
        if op.mask.is_some() {
            let count = [(5, &self.row_stats.buffer), (7, mask)];
            self.gpu.dispatch(Kernel::LossCountRows, &params, &count, [1, 1]);
        }
        let rows = [
            (1, &op.logits.buffer),
            (2, &op.output.buffer),
            (3, &op.target.buffer),
            (4, &op.grad.buffer),
            (5, &self.row_stats.buffer),
            (7, mask),
        ];
        self.gpu.run(Kernel::LossRows, &params, &rows, op.rows);
        let totals = [(5, &self.row_stats.buffer), (6, &op.metrics.buffer)];
        self.gpu.dispatch(Kernel::LossTotals, &params, &totals, [1, 1]);
    }

    fn regularize(
        &mut self,
        weights: &GpuBuffer,
        grad: &mut GpuBuffer,
        metrics: &mut GpuBuffer,
        len: usize,
        regularizer: Regularizer,
        examples: usize,
    ) {
        let params = [len as u32, bits(regularizer.l1), bits(regularizer.l2), examples as u32, 0];
        self.gpu.run(Kernel::RegularizeGrad, &params, &[(1, &weights.buffer), (2, &grad.buffer)], len);
        let penalty = [(1, &weights.buffer), (3, &metrics.buffer)];
        self.gpu.dispatch(Kernel::RegularizePenalty, &params, &penalty, [1, 1]);
    }

    fn clip_by_global_norm(&mut self, grads: &mut [(&mut GpuBuffer, usize)], max_norm: f32) {
        for (i, (grad, len)) in grads.iter().enumerate() {
            let params = [*len as u32, 0, 0, (i > 0) as u32, 0];
            let buffers = [(2, &grad.buffer), (3, &self.norm.buffer)];
            self.gpu.dispatch(Kernel::SumSquares, &params, &buffers, [1, 1]);
        }
        for (grad, len) in grads.iter() {
            let params = [*len as u32, 0, 0, 0, bits(max_norm)];
            let buffers = [(2, &grad.buffer), (3, &self.norm.buffer)];
            self.gpu.run(Kernel::ScaleToNorm, &params, &buffers, *len);
        }
    }

    fn sgd_update(
        &mut self,
        param: &mut GpuBuffer,
        grad: &GpuBuffer,
        velocity: Option<&mut GpuBuffer>,
        len: usize,
        learning_rate: f32,
        momentum: f32,
    ) {
        let params = [len as u32, bits(learning_rate), bits(momentum), 0, 0, 0];
        match velocity {
            Some(v) => {
                let buffers = [(1, &param.buffer), (2, &grad.buffer), (3, &v.buffer)];
                self.gpu.run(Kernel::SgdMomentum, &params, &buffers, len);
            }
            None => self.gpu.run(Kernel::Sgd, &params, &[(1, &param.buffer), (2, &grad.buffer)], len),
        }
    }

    fn adam_update(
        &mut self,
        param: &mut GpuBuffer,
        grad: &GpuBuffer,
        m: &mut GpuBuffer,
        v: &mut GpuBuffer,
        len: usize,
        step: AdamStep,
    ) {
        let params = [len as u32, bits(step.step_size), bits(step.beta_1), bits(step.beta_2), bits(step.epsilon), 0];
        let buffers = [(1, &param.buffer), (2, &grad.buffer), (3, &m.buffer), (4, &v.buffer)];
        self.gpu.run(Kernel::Adam, &params, &buffers, len);
    }
}
