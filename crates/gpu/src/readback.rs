//! Mapping a buffer for reading without ever blocking the browser's thread.

/// Why a buffer could not be mapped.
pub(crate) enum MapFailure {
    /// Waiting for the device failed, or it dropped the request.
    Wait(String),
    /// The map itself failed, usually because the device is gone.
    Map(wgpu::BufferAsyncError),
}

/// Maps `slice` for reading once the work submitted before it is done.
/// Natively someone has to drive the device, so this polls it; in the
/// browser the device runs on its own and this only awaits the callback.
pub(crate) async fn map_for_reading(
    #[cfg_attr(target_arch = "wasm32", allow(unused_variables))] device: &wgpu::Device,
    slice: wgpu::BufferSlice<'_>,
) -> Result<(), MapFailure> {
    let (sender, receiver) = futures_channel::oneshot::channel();
    slice.map_async(wgpu::MapMode::Read, move |result| {
        let _ = sender.send(result);
    });
    #[cfg(not(target_arch = "wasm32"))]
    device
        .poll(wgpu::PollType::wait_indefinitely())
        .map_err(|e| MapFailure::Wait(format!("waiting for the GPU failed: {e}")))?;
    let mapped = receiver.await.map_err(|_| MapFailure::Wait("the GPU dropped a readback".into()))?;
    mapped.map_err(MapFailure::Map)
}
