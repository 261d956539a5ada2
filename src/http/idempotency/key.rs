//! The `Idempotency-Key` header, and the digests a key is stored under: the credential it
//! belongs to and the request it was first used with.

use axum::http::{HeaderMap, Method, Uri, header};
use sha2::{Digest, Sha256};

use crate::error::ApiError;

pub const HEADER: &str = "idempotency-key";
pub const MAX_LENGTH: usize = 255;
/// Visible ASCII, as the OpenAPI document states it (with the length bounds beside it).
pub const PATTERN: &str = "^[!-~]+$";
pub const INVALID: &str = "Idempotency-Key must be 1 to 255 visible ASCII characters";

/// The key the request carries, if any; one that breaks the rules is refused with a 400.
pub fn from_headers(headers: &HeaderMap) -> Result<Option<String>, ApiError> {
    let mut values = headers.get_all(HEADER).iter();
    let Some(value) = values.next() else { return Ok(None) };
    if values.next().is_some() {
        return Err(ApiError::Validation(vec!["Idempotency-Key must be given once".into()]));
    }
    let bytes = value.as_bytes();
    let visible = bytes.iter().all(|b| (0x21..=0x7e).contains(b));
    if bytes.is_empty() || bytes.len() > MAX_LENGTH || !visible {
        return Err(ApiError::Validation(vec![INVALID.into()]));
    }
    Ok(Some(String::from_utf8_lossy(bytes).into_owned()))
}

/// The SHA-256 of the `Authorization` header's value: bearer tokens and Basic client
/// credentials alike. `None` without one.
pub fn credential_digest(headers: &HeaderMap) -> Option<String> {
    headers.get(header::AUTHORIZATION).map(|value| hex::encode(Sha256::digest(value.as_bytes())))
}

/// What makes two requests the same: the method, the path with its query, and the body.
pub fn request_digest(method: &Method, uri: &Uri, body: &[u8]) -> String {
    let target = uri.path_and_query().map_or(uri.path(), |p| p.as_str());
    let mut digest = Sha256::new();
    digest.update(method.as_str().as_bytes());
    digest.update(b"\n");
    digest.update(target.as_bytes());
    digest.update(b"\n");
    digest.update(hex::encode(Sha256::digest(body)).as_bytes());
    hex::encode(digest.finalize())
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;

    use super::*;

    fn with_key(value: &'static [u8]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(HEADER, HeaderValue::from_bytes(value).expect("header value"));
        headers
    }

    #[test]
    fn a_key_is_one_to_255_visible_ascii_characters() {
        assert_eq!(from_headers(&HeaderMap::new()).ok(), Some(None));
        assert!(matches!(from_headers(&with_key(b"order-1")), Ok(Some(k)) if k == "order-1"));
        assert!(from_headers(&with_key(b"")).is_err());
        assert!(from_headers(&with_key(b"two words")).is_err());
        assert!(from_headers(&with_key(b"caf\xc3\xa9")).is_err());
        let longest = HeaderValue::from_str(&"k".repeat(MAX_LENGTH)).expect("value");
        let mut headers = HeaderMap::new();
        headers.insert(HEADER, longest);
        assert!(from_headers(&headers).is_ok());
        headers.insert(HEADER, HeaderValue::from_str(&"k".repeat(256)).expect("value"));
        assert!(from_headers(&headers).is_err());
        headers.insert(HEADER, HeaderValue::from_static("a"));
        headers.append(HEADER, HeaderValue::from_static("b"));
        assert!(from_headers(&headers).is_err());
    }

    #[test]
    fn the_request_digest_covers_method_target_and_body() {
        let uri: Uri = "/api/organizations?x=1".parse().expect("uri");
        let other: Uri = "/api/organizations?x=2".parse().expect("uri");
        let base = request_digest(&Method::POST, &uri, b"{}");
        assert_eq!(base, request_digest(&Method::POST, &uri, b"{}"));
        assert_ne!(base, request_digest(&Method::POST, &other, b"{}"));
        assert_ne!(base, request_digest(&Method::POST, &uri, b"{ }"));
        assert_ne!(base, request_digest(&Method::PUT, &uri, b"{}"));
    }
}
