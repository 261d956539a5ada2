//! Server keys at the HTTP edge: the credential of the application's backend. Only the routes
//! that take a [`Caller`] accept one (publishing events and the event catalogue); every other
//! route refuses it with a 403.
//!
//! A server key is for servers. It is a bearer token only (no cookie can carry it), the API
//! sends no CORS headers, and a request that shows any sign of coming from a browser (an
//! `Origin`, a `Cookie`, or a `Sec-Fetch-*` header, which browsers add and scripts cannot
//! remove) is refused, so a key pasted into a web page fails at once instead of leaking.

use axum::extract::FromRequestParts;
use axum::http::HeaderName;
use axum::http::request::Parts;

use super::principal::{Principal, bearer};
use crate::auth::token;
use crate::domain::key_scope::KeyScope;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use crate::store::last_used;
use crate::store::server_keys::{self, ServerKey};

/// Whoever calls a route open to server keys: the application's backend with one, or a
/// person or OAuth token as on every other route.
#[derive(Debug, Clone)]
pub enum Caller {
    Key(ServerKey),
    Token(Principal),
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        if let Some(key) = parts.extensions.get::<ServerKey>() {
            return Ok(Caller::Key(key.clone()));
        }
        match bearer(parts) {
            Some(presented) if presented.starts_with(token::SERVER_KEY_PREFIX) => {
                let presented = presented.to_owned();
                let key = authenticate(parts, state, &presented).await?;
                parts.extensions.insert(key.clone());
                Ok(Caller::Key(key))
            }
            _ => Ok(Caller::Token(Principal::from_request_parts(parts, state).await?)),
        }
    }
}

impl Caller {
    /// The key, if it holds `scope`; refuses a person's or OAuth token.
    pub fn key_with(&self, scope: KeyScope) -> ApiResult<&ServerKey> {
        match self {
            Caller::Key(key) if key.may(scope) => Ok(key),
            Caller::Key(_) => Err(ApiError::forbidden(format!(
                "Access denied. This server key lacks the {scope} scope."
            ))),
            Caller::Token(_) => Err(ApiError::forbidden(format!(
                "Access denied. Only server keys with the {scope} scope can do this."
            ))),
        }
    }
}

/// Headers browsers send and scripts on a page cannot suppress.
const BROWSER_HEADERS: [HeaderName; 5] = [
    axum::http::header::ORIGIN,
    axum::http::header::COOKIE,
    HeaderName::from_static("sec-fetch-site"),
    HeaderName::from_static("sec-fetch-mode"),
    HeaderName::from_static("sec-fetch-dest"),
];

/// The live key `presented`, if the request is not a browser's.
pub async fn authenticate(
    parts: &Parts,
    state: &AppState,
    presented: &str,
) -> ApiResult<ServerKey> {
    if BROWSER_HEADERS.iter().any(|name| parts.headers.contains_key(name)) {
        return Err(ApiError::forbidden(
            "Access denied. Server keys cannot be used from a browser.",
        ));
    }
    let mut conn = state.db.acquire().await?;
    let key = server_keys::find_live(&mut conn, &token::digest(presented))
        .await?
        .ok_or_else(ApiError::unauthorized)?;
    drop(conn);
    let now = state.clock.now();
    if last_used::is_due(key.last_used_at, now) {
        let mut tx = state.db.begin_write().await?;
        server_keys::touch(&mut tx, key.id, now).await?;
        tx.commit().await?;
    }
    Ok(key)
}

pub fn not_allowed() -> ApiError {
    ApiError::forbidden(
        "Access denied. Server keys can only publish events and manage the event catalogue.",
    )
}
