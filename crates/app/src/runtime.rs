//! Small bridges to the browser: time, the page's URL, and yielding to the event loop.

use wasm_bindgen::{closure::Closure, JsCast};

/// Milliseconds from page load (`performance.now()`).
pub fn now_ms() -> f64 {
    web_sys::window().and_then(|w| w.performance()).map_or(0.0, |p| p.now())
}

/// Lets the browser paint and handle input before the next chunk of work.
pub async fn yield_to_browser() {
    sleep_ms(0).await;
}

/// Waits `ms` milliseconds without blocking the page.
pub async fn sleep_ms(ms: i32) {
    let promise = js_sys::Promise::new(&mut |resolve, _| {
        let callback = Closure::once_into_js(move || {
            let _ = resolve.call0(&wasm_bindgen::JsValue::NULL);
        });
        if let Some(window) = web_sys::window() {
            let _ = window.set_timeout_with_callback_and_timeout_and_arguments_0(callback.unchecked_ref(), ms);
        }
    });
    let _ = wasm_bindgen_futures::JsFuture::from(promise).await;
}

/// The value of `?name=…` in the page's URL.
pub fn query_parameter(name: &str) -> Option<String> {
    let search = web_sys::window()?.location().search().ok()?;
    web_sys::UrlSearchParams::new_with_str(&search).ok()?.get(name)
}

/// Sets (or with `None` removes) `?name=…` in the address bar without reloading.
pub fn set_query_parameter(name: &str, value: Option<&str>) {
    set_query_parameters(&[(name, value.map(String::from))]);
}

/// Sets (or with `None` removes) several `?name=…` at once, without reloading.
pub fn set_query_parameters(pairs: &[(&str, Option<String>)]) {
    let Some(window) = web_sys::window() else { return };
    let location = window.location();
    let (Ok(search), Ok(path), Ok(hash)) = (location.search(), location.pathname(), location.hash()) else { return };
    let Ok(params) = web_sys::UrlSearchParams::new_with_str(&search) else { return };
    for (name, value) in pairs {
        match value {
            Some(value) => params.set(name, value),
            None => params.delete(name),
        }
    }
    let query = String::from(params.to_string());
    let url = if query.is_empty() { format!("{path}{hash}") } else { format!("{path}?{query}{hash}") };
    if let Ok(history) = window.history() {
        let _ = history.replace_state_with_url(&wasm_bindgen::JsValue::NULL, "", Some(&url));
    }
}

/// The part of the address after `#`, e.g. `text` for `…/#text`.
pub fn location_hash() -> String {
    let hash = web_sys::window().and_then(|w| w.location().hash().ok()).unwrap_or_default();
    hash.trim_start_matches('#').to_string()
}
