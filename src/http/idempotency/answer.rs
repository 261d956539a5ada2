//! The answers a key keeps, stored sealed (an answer may carry a token or a secret), and how
//! a kept one is replayed.

use axum::body::Body;
use axum::http::{HeaderName, HeaderValue, StatusCode, header};
use axum::response::Response;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde::{Deserialize, Serialize};

use crate::crypto::SecretBox;

/// Marks a replayed answer.
pub const REPLAYED: &str = "idempotent-replayed";

/// Answers with larger bodies are not kept (a retry runs again); every POST's answer is far
/// smaller.
pub const MAX_STORED_BODY: usize = 64 * 1024;

/// The headers of an answer that say something about it; the rest (Date, Content-Length) are
/// the replay's own.
const KEPT_HEADERS: [HeaderName; 7] = [
    header::CONTENT_TYPE,
    header::LOCATION,
    header::RETRY_AFTER,
    header::CACHE_CONTROL,
    header::PRAGMA,
    header::LINK,
    header::WWW_AUTHENTICATE,
];

/// Whether an answer is final, and so replayed to a retry. A 5xx or a 429 asks for the retry
/// to run; a 401 means the credential the key would belong to does not authenticate (keeping
/// it would let any made-up token fill the table); a 408 is about the connection.
pub fn is_final(status: StatusCode) -> bool {
    let refused = [StatusCode::UNAUTHORIZED, StatusCode::REQUEST_TIMEOUT];
    (status.is_success() || status.is_redirection() || status.is_client_error())
        && status != StatusCode::TOO_MANY_REQUESTS
        && !refused.contains(&status)
}

#[derive(Serialize, Deserialize)]
struct Stored {
    headers: Vec<(String, String)>,
    body: String,
}

/// The sealed form of an answer's kept headers and body.
pub fn seal(
    secrets: &SecretBox,
    headers: &axum::http::HeaderMap,
    body: &[u8],
) -> anyhow::Result<String> {
    let headers = KEPT_HEADERS
        .iter()
        .flat_map(|name| headers.get_all(name).iter().map(move |v| (name, v)))
        .filter_map(|(name, value)| Some((name.to_string(), value.to_str().ok()?.to_owned())))
        .collect();
    let stored = Stored { headers, body: STANDARD.encode(body) };
    secrets.seal(&serde_json::to_string(&stored)?)
}

/// The kept answer, marked as a replay.
pub fn replay(secrets: &SecretBox, status: u16, sealed: &str) -> anyhow::Result<Response> {
    let stored: Stored = serde_json::from_str(&secrets.open(sealed)?)?;
    let mut response = Response::new(Body::from(STANDARD.decode(stored.body)?));
    *response.status_mut() = StatusCode::from_u16(status)?;
    for (name, value) in stored.headers {
        response.headers_mut().append(HeaderName::try_from(name)?, HeaderValue::try_from(value)?);
    }
    response.headers_mut().insert(REPLAYED, HeaderValue::from_static("true"));
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn final_answers_are_kept_and_retryable_ones_are_not() {
        for kept in [200, 201, 204, 303, 400, 403, 404, 409, 422] {
            assert!(is_final(StatusCode::from_u16(kept).expect("status")), "{kept}");
        }
        for retried in [401, 408, 429, 500, 503] {
            assert!(!is_final(StatusCode::from_u16(retried).expect("status")), "{retried}");
        }
    }
}
