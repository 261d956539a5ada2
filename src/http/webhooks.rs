//! Webhook endpoints of an organization: the original API page's create route, and the
//! routes to manage, test and replay deliveries. All of them are for OWNERs and ADMINs.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use utoipa::ToSchema;
use uuid::Uuid;

use super::access;
use super::extract::{ApiPath, JsonObject, ListQuery, cursor};
use super::validate::Fields;
use super::views::{ErrorBody, Page};
use crate::delivery::signature;
use crate::delivery::ssrf::is_forbidden;
use crate::domain::event::{EventType, NewEvent};
use crate::domain::scope::{self, Scope, Scopes};
use crate::error::{ApiError, ApiResult};
use crate::http::principal::Principal;
use crate::state::AppState;
use crate::store::deliveries::{self, Attempt, Delivery, DeliveryStatus};
use crate::store::events;
use crate::store::oauth_apps;
use crate::store::webhooks::{self, Webhook};

pub const URL_MAX: usize = 2048;
/// How long a rotated-out secret keeps signing.
pub const ROTATION_OVERLAP_HOURS: i64 = 24;

#[derive(Deserialize, ToSchema)]
pub struct CreateWebhookRequest {
    /// An absolute `https://` URL.
    #[schema(example = "https://example.com/webhooks")]
    pub url: String,
    /// Event types to subscribe to; duplicates collapse.
    #[schema(example = json!(["organization.created", "member.added"]))]
    pub events: Vec<String>,
}

#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct UpdateWebhookRequest {
    pub url: Option<String>,
    pub events: Option<Vec<String>>,
    pub is_active: Option<bool>,
}

