//! Models the user trained or imported, kept in the browser's IndexedDB so
//! they are still there after a reload. One record per view, holding the
//! model's two files; "reset to pretrained" deletes it.

use js_sys::{Object, Reflect, Uint8Array};
use neuroglow_core::io::ModelFiles;
use wasm_bindgen::closure::Closure;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{IdbDatabase, IdbObjectStore, IdbOpenDbRequest, IdbRequest, IdbTransactionMode};

const DATABASE: &str = "neuroglow";
const STORE: &str = "models";
const VERSION: u32 = 1;

fn js_error(context: &str, error: JsValue) -> String {
    let message = error
        .dyn_ref::<web_sys::DomException>()
        .map(|e| e.message())
        .or_else(|| error.dyn_ref::<js_sys::Error>().map(|e| String::from(e.message())))
        .unwrap_or_else(|| "unknown error".into());
    format!("the browser's storage failed to {context}: {message}")
}

/// Waits for an IndexedDB request and gives its result.
async fn finished(request: &IdbRequest) -> Result<JsValue, JsValue> {
    let promise = js_sys::Promise::new(&mut |resolve, reject| {
        let done = request.clone();
        let on_success =
            Closure::once_into_js(move || resolve.call1(&JsValue::NULL, &done.result().unwrap_or_default()));
        let failed = request.clone();
        let on_error = Closure::once_into_js(move || {
            let error = failed.error().ok().flatten().map(JsValue::from).unwrap_or_default();
            reject.call1(&JsValue::NULL, &error)
        });
        request.set_onsuccess(Some(on_success.unchecked_ref()));
        request.set_onerror(Some(on_error.unchecked_ref()));
    });
    JsFuture::from(promise).await
}

async fn open() -> Result<IdbDatabase, String> {
    let factory = web_sys::window()
        .and_then(|w| w.indexed_db().ok().flatten())
        .ok_or("this browser keeps no IndexedDB here (a private window?); export your model to keep it")?;
    let request: IdbOpenDbRequest = factory.open_with_u32(DATABASE, VERSION).map_err(|e| js_error("open", e))?;
    let upgrading = request.clone();
    let on_upgrade = Closure::once_into_js(move || {
        if let Ok(db) = upgrading.result() {
            let _ = db.unchecked_into::<IdbDatabase>().create_object_store(STORE);
        }
    });
    request.set_onupgradeneeded(Some(on_upgrade.unchecked_ref()));
    let db = finished(&request).await.map_err(|e| js_error("open", e))?;
    Ok(db.unchecked_into())
}

async fn store(mode: IdbTransactionMode) -> Result<IdbObjectStore, String> {
    let db = open().await?;
    let transaction = db.transaction_with_str_and_mode(STORE, mode).map_err(|e| js_error("start", e))?;
    transaction.object_store(STORE).map_err(|e| js_error("start", e))
}

/// Keeps `files` as the model of `key` (a view's pretrained model name).
pub async fn save(key: &str, files: &ModelFiles) -> Result<(), String> {
    let record = Object::new();
    let set = |name: &str, value: &JsValue| Reflect::set(&record, &name.into(), value).map(|_| ());
    set("json", &files.json.as_str().into()).map_err(|e| js_error("save", e))?;
    set("safetensors", &Uint8Array::from(files.safetensors.as_slice())).map_err(|e| js_error("save", e))?;
    let request = store(IdbTransactionMode::Readwrite)
        .await?
        .put_with_key(&record, &key.into())
        .map_err(|e| js_error("save", e))?;
    finished(&request).await.map(|_| ()).map_err(|e| js_error("save", e))
}

/// The model kept for `key`, if any.
pub async fn load(key: &str) -> Result<Option<ModelFiles>, String> {
    let request = store(IdbTransactionMode::Readonly).await?.get(&key.into()).map_err(|e| js_error("read", e))?;
    let record = finished(&request).await.map_err(|e| js_error("read", e))?;
    if record.is_undefined() {
        return Ok(None);
    }
    let field = |name: &str| Reflect::get(&record, &name.into()).unwrap_or_default();
    let json = field("json").as_string().ok_or("the saved model has no model.json")?;
    let safetensors = field("safetensors")
        .dyn_into::<Uint8Array>()
        .map_err(|_| "the saved model has no weights".to_string())?
        .to_vec();
    Ok(Some(ModelFiles { json, safetensors }))
}

/// Forgets the model kept for `key`.
pub async fn remove(key: &str) -> Result<(), String> {
    let request = store(IdbTransactionMode::Readwrite).await?.delete(&key.into()).map_err(|e| js_error("delete", e))?;
    finished(&request).await.map(|_| ()).map_err(|e| js_error("delete", e))
}
