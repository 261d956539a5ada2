//! Roster as an OAuth 2.0 authorization server (RFC 6749) for organizations' apps: the
//! authorization page, the token endpoint, revocation (RFC 7009), introspection (RFC 7662)
//! and metadata (RFC 8414). Errors here are in RFC 6749's shape, as OAuth clients expect.

pub mod authorize;
pub mod client;
pub mod error;
pub mod form;
pub mod metadata;
pub mod page;
pub mod token;
pub mod token_admin;

use axum::http::HeaderMap;
use axum::http::header;

/// The issuer: the configured public URL, else `http://` plus the request's `Host`.
pub fn issuer(public_url: Option<&str>, headers: &HeaderMap) -> String {
    if let Some(url) = public_url {
        return url.to_owned();
    }
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .filter(|h| !h.is_empty() && h.chars().all(|c| c.is_ascii_graphic()))
        .unwrap_or("localhost");
    format!("http://{host}")
}
