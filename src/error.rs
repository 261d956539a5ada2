//! The one error type handlers return. It renders NestJS's shape, `{statusCode, message}`,
//! which the API has promised since its first page. Internal failures are logged with their
//! cause and answered with an opaque 500.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use crate::domain::scope::Scope;
use crate::store::StoreError;

pub const AUTH_REQUIRED: &str = "Authentication required. Provide a valid bearer token.";

#[derive(Debug)]
pub enum ApiError {
    /// 400 with every violation of the request, in class-validator wording.
    Validation(Vec<String>),
    /// Any 4xx with a single message.
    Status(StatusCode, String),
    /// 429 with the seconds after which a retry may succeed.
    RateLimited { retry_after_secs: u64 },
    /// 401 `AUTH_REQUIRED` with an RFC 6750 challenge, which says `invalid_token` when a
    /// token was presented.
    Unauthenticated { token_presented: bool },
    /// 403 for an OAuth token without the scope a route needs (RFC 6750 §3.1).
    InsufficientScope(Scope),
    /// 503 with `Retry-After`: nothing wrong with the request, but it cannot be served now.
    Unavailable { message: &'static str, retry_after_secs: u64 },
    /// Anything the caller cannot fix. The cause is logged, never returned.
    Internal(anyhow::Error),
}

pub type ApiResult<T> = Result<T, ApiError>;

impl ApiError {
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::Status(StatusCode::BAD_REQUEST, message.into())
    }

    /// No usable credentials: none, or one that is malformed, unknown, expired or revoked.
    pub fn unauthorized() -> Self {
        Self::Unauthenticated { token_presented: true }
    }

    /// No bearer token at all.
    pub fn no_token() -> Self {
        Self::Unauthenticated { token_presented: false }
    }

    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::Status(StatusCode::FORBIDDEN, message.into())
    }

    /// `403 "Access denied. Only owners and admins can <action>."`
    pub fn managers_only(action: &str) -> Self {
        Self::forbidden(format!("Access denied. Only owners and admins can {action}."))
    }

    /// `404 "<thing> not found"`
    pub fn not_found(thing: &str) -> Self {
        Self::Status(StatusCode::NOT_FOUND, format!("{thing} not found"))
    }

    /// 503 with `Retry-After`: the server is overloaded right now.
    pub fn unavailable() -> Self {
        Self::Unavailable { message: "Server is busy. Try again shortly.", retry_after_secs: 1 }
    }

    /// 503 with `Retry-After`: the database cannot take the request right now (no primary
    /// during a failover, a lost connection, overload).
    pub fn database_unavailable() -> Self {
        Self::Unavailable {
            message: "The database is unavailable. Try again shortly.",
            retry_after_secs: 2,
        }
    }

    pub fn conflict(message: impl Into<String>) -> Self {
        Self::Status(StatusCode::CONFLICT, message.into())
    }

    pub fn status(&self) -> StatusCode {
        match self {
            Self::Validation(_) => StatusCode::BAD_REQUEST,
            Self::Status(status, _) => *status,
            Self::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
            Self::InsufficientScope(_) => StatusCode::FORBIDDEN,
            Self::Unauthenticated { .. } => StatusCode::UNAUTHORIZED,
            Self::Unavailable { .. } => StatusCode::SERVICE_UNAVAILABLE,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

/// The error body, for any status.
pub fn body(status: StatusCode, message: Value) -> Value {
    json!({ "statusCode": status.as_u16(), "message": message })
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status();
        let mut retry_after = None;
        let mut challenge = None;
        let message = match self {
            Self::Validation(messages) => json!(messages),
            Self::Status(_, message) => json!(message),
            Self::RateLimited { retry_after_secs } => {
                retry_after = Some(retry_after_secs);
                json!("Too many requests. Try again later.")
            }
            Self::Unavailable { message, retry_after_secs } => {
                retry_after = Some(retry_after_secs);
                json!(message)
            }
            Self::Unauthenticated { token_presented } => {
                challenge = Some(if token_presented {
                    r#"Bearer realm="roster", error="invalid_token""#.to_owned()
                } else {
                    r#"Bearer realm="roster""#.to_owned()
                });
                json!(AUTH_REQUIRED)
            }
            Self::InsufficientScope(scope) => {
                challenge = Some(format!(r#"Bearer error="insufficient_scope", scope="{scope}""#));
                json!(format!("Access denied. This token lacks the {scope} scope."))
            }
            Self::Internal(err) => {
                tracing::error!(error = ?err, "internal error");
                json!("Internal server error")
            }
        };
        let mut response = (status, axum::Json(body(status, message))).into_response();
        if let Some(secs) = retry_after {
            response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        // Every 401 names the scheme to authenticate with (RFC 7235 §3.1).
        if status == StatusCode::UNAUTHORIZED && challenge.is_none() {
            challenge = Some(r#"Bearer realm="roster""#.to_owned());
        }
        if let Some(value) = challenge.and_then(|c| HeaderValue::from_str(&c).ok()) {
            response.headers_mut().insert(header::WWW_AUTHENTICATE, value);
        }
        response
    }
}

impl From<sqlx::Error> for ApiError {
    fn from(err: sqlx::Error) -> Self {
        if matches!(err, sqlx::Error::PoolTimedOut) {
            // Every connection busy for the pool's whole wait: overload.
            return Self::unavailable();
        }
        if crate::store::is_transient(&err) {
            // Overload, or a database in the middle of a failover: not a fault of the request,
            // and none of it half-done. Say so, and let the client come back.
            tracing::warn!(error = %err, "database unavailable for a request");
            return Self::database_unavailable();
        }
        Self::Internal(err.into())
    }
}

impl From<crate::auth::password::PasswordError> for ApiError {
    fn from(err: crate::auth::password::PasswordError) -> Self {
        match err {
            crate::auth::password::PasswordError::Busy => Self::unavailable(),
            crate::auth::password::PasswordError::Failed(err) => Self::Internal(err),
        }
    }
}

impl From<crate::auth::sign_in::SignInError> for ApiError {
    fn from(err: crate::auth::sign_in::SignInError) -> Self {
        use crate::auth::sign_in::SignInError;
        match err {
            SignInError::TooManyAttempts { retry_after_secs } => {
                Self::RateLimited { retry_after_secs }
            }
            SignInError::Invalid => {
                Self::Status(StatusCode::UNAUTHORIZED, "Invalid email or password".into())
            }
            SignInError::Database(err) => err.into(),
            SignInError::Password(err) => err.into(),
        }
    }
}

impl From<StoreError> for ApiError {
    fn from(err: StoreError) -> Self {
        match err {
            // Callers that expect a conflict map it to their own message first.
            StoreError::Conflict => Self::conflict("Conflict"),
            StoreError::Database(err) => err.into(),
        }
    }
}

impl From<anyhow::Error> for ApiError {
    fn from(err: anyhow::Error) -> Self {
        match err.downcast::<sqlx::Error>() {
            Ok(err) => err.into(),
            Err(err) => Self::Internal(err),
        }
    }
}
