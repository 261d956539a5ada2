//! `POST /api/oauth/token`: the `authorization_code` (with PKCE), `client_credentials` and
//! `refresh_token` grants.

use crate::store::{Conn, Tx};
use axum::extract::State;
use axum::http::HeaderMap;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use serde::Serialize;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use utoipa::ToSchema;
use uuid::Uuid;

use super::client::{self, CLIENT_ID, CLIENT_SECRET};
use super::error::{NoStore, OAuthError, OAuthErrorBody, OAuthResult};
use super::form::OAuthForm;
use crate::auth::token;
use crate::config::Config;
use crate::domain::scope::Scopes;
use crate::http::body::{Prop, Rule, body_schema};
use crate::state::AppState;
use crate::store::oauth_apps::OAuthApp;
use crate::store::oauth_grants::{self, CodeOutcome, OAuthToken, RefreshOutcome, TokenKind};
use crate::store::{members, oauth_apps, quotas};

/// RFC 6749 §5.1.
#[derive(Serialize, ToSchema)]
pub struct TokenResponse {
    #[schema(example = "rst_oat_…")]
    pub access_token: String,
    #[schema(example = "Bearer")]
    pub token_type: &'static str,
    #[schema(example = 3600)]
    pub expires_in: u64,
    /// Absent for `client_credentials`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<String>,
    #[schema(example = "members:read webhooks:read")]
    pub scope: String,
}

/// What one issuance is for.
pub struct Issue<'a> {
    pub app: &'a OAuthApp,
    pub user_id: Option<Uuid>,
    pub scopes: Scopes,
    /// An existing grant, or one [`oauth_grants::insert_grant`] has just started.
    pub grant_id: Uuid,
    pub with_refresh: bool,
}

impl Issue<'_> {
    /// Writes one token of the grant and returns its value.
    async fn token(
        &self,
        tx: &mut Tx,
        kind: TokenKind,
        ttl: std::time::Duration,
        now: DateTime<Utc>,
    ) -> OAuthResult<String> {
        let prefix = match kind {
            TokenKind::Access => token::OAUTH_ACCESS_PREFIX,
            TokenKind::Refresh => token::OAUTH_REFRESH_PREFIX,
        };
        let value = token::generate(prefix);
        let record = OAuthToken {
            id: Uuid::now_v7(),
            kind,
            app_id: self.app.id,
            user_id: self.user_id,
            grant_id: self.grant_id,
            scopes: self.scopes.clone(),
            expires_at: now + ttl,
            created_at: now,
        };
        oauth_grants::insert_token(tx, &record, &token::digest(&value)).await?;
        Ok(value)
    }
}

/// Writes a new access token (and refresh token) for the grant.
pub async fn issue(
    tx: &mut Tx,
    config: &Config,
    what: Issue<'_>,
    now: DateTime<Utc>,
) -> OAuthResult<TokenResponse> {
    let limit = config.quotas.oauth_tokens_per_app;
    if quotas::oauth_access_tokens(tx, what.app.id, now, limit).await? >= limit {
        return Err(OAuthError::invalid_request(format!(
            "The app has reached its limit of {limit} live access tokens; reuse a token until \
             it expires, or revoke tokens it no longer needs"
        )));
    }
    let access_token = what.token(tx, TokenKind::Access, config.access_token_ttl, now).await?;
    let refresh_token = match what.with_refresh {
        true => Some(what.token(tx, TokenKind::Refresh, config.refresh_token_ttl, now).await?),
        false => None,
    };
    Ok(TokenResponse {
        access_token,
        token_type: "Bearer",
        expires_in: config.access_token_ttl.as_secs(),
        refresh_token,
        scope: what.scopes.to_space_separated(),
    })
}

/// Requested scopes, which must lie within `allowed`; all of `allowed` when none are asked.
pub fn requested_scopes(requested: Option<&str>, allowed: &Scopes) -> OAuthResult<Scopes> {
    let Some(requested) = requested else { return Ok(allowed.clone()) };
    let scopes = Scopes::parse_space_separated(requested)
        .map_err(|unknown| OAuthError::invalid_scope(format!("Unknown scope {unknown}")))?;
    if scopes.is_empty() {
        return Ok(allowed.clone());
    }
    if !scopes.is_subset_of(allowed) {
        return Err(OAuthError::invalid_scope(
            "The requested scope exceeds what the client may have",
        ));
    }
    Ok(scopes)
}

