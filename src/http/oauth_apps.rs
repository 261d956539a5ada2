//! An organization's OAuth apps: registering, reading, changing, rotating secrets and
//! revoking. All of it is for OWNERs and ADMINs in person; no OAuth token may manage apps.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use sqlx::AnyConnection;
use utoipa::ToSchema;
use uuid::Uuid;

use super::access::{self, Need};
use super::extract::{ApiPath, JsonObject, ListQuery, cursor};
use super::validate::Fields;
use super::views::{ErrorBody, Page};
use crate::auth::token;
use crate::domain::event::{EventType, NewEvent};
use crate::domain::scope::{Scope, Scopes};
use crate::error::{ApiError, ApiResult};
use crate::http::principal::Principal;
use crate::state::AppState;
use crate::store::oauth_apps::{self, AppStatus, OAuthApp};
use crate::store::organizations::Organization;
use crate::store::{events, oauth_grants, webhooks};

pub const NAME_MAX: usize = 100;
pub const REDIRECT_URIS_MAX: usize = 10;
pub const REDIRECT_URI_MAX_LEN: usize = 2048;

#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CreateOAuthAppRequest {
    #[schema(example = "Acme CRM sync")]
    pub name: String,
    /// 1–10 absolute URLs: `https://…`, or `http://localhost…`/`http://127.0.0.1…` for
    /// native apps. Matched exactly.
    #[schema(example = json!(["https://crm.example.com/oauth/callback"]))]
    pub redirect_uris: Vec<String>,
    #[schema(example = json!(["members:read", "webhooks:write"]))]
    pub scopes: Vec<String>,
}

#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct UpdateOAuthAppRequest {
    pub name: Option<String>,
    pub redirect_uris: Option<Vec<String>>,
    /// Narrowing the scopes narrows every token the app holds at once.
    pub scopes: Option<Vec<String>>,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct OAuthAppView {
    pub id: Uuid,
    pub organization_id: Uuid,
    pub name: String,
    #[schema(example = "rst_ci_2wJ7kqS9c1VdNfQm0yXb3A")]
    pub client_id: String,
    pub redirect_uris: Vec<String>,
    pub scopes: Vec<&'static str>,
    pub status: AppStatus,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<OAuthApp> for OAuthAppView {
    fn from(app: OAuthApp) -> Self {
        Self {
            id: app.id,
            organization_id: app.organization_id,
            name: app.name,
            client_id: app.client_id,
            redirect_uris: app.redirect_uris,
            scopes: app.scopes.names(),
            status: app.status,
            created_at: app.created_at,
            updated_at: app.updated_at,
        }
    }
}

/// An app with its client secret, which is shown only on creation and rotation.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct OAuthAppWithSecret {
    #[serde(flatten)]
    pub app: OAuthAppView,
    /// `rst_cs_…`: shown once, store it now.
    pub client_secret: String,
}

/// Whether `uri` may be registered: an absolute `https` URL, or an `http` one on the loopback
/// host (RFC 8252 §7.3), with no fragment (RFC 6749 §3.1.2) and no user info.
pub fn is_allowed_redirect_uri(uri: &str) -> bool {
    let Ok(parsed) = url::Url::parse(uri) else { return false };
    let loopback = matches!(
        parsed.host(),
        Some(url::Host::Domain("localhost"))
            | Some(url::Host::Ipv4(std::net::Ipv4Addr::LOCALHOST))
            | Some(url::Host::Ipv6(std::net::Ipv6Addr::LOCALHOST))
    );
    let scheme_ok = match parsed.scheme() {
        "https" => parsed.host().is_some(),
        "http" => loopback,
        _ => false,
    };
    scheme_ok
        && parsed.fragment().is_none()
        && parsed.username().is_empty()
        && parsed.password().is_none()
        && uri.len() <= REDIRECT_URI_MAX_LEN
        && !uri.chars().any(char::is_whitespace)
}

