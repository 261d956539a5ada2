//! Request extractors that turn every malformed input into the API's 4xx shape instead of
//! axum's plain-text rejections.

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Path, Request};
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value, json};
use std::collections::HashMap;

use crate::domain::text;
use crate::error::{ApiError, ApiResult};

/// Largest request body accepted; larger ones get a 413.
pub const MAX_BODY_BYTES: usize = 1024 * 1024;

/// A JSON object body. Validation of its fields happens in the handler, through
/// [`super::validate::Fields`], so that every violation is reported at once.
pub struct JsonObject(pub Map<String, Value>);

impl<S: Send + Sync> FromRequest<S> for JsonObject {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        if let Some(content_type) = req.headers().get(header::CONTENT_TYPE) {
            let is_json = content_type
                .to_str()
                .ok()
                .and_then(|v| v.split(';').next())
                .map(|mime| {
                    let mime = mime.trim().to_ascii_lowercase();
                    mime == "application/json" || mime.ends_with("+json")
                })
                .unwrap_or(false);
            if !is_json {
                return Err(ApiError::Status(
                    StatusCode::UNSUPPORTED_MEDIA_TYPE,
                    "Content-Type must be application/json".into(),
                ));
            }
        }
        let bytes = Bytes::from_request(req, state).await.map_err(|rejection| {
            if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
                ApiError::Status(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    "Request body must not exceed 1 MiB".into(),
                )
            } else {
                ApiError::bad_request("Request body could not be read")
            }
        })?;
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Ok(Self(Map::new()));
        }
        match serde_json::from_slice::<Value>(&bytes) {
            Ok(Value::Object(map)) => {
                let unstorable = unstorable_properties(&map);
                if unstorable.is_empty() {
                    Ok(Self(map))
                } else {
                    Err(ApiError::Validation(unstorable))
                }
            }
            Ok(_) => Err(ApiError::bad_request("Request body must be a JSON object")),
            Err(_) => Err(ApiError::bad_request("Request body must be valid JSON")),
        }
    }
}

/// A violation for each top-level property whose name or value (at any depth) holds text
/// the databases cannot store.
fn unstorable_properties(map: &Map<String, Value>) -> Vec<String> {
    fn storable(value: &Value) -> bool {
        match value {
            Value::String(s) => text::is_storable(s),
            Value::Array(items) => items.iter().all(storable),
            Value::Object(map) => map.iter().all(|(k, v)| text::is_storable(k) && storable(v)),
            _ => true,
        }
    }
    map.iter()
        .filter(|(key, value)| !text::is_storable(key) || !storable(value))
        .map(|(key, _)| {
            text::unstorable(if text::is_storable(key) { key } else { "property names" })
        })
        .collect()
}

/// Path parameters, all of which are UUIDs in this API.
pub struct ApiPath<T>(pub T);

impl<T, S> FromRequestParts<S> for ApiPath<T>
where
    T: DeserializeOwned + Send,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        Path::<T>::from_request_parts(parts, state)
            .await
            .map(|Path(value)| Self(value))
            .map_err(|_| ApiError::bad_request("Validation failed (uuid is expected)"))
    }
}

/// `?limit=&cursor=` plus any other query parameters a list route reads.
pub struct ListQuery {
    pub limit: i64,
    pub cursor: Option<String>,
    pub params: HashMap<String, String>,
}

pub const DEFAULT_LIMIT: i64 = 20;
pub const MAX_LIMIT: i64 = 100;