const TOKEN_FORM: &[Prop] = &[
    Prop::required(
        "grant_type",
        Rule::OneOf(|| vec!["authorization_code", "client_credentials", "refresh_token"]),
    ),
    Prop::optional("code", Rule::Raw { min: 0, max: usize::MAX }),
    Prop::optional("redirect_uri", Rule::Raw { min: 0, max: usize::MAX }),
    Prop::optional("code_verifier", Rule::Raw { min: 0, max: usize::MAX }),
    Prop::optional("refresh_token", Rule::Raw { min: 0, max: usize::MAX }),
    Prop::optional("scope", Rule::Raw { min: 0, max: usize::MAX }),
    CLIENT_ID,
    CLIENT_SECRET,
];
body_schema!(form TokenRequest = TOKEN_FORM);

/// Exchange a grant for tokens. Form-encoded; the client authenticates with HTTP Basic or
/// with `client_id` and `client_secret` in the body.
#[utoipa::path(post, path = "/api/oauth/token", tag = "oauth",
    security(("client_basic" = []), ()),
    request_body(content = TokenRequest, content_type = "application/x-www-form-urlencoded",
        description = "grant_type=authorization_code (code, redirect_uri, code_verifier), \
                       client_credentials (scope?) or refresh_token (refresh_token, scope?)"),
    responses((status = 200, body = TokenResponse),
              (status = 400, body = OAuthErrorBody, description = "invalid_request, invalid_grant, unsupported_grant_type or invalid_scope"),
              (status = 401, body = OAuthErrorBody, description = "invalid_client")))]
pub async fn token(
    State(state): State<AppState>,
    headers: HeaderMap,
    form: Result<OAuthForm, OAuthError>,
) -> OAuthResult<NoStore<TokenResponse>> {
    let form = form?;
    let app = client::authenticate(&state, &headers, &form).await?;
    let response = match form.require("grant_type")? {
        "authorization_code" => authorization_code(&state, &app, &form).await?,
        "client_credentials" => client_credentials(&state, &app, &form).await?,
        "refresh_token" => refresh_token(&state, &app, &form).await?,
        other => {
            return Err(OAuthError::unsupported_grant_type(format!(
                "grant_type {other} is not supported"
            )));
        }
    };
    Ok(NoStore(response))
}

async fn client_credentials(
    state: &AppState,
    app: &OAuthApp,
    form: &OAuthForm,
) -> OAuthResult<TokenResponse> {
    let now = state.clock.now();
    let grant_id = Uuid::now_v7();
    let mut tx = state.db.begin_write().await?;
    let app = &current_app(&mut tx, app).await?;
    let scopes = requested_scopes(form.get("scope")?, &app.scopes)?;
    oauth_grants::insert_grant(&mut tx, grant_id, app.id, None, now).await?;
    let issue_for = Issue { app, user_id: None, scopes, grant_id, with_refresh: false };
    let response = issue(&mut tx, &state.config, issue_for, now).await?;
    tx.commit().await?;
    Ok(response)
}

/// The app as it is inside this transaction, its row held so that a concurrent revocation
/// or narrowing of scopes either comes first or sees what is issued here.
async fn current_app(conn: &mut dyn Conn, app: &OAuthApp) -> OAuthResult<OAuthApp> {
    oauth_apps::hold(conn, app.id)
        .await?
        .filter(OAuthApp::is_active)
        .ok_or_else(|| OAuthError::invalid_client("Client authentication failed"))
}

/// RFC 7636 §4.1: 43–128 characters of `[A-Za-z0-9-._~]`.
fn valid_verifier(verifier: &str) -> bool {
    (43..=128).contains(&verifier.len())
        && verifier.bytes().all(|b| b.is_ascii_alphanumeric() || b"-._~".contains(&b))
}

/// RFC 7636 §4.6, S256: BASE64URL(SHA256(verifier)) equals the challenge.
pub fn pkce_matches(verifier: &str, challenge: &str) -> bool {
    let computed = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
    valid_verifier(verifier) && bool::from(computed.as_bytes().ct_eq(challenge.as_bytes()))
}