fn redirect_uris_field(f: &mut Fields, value: Option<Value>) -> Vec<String> {
    let Some(Value::Array(items)) = value else {
        f.error("redirectUris must be an array");
        return Vec::new();
    };
    if items.is_empty() {
        f.error("redirectUris should not be empty");
        return Vec::new();
    }
    if items.len() > REDIRECT_URIS_MAX {
        f.error(format!("redirectUris must contain no more than {REDIRECT_URIS_MAX} elements"));
        return Vec::new();
    }
    let mut uris: Vec<String> = Vec::new();
    for item in items {
        match item {
            Value::String(uri) if is_allowed_redirect_uri(&uri) => {
                if !uris.contains(&uri) {
                    uris.push(uri);
                }
            }
            _ => {
                f.error(
                    "each value in redirectUris must be an https URL, or an http URL on \
                     localhost or 127.0.0.1",
                );
                return Vec::new();
            }
        }
    }
    uris
}

fn scopes_field(f: &mut Fields, value: Option<Value>) -> Scopes {
    let Some(Value::Array(items)) = value else {
        f.error("scopes must be an array");
        return Scopes::default();
    };
    if items.is_empty() {
        f.error("scopes should not be empty");
        return Scopes::default();
    }
    let parsed: Option<Vec<Scope>> =
        items.iter().map(|v| v.as_str().and_then(Scope::parse)).collect();
    parsed.map(Scopes::new).unwrap_or_else(|| {
        f.error(format!(
            "each value in scopes must be one of the following values: {}",
            Scope::catalog()
        ));
        Scopes::default()
    })
}

fn app_event(
    event_type: EventType,
    org: &Organization,
    principal: &Principal,
    app: &OAuthApp,
) -> NewEvent {
    let mut data = json!({"appId": app.id, "name": app.name, "clientId": app.client_id});
    if event_type == EventType::OauthAppCreated {
        data["scopes"] = json!(app.scopes.names());
    }
    NewEvent::new(event_type, org.as_ref(), principal.actor(), data, app.updated_at)
}

/// A client secret and the digest that is all the database keeps of it.
fn new_secret() -> (String, String) {
    let secret = token::generate(token::CLIENT_SECRET_PREFIX);
    let digest = token::digest(&secret);
    (secret, digest)
}

async fn managed_app(
    conn: &mut AnyConnection,
    org_id: Uuid,
    app_id: Uuid,
    principal: &Principal,
    action: &str,
    lock: bool,
) -> ApiResult<(Organization, OAuthApp)> {
    let (org, _) = access::as_manager(conn, org_id, principal, Need::NoOAuth, action).await?;
    let app = if lock {
        oauth_apps::find_locked(conn, org_id, app_id).await?
    } else {
        oauth_apps::find(conn, org_id, app_id).await?
    };
    Ok((org, app.ok_or_else(|| ApiError::not_found("OAuth app"))?))
}

fn revoked() -> ApiError {
    ApiError::conflict("OAuth app is revoked")
}

/// Register an OAuth app. Its client secret is in this answer only.
#[utoipa::path(post, path = "/api/organizations/{id}/oauth-apps", tag = "oauth-apps",
    security(("bearer" = [])), params(("id" = Uuid, Path)), request_body = CreateOAuthAppRequest,
    responses((status = 201, body = OAuthAppWithSecret), (status = 400, body = ErrorBody),
               (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
               (status = 404, body = ErrorBody)))]
pub async fn create(
    State(state): State<AppState>,
    principal: Principal,
    ApiPath(org_id): ApiPath<Uuid>,
    JsonObject(mut body): JsonObject,
) -> ApiResult<(StatusCode, Json<OAuthAppWithSecret>)> {
    let uris = body.remove("redirectUris");
    let scopes = body.remove("scopes");
    let mut f = Fields::new(body, &["name"]);
    let name = f.text("name", NAME_MAX);
    let redirect_uris = redirect_uris_field(&mut f, uris);
    let scopes = scopes_field(&mut f, scopes);
    f.finish()?;

    let (secret, digest) = new_secret();
    let mut tx = state.db.begin_write().await?;
    let (org, _) =
        access::as_manager(&mut tx, org_id, &principal, Need::NoOAuth, "create OAuth apps").await?;
    let now = state.clock.now();
    let app = OAuthApp {
        id: Uuid::now_v7(),
        organization_id: org.id,
        name,
        client_id: token::generate_id(token::CLIENT_ID_PREFIX),
        redirect_uris,
        scopes,
        status: AppStatus::Active,
        created_at: now,
        updated_at: now,
    };
    oauth_apps::insert(&mut tx, &app, &digest).await?;
    events::append(&mut tx, &app_event(EventType::OauthAppCreated, &org, &principal, &app)).await?;
    state.commit(tx).await?;
    let app = OAuthAppView::from(app);
    Ok((StatusCode::CREATED, Json(OAuthAppWithSecret { app, client_secret: secret })))
}

