//! Getting files in and out of the page: fetching the shipped models and
//! data, reading uploads, and handing the user a download.

use js_sys::{Array, Uint8Array};
use neuroglow_core::interop::tfjs;
use neuroglow_core::io::ModelFiles;
use neuroglow_core::{CpuBackend, Limits, Model};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

/// The message of a JavaScript error, for the page.
fn js_message(error: JsValue) -> String {
    error
        .dyn_ref::<js_sys::Error>()
        .map(|e| String::from(e.message()))
        .or_else(|| error.as_string())
        .unwrap_or_else(|| "unknown error".into())
}

async fn response(url: &str) -> Result<web_sys::Response, String> {
    let window = web_sys::window().ok_or("no window")?;
    let response = JsFuture::from(window.fetch_with_str(url))
        .await
        .map_err(|e| format!("could not fetch {url}: {} — is the page still online?", js_message(e)))?;
    let response: web_sys::Response = response.unchecked_into();
    if !response.ok() {
        return Err(format!(
            "could not fetch {url}: the server answered {} {} — check the address",
            response.status(),
            response.status_text()
        ));
    }
    Ok(response)
}

pub async fn fetch_bytes(url: &str) -> Result<Vec<u8>, String> {
    let buffer = response(url).await?.array_buffer().map_err(js_message)?;
    let buffer = JsFuture::from(buffer).await.map_err(js_message)?;
    Ok(Uint8Array::new(&buffer).to_vec())
}

pub async fn fetch_text(url: &str) -> Result<String, String> {
    let text = response(url).await?.text().map_err(js_message)?;
    JsFuture::from(text).await.map_err(js_message)?.as_string().ok_or_else(|| format!("{url} is not text"))
}

/// Loads the model in the directory at `url` (ending in `/`): Neuroglow's
/// `model.json` and `model.safetensors`, or a TF.js layers model's
/// `model.json` and the shards it lists, checking them as the engine does
/// for any model file.
pub async fn load_model(url: &str) -> Result<Model<CpuBackend>, String> {
    let cannot = |e: String| format!("the model at {url} cannot be used: {e}");
    let json = fetch_text(&format!("{url}model.json")).await?;
    let files = match tfjs::is_tfjs(&json) {
        true => tfjs_files(url, &json).await.map_err(cannot)?,
        false => ModelFiles { safetensors: fetch_bytes(&format!("{url}model.safetensors")).await?, json },
    };
    checked_model(&files.json, &files.safetensors).await.map_err(cannot)
}

/// A TF.js layers model's files at `url` as Neuroglow's own.
async fn tfjs_files(url: &str, json: &str) -> Result<ModelFiles, String> {
    let mut shards = Vec::new();
    for path in tfjs::shard_paths(json).map_err(|e| e.to_string())? {
        let bytes = fetch_bytes(&format!("{url}{path}")).await?;
        shards.push((path, bytes));
    }
    let shard = |path: &str| shards.iter().find(|(p, _)| p == path).map(|(_, bytes)| bytes.clone());
    let imported = tfjs::import(json, &shard, None, &Limits::default()).map_err(|e| e.to_string())?;
    Ok(imported.files)
}

/// A model from its two files, once it has passed a trial prediction: only
/// such a model is given to a view or saved in the browser.
pub async fn checked_model(json: &str, weights: &[u8]) -> Result<Model<CpuBackend>, String> {
    let mut model = Model::from_files(json, weights, CpuBackend::new()).map_err(|e| e.to_string())?;
    model.trial_prediction().await.map_err(|e| e.to_string())?;
    Ok(model)
}

/// The bytes of a file the user picked, if it is at most `limit` bytes.
pub async fn read_upload(file: &web_sys::File, limit: usize) -> Result<Vec<u8>, String> {
    if file.size() > limit as f64 {
        return Err(format!(
            "{} is {:.1} MB; this page takes files of up to {:.0} MB",
            file.name(),
            file.size() / 1e6,
            limit as f64 / 1e6
        ));
    }
    let buffer = JsFuture::from(file.array_buffer()).await.map_err(js_message)?;
    Ok(Uint8Array::new(&buffer).to_vec())
}

/// Offers `bytes` to the user as a file called `name`.
pub fn download(name: &str, bytes: &[u8], mime: &str) -> Result<(), String> {
    let parts = Array::of1(&Uint8Array::from(bytes));
    let options = web_sys::BlobPropertyBag::new();
    options.set_type(mime);
    let blob = web_sys::Blob::new_with_u8_array_sequence_and_options(&parts, &options).map_err(js_message)?;
    let url = web_sys::Url::create_object_url_with_blob(&blob).map_err(js_message)?;
    let window = web_sys::window().ok_or("no window")?;
    let document = window.document().ok_or("no document")?;
    let link: web_sys::HtmlAnchorElement = document.create_element("a").map_err(js_message)?.unchecked_into();
    link.set_href(&url);
    link.set_download(name);
    link.click();
    // Free the blob once the browser has surely started the download.
    let revoke = wasm_bindgen::closure::Closure::once_into_js(move || web_sys::Url::revoke_object_url(&url));
    window.set_timeout_with_callback_and_timeout_and_arguments_0(revoke.unchecked_ref(), 60_000).map_err(js_message)?;
    Ok(())
}

/// Turns an uploaded file's text (and name) into what its text box shows.
pub type Convert = fn(name: &str, text: &str) -> Result<String, String>;

/// A file picker that puts the picked text file's contents into `into`, the
/// text box it stands beside, converted by `convert` when given.
#[leptos::component]
pub fn TextUpload(
    label: &'static str,
    accept: &'static str,
    into: leptos::prelude::RwSignal<String>,
    error: leptos::prelude::WriteSignal<Option<String>>,
    #[prop(optional)] convert: Option<Convert>,
) -> impl leptos::IntoView {
    use leptos::prelude::*;
    let picked = move |ev: leptos::ev::Event| {
        let input: web_sys::HtmlInputElement = event_target(&ev);
        let Some(file) = input.files().and_then(|f| f.get(0)) else { return };
        leptos::task::spawn_local(async move {
            let result = async {
                let bytes = read_upload(&file, Limits::default().max_data_bytes).await?;
                let text = String::from_utf8(bytes).map_err(|_| format!("{} is not a UTF-8 text file", file.name()))?;
                match convert {
                    Some(convert) => convert(&file.name(), &text),
                    None => Ok(text),
                }
            }
            .await;
            match result {
                Ok(text) => {
                    error.set(None);
                    into.set(text);
                }
                Err(e) => error.set(Some(e)),
            }
        });
    };
    view! { <label class="upload">{label}<input type="file" accept=accept on:change=picked /></label> }
}
