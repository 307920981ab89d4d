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
        // call: the hook sees that request and no other. A page where the
        // hook cannot be set (a frozen prototype) opens the device without.
        let unhook = browser::add_subgroups_to_next_device_request().ok();
        let pending = adapter.request_device(descriptor);
        let added = unhook.and_then(|unhook| unhook.call0(&wasm_bindgen::JsValue::NULL).ok());
        let added = added.and_then(|added| added.as_bool()) == Some(true);
        let (device, queue) = pending.await?;
        Ok((device, queue, added))
    }
}

/// wgpu 30 does not pass WebGPU's `subgroups` feature on to the browser
/// (gfx-rs/wgpu#10146; a fix is proposed in gfx-rs/wgpu#10220), so the
/// request is amended on its way: drop this module when a wgpu release
/// maps `Features::SUBGROUP` on the web.
#[cfg(target_arch = "wasm32")]
mod browser {
    use wasm_bindgen::prelude::wasm_bindgen;

    #[wasm_bindgen(inline_js = r#"
        export function addSubgroupsToNextDeviceRequest() {
            const prototype = globalThis.GPUAdapter && GPUAdapter.prototype;
            if (!prototype) return () => false;
            const requestDevice = prototype.requestDevice;
            let added = false;
            prototype.requestDevice = function (descriptor = {}) {
                prototype.requestDevice = requestDevice;
                if (this.features.has('subgroups')) {
                    const features = [...(descriptor.requiredFeatures ?? []), 'subgroups'];
                    descriptor = { ...descriptor, requiredFeatures: features };
                    added = true;
                }
                return requestDevice.call(this, descriptor);
            };
            return () => {
                prototype.requestDevice = requestDevice;
                return added;
            };
        }
    "#)]
    extern "C" {
        /// Makes the next `GPUAdapter.requestDevice` call ask for
        /// `subgroups` when its adapter offers them. Returns the function
        /// that removes the hook and says whether the feature was added.
        #[wasm_bindgen(catch, js_name = addSubgroupsToNextDeviceRequest)]
        pub fn add_subgroups_to_next_device_request() -> Result<js_sys::Function, wasm_bindgen::JsValue>;
    }
}
