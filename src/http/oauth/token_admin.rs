//! Token revocation (RFC 7009) and introspection (RFC 7662), for the client that holds the
//! token. Another client's token is left alone and reads as inactive: no oracle across apps.

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use super::client::{self, CLIENT_ID, CLIENT_SECRET};
use super::error::{NoStore, OAuthError, OAuthErrorBody, OAuthResult};
use super::form::OAuthForm;
use crate::auth::token;
use crate::http::body::{Prop, Rule, body_schema};
use crate::state::AppState;
use crate::store::oauth_grants::{self, TokenKind};

const TOKEN_FORM: &[Prop] = &[
    Prop::required("token", Rule::Raw { min: 1, max: usize::MAX }),
    Prop::optional("token_type_hint", Rule::Raw { min: 0, max: usize::MAX })
        .about("Accepted and not needed: the token says what it is."),
    CLIENT_ID,
    CLIENT_SECRET,
];
body_schema!(form TokenForm = TOKEN_FORM);

/// Revoke an access or refresh token of the calling client. Revoking a refresh token revokes
/// every token of its grant. Answers 200 whether or not the token was valid.
#[utoipa::path(post, path = "/api/oauth/revoke", tag = "oauth",
    security(("client_basic" = []), ()),
    request_body(content = TokenForm, content_type = "application/x-www-form-urlencoded"),
    responses((status = 200, description = "Revoked, or nothing to revoke"),
              (status = 400, body = OAuthErrorBody, description = "invalid_request"),
              (status = 401, body = OAuthErrorBody, description = "invalid_client")))]
pub async fn revoke(
    State(state): State<AppState>,
    headers: HeaderMap,
    form: Result<OAuthForm, OAuthError>,
) -> OAuthResult<StatusCode> {
    let form = form?;
    let app = client::authenticate(&state, &headers, &form).await?;
    let presented = form.require("token")?;
    let now = state.clock.now();
    let mut tx = state.db.begin_write().await?;
    if let Some(found) =
        oauth_grants::find_of_app(&mut tx, &token::digest(presented), app.id).await?
    {
        match found.kind {
            TokenKind::Refresh => oauth_grants::revoke_grant(&mut tx, found.grant_id, now).await?,
            TokenKind::Access => oauth_grants::revoke_token(&mut tx, found.id, now).await?,
        }
    }
    tx.commit().await?;
    Ok(StatusCode::OK)
}

/// RFC 7662 §2.2. Only `active` is present for an inactive token.
#[derive(Serialize, ToSchema)]
pub struct Introspection {
    pub active: bool,
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    pub details: Option<TokenDetails>,
}

#[derive(Serialize, ToSchema)]
pub struct TokenDetails {
    pub scope: String,
    pub client_id: String,
    /// `Bearer` for access tokens, `refresh_token` for refresh tokens.
    pub token_type: &'static str,
    /// Expiry, in seconds since the epoch.
    pub exp: i64,
    pub iat: i64,
    /// The user's ID, or the client ID for a token acting as the app itself.
    pub sub: String,
    pub iss: String,
    /// The only organization the token can reach.
    pub organization_id: Uuid,
}

/// Describe a token of the calling client.
#[utoipa::path(post, path = "/api/oauth/introspect", tag = "oauth",
    security(("client_basic" = []), ()),
    request_body(content = TokenForm, content_type = "application/x-www-form-urlencoded"),
    responses((status = 200, body = Introspection),
              (status = 400, body = OAuthErrorBody, description = "invalid_request"),
              (status = 401, body = OAuthErrorBody, description = "invalid_client")))]
pub async fn introspect(
    State(state): State<AppState>,
    headers: HeaderMap,
    form: Result<OAuthForm, OAuthError>,
) -> OAuthResult<NoStore<Introspection>> {
    let form = form?;
    let app = client::authenticate(&state, &headers, &form).await?;
    let presented = form.require("token")?;
    let mut conn = state.db.acquire().await?;
    let live = oauth_grants::find_live(&mut conn, &token::digest(presented), state.clock.now())
        .await?
        .filter(|live| live.token.app_id == app.id);
    let details = live.map(|live| TokenDetails {
        scope: live.scopes.to_space_separated(),
        token_type: match live.token.kind {
            TokenKind::Access => "Bearer",
            TokenKind::Refresh => "refresh_token",
        },
        exp: live.token.expires_at.timestamp(),
        iat: live.token.created_at.timestamp(),
        sub: live.token.user_id.map_or_else(|| live.client_id.clone(), |u| u.to_string()),
        iss: super::issuer(state.config.public_url.as_deref(), &headers),
        organization_id: live.organization_id,
        client_id: live.client_id,
    });
    Ok(NoStore(Introspection { active: details.is_some(), details }))
}
