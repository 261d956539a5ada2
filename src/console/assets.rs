//! The console's stylesheet and script, compiled into the binary. Pages link them with a
//! digest of their content in the URL, so browsers may keep them for a year and still never
//! run an old script against a new page.

use std::sync::LazyLock;

use axum::extract::{Path, RawQuery};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use minijinja::Value;
use sha2::{Digest, Sha256};

struct Asset {
    name: &'static str,
    content_type: &'static str,
    body: &'static [u8],
}

const ASSETS: &[Asset] = &[
    Asset {
        name: "console.css",
        content_type: "text/css; charset=utf-8",
        body: include_bytes!("assets/console.css"),
    },
    Asset {
        name: "console.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_bytes!("assets/console.js"),
    },
];

/// Each asset's digest, as its URLs carry it.
static VERSIONS: LazyLock<Vec<String>> =
    LazyLock::new(|| ASSETS.iter().map(|a| hex::encode(&Sha256::digest(a.body)[..8])).collect());

/// The versioned URL of every asset, by name without its extension (`css`, `js`).
pub fn urls() -> Value {
    static URLS: LazyLock<Value> = LazyLock::new(|| {
        let urls: std::collections::BTreeMap<&str, String> = ASSETS
            .iter()
            .zip(VERSIONS.iter())
            .map(|(asset, version)| {
                let key = asset.name.rsplit('.').next().unwrap_or(asset.name);
                (key, format!("/console/assets/{}?v={version}", asset.name))
            })
            .collect();
        Value::from(minijinja::value::Serde(urls))
    });
    URLS.clone()
}

pub async fn serve(Path(name): Path<String>, RawQuery(query): RawQuery) -> Response {
    let Some((asset, version)) =
        ASSETS.iter().zip(VERSIONS.iter()).find(|(asset, _)| asset.name == name)
    else {
        return (StatusCode::NOT_FOUND, "Not found").into_response();
    };
    // Only the current version may be kept for long; any other URL is revalidated.
    let current = query.as_deref() == Some(&format!("v={version}"));
    let cache = if current { "public, max-age=31536000, immutable" } else { "no-cache" };
    let mut response = asset.body.into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(asset.content_type));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    response
}
