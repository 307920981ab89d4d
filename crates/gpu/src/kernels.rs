//! Every compute kernel, with the WGSL file and entry point it comes from.
//! Pipelines are compiled on first use and kept with the device, so every
//! backend on it (each model of a page, each training run) shares them.

use std::cell::RefCell;
use std::rc::Rc;

/// The WGSL sources, each with the shared helpers of `common.wgsl` in front.
pub(crate) mod source {
    macro_rules! shader {
        ($($file:literal),+) => {
            concat!(include_str!("../../../shaders/common.wgsl"), $("\n", include_str!(concat!("../../../shaders/", $file))),+)
        };
    }

    /// Tint, the browser's WGSL compiler, wants subgroup operations
    /// declared; naga, natively, refuses the declaration (it takes them
    /// from the device's features instead).
    #[cfg(target_arch = "wasm32")]
    macro_rules! enable_subgroups {
        () => {
            "enable subgroups;\n"
        };
    }
    #[cfg(not(target_arch = "wasm32"))]
    macro_rules! enable_subgroups {
        () => {
            ""
        };
    }

    /// A kernel that exchanges numbers within quads: the subgroup
    /// declaration, then `common.wgsl`, `quad_common.wgsl` and the files.
    macro_rules! quad_shader {
        ($($file:literal),+) => {
            concat!(enable_subgroups!(), shader!("quad_common.wgsl", $($file),+))
        };
    }

    pub const MATMUL: &str = shader!("matmul_params.wgsl", "matmul.wgsl");
    pub const MATMUL_VEC4: &str = shader!("matmul_params.wgsl", "matmul_vec4.wgsl");
    pub const MATMUL_QUAD: &str = quad_shader!("matmul_params.wgsl", "matmul_vec4.wgsl", "matmul_quad.wgsl");
    pub const QUAD_PROBE: &str = concat!(enable_subgroups!(), include_str!("../../../shaders/quad_probe.wgsl"));
    pub const ACTIVATION: &str = shader!("activation.wgsl");
    pub const LAYOUT: &str = shader!("layout.wgsl");
    pub const EMBEDDING: &str = shader!("embedding.wgsl");
    pub const OPTIMIZER: &str = shader!("optimizer.wgsl");
    pub const NORMS: &str = shader!("norms.wgsl");
    pub const LOSS: &str = shader!("loss.wgsl");
    pub const LSTM: &str = shader!("lstm.wgsl");
    pub const LSTM_QUAD: &str = quad_shader!("lstm.wgsl", "lstm_quad.wgsl");
}

/// One compute entry point.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kernel {
    Matmul,
    MatmulVec4,
    MatmulQuad,
    BiasActivation,
    BiasSoftmax,
    ActivationBackward,
    SoftmaxBackward,
    Fill,
    SwapLeadingAxes,
    ColumnSums,
    EmbeddingForward,
    LinkRepeats,
    EmbeddingBackward,
    Sgd,
    SgdMomentum,
    Adam,
    Dropout,
    RegularizeGrad,
    RegularizePenalty,
    SumSquares,
    ScaleToNorm,
    LossCountRows,
    LossRows,
    LossTotals,
    CellForward,
    CellForwardBlock,
    CellBackward,
    CellBackwardBlock,
    CellForwardQuad,
    CellBackwardQuad,
}

impl Kernel {
    const COUNT: usize = Kernel::CellBackwardQuad as usize + 1;

