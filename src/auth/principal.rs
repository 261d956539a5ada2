//! The extractor every authenticated route takes. A missing, malformed, unknown, expired or
//! revoked bearer token all answer the same 401.

use axum::extract::FromRequestParts;
use axum::http::header;
use axum::http::request::Parts;
use uuid::Uuid;

use super::token;
use crate::app::AppState;
use crate::domain::event::Actor;
use crate::error::ApiError;
use crate::store::{self, tokens};

/// How the caller proved who they are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Credential {
    /// An access token from sign-in or refresh, in the given token family.
    Session { family_id: Option<Uuid> },
    /// A personal access token.
    PersonalAccess,
}

/// The authenticated caller.
#[derive(Debug, Clone)]
pub struct Principal {
    pub user_id: Uuid,
    pub token_id: Uuid,
    pub credential: Credential,
}

impl Principal {
    pub fn actor(&self) -> Actor {
        Actor::User(self.user_id)
    }
}

fn bearer(parts: &Parts) -> Option<&str> {
    let value = parts.headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty() && token.len() <= token::MAX_LEN)
        .then_some(token)
}

impl FromRequestParts<AppState> for Principal {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let presented = bearer(parts).ok_or_else(ApiError::unauthorized)?;
        let now = store::now();
        let mut conn = state.db.pool().acquire().await?;
        let record = tokens::find_bearer(&mut conn, &token::digest(presented), now)
            .await?
            .ok_or_else(ApiError::unauthorized)?;
        drop(conn);
        let credential = match record.kind {
            tokens::TokenKind::PersonalAccess => {
                // `lastUsedAt` is kept to the minute: most requests need no write.
                if record.last_used_at.is_none_or(|at| now - at >= tokens::TOUCH_EVERY) {
                    let mut tx = state.db.begin_write().await?;
                    tokens::touch(&mut tx, record.id, now).await?;
                    tx.commit().await?;
                }
                Credential::PersonalAccess
            }
            _ => Credential::Session { family_id: record.family_id },
        };
        Ok(Principal { user_id: record.user_id, token_id: record.id, credential })
    }
}
