//! The extractor every authenticated route takes, for all three kinds of bearer token:
//! sign-in sessions, personal access tokens and OAuth tokens. A missing, malformed, unknown,
//! expired or revoked token all answer the same 401. Server keys are refused here with a 403:
//! the few routes open to them take a [`server_key::Caller`] instead.

use axum::extract::FromRequestParts;
use axum::http::header;
use axum::http::request::Parts;
use uuid::Uuid;

use crate::auth::token;
use crate::domain::event::Actor;
use crate::domain::scope::Scopes;
use crate::error::{ApiError, ApiResult};
use crate::http::server_key;
use crate::state::AppState;
use crate::store::{last_used, oauth_grants, sessions, tokens};

/// What an OAuth token was granted.
#[derive(Debug, Clone)]
pub struct OAuthGrant {
    pub app_id: Uuid,
    /// The only organization the token can reach.
    pub organization_id: Uuid,
    /// The token's scopes, narrowed to the app's current ones.
    pub scopes: Scopes,
}

/// How the caller proved who they are.
#[derive(Debug, Clone)]
pub enum Credential {
    /// An access token from sign-in or refresh, in the given token family.
    Session { family_id: Option<Uuid> },
    /// A personal access token.
    PersonalAccess,
    /// An OAuth access token: acting for a user (`authorization_code`) or as the app itself
    /// (`client_credentials`).
    OAuth(OAuthGrant),
    /// A portal session made by a user with their own token; one made with an OAuth token
    /// carries that token's grant instead.
    Portal,
}

/// The authenticated caller.
#[derive(Debug, Clone)]
pub struct Principal {
    pub token_id: Uuid,
    /// Who acts: a user, or an app acting as itself with a `client_credentials` token.
    actor: Actor,
    pub credential: Credential,
}

impl Principal {
    /// Who events name as having acted.
    pub fn actor(&self) -> Actor {
        self.actor
    }

    /// The user acting, if a user is acting.
    pub fn user_id(&self) -> Option<Uuid> {
        match self.actor {
            Actor::User(user) => Some(user),
            Actor::OauthApp(_) | Actor::System => None,
        }
    }

    /// A person signed in with a session token of `family_id`, found by some other means
    /// than the `Authorization` header (the console's cookie).
    pub(crate) fn signed_in(token_id: Uuid, user_id: Uuid, family_id: Uuid) -> Self {
        Self {
            token_id,
            actor: Actor::User(user_id),
            credential: Credential::Session { family_id: Some(family_id) },
        }
    }

    /// Who a portal session acts as: the user or OAuth grant that made it.
    pub(crate) fn for_portal(session_id: Uuid, actor: Actor, grant: Option<OAuthGrant>) -> Self {
        let credential = grant.map_or(Credential::Portal, Credential::OAuth);
        Self { token_id: session_id, actor, credential }
    }

    pub fn oauth(&self) -> Option<&OAuthGrant> {
        match &self.credential {
            Credential::OAuth(grant) => Some(grant),
            _ => None,
        }
    }

    /// The signed-in person, on routes about people themselves, which no OAuth token opens.
    pub fn person(&self) -> ApiResult<Uuid> {
        match (self.oauth(), self.actor) {
            (None, Actor::User(user)) => Ok(user),
            _ => Err(oauth_not_allowed()),
        }
    }
}

pub fn oauth_not_allowed() -> ApiError {
    ApiError::forbidden("Access denied. OAuth tokens cannot be used for this route.")
}

pub fn bearer(parts: &Parts) -> Option<&str> {
    let value = parts.headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty() && token.len() <= token::MAX_LEN)
        .then_some(token)
}

impl FromRequestParts<AppState> for Principal {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        // A middleware that needed the caller first (`org_writes`) left it here.
        if let Some(known) = parts.extensions.get::<Principal>() {
            return Ok(known.clone());
        }
        let principal = authenticate(parts, state).await?;
        parts.extensions.insert(principal.clone());
        Ok(principal)
    }
}

/// The caller the request's bearer token names.
async fn authenticate(parts: &mut Parts, state: &AppState) -> Result<Principal, ApiError> {
    if !parts.headers.contains_key(header::AUTHORIZATION) {
        return Err(ApiError::no_token());
    }
    let presented = bearer(parts).ok_or_else(ApiError::unauthorized)?;
    if presented.starts_with(token::SERVER_KEY_PREFIX) {
        // A key that works answers 403, one that does not 401, as every other token does.
        server_key::authenticate(parts, state, presented).await?;
        return Err(server_key::not_allowed());
    }
    // A console cookie's token is good in the console only, behind its CSRF checks.
    if presented.starts_with(token::CONSOLE_PREFIX) {
        return Err(ApiError::unauthorized());
    }
    if presented.starts_with(token::OAUTH_ACCESS_PREFIX) {
        return oauth_principal(state, presented).await;
    }
    let now = state.clock.now();
    let mut conn = state.db.acquire().await?;
    let record = tokens::find_bearer(&mut conn, &token::digest(presented), now)
        .await?
        .ok_or_else(ApiError::unauthorized)?;
    drop(conn);
    // `lastUsedAt` of a token, and of the session an access token belongs to, is kept to the
    // minute: most requests need no write.
    if last_used::is_due(record.last_used_at, now) {
        let mut tx = state.db.begin_write().await?;
        tokens::touch(&mut tx, record.id, now).await?;
        if let Some(family) = record.family_id {
            sessions::touch(&mut tx, family, now).await?;
        }
        tx.commit().await?;
    }
    let credential = match record.kind {
        tokens::TokenKind::PersonalAccess => Credential::PersonalAccess,
        _ => Credential::Session { family_id: record.family_id },
    };
    Ok(Principal { token_id: record.id, actor: Actor::User(record.user_id), credential })
}

async fn oauth_principal(state: &AppState, presented: &str) -> ApiResult<Principal> {
    let mut conn = state.db.acquire().await?;
    let live = oauth_grants::find_live(&mut conn, &token::digest(presented), state.clock.now())
        .await?
        .filter(|live| live.token.kind == oauth_grants::TokenKind::Access)
        .ok_or_else(ApiError::unauthorized)?;
    Ok(Principal {
        token_id: live.token.id,
        actor: live.token.user_id.map_or(Actor::OauthApp(live.token.app_id), Actor::User),
        credential: Credential::OAuth(OAuthGrant {
            app_id: live.token.app_id,
            organization_id: live.organization_id,
            scopes: live.scopes,
        }),
    })
}
