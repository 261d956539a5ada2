//! The person's sign-in sessions: listing them, and signing out one or all of the others.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::error::{ApiError, ApiResult};
use crate::http::extract::{ApiPath, ListQuery, PageParams, cursor};
use crate::http::principal::{Credential, Principal};
use crate::http::views::{ErrorBody, Page};
use crate::state::AppState;
use crate::store::sessions::{self, Session};
use crate::store::tokens;

/// One sign-in (register or login) and the refreshes that continued it.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SessionView {
    pub id: Uuid,
    pub created_at: DateTime<Utc>,
    /// The last refresh, or use of one of its access tokens (kept to the minute).
    pub last_used_at: DateTime<Utc>,
    /// The `User-Agent` of the sign-in, cut to 256 characters.
    pub user_agent: Option<String>,
    /// The address the sign-in came from (a reverse proxy's, behind one).
    pub ip_address: Option<String>,
    /// Whether this is the session of the token making the request.
    pub current: bool,
}

/// The session the caller's token belongs to; none for a personal access token.
pub fn current_session(principal: &Principal) -> Option<Uuid> {
    match principal.credential {
        Credential::Session { family_id } => family_id,
        _ => None,
    }
}

/// List the user's live sessions, newest first.
#[utoipa::path(get, path = "/api/users/me/sessions", tag = "users", security(("bearer" = [])),
    params(PageParams),
    responses((status = 200, body = Page<SessionView>), (status = 400, body = ErrorBody),
               (status = 401, body = ErrorBody),
               (status = 403, body = ErrorBody, description = "OAuth tokens cannot be used here")))]
pub async fn list_sessions(
    State(state): State<AppState>,
    principal: Principal,
    query: ListQuery,
) -> ApiResult<Json<Page<SessionView>>> {
    let user_id = principal.person()?;
    let before = cursor::decode_uuid(query.cursor.as_deref())?;
    let current = current_session(&principal);
    let mut conn = state.db.acquire().await?;
    let rows =
        sessions::list_live(&mut conn, user_id, state.clock.now(), before, query.limit + 1).await?;
    let view = |s: Session| SessionView {
        current: Some(s.id) == current,
        id: s.id,
        created_at: s.created_at,
        last_used_at: s.last_used_at,
        user_agent: s.user_agent,
        ip_address: s.ip,
    };
    Ok(Json(Page::from_rows(rows, query.limit, |s| s.id.to_string(), view)))
}

/// Sign out one session: every token of it stops working. The current session may be named
/// too, which is the same as logging out.
#[utoipa::path(delete, path = "/api/users/me/sessions/{sessionId}", tag = "users",
    security(("bearer" = [])), params(("sessionId" = Uuid, Path)),
    responses((status = 204), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
               (status = 403, body = ErrorBody, description = "OAuth tokens cannot be used here"),
               (status = 404, body = ErrorBody, description = "Session not found")))]
pub async fn revoke_session(
    State(state): State<AppState>,
    principal: Principal,
    ApiPath(session_id): ApiPath<Uuid>,
) -> ApiResult<StatusCode> {
    let user_id = principal.person()?;
    let now = state.clock.now();
    let mut tx = state.db.begin_write().await?;
    // Another person's session reads as missing, like one that has ended.
    if !sessions::is_live(&mut tx, user_id, session_id, now).await? {
        return Err(ApiError::not_found("Session"));
    }
    tokens::revoke_family(&mut tx, session_id, now).await?;
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Sign out every other session: all but the one of the token making the request. With a
/// personal access token, which belongs to no session, every session ends.
#[utoipa::path(delete, path = "/api/users/me/sessions", tag = "users", security(("bearer" = [])),
    responses((status = 204), (status = 401, body = ErrorBody),
               (status = 403, body = ErrorBody, description = "OAuth tokens cannot be used here")))]
pub async fn revoke_other_sessions(
    State(state): State<AppState>,
    principal: Principal,
) -> ApiResult<StatusCode> {
    let user_id = principal.person()?;
    let mut tx = state.db.begin_write().await?;
    tokens::revoke_sign_ins(&mut tx, user_id, current_session(&principal), state.clock.now())
        .await?;
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}
