//! Form-encoded OAuth request bodies. RFC 6749 §3.1: an empty parameter counts as absent,
//! and no parameter may be repeated.

use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::{StatusCode, header};

use super::error::OAuthError;
use crate::domain::text;

pub struct OAuthForm(pub Vec<(String, String)>);

impl<S: Send + Sync> FromRequest<S> for OAuthForm {
    type Rejection = OAuthError;

    async fn from_request(req: Request, state: &S) -> Result<Self, OAuthError> {
        let is_form = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .is_some_and(|mime| {
                mime.trim().eq_ignore_ascii_case("application/x-www-form-urlencoded")
            });
        if !is_form {
            return Err(OAuthError::invalid_request(
                "Content-Type must be application/x-www-form-urlencoded",
            ));
        }
        let bytes = Bytes::from_request(req, state).await.map_err(|rejection| {
            if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
                OAuthError::invalid_request("Request body must not exceed 1 MiB")
                    .with_status(StatusCode::PAYLOAD_TOO_LARGE)
            } else {
                OAuthError::invalid_request("Request body could not be read")
            }
        })?;
        Self::parse(&bytes)
    }
}

impl OAuthForm {
    /// The parameters of a form body or query string; `invalid_request` for one whose name or
    /// value holds text the databases cannot store.
    pub fn parse(bytes: &[u8]) -> Result<Self, OAuthError> {
        let pairs: Vec<(String, String)> =
            url::form_urlencoded::parse(bytes).into_owned().collect();
        match pairs.iter().find(|(k, v)| !text::is_storable(k) || !text::is_storable(v)) {
            None => Ok(Self(pairs)),
            Some((k, _)) => {
                Err(OAuthError::invalid_request(text::unstorable(if text::is_storable(k) {
                    k
                } else {
                    "parameter names"
                })))
            }
        }
    }

    /// The parameter's value; `None` when absent or empty.
    pub fn get(&self, name: &str) -> Result<Option<&str>, OAuthError> {
        let mut values = self.0.iter().filter(|(k, v)| k == name && !v.is_empty());
        let first = values.next().map(|(_, v)| v.as_str());
        if values.next().is_some() {
            return Err(OAuthError::invalid_request(format!("{name} must not be repeated")));
        }
        Ok(first)
    }

    pub fn require(&self, name: &str) -> Result<&str, OAuthError> {
        self.get(name)?.ok_or_else(|| OAuthError::invalid_request(format!("{name} is required")))
    }
}