impl<S: Send + Sync> FromRequestParts<S> for ListQuery {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let mut params = HashMap::new();
        let mut errors = Vec::new();
        let query = parts.uri.query().unwrap_or_default().as_bytes();
        // A repeated parameter is ambiguous: which one was meant?
        for (key, value) in url::form_urlencoded::parse(query) {
            if !text::is_storable(&key) || !text::is_storable(&value) {
                let name = if text::is_storable(&key) { &*key } else { "parameter names" };
                errors.push(text::unstorable(name));
            } else if params.insert(key.to_string(), value.into_owned()).is_some() {
                errors.push(format!("{key} must not be repeated"));
            }
        }
        if !errors.is_empty() {
            return Err(ApiError::Validation(errors));
        }
        let limit = match params.remove("limit") {
            None => DEFAULT_LIMIT,
            Some(raw) => match raw.parse::<i64>() {
                Err(_) => {
                    errors.push("limit must be an integer number".to_owned());
                    DEFAULT_LIMIT
                }
                Ok(n) if n < 1 => {
                    errors.push("limit must not be less than 1".to_owned());
                    DEFAULT_LIMIT
                }
                Ok(n) if n > MAX_LIMIT => {
                    errors.push(format!("limit must not be greater than {MAX_LIMIT}"));
                    DEFAULT_LIMIT
                }
                Ok(n) => n,
            },
        };
        // An empty cursor is the first page, as no cursor is.
        let cursor = params.remove("cursor").filter(|c| !c.is_empty());
        if !errors.is_empty() {
            return Err(ApiError::Validation(errors));
        }
        Ok(Self { limit, cursor, params })
    }
}

impl ListQuery {
    /// The `?{name}=` filter, if given: one of `choices`, by its name.
    pub fn choice<T: Copy>(&self, name: &str, choices: &[(&str, T)]) -> ApiResult<Option<T>> {
        let Some(raw) = self.params.get(name) else { return Ok(None) };
        match choices.iter().find(|(choice, _)| choice == raw) {
            Some((_, value)) => Ok(Some(*value)),
            None => {
                let names: Vec<&str> = choices.iter().map(|(choice, _)| *choice).collect();
                Err(ApiError::Validation(vec![format!(
                    "{name} must be one of the following values: {}",
                    names.join(", ")
                )]))
            }
        }
    }
}

/// `?limit=&cursor=` as the document describes them, from the bounds [`ListQuery`] checks.
pub struct PageParams;

impl utoipa::IntoParams for PageParams {
    fn into_params(
        _: impl Fn() -> Option<utoipa::openapi::path::ParameterIn>,
    ) -> Vec<utoipa::openapi::path::Parameter> {
        let limit = json!({"type": "integer", "minimum": 1, "maximum": MAX_LIMIT, "default": DEFAULT_LIMIT});
        let cursor = json!({"type": "string", "pattern": super::body::STORABLE});
        let about = "The `nextCursor` of the previous page, as given; empty for the first page.";
        vec![query_param("limit", "Items per page.", limit), query_param("cursor", about, cursor)]
    }
}

/// An optional query parameter under `schema`.
pub fn query_param(name: &str, about: &str, schema: Value) -> utoipa::openapi::path::Parameter {
    let parameter = json!({"name": name, "in": "query", "required": false,
                           "description": about, "schema": schema});
    // Only this crate's own, tested JSON comes here.
    serde_json::from_value(parameter).expect("query parameters are valid OpenAPI")
}

/// Opaque pagination cursors: the position of the last item of a page, base64url-encoded.
pub mod cursor {
    use super::*;

    pub fn encode(position: &str) -> String {
        URL_SAFE_NO_PAD.encode(position)
    }

    pub fn invalid() -> ApiError {
        ApiError::Validation(vec!["cursor must be a cursor returned by a previous page".into()])
    }

    pub fn decode(cursor: &str) -> Result<String, ApiError> {
        URL_SAFE_NO_PAD
            .decode(cursor)
            .ok()
            .and_then(|bytes| String::from_utf8(bytes).ok())
            .ok_or_else(invalid)
    }

    /// Decodes a cursor that holds a single UUID.
    pub fn decode_uuid(cursor: Option<&str>) -> Result<Option<uuid::Uuid>, ApiError> {
        cursor
            .map(|c| decode(c).and_then(|s| uuid::Uuid::parse_str(&s).map_err(|_| invalid())))
            .transpose()
    }
}
