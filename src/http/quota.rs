//! The quotas of [`Quotas`]: what one organization, user or app may hold at once, so that
//! none takes more than its share of a server that every tenant uses. Each check runs in the
//! transaction that adds the thing, after the access check; the organization quotas are
//! checked under the organization's row lock, so concurrent creations cannot overshoot them.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::config::Quotas;
use crate::error::{ApiError, ApiResult};
use crate::store::{Conn, quotas};

/// The answer once a quota is reached: a 409, since the request is fine but the state of the
/// organization (or user) does not allow it.
pub fn reached(holder: &str, limit: i64, things: &str) -> ApiError {
    ApiError::conflict(format!(
        "{holder} has reached its limit of {limit} {things}; remove some first"
    ))
}

fn room(count: i64, limit: i64, holder: &str, things: &str) -> ApiResult<()> {
    if count >= limit { Err(reached(holder, limit, things)) } else { Ok(()) }
}

pub async fn webhook(conn: &mut dyn Conn, quotas: &Quotas, org_id: Uuid) -> ApiResult<()> {
    let limit = quotas.webhooks_per_org;
    room(quotas::webhooks(conn, org_id, limit).await?, limit, "The organization", "webhooks")
}

pub async fn oauth_app(conn: &mut dyn Conn, quotas: &Quotas, org_id: Uuid) -> ApiResult<()> {
    let limit = quotas.oauth_apps_per_org;
    room(quotas::oauth_apps(conn, org_id, limit).await?, limit, "The organization", "OAuth apps")
}

pub async fn pending_invite(
    conn: &mut dyn Conn,
    quotas: &Quotas,
    org_id: Uuid,
    now: DateTime<Utc>,
) -> ApiResult<()> {
    let limit = quotas.pending_invites_per_org;
    let count = quotas::pending_invites(conn, org_id, now, limit).await?;
    room(count, limit, "The organization", "pending invites")
}

pub async fn personal_token(
    conn: &mut dyn Conn,
    quotas: &Quotas,
    user_id: Uuid,
    now: DateTime<Utc>,
) -> ApiResult<()> {
    let limit = quotas.personal_tokens_per_user;
    let count = quotas::personal_tokens(conn, user_id, now, limit).await?;
    room(count, limit, "Your account", "personal access tokens")
}
