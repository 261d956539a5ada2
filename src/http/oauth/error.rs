//! RFC 6749 §5.2 error responses: `{"error", "error_description"}`, never cached.

use axum::Json;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::error::ApiError;

/// Every `error` code these endpoints answer with.
pub const CODES: [&str; 10] = [
    "invalid_request",
    "invalid_client",
    "invalid_grant",
    "unsupported_grant_type",
    "invalid_scope",
    "unsupported_response_type",
    "access_denied",
    "invalid_token",
    "temporarily_unavailable",
    "server_error",
];

/// The error body of the OAuth endpoints (RFC 6749 §5.2).
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
pub struct OAuthErrorBody {
    #[schema(schema_with = error_code)]
    error: String,
    error_description: String,
}

fn error_code() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
    crate::http::body::to_schema(json!({"type": "string", "enum": CODES}))
}

#[derive(Debug)]
pub struct OAuthError {
    pub status: StatusCode,
    pub code: &'static str,
    pub description: String,
    challenge: Option<&'static str>,
}

pub type OAuthResult<T> = Result<T, OAuthError>;

impl OAuthError {
    fn new(status: StatusCode, code: &'static str, description: impl Into<String>) -> Self {
        Self { status, code, description: description.into(), challenge: None }
    }

    pub fn invalid_request(description: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "invalid_request", description)
    }

    /// 401 with a Basic challenge (RFC 6749 §5.2).
    pub fn invalid_client(description: impl Into<String>) -> Self {
        Self {
            challenge: Some(r#"Basic realm="roster""#),
            ..Self::new(StatusCode::UNAUTHORIZED, "invalid_client", description)
        }
    }

    pub fn invalid_grant(description: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "invalid_grant", description)
    }

    pub fn unsupported_grant_type(description: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "unsupported_grant_type", description)
    }

    pub fn invalid_scope(description: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "invalid_scope", description)
    }

    pub fn unsupported_response_type(description: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "unsupported_response_type", description)
    }

    pub fn access_denied(description: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, "access_denied", description)
    }

    pub fn with_status(self, status: StatusCode) -> Self {
        Self { status, ..self }
    }

    /// The same error as a plain 400, for endpoints where no client authenticates.
    pub fn as_bad_request(self) -> Self {
        if self.status == StatusCode::UNAUTHORIZED {
            Self { status: StatusCode::BAD_REQUEST, challenge: None, ..self }
        } else {
            self
        }
    }

    /// 401 for a missing or bad bearer token (RFC 6750 §3.1).
    pub fn invalid_token(description: impl Into<String>) -> Self {
        Self {
            challenge: Some(r#"Bearer error="invalid_token""#),
            ..Self::new(StatusCode::UNAUTHORIZED, "invalid_token", description)
        }
    }
}

impl From<ApiError> for OAuthError {
    fn from(err: ApiError) -> Self {
        match err.status() {
            StatusCode::SERVICE_UNAVAILABLE => Self::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "temporarily_unavailable",
                "Server is busy. Try again shortly.",
            ),
            status if status.is_server_error() => {
                // Logs the cause; the client learns nothing of it.
                let _ = err.into_response();
                Self::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "server_error",
                    "Internal server error",
                )
            }
            status => Self::new(status, "invalid_request", api_message(err)),
        }
    }
}

fn api_message(err: ApiError) -> String {
    match err {
        ApiError::Validation(messages) => messages.join("; "),
        ApiError::Status(_, message) => message,
        ApiError::RateLimited { .. } => "Too many requests. Try again later.".into(),
        ApiError::InsufficientScope(scope) => format!("This token lacks the {scope} scope."),
        ApiError::Unauthenticated { .. } => crate::error::AUTH_REQUIRED.into(),
        ApiError::Unavailable { message, .. } => message.into(),
        ApiError::Internal(_) => "Internal server error".into(),
    }
}

impl From<sqlx::Error> for OAuthError {
    fn from(err: sqlx::Error) -> Self {
        ApiError::from(err).into()
    }
}

impl IntoResponse for OAuthError {
    fn into_response(self) -> Response {
        let body = json!({"error": self.code, "error_description": self.description});
        let mut response = (self.status, Json(body)).into_response();
        no_store(response.headers_mut());
        if let Some(challenge) = self.challenge {
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static(challenge));
        }
        // `temporarily_unavailable` says when to come back, as the API's own 503s do.
        if self.status == StatusCode::SERVICE_UNAVAILABLE {
            response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(2));
        }
        response
    }
}

/// Marks an answer that carries credentials, or leads to them, as never to be cached.
pub fn no_store(headers: &mut HeaderMap) {
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
}

/// A successful JSON answer that must not be cached (RFC 6749 §5.1).
pub struct NoStore<T>(pub T);

impl<T: serde::Serialize> IntoResponse for NoStore<T> {
    fn into_response(self) -> Response {
        let mut response = Json(self.0).into_response();
        no_store(response.headers_mut());
        response
    }
}