    /// The WGSL source and entry point.
    fn source(self) -> (&'static str, &'static str) {
        use Kernel::*;
        match self {
            Matmul => (source::MATMUL, "matmul"),
            MatmulVec4 => (source::MATMUL_VEC4, "matmul_vec4"),
            MatmulQuad => (source::MATMUL_QUAD, "matmul_quad"),
            BiasActivation => (source::ACTIVATION, "bias_activation"),
            BiasSoftmax => (source::ACTIVATION, "bias_softmax"),
            ActivationBackward => (source::ACTIVATION, "activation_backward"),
            SoftmaxBackward => (source::ACTIVATION, "softmax_backward"),
            Fill => (source::LAYOUT, "fill"),
            SwapLeadingAxes => (source::LAYOUT, "swap_leading_axes"),
            ColumnSums => (source::LAYOUT, "column_sums"),
            EmbeddingForward => (source::EMBEDDING, "embedding_forward"),
            LinkRepeats => (source::EMBEDDING, "link_repeats"),
            EmbeddingBackward => (source::EMBEDDING, "embedding_backward"),
            Sgd => (source::OPTIMIZER, "sgd"),
            SgdMomentum => (source::OPTIMIZER, "sgd_momentum"),
            Adam => (source::OPTIMIZER, "adam"),
            Dropout => (source::OPTIMIZER, "dropout"),
            RegularizeGrad => (source::NORMS, "regularize_grad"),
            RegularizePenalty => (source::NORMS, "regularize_penalty"),
            SumSquares => (source::NORMS, "sum_squares"),
            ScaleToNorm => (source::NORMS, "scale_to_norm"),
            LossCountRows => (source::LOSS, "loss_count_rows"),
            LossRows => (source::LOSS, "loss_rows"),
            LossTotals => (source::LOSS, "loss_totals"),
            CellForward => (source::LSTM, "cell_forward"),
            CellForwardBlock => (source::LSTM, "cell_forward_block"),
            CellBackward => (source::LSTM, "cell_backward"),
            CellBackwardBlock => (source::LSTM, "cell_backward_block"),
            CellForwardQuad => (source::LSTM_QUAD, "cell_forward_quad"),
            CellBackwardQuad => (source::LSTM_QUAD, "cell_backward_quad"),
        }
    }
}

/// The pipelines compiled on one device, built on first use. Clones share
/// them: compiling takes from milliseconds to seconds per kernel (most of a
/// model's first training step), so a model trained again, or a second
/// model on the same page, compiles nothing.
#[derive(Clone, Default)]
pub struct Kernels {
    compiled: Rc<RefCell<Compiled>>,
}

#[derive(Default)]
struct Compiled {
    pipelines: Vec<Option<wgpu::ComputePipeline>>,
    modules: Vec<(&'static str, wgpu::ShaderModule)>,
}

impl Kernels {
    pub fn pipeline(&self, device: &wgpu::Device, kernel: Kernel) -> wgpu::ComputePipeline {
        let mut compiled = self.compiled.borrow_mut();
        if compiled.pipelines.is_empty() {
            compiled.pipelines.resize_with(Kernel::COUNT, || None);
        }
        if let Some(pipeline) = &compiled.pipelines[kernel as usize] {
            return pipeline.clone();
        }
        let (source, entry) = kernel.source();
        let pipeline = device.create_compute_pipeline(&wgpu::ComputePipelineDescriptor {
            label: Some(entry),
            layout: None,
            module: &compiled.module(device, source),
            entry_point: Some(entry),
            compilation_options: Default::default(),
            cache: None,
        });
        compiled.pipelines[kernel as usize] = Some(pipeline.clone());
        pipeline
    }

    /// How many pipelines have been compiled.
    pub fn count(&self) -> usize {
        self.compiled.borrow().pipelines.iter().flatten().count()
    }
}

impl Compiled {
    fn module(&mut self, device: &wgpu::Device, source: &'static str) -> wgpu::ShaderModule {
        if let Some((_, module)) = self.modules.iter().find(|(s, _)| std::ptr::eq(*s, source)) {
            return module.clone();
        }
        let module = device.create_shader_module(wgpu::ShaderModuleDescriptor {
            label: None,
            source: wgpu::ShaderSource::Wgsl(source.into()),
        });
        self.modules.push((source, module.clone()));
        module
    }
}