/// The organization's OAuth apps, newest first, revoked ones included. No secrets.
#[utoipa::path(get, path = "/api/organizations/{id}/oauth-apps", tag = "oauth-apps",
    security(("bearer" = [])),
    params(("id" = Uuid, Path), ("limit" = Option<i64>, Query), ("cursor" = Option<String>, Query)),
    responses((status = 200, body = Page<OAuthAppView>), (status = 400, body = ErrorBody),
               (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
               (status = 404, body = ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    principal: Principal,
    ApiPath(org_id): ApiPath<Uuid>,
    query: ListQuery,
) -> ApiResult<Json<Page<OAuthAppView>>> {
    let before = cursor::decode_uuid(query.cursor.as_deref())?;
    let mut conn = state.db.acquire().await?;
    access::as_manager(&mut conn, org_id, &principal, Need::NoOAuth, "view OAuth apps").await?;
    let rows = oauth_apps::list(&mut conn, org_id, before, query.limit + 1).await?;
    Ok(Json(Page::from_rows(rows, query.limit, |a| a.id.to_string(), OAuthAppView::from)))
}

/// One OAuth app, without its secret.
#[utoipa::path(get, path = "/api/organizations/{id}/oauth-apps/{appId}", tag = "oauth-apps",
    security(("bearer" = [])), params(("id" = Uuid, Path), ("appId" = Uuid, Path)),
    responses((status = 200, body = OAuthAppView), (status = 400, body = ErrorBody),
               (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
               (status = 404, body = ErrorBody)))]
pub async fn get(
    State(state): State<AppState>,
    principal: Principal,
    ApiPath((org_id, app_id)): ApiPath<(Uuid, Uuid)>,
) -> ApiResult<Json<OAuthAppView>> {
    let mut conn = state.db.acquire().await?;
    let (_, app) =
        managed_app(&mut conn, org_id, app_id, &principal, "view OAuth apps", false).await?;
    Ok(Json(app.into()))
}

/// Change an app's name, redirect URIs or scopes. Narrowed scopes apply to its tokens at once.
#[utoipa::path(patch, path = "/api/organizations/{id}/oauth-apps/{appId}", tag = "oauth-apps",
    security(("bearer" = [])), params(("id" = Uuid, Path), ("appId" = Uuid, Path)),
    request_body = UpdateOAuthAppRequest,
    responses((status = 200, body = OAuthAppView), (status = 400, body = ErrorBody),
               (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
               (status = 404, body = ErrorBody),
               (status = 409, body = ErrorBody, description = "OAuth app is revoked")))]
pub async fn update(
    State(state): State<AppState>,
    principal: Principal,
    ApiPath((org_id, app_id)): ApiPath<(Uuid, Uuid)>,
    JsonObject(mut body): JsonObject,
) -> ApiResult<Json<OAuthAppView>> {
    let uris = body.remove("redirectUris").filter(|v| !v.is_null());
    let scopes = body.remove("scopes").filter(|v| !v.is_null());
    let mut f = Fields::new(body, &["name"]);
    let name = f.optional_text("name", NAME_MAX);
    let uris = uris.map(|v| redirect_uris_field(&mut f, Some(v)));
    let scopes = scopes.map(|v| scopes_field(&mut f, Some(v)));
    f.finish()?;

    let mut tx = state.db.begin_write().await?;
    let (_, mut app) =
        managed_app(&mut tx, org_id, app_id, &principal, "manage OAuth apps", true).await?;
    if !app.is_active() {
        return Err(revoked());
    }
    if let Some(name) = name {
        app.name = name;
    }
    if let Some(uris) = uris {
        app.redirect_uris = uris;
    }
    let now = state.clock.now();
    if let Some(scopes) = scopes {
        // Dropped scopes leave the app's tokens for good, not only while the app lacks them.
        oauth_grants::remove_scopes(&mut tx, app.id, &app.scopes.without(&scopes), now).await?;
        app.scopes = scopes;
    }
    app.updated_at = now;
    oauth_apps::update(&mut tx, &app).await?;
    tx.commit().await?;
    Ok(Json(app.into()))
}

