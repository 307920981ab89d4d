//! Opening a device with subgroup operations where the adapter offers them
//! (the quad kernels need them; see `quads.rs` for the rest of their checks).

/// Opens `adapter`'s device as `descriptor` asks, plus subgroup operations
/// where offered, and says whether it got them.
pub(crate) async fn request_device(
    adapter: &wgpu::Adapter,
    descriptor: &wgpu::DeviceDescriptor<'_>,
) -> Result<(wgpu::Device, wgpu::Queue, bool), wgpu::RequestDeviceError> {
    #[cfg(not(target_arch = "wasm32"))]
    {
        let subgroups = adapter.features() & wgpu::Features::SUBGROUP;
        let required_features = descriptor.required_features | subgroups;
        let descriptor = wgpu::DeviceDescriptor { required_features, ..descriptor.clone() };
        let (device, queue) = adapter.request_device(&descriptor).await?;
        Ok((device, queue, !subgroups.is_empty()))
    }
    #[cfg(target_arch = "wasm32")]
    {
        // wgpu asks the browser for the device right away, inside this
        // call: the hook sees that request and no other.
        let unhook = browser::add_subgroups_to_next_device_request();
        let pending = adapter.request_device(descriptor);
        let added = unhook.call0(&wasm_bindgen::JsValue::NULL).ok().and_then(|added| added.as_bool());
        let (device, queue) = pending.await?;
        Ok((device, queue, added == Some(true)))
    }
}

/// wgpu 30 does not pass WebGPU's `subgroups` feature on to the browser
/// (gfx-rs/wgpu#10146, fixed upstream by gfx-rs/wgpu#10220 but not yet
/// released), so the request is amended on its way: drop this module when
/// wgpu's web backend maps `Features::SUBGROUP`.
#[cfg(target_arch = "wasm32")]
mod browser {
    use wasm_bindgen::prelude::wasm_bindgen;

    #[wasm_bindgen(inline_js = r#"
        export function addSubgroupsToNextDeviceRequest() {
            const adapter = globalThis.GPUAdapter && GPUAdapter.prototype;
            if (!adapter) return () => false;
            const requestDevice = adapter.requestDevice;
            let added = false;
            adapter.requestDevice = function (descriptor = {}) {
                adapter.requestDevice = requestDevice;
                if (this.features.has('subgroups')) {
                    const features = [...(descriptor.requiredFeatures ?? []), 'subgroups'];
                    descriptor = { ...descriptor, requiredFeatures: features };
                    added = true;
                }
                return requestDevice.call(this, descriptor);
            };
            return () => {
                adapter.requestDevice = requestDevice;
                return added;
            };
        }
    "#)]
    extern "C" {
        /// Makes the next `GPUAdapter.requestDevice` call ask for
        /// `subgroups` when its adapter offers them. Returns the function
        /// that removes the hook and says whether the feature was added.
        #[wasm_bindgen(js_name = addSubgroupsToNextDeviceRequest)]
        pub fn add_subgroups_to_next_device_request() -> js_sys::Function;
    }
}