async fn authorization_code(
    state: &AppState,
    app: &OAuthApp,
    form: &OAuthForm,
) -> OAuthResult<TokenResponse> {
    let code = form.require("code")?;
    let redirect_uri = form.require("redirect_uri")?;
    let verifier = form.require("code_verifier")?;
    let digest = token::digest(code);
    let now = state.clock.now();
    let mut tx = state.db.begin_write().await?;
    let app = &current_app(&mut tx, app).await?;
    // The membership is held before the code and the grant (the store's lock order), so a
    // removal racing this exchange either comes first or revokes what it issues.
    let member = match oauth_grants::code_user(&mut tx, &digest, app.id).await? {
        Some(user) => members::hold(&mut tx, app.organization_id, user).await?,
        None => false,
    };
    let code = match oauth_grants::redeem_code(&mut tx, &digest, app.id, now).await? {
        CodeOutcome::Redeemed(code) => code,
        CodeOutcome::Replayed => {
            // Keep the revocation of what the code gave the first time.
            tx.commit().await?;
            tracing::warn!(client_id = %app.client_id, "authorization code replayed; its grant was revoked");
            return Err(OAuthError::invalid_grant("The authorization code was already used"));
        }
        CodeOutcome::Invalid => {
            return Err(OAuthError::invalid_grant("The authorization code is invalid or expired"));
        }
    };
    // A failed exchange still spends the code, so that a verifier cannot be guessed at.
    let refusal = if code.redirect_uri != redirect_uri {
        Some("redirect_uri does not match the authorization request")
    } else if !pkce_matches(verifier, &code.code_challenge) {
        Some("code_verifier does not match the code_challenge")
    } else if !member {
        Some("The user is no longer a member of the organization")
    } else {
        None
    };
    if let Some(reason) = refusal {
        tx.commit().await?;
        return Err(OAuthError::invalid_grant(reason));
    }
    oauth_grants::insert_grant(&mut tx, code.grant_id, app.id, Some(code.user_id), now).await?;
    let issue_for = Issue {
        app,
        user_id: Some(code.user_id),
        scopes: code.scopes.intersect(&app.scopes),
        grant_id: code.grant_id,
        with_refresh: true,
    };
    let response = issue(&mut tx, &state.config, issue_for, now).await?;
    tx.commit().await?;
    Ok(response)
}

async fn refresh_token(
    state: &AppState,
    app: &OAuthApp,
    form: &OAuthForm,
) -> OAuthResult<TokenResponse> {
    let presented = form.require("refresh_token")?;
    let requested = form.get("scope")?;
    let digest = token::digest(presented);
    let now = state.clock.now();
    let mut tx = state.db.begin_write().await?;
    let app = &current_app(&mut tx, app).await?;
    // Held first, as in `authorization_code`. Returning early rolls back, leaving the refresh
    // token unspent.
    if let Some(Some(user)) = oauth_grants::refresh_user(&mut tx, &digest, app.id).await?
        && !members::hold(&mut tx, app.organization_id, user).await?
    {
        return Err(OAuthError::invalid_grant(
            "The user is no longer a member of the organization",
        ));
    }
    let spent = match oauth_grants::rotate_refresh(&mut tx, &digest, app.id, now).await? {
        RefreshOutcome::Rotated(spent) => spent,
        RefreshOutcome::Replayed => {
            tx.commit().await?;
            tracing::warn!(client_id = %app.client_id, "OAuth refresh token replayed; its grant was revoked");
            return Err(OAuthError::invalid_grant("The refresh token was already used"));
        }
        RefreshOutcome::Invalid => {
            return Err(OAuthError::invalid_grant("The refresh token is invalid or expired"));
        }
    };
    let granted = spent.scopes.intersect(&app.scopes);
    let scopes = requested_scopes(requested, &granted)?;
    let issue_for =
        Issue { app, user_id: spent.user_id, scopes, grant_id: spent.grant_id, with_refresh: true };
    let response = issue(&mut tx, &state.config, issue_for, now).await?;
    tx.commit().await?;
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pkce_s256_matches_rfc_7636_appendix_b() {
        let verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
        assert!(pkce_matches(verifier, "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"));
        assert!(!pkce_matches(verifier, "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cN"));
        assert!(!pkce_matches("short", "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"));
    }
}