/// Issue a new client secret. The previous one keeps working for 24 hours, so that every
/// instance of the app can switch over.
#[utoipa::path(post, path = "/api/organizations/{id}/oauth-apps/{appId}/rotate-secret",
    tag = "oauth-apps", security(("bearer" = [])),
    params(("id" = Uuid, Path), ("appId" = Uuid, Path)),
    responses((status = 200, body = OAuthAppWithSecret), (status = 400, body = ErrorBody),
               (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
               (status = 404, body = ErrorBody),
               (status = 409, body = ErrorBody, description = "OAuth app is revoked")))]
pub async fn rotate_secret(
    State(state): State<AppState>,
    principal: Principal,
    ApiPath((org_id, app_id)): ApiPath<(Uuid, Uuid)>,
) -> ApiResult<Json<OAuthAppWithSecret>> {
    let (secret, digest) = new_secret();
    let mut tx = state.db.begin_write().await?;
    let (_, mut app) =
        managed_app(&mut tx, org_id, app_id, &principal, "manage OAuth apps", true).await?;
    if !app.is_active() {
        return Err(revoked());
    }
    let now = state.clock.now();
    let overlap = chrono::Duration::from_std(state.config.oauth_secret_overlap)
        .map_err(anyhow::Error::from)?;
    oauth_apps::rotate_secret(&mut tx, app.id, &digest, now + overlap, now).await?;
    tx.commit().await?;
    app.updated_at = now;
    Ok(Json(OAuthAppWithSecret { app: app.into(), client_secret: secret }))
}

/// Revoke an app: every token it holds stops working at once, and it gets no new ones.
/// Revoking a revoked app changes nothing.
#[utoipa::path(post, path = "/api/organizations/{id}/oauth-apps/{appId}/revoke",
    tag = "oauth-apps", security(("bearer" = [])),
    params(("id" = Uuid, Path), ("appId" = Uuid, Path)),
    responses((status = 200, body = OAuthAppView), (status = 400, body = ErrorBody),
               (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
               (status = 404, body = ErrorBody)))]
pub async fn revoke(
    State(state): State<AppState>,
    principal: Principal,
    ApiPath((org_id, app_id)): ApiPath<(Uuid, Uuid)>,
) -> ApiResult<Json<OAuthAppView>> {
    let mut tx = state.db.begin_write().await?;
    let (org, mut app) =
        managed_app(&mut tx, org_id, app_id, &principal, "manage OAuth apps", true).await?;
    if !app.is_active() {
        return Ok(Json(app.into()));
    }
    app.status = AppStatus::Revoked;
    app.updated_at = state.clock.now();
    oauth_apps::update(&mut tx, &app).await?;
    // Its webhooks would otherwise keep handing it the organization's events.
    webhooks::deactivate_for_app(&mut tx, app.id, app.updated_at).await?;
    events::append(&mut tx, &app_event(EventType::OauthAppRevoked, &org, &principal, &app)).await?;
    state.commit(tx).await?;
    Ok(Json(app.into()))
}

#[cfg(test)]
mod tests {
    use super::is_allowed_redirect_uri as allowed;

    #[test]
    fn redirect_uris_are_https_or_loopback() {
        assert!(allowed("https://app.example.com/callback?x=1"));
        assert!(allowed("http://localhost:8080/cb"));
        assert!(allowed("http://127.0.0.1/cb"));
        assert!(allowed("http://[::1]:7/cb"));
        assert!(!allowed("http://app.example.com/cb"));
        assert!(!allowed("https://app.example.com/cb#fragment"));
        assert!(!allowed("https://user:pw@app.example.com/cb"));
        assert!(!allowed("/relative"));
        assert!(!allowed("ftp://app.example.com/cb"));
        assert!(!allowed("myapp://callback"));
    }
}
