//! Reading the `Cookie` header, for the server-rendered pages (OAuth consent, console).

use axum::http::{HeaderMap, header};

/// The value of cookie `name`, if the request sent one.
pub fn value<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find_map(|(k, v)| (k == name).then_some(v))
}