#[derive(Deserialize, ToSchema)]
pub struct RecoverRequest {
    /// Deliveries that failed at or after this time are attempted again.
    pub since: DateTime<Utc>,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct WebhookView {
    pub id: Uuid,
    pub organization_id: Uuid,
    pub url: String,
    pub events: Vec<String>,
    pub is_active: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<Webhook> for WebhookView {
    fn from(w: Webhook) -> Self {
        Self {
            id: w.id,
            organization_id: w.organization_id,
            url: w.url,
            events: w.events.iter().map(|e| e.as_str().to_owned()).collect(),
            is_active: w.is_active,
            created_at: w.created_at,
            updated_at: w.updated_at,
        }
    }
}

/// A webhook with its signing secret, which is shown only here. Fields in the order of the
/// original API page's example response.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct WebhookWithSecret {
    pub id: Uuid,
    pub organization_id: Uuid,
    pub url: String,
    pub events: Vec<String>,
    pub is_active: bool,
    #[schema(example = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")]
    pub secret: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl WebhookWithSecret {
    fn new(webhook: WebhookView, secret: String) -> Self {
        Self {
            id: webhook.id,
            organization_id: webhook.organization_id,
            url: webhook.url,
            events: webhook.events,
            is_active: webhook.is_active,
            secret,
            created_at: webhook.created_at,
            updated_at: webhook.updated_at,
        }
    }
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AttemptView {
    pub number: i64,
    pub attempted_at: DateTime<Utc>,
    pub duration_ms: i64,
    /// The receiver's HTTP status, when it answered.
    pub status_code: Option<i64>,
    /// What went wrong without an answer: timeout, connection_failed, tls_failure, …
    pub error: Option<String>,
    /// The first 4 KiB of the receiver's answer.
    pub response_body: Option<String>,
}

impl From<Attempt> for AttemptView {
    fn from(a: Attempt) -> Self {
        Self {
            number: a.number,
            attempted_at: a.attempted_at,
            duration_ms: a.duration_ms,
            status_code: a.status_code,
            error: a.error,
            response_body: a.response_body,
        }
    }
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DeliveryView {
    pub id: Uuid,
    pub webhook_id: Uuid,
    pub event_id: Uuid,
    pub event: String,
    pub status: DeliveryStatus,
    pub next_attempt_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub attempts: Vec<AttemptView>,
}

impl From<Delivery> for DeliveryView {
    fn from(d: Delivery) -> Self {
        Self {
            id: d.id,
            webhook_id: d.webhook_id,
            event_id: d.event_id,
            event: d.event_type,
            status: d.status,
            next_attempt_at: d.next_attempt_at,
            created_at: d.created_at,
            updated_at: d.updated_at,
            attempts: d.attempts.into_iter().map(AttemptView::from).collect(),
        }
    }
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Requeued {
    /// Deliveries given a fresh attempt chain.
    pub requeued: u64,
}

/// Validates `url` as the original API page words it; empty when invalid (and recorded).
fn url_field(f: &mut Fields, value: Option<Value>, allow_private: bool) -> String {
    checked_url(f, value, allow_private).unwrap_or_default()
}

fn checked_url(f: &mut Fields, value: Option<Value>, allow_private: bool) -> Option<String> {
    let Some(Value::String(raw)) = value else {
        f.error("url must be a valid URL");
        return None;
    };
    if raw.chars().count() > URL_MAX {
        f.error(format!("url must be shorter than or equal to {URL_MAX} characters"));
        return None;
    }
    let raw = raw.trim();
    // The URL is stored as given, so refuse what the parser would silently strip or encode:
    // control characters (PostgreSQL text cannot even hold NUL).
    if raw.chars().any(char::is_control) {
        f.error("url must be a valid URL");
        return None;
    }
    let parsed = match reqwest::Url::parse(raw) {
        Ok(u) if matches!(u.scheme(), "http" | "https") && u.host_str().is_some() => u,
        _ => {
            f.error("url must be a valid URL");
            return None;
        }
    };
    if !allow_private {
        if parsed.scheme() != "https" {
            f.error("url must be a valid HTTPS URL");
            return None;
        }
        let host = parsed.host_str().unwrap_or_default();
        let literal: Option<std::net::IpAddr> =
            host.trim_start_matches('[').trim_end_matches(']').parse().ok();
        if host.eq_ignore_ascii_case("localhost") || literal.is_some_and(is_forbidden) {
            f.error("url must not point to a private, loopback or link-local address");
            return None;
        }
    }
    // Stored as given: the URL a user reads back is the one they wrote.
    Some(raw.to_owned())
}

/// Validates `events`: a non-empty array of catalog event types, duplicates collapsed; empty
/// when invalid (and recorded).
fn events_field(f: &mut Fields, value: Option<Value>) -> Vec<EventType> {
    checked_events(f, value).unwrap_or_default()
}

fn checked_events(f: &mut Fields, value: Option<Value>) -> Option<Vec<EventType>> {
    let Some(Value::Array(items)) = value else {
        f.error("events must be an array");
        return None;
    };
    if items.is_empty() {
        f.error("events should not be empty");
        return None;
    }
    let mut events = Vec::new();
    for item in &items {
        match item.as_str().and_then(EventType::parse) {
            Some(e) if !events.contains(&e) => events.push(e),
            Some(_) => {}
            None => {
                f.error(format!(
                    "each value in events must be one of the following values: {}",
                    EventType::catalog()
                ));
                return None;
            }
        }
    }
    events.sort_by_key(|e| EventType::ALL.iter().position(|x| x == e));
    Some(events)
}

/// An OAuth token may subscribe a webhook only to events it could read through the API;
/// otherwise a webhook pointed at the app would hand it what its scopes withhold. The app's
/// row is held to the end of the transaction, so that a revocation racing this either comes
/// first (and this is refused) or deactivates the webhook written here.
async fn check_readable(
    conn: &mut sqlx::AnyConnection,
    state: &AppState,
    principal: &Principal,
    events: &[EventType],
) -> ApiResult<()> {
    let Some(grant) = principal.oauth() else { return Ok(()) };
    let app = oauth_apps::hold(conn, state.db.backend(), grant.app_id)
        .await?
        .filter(|app| app.is_active())
        .ok_or_else(ApiError::unauthorized)?;
    let scopes = grant.scopes.intersect(&app.scopes);
    let mut needed = Vec::new();
    for event in events {
        match scope::reading(*event) {
            Some(scope) => needed.push(scope),
            None => {
                return Err(ApiError::forbidden(
                    "Access denied. OAuth tokens cannot subscribe to oauth_app events.",
                ));
            }
        }
    }
    match Scopes::new(needed).iter().find(|scope| !scopes.contains(*scope)) {
        Some(missing) => Err(ApiError::InsufficientScope(missing)),
        None => Ok(()),
    }
}

/// Like [`manager_webhook`], holding the webhook's row lock for the rest of the transaction.
async fn locked_manager_webhook(
    conn: &mut sqlx::AnyConnection,
    org_id: Uuid,
    webhook_id: Uuid,
    principal: &Principal,
    action: &str,
) -> ApiResult<(crate::store::organizations::Organization, Webhook)> {
    webhooks::lock(conn, webhook_id).await?;
    manager_webhook(conn, org_id, webhook_id, principal, Scope::WebhooksWrite, action).await
}

async fn manager_webhook(
    conn: &mut sqlx::AnyConnection,
    org_id: Uuid,
    webhook_id: Uuid,
    principal: &Principal,
    scope: Scope,
    action: &str,
) -> ApiResult<(crate::store::organizations::Organization, Webhook)> {
    let (org, _) = access::as_manager(conn, org_id, principal, scope, action).await?;
    let hook = webhooks::find(conn, org_id, webhook_id)
        .await?
        .ok_or_else(|| ApiError::not_found("Webhook"))?;
    Ok((org, hook))
}

/// Create a webhook endpoint for receiving events. Only OWNERS and ADMINS can create webhooks.
#[utoipa::path(post, path = "/api/organizations/{organizationId}/webhooks", tag = "webhooks",
    security(("bearer" = []), ("oauth2" = ["webhooks:write"])), params(("organizationId" = Uuid, Path)),
    request_body = CreateWebhookRequest,
    responses((status = 201, body = WebhookWithSecret,
               description = "Webhook created successfully. Returns webhook configuration with signing secret."),
               (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
               (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn create(
    State(state): State<AppState>,
    principal: Principal,
    ApiPath(org_id): ApiPath<Uuid>,
    JsonObject(mut body): JsonObject,
) -> ApiResult<(StatusCode, Json<WebhookWithSecret>)> {
    let url = body.remove("url");
    let events = body.remove("events");
    let mut f = Fields::new(body, &[]);
    let url = url_field(&mut f, url, state.config.webhook_allow_private);
    let events = events_field(&mut f, events);
    f.finish()?;

    let secret = signature::generate_secret();
    let sealed = state.secret_box.seal(&secret)?;
    let mut tx = state.db.begin_write().await?;
    let (org, _) =
        access::as_manager(&mut tx, org_id, &principal, Scope::WebhooksWrite, "create webhooks")
            .await?;
    let now = state.clock.now();
    let hook = Webhook {
        id: Uuid::now_v7(),
        organization_id: org.id,
        url,
        events,
        is_active: true,
        created_at: now,
        updated_at: now,
    };
    check_readable(&mut tx, &state, &principal, &hook.events).await?;
    webhooks::insert(&mut tx, &hook, &sealed, principal.oauth().map(|g| g.app_id)).await?;
    let view = WebhookView::from(hook);
    let event = NewEvent::new(
        EventType::WebhookCreated,
        org.as_ref(),
        principal.actor(),
        json!({"webhookId": view.id, "url": view.url, "events": view.events}),
        now,
    );
    events::append(&mut tx, &event).await?;
    state.commit(tx).await?;
    Ok((StatusCode::CREATED, Json(WebhookWithSecret::new(view, secret))))
}

/// The organization's webhooks, newest first. Secrets are never listed.
#[utoipa::path(get, path = "/api/organizations/{organizationId}/webhooks", tag = "webhooks",
    security(("bearer" = []), ("oauth2" = ["webhooks:read"])),
    params(("organizationId" = Uuid, Path), ("limit" = Option<i64>, Query), ("cursor" = Option<String>, Query)),
    responses((status = 200, body = Page<WebhookView>), (status = 400, body = ErrorBody),
               (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
               (status = 404, body = ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    principal: Principal,
    ApiPath(org_id): ApiPath<Uuid>,
    query: ListQuery,
) -> ApiResult<Json<Page<WebhookView>>> {
    let before = cursor::decode_uuid(query.cursor.as_deref())?;
    let mut conn = state.db.acquire().await?;
    access::as_manager(&mut conn, org_id, &principal, Scope::WebhooksRead, "view webhooks").await?;
    let rows = webhooks::list(&mut conn, org_id, before, query.limit + 1).await?;
    Ok(Json(Page::from_rows(rows, query.limit, |w| w.id.to_string(), WebhookView::from)))
}

/// One webhook, without its secret.
#[utoipa::path(get, path = "/api/organizations/{organizationId}/webhooks/{webhookId}", tag = "webhooks",
    security(("bearer" = []), ("oauth2" = ["webhooks:read"])), params(("organizationId" = Uuid, Path), ("webhookId" = Uuid, Path)),
    responses((status = 200, body = WebhookView), (status = 400, body = ErrorBody),
               (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
               (status = 404, body = ErrorBody)))]
pub async fn get(
    State(state): State<AppState>,
    principal: Principal,
    ApiPath((org_id, webhook_id)): ApiPath<(Uuid, Uuid)>,
) -> ApiResult<Json<WebhookView>> {
    let mut conn = state.db.acquire().await?;
    let (_, hook) = manager_webhook(
        &mut conn,
        org_id,
        webhook_id,
        &principal,
        Scope::WebhooksRead,
        "view webhooks",
    )
    .await?;
    Ok(Json(hook.into()))
}

/// Change a webhook's URL, subscriptions or whether it is active. An inactive webhook gets no
/// new deliveries, and its pending ones are not attempted again.
#[utoipa::path(patch, path = "/api/organizations/{organizationId}/webhooks/{webhookId}", tag = "webhooks",
    security(("bearer" = []), ("oauth2" = ["webhooks:write"])), params(("organizationId" = Uuid, Path), ("webhookId" = Uuid, Path)),
    request_body = UpdateWebhookRequest,
    responses((status = 200, body = WebhookView), (status = 400, body = ErrorBody),
               (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
               (status = 404, body = ErrorBody)))]
pub async fn update(
    State(state): State<AppState>,
    principal: Principal,
    ApiPath((org_id, webhook_id)): ApiPath<(Uuid, Uuid)>,
    JsonObject(mut body): JsonObject,
) -> ApiResult<Json<WebhookView>> {
    let url = body.remove("url").filter(|v| !v.is_null());
    let events = body.remove("events").filter(|v| !v.is_null());
    let is_active = body.remove("isActive").filter(|v| !v.is_null());
    let mut f = Fields::new(body, &[]);
    let url = url.map(|v| url_field(&mut f, Some(v), state.config.webhook_allow_private));
    let events = events.map(|v| events_field(&mut f, Some(v)));
    let is_active = is_active.map(|v| {
        v.as_bool().unwrap_or_else(|| {
            f.error("isActive must be a boolean value");
            false
        })
    });
    f.finish()?;

    let mut tx = state.db.begin_write().await?;
    let (_, mut hook) =
        locked_manager_webhook(&mut tx, org_id, webhook_id, &principal, "update webhooks").await?;
    if let Some(url) = url {
        hook.url = url;
    }
    if let Some(events) = events {
        hook.events = events;
    }
    if let Some(active) = is_active {
        hook.is_active = active;
    }
    check_readable(&mut tx, &state, &principal, &hook.events).await?;
    hook.updated_at = state.clock.now();
    webhooks::update(&mut tx, &hook).await?;
    state.commit(tx).await?;
    Ok(Json(hook.into()))
}

/// Delete a webhook. It gets no further attempts.
#[utoipa::path(delete, path = "/api/organizations/{organizationId}/webhooks/{webhookId}", tag = "webhooks",
    security(("bearer" = []), ("oauth2" = ["webhooks:write"])), params(("organizationId" = Uuid, Path), ("webhookId" = Uuid, Path)),
    responses((status = 204), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
               (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn delete(
    State(state): State<AppState>,
    principal: Principal,
    ApiPath((org_id, webhook_id)): ApiPath<(Uuid, Uuid)>,
) -> ApiResult<StatusCode> {
    let mut tx = state.db.begin_write().await?;
    let (_, hook) =
        locked_manager_webhook(&mut tx, org_id, webhook_id, &principal, "delete webhooks").await?;
    webhooks::mark_deleted(&mut tx, hook.id, state.clock.now()).await?;
    state.commit(tx).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Replace the signing secret. For 24 hours deliveries carry signatures by both secrets in
/// `webhook-signature`; `X-Webhook-Signature` uses the new one.
#[utoipa::path(post, path = "/api/organizations/{organizationId}/webhooks/{webhookId}/rotate-secret",
    tag = "webhooks", security(("bearer" = []), ("oauth2" = ["webhooks:write"])),
    params(("organizationId" = Uuid, Path), ("webhookId" = Uuid, Path)),
    responses((status = 200, body = WebhookWithSecret), (status = 400, body = ErrorBody),
               (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
               (status = 404, body = ErrorBody)))]
pub async fn rotate_secret(
    State(state): State<AppState>,
    principal: Principal,
    ApiPath((org_id, webhook_id)): ApiPath<(Uuid, Uuid)>,
) -> ApiResult<Json<WebhookWithSecret>> {
    let secret = signature::generate_secret();
    let sealed = state.secret_box.seal(&secret)?;
    let mut tx = state.db.begin_write().await?;
    let (_, mut hook) =
        locked_manager_webhook(&mut tx, org_id, webhook_id, &principal, "rotate webhook secrets")
            .await?;
    let now = state.clock.now();
    let overlap_until = now + chrono::Duration::hours(ROTATION_OVERLAP_HOURS);
    webhooks::rotate_secret(&mut tx, hook.id, &sealed, overlap_until, now).await?;
    state.commit(tx).await?;
    hook.updated_at = now;
    Ok(Json(WebhookWithSecret::new(hook.into(), secret)))
}

/// Send one `webhook.test` delivery with sample data, whatever the subscriptions.
#[utoipa::path(post, path = "/api/organizations/{organizationId}/webhooks/{webhookId}/test",
    tag = "webhooks", security(("bearer" = []), ("oauth2" = ["webhooks:write"])),
    params(("organizationId" = Uuid, Path), ("webhookId" = Uuid, Path)),
    responses((status = 202, body = Requeued), (status = 400, body = ErrorBody),
               (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
               (status = 404, body = ErrorBody)))]
pub async fn test(
    State(state): State<AppState>,
    principal: Principal,
    ApiPath((org_id, webhook_id)): ApiPath<(Uuid, Uuid)>,
) -> ApiResult<(StatusCode, Json<Requeued>)> {
    let mut tx = state.db.begin_write().await?;
    let (org, hook) = manager_webhook(
        &mut tx,
        org_id,
        webhook_id,
        &principal,
        Scope::WebhooksWrite,
        "test webhooks",
    )
    .await?;
    if !hook.is_active {
        return Err(ApiError::conflict("Webhook is inactive"));
    }
    let now = state.clock.now();
    let event = NewEvent::test(
        org.as_ref(),
        principal.actor(),
        json!({"webhookId": hook.id, "message": "This is a test delivery from Roster."}),
        now,
    );
    events::append_for(&mut tx, &event, &[hook.id]).await?;
    state.commit(tx).await?;
    Ok((StatusCode::ACCEPTED, Json(Requeued { requeued: 1 })))
}

/// The webhook's deliveries, newest first, each with every attempt.
#[utoipa::path(get, path = "/api/organizations/{organizationId}/webhooks/{webhookId}/deliveries",
    tag = "webhooks", security(("bearer" = []), ("oauth2" = ["webhooks:read"])),
    params(("organizationId" = Uuid, Path), ("webhookId" = Uuid, Path),
           ("limit" = Option<i64>, Query), ("cursor" = Option<String>, Query)),
    responses((status = 200, body = Page<DeliveryView>), (status = 400, body = ErrorBody),
               (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
               (status = 404, body = ErrorBody)))]
pub async fn list_deliveries(
    State(state): State<AppState>,
    principal: Principal,
    ApiPath((org_id, webhook_id)): ApiPath<(Uuid, Uuid)>,
    query: ListQuery,
) -> ApiResult<Json<Page<DeliveryView>>> {
    let before = cursor::decode_uuid(query.cursor.as_deref())?;
    let mut conn = state.db.acquire().await?;
    manager_webhook(
        &mut conn,
        org_id,
        webhook_id,
        &principal,
        Scope::WebhooksRead,
        "view webhook deliveries",
    )
    .await?;
    let rows = deliveries::list(&mut conn, webhook_id, before, query.limit + 1).await?;
    Ok(Json(Page::from_rows(rows, query.limit, |d| d.id.to_string(), DeliveryView::from)))
}

/// Start a fresh attempt chain for a finished delivery.
#[utoipa::path(post,
    path = "/api/organizations/{organizationId}/webhooks/{webhookId}/deliveries/{deliveryId}/redeliver",
    tag = "webhooks", security(("bearer" = []), ("oauth2" = ["webhooks:write"])),
    params(("organizationId" = Uuid, Path), ("webhookId" = Uuid, Path), ("deliveryId" = Uuid, Path)),
    responses((status = 202, body = Requeued), (status = 400, body = ErrorBody),
               (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
               (status = 404, body = ErrorBody),
               (status = 409, body = ErrorBody, description = "The delivery is still pending")))]
pub async fn redeliver(
    State(state): State<AppState>,
    principal: Principal,
    ApiPath((org_id, webhook_id, delivery_id)): ApiPath<(Uuid, Uuid, Uuid)>,
) -> ApiResult<(StatusCode, Json<Requeued>)> {
    let mut tx = state.db.begin_write().await?;
    manager_webhook(
        &mut tx,
        org_id,
        webhook_id,
        &principal,
        Scope::WebhooksWrite,
        "redeliver webhooks",
    )
    .await?;
    match deliveries::find_status(&mut tx, webhook_id, delivery_id).await? {
        None => return Err(ApiError::not_found("Delivery")),
        Some(DeliveryStatus::Pending) => {
            return Err(ApiError::conflict("Delivery is still pending"));
        }
        Some(_) => deliveries::restart(&mut tx, delivery_id, state.clock.now()).await?,
    }
    state.commit(tx).await?;
    Ok((StatusCode::ACCEPTED, Json(Requeued { requeued: 1 })))
}

/// Start a fresh attempt chain for every delivery of this webhook that failed at or after
/// `since`, for when a receiver was down for a while.
#[utoipa::path(post, path = "/api/organizations/{organizationId}/webhooks/{webhookId}/recover",
    tag = "webhooks", security(("bearer" = []), ("oauth2" = ["webhooks:write"])),
    params(("organizationId" = Uuid, Path), ("webhookId" = Uuid, Path)),
    request_body = RecoverRequest,
    responses((status = 202, body = Requeued), (status = 400, body = ErrorBody),
               (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
               (status = 404, body = ErrorBody)))]
pub async fn recover(
    State(state): State<AppState>,
    principal: Principal,
    ApiPath((org_id, webhook_id)): ApiPath<(Uuid, Uuid)>,
    JsonObject(body): JsonObject,
) -> ApiResult<(StatusCode, Json<Requeued>)> {
    let mut f = Fields::new(body, &["since"]);
    let since = f.timestamp("since");
    f.finish()?;

    let mut tx = state.db.begin_write().await?;
    manager_webhook(
        &mut tx,
        org_id,
        webhook_id,
        &principal,
        Scope::WebhooksWrite,
        "recover webhook deliveries",
    )
    .await?;
    let requeued = deliveries::recover(&mut tx, webhook_id, since, state.clock.now()).await?;
    state.commit(tx).await?;
    Ok((StatusCode::ACCEPTED, Json(Requeued { requeued })))
}
