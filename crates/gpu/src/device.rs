//! The GPU device, opened once per thread — in the browser, once per page —
//! and shared by every backend: a page with several views or demo widgets
//! asks for the GPU once. A device that was lost or reported an error is let
//! go, and the next backend opens a fresh one.

use std::cell::RefCell;
use std::mem::ManuallyDrop;
use std::sync::{Arc, Mutex};

use futures_channel::oneshot;

use crate::kernels::Kernels;
use crate::GpuUnavailable;

/// The first device loss and the first validation error, if any.
#[derive(Default)]
pub(crate) struct Failure {
    pub lost: Option<String>,
    pub error: Option<String>,
}

/// An open device with its queue and what went wrong on it.
#[derive(Clone)]
pub(crate) struct SharedDevice {
    pub device: wgpu::Device,
    pub queue: wgpu::Queue,
    /// The adapter's display name.
    pub name: String,
    /// Whether the quad kernels run here (see `quads.rs`).
    pub quads: bool,
    /// The pipelines compiled so far.
    pub kernels: Kernels,
    pub failure: Arc<Mutex<Failure>>,
}

type Opened = Result<SharedDevice, GpuUnavailable>;

thread_local! {
    /// Never dropped: wgpu's own thread-locals may be gone by the time this
    /// one's destructor would run (natively, at the end of a thread), and
    /// the device lives as long as the thread anyway.
    static CURRENT: ManuallyDrop<RefCell<Option<SharedDevice>>> = const { ManuallyDrop::new(RefCell::new(None)) };
    /// While a device is being opened: who else is waiting for it.
    static WAITING: RefCell<Option<Vec<oneshot::Sender<Opened>>>> = const { RefCell::new(None) };
}

impl SharedDevice {
    /// The thread's device, opening it if there is none (or only a broken one).
    pub async fn get() -> Opened {
        if let Some(device) = CURRENT.with(|c| c.borrow().clone()).filter(SharedDevice::is_healthy) {
            return Ok(device);
        }
        // Opening takes a while: callers that come meanwhile wait for the same device.
        let receiver = WAITING.with(|w| match &mut *w.borrow_mut() {
            Some(waiting) => {
                let (sender, receiver) = oneshot::channel();
                waiting.push(sender);
                Some(receiver)
            }
            none => {
                *none = Some(Vec::new());
                None
            }
        });
        if let Some(receiver) = receiver {
            return receiver.await.unwrap_or_else(|_| Err(unavailable("opening the GPU was abandoned", "")));
        }
        let opened = open().await;
        CURRENT.with(|c| *c.borrow_mut() = opened.as_ref().ok().cloned());
        for sender in WAITING.with(|w| w.borrow_mut().take()).unwrap_or_default() {
            let _ = sender.send(opened.clone());
        }
        opened
    }

    fn is_healthy(&self) -> bool {
        self.failure.lock().is_ok_and(|f| f.lost.is_none() && f.error.is_none())
    }
}

/// Lets the backends opened from now on compile their pipelines afresh, as
/// on a page's first training run: for measuring that cold start.
pub fn forget_compiled_kernels() {
    CURRENT.with(|c| {
        if let Some(device) = c.borrow_mut().as_mut() {
            device.kernels = Kernels::default();
        }
    });
}

fn unavailable(reason: &str, detail: impl ToString) -> GpuUnavailable {
    GpuUnavailable { reason: reason.into(), detail: detail.to_string() }
}

/// Opens the best adapter's device with WebGPU's default limits (and
/// subgroup operations, where offered), and records errors and loss for
/// the backends to report.
async fn open() -> Opened {
    let instance = wgpu::Instance::new(wgpu::InstanceDescriptor {
        backends: wgpu::Backends::all(),
        ..wgpu::InstanceDescriptor::new_without_display_handle()
    });
    let adapter = instance
        .request_adapter(&wgpu::RequestAdapterOptions {
            power_preference: wgpu::PowerPreference::HighPerformance,
            ..Default::default()
        })
        .await
        .map_err(|e| unavailable("this browser or system offers no WebGPU adapter", e))?;
    let descriptor = wgpu::DeviceDescriptor {
        label: Some("neuroglow"),
        required_limits: wgpu::Limits::default(),
        ..Default::default()
    };
    let (device, queue, subgroups) = crate::subgroups::request_device(&adapter, &descriptor)
        .await
        .map_err(|e| unavailable("the GPU refused to open a device", e))?;
    let failure = Arc::new(Mutex::new(Failure::default()));
    let on_error = failure.clone();
    device.on_uncaptured_error(Arc::new(move |e: wgpu::Error| {
        if let Ok(mut failure) = on_error.lock() {
            failure.error.get_or_insert(e.to_string());
        }
    }));
    let on_lost = failure.clone();
    device.set_device_lost_callback(move |_, message| {
        if let Ok(mut failure) = on_lost.lock() {
            failure.lost.get_or_insert(format!("the GPU device was lost ({message}); training can go on on the CPU"));
        }
    });
    let quads = subgroups && crate::quads::quads_are_consecutive(&device, &queue).await;
    let info = adapter.get_info();
    // Browsers keep the adapter's name to themselves.
    let name = if info.name.is_empty() { "WebGPU".to_string() } else { info.name };
    Ok(SharedDevice { device, queue, name, quads, kernels: Kernels::default(), failure })
}
