//! Portal sessions: a one-time link to a page where an application's customer manages the
//! organization's webhooks without a Roster account (see `crate::console::portal`). The
//! session acts as who made it, within what they may do, and may be narrowed to some event
//! types or to reading only.

pub mod fields;

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::auth::token;
use crate::domain::event::Actor;
use crate::domain::scope::Scope;
use crate::error::{ApiError, ApiResult};
use crate::http::access;
use crate::http::body::{Prop, body_schema};
use crate::http::extract::{ApiPath, JsonObject};
use crate::http::principal::Principal;
use crate::http::validate::Fields;
use crate::http::views::ErrorBody;
use crate::http::webhooks::fields as webhook_fields;
use crate::state::AppState;
use crate::store::portal_sessions::{self, PortalSession, Theme};

const CREATE: &[Prop] = &[
    fields::EVENTS,
    fields::READ_ONLY,
    fields::FRAME_ANCESTORS,
    fields::PRIMARY_COLOR,
    fields::BACKGROUND_COLOR,
    fields::LOGO_URL,
];
body_schema!(CreatePortalSessionRequest = CREATE);

/// Where the link of a new session opens, on this server.
pub const OPEN_PATH: &str = "/portal/open";

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PortalSessionView {
    pub id: Uuid,
    pub organization_id: Uuid,
    /// Open it once, before `expiresAt`: in a browser, or as an iframe's `src`.
    #[schema(example = "https://roster.example.com/portal/open?token=rst_pl_…")]
    pub url: String,
    /// When the link stops opening.
    pub expires_at: DateTime<Utc>,
    /// When the session ends, however it is used.
    pub session_expires_at: DateTime<Utc>,
    /// The event types offered; null for all.
    pub events: Option<Vec<String>>,
    pub read_only: bool,
    pub frame_ancestors: Vec<String>,
    pub primary_color: Option<String>,
    pub background_color: Option<String>,
    pub logo_url: Option<String>,
    pub created_at: DateTime<Utc>,
}

/// Make a portal link for the organization's webhooks (OWNER or ADMIN, or an OAuth token with
/// `webhooks:write` and `webhooks:read`). The page acts as the caller: events it causes name
/// the caller, and it can do no more than the caller can.
#[utoipa::path(post, path = "/api/organizations/{organizationId}/portal-sessions",
    tag = "webhooks", security(("bearer" = []), ("oauth2" = ["webhooks:write", "webhooks:read"])),
    params(("organizationId" = Uuid, Path)), request_body = CreatePortalSessionRequest,
    responses((status = 201, body = PortalSessionView), (status = 400, body = ErrorBody),
               (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
               (status = 404, body = ErrorBody)))]
pub async fn create(
    State(state): State<AppState>,
    principal: Principal,
    ApiPath(org_id): ApiPath<Uuid>,
    headers: HeaderMap,
    JsonObject(body): JsonObject,
) -> ApiResult<(StatusCode, Json<PortalSessionView>)> {
    let mut f = Fields::new(body, CREATE);
    let events = f.take(&fields::EVENTS);
    let registered = webhook_fields::Registered::load_for(&state.db, events.as_ref()).await?;
    let events = events.map(|value| webhook_fields::events(&mut f, Some(value), &registered));
    let read_only = f.optional_bool(&fields::READ_ONLY).unwrap_or(false);
    let frame_ancestors = {
        let value = f.take(&fields::FRAME_ANCESTORS);
        fields::frame_ancestors(&mut f, value)
    };
    let theme = Theme {
        primary_color: fields::color(&mut f, &fields::PRIMARY_COLOR),
        background_color: fields::color(&mut f, &fields::BACKGROUND_COLOR),
        logo_url: fields::logo_url(&mut f),
    };
    f.finish()?;

    let mut tx = state.db.begin_write().await?;
    access::as_manager(&mut tx, org_id, &principal, Scope::WebhooksWrite, "create portal sessions")
        .await?;
    // The page lists what it changes: a token that could not read the webhooks would make a
    // portal that shows nothing.
    if principal.oauth().is_some_and(|grant| !grant.scopes.contains(Scope::WebhooksRead)) {
        return Err(ApiError::InsufficientScope(Scope::WebhooksRead));
    }
    let now = state.clock.now();
    let limits = &state.config.console;
    let link_expires_at = now + duration(limits.portal_link);
    let session = PortalSession {
        id: Uuid::now_v7(),
        organization_id: org_id,
        user_id: principal.user_id(),
        oauth_app_id: principal.oauth().map(|grant| grant.app_id),
        scopes: principal
            .oauth()
            .map(|grant| grant.scopes.names().into_iter().map(str::to_owned).collect())
            .unwrap_or_default(),
        link_expires_at,
        opened_at: None,
        expires_at: (now + duration(limits.portal_session)).max(link_expires_at),
        event_types: events.map(|list| list.iter().map(|e| e.as_str().to_owned()).collect()),
        read_only,
        frame_ancestors,
        theme,
        revoked_at: None,
        created_at: now,
    };
    let link = token::generate(token::PORTAL_LINK_PREFIX);
    portal_sessions::insert(&mut tx, &session, &token::digest(&link)).await?;
    tx.commit().await?;
    let base = crate::http::oauth::issuer(state.config.public_url.as_deref(), &headers);
    let url = format!("{base}{OPEN_PATH}?token={link}");
    Ok((StatusCode::CREATED, Json(view(session, url))))
}

/// End a portal session, opened or not (OWNER or ADMIN, or an OAuth token with
/// `webhooks:write`). Its page stops working at its next request.
#[utoipa::path(delete, path = "/api/organizations/{organizationId}/portal-sessions/{sessionId}",
    tag = "webhooks", security(("bearer" = []), ("oauth2" = ["webhooks:write"])),
    params(("organizationId" = Uuid, Path), ("sessionId" = Uuid, Path)),
    responses((status = 204), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
               (status = 403, body = ErrorBody),
               (status = 404, body = ErrorBody, description = "Portal session not found")))]
pub async fn revoke(
    State(state): State<AppState>,
    principal: Principal,
    ApiPath((org_id, session_id)): ApiPath<(Uuid, Uuid)>,
) -> ApiResult<StatusCode> {
    let mut tx = state.db.begin_write().await?;
    access::as_manager(&mut tx, org_id, &principal, Scope::WebhooksWrite, "revoke portal sessions")
        .await?;
    if !portal_sessions::revoke(&mut tx, org_id, session_id, state.clock.now()).await? {
        return Err(ApiError::not_found("Portal session"));
    }
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Who a portal session acts as, if its maker still may: a user still a member (checked by
/// every route it calls), or an OAuth app not revoked since.
pub fn actor_of(session: &PortalSession) -> Actor {
    match (session.user_id, session.oauth_app_id) {
        (Some(user), _) => Actor::User(user),
        (None, Some(app)) => Actor::OauthApp(app),
        (None, None) => Actor::System,
    }
}

fn duration(period: std::time::Duration) -> chrono::Duration {
    chrono::Duration::from_std(period).unwrap_or(chrono::Duration::MAX)
}

fn view(session: PortalSession, url: String) -> PortalSessionView {
    PortalSessionView {
        id: session.id,
        organization_id: session.organization_id,
        url,
        expires_at: session.link_expires_at,
        session_expires_at: session.expires_at,
        events: session.event_types,
        read_only: session.read_only,
        frame_ancestors: session.frame_ancestors,
        primary_color: session.theme.primary_color,
        background_color: session.theme.background_color,
        logo_url: session.theme.logo_url,
        created_at: session.created_at,
    }
}
