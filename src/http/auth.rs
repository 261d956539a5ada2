//! Registration, sign-in, refresh-token rotation and sign-out.

use std::net::SocketAddr;

use axum::Json;
use axum::extract::{ConnectInfo, State};
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sqlx::AnyConnection;
use utoipa::ToSchema;
use uuid::Uuid;

use super::extract::JsonObject;
use super::validate::Fields;
use super::views::{ErrorBody, UserView};
use crate::app::AppState;
use crate::auth::principal::{Credential, Principal};
use crate::auth::token;
use crate::config::Config;
use crate::error::{ApiError, ApiResult};
use crate::store::tokens::{RefreshOutcome, TokenKind, TokenRecord};
use crate::store::users::{self, User};
use crate::store::{self, StoreError, login_failures, tokens};

pub const PASSWORD_MIN: usize = 8;
/// Bounds the work one request can ask of Argon2.
pub const PASSWORD_MAX: usize = 128;
pub const NAME_MAX: usize = 100;

#[derive(Deserialize, ToSchema)]
pub struct RegisterRequest {
    /// Unique regardless of case.
    #[schema(example = "ada@example.com")]
    pub email: String,
    /// 8 to 128 characters.
    pub password: String,
    #[schema(example = "Ada Lovelace")]
    pub name: String,
}

#[derive(Deserialize, ToSchema)]
pub struct LoginRequest {
    pub email: String,
    pub password: String,
}

#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RefreshRequest {
    pub refresh_token: String,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AuthResponse {
    pub user: UserView,
    pub access_token: String,
    pub refresh_token: String,
    #[schema(example = "Bearer")]
    pub token_type: &'static str,
    /// Seconds until the access token expires.
    #[schema(example = 3600)]
    pub expires_in: u64,
}

/// Issues an access and refresh token pair in `family_id`.
async fn issue_session(
    conn: &mut AnyConnection,
    config: &Config,
    user: User,
    family_id: Uuid,
    now: DateTime<Utc>,
) -> ApiResult<AuthResponse> {
    let access = token::generate(token::ACCESS_PREFIX);
    let refresh = token::generate(token::REFRESH_PREFIX);
    for (kind, value, ttl) in [
        (TokenKind::Access, &access, config.access_token_ttl),
        (TokenKind::Refresh, &refresh, config.refresh_token_ttl),
    ] {
        let record = TokenRecord {
            id: Uuid::now_v7(),
            kind,
            user_id: user.id,
            family_id: Some(family_id),
            name: None,
            expires_at: Some(now + ttl),
            last_used_at: None,
            created_at: now,
        };
        tokens::insert(conn, &record, &token::digest(value)).await?;
    }
    Ok(AuthResponse {
        user: user.into(),
        access_token: access,
        refresh_token: refresh,
        token_type: "Bearer",
        expires_in: config.access_token_ttl.as_secs(),
    })
}

/// Create an account and sign in.
#[utoipa::path(post, path = "/api/auth/register", tag = "auth",
    request_body = RegisterRequest,
    responses(
        (status = 201, body = AuthResponse),
        (status = 400, body = ErrorBody, description = "Invalid input"),
        (status = 403, body = ErrorBody, description = "Sign-up is disabled"),
        (status = 409, body = ErrorBody, description = "Email already registered"),
    ))]
pub async fn register(
    State(state): State<AppState>,
    JsonObject(body): JsonObject,
) -> ApiResult<(StatusCode, Json<AuthResponse>)> {
    let mut f = Fields::new(body, &["email", "password", "name"]);
    let email = f.email("email");
    let password = f.raw_string("password", PASSWORD_MIN, PASSWORD_MAX);
    let name = f.text("name", NAME_MAX);
    f.finish()?;
    if !state.config.allow_signup {
        return Err(ApiError::forbidden("Sign-up is disabled"));
    }

    let password_hash = state.passwords.hash(password).await?;
    let now = store::now();
    let user = User { id: Uuid::now_v7(), email, name, created_at: now, updated_at: now };
    let mut tx = state.db.begin_write().await?;
    users::insert(&mut tx, &user, &password_hash).await.map_err(|e| match e {
        StoreError::Conflict => ApiError::conflict("Email already registered"),
        other => other.into(),
    })?;
    let session = issue_session(&mut tx, &state.config, user, Uuid::now_v7(), now).await?;
    tx.commit().await?;
    Ok((StatusCode::CREATED, Json(session)))
}

/// Sign in with email and password.
#[utoipa::path(post, path = "/api/auth/login", tag = "auth",
    request_body = LoginRequest,
    responses(
        (status = 200, body = AuthResponse),
        (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody, description = "Invalid email or password"),
        (status = 429, body = ErrorBody, description = "Too many failed attempts; see Retry-After"),
    ))]
pub async fn login(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    JsonObject(body): JsonObject,
) -> ApiResult<Json<AuthResponse>> {
    let mut f = Fields::new(body, &["email", "password"]);
    let email = f.email("email");
    let password = f.raw_string("password", 1, PASSWORD_MAX);
    f.finish()?;

    let user = check_sign_in(&state, peer.ip(), &email, password).await?;
    let mut tx = state.db.begin_write().await?;
    let session = issue_session(&mut tx, &state.config, user, Uuid::now_v7(), store::now()).await?;
    tx.commit().await?;
    Ok(Json(session))
}

/// Checks an email and password under the sign-in rate limits: the user, `401 "Invalid email
/// or password"`, or `429`. Shared by sign-in and the OAuth consent page.
pub async fn check_sign_in(
    state: &AppState,
    client: std::net::IpAddr,
    email: &str,
    password: String,
) -> ApiResult<User> {
    let now = store::now();
    let config = &state.config;
    let window = chrono::Duration::from_std(config.login_window).unwrap_or_default();
    let email_key = users::normalize_email(email);
    let network = client_network(client);
    // The pair limit stops guessing at one account from one place; the looser per-email and
    // per-network limits stop spreading guesses out, without letting a stranger lock the
    // owner of an email out of their own account from their own network.
    let by_pair = format!("pair:{email_key}|{network}");
    let by_email = format!("email:{email_key}");
    let by_network = format!("network:{network}");
    let limits = [
        (by_pair.as_str(), config.login_max_failures),
        (by_email.as_str(), config.login_max_failures * 5),
        (by_network.as_str(), config.login_max_failures * 10),
    ];

    // The attempt is committed before counting: the k-th concurrent attempt then counts at
    // least k, whatever the isolation level, so no more than the limit get through.
    let subjects: Vec<&str> = limits.iter().map(|(subject, _)| *subject).collect();
    let mut tx = state.db.begin_write().await?;
    let attempt = login_failures::record(&mut tx, &subjects, now).await?;
    tx.commit().await?;
    let mut conn = state.db.acquire().await?;
    for (subject, limit) in limits {
        let (attempts, oldest) =
            login_failures::count_recent(&mut conn, subject, now, window).await?;
        if attempts > limit {
            drop(conn);
            let mut tx = state.db.begin_write().await?;
            login_failures::forget(&mut tx, &attempt).await?;
            tx.commit().await?;
            let frees_at = oldest.map(store::from_millis).unwrap_or(now) + window;
            let retry_after_secs = (frees_at - now).num_seconds().max(1) as u64;
            return Err(ApiError::RateLimited { retry_after_secs });
        }
    }
    let found = users::find_credentials(&mut conn, email).await?;
    // No pooled connection is held while waiting for the hash.
    drop(conn);
    let (user, stored) = match found {
        Some((user, hash)) => (Some(user), Some(hash)),
        None => (None, None),
    };
    let valid = state.passwords.verify(password, stored).await?;
    let Some(user) = user.filter(|_| valid) else {
        // The recorded attempt stays, as a failure.
        let mut tx = state.db.begin_write().await?;
        login_failures::prune(&mut tx, now, window).await?;
        tx.commit().await?;
        return Err(ApiError::Status(StatusCode::UNAUTHORIZED, "Invalid email or password".into()));
    };

    let mut tx = state.db.begin_write().await?;
    login_failures::forget(&mut tx, &attempt).await?;
    login_failures::clear(&mut tx, &by_pair).await?;
    tx.commit().await?;
    Ok(user)
}

/// The client's network for rate limiting: its IPv4 address, or the /64 of its IPv6 address
/// (one subscriber commonly holds a whole /64).
fn client_network(ip: std::net::IpAddr) -> String {
    match ip {
        std::net::IpAddr::V6(v6) if v6.to_ipv4_mapped().is_none() => {
            let s = v6.segments();
            format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
        }
        other => other.to_canonical().to_string(),
    }
}

/// Exchange a refresh token for a new pair. Each refresh token works once; presenting a spent
/// one again revokes every token of its sign-in.
#[utoipa::path(post, path = "/api/auth/refresh", tag = "auth",
    request_body = RefreshRequest,
    responses(
        (status = 200, body = AuthResponse),
        (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody, description = "Unknown, expired, revoked or reused refresh token"),
    ))]
pub async fn refresh(
    State(state): State<AppState>,
    JsonObject(body): JsonObject,
) -> ApiResult<Json<AuthResponse>> {
    let mut f = Fields::new(body, &["refreshToken"]);
    let presented = f.raw_string("refreshToken", 1, token::MAX_LEN);
    f.finish()?;

    let now = store::now();
    let mut tx = state.db.begin_write().await?;
    let outcome = tokens::consume_refresh(&mut tx, &token::digest(&presented), now).await?;
    let record = match outcome {
        RefreshOutcome::Rotated(record) => record,
        RefreshOutcome::Reused => {
            // Commit the family's revocation before refusing.
            tx.commit().await?;
            tracing::warn!("refresh token reused; its token family was revoked");
            return Err(invalid_refresh());
        }
        RefreshOutcome::Invalid => return Err(invalid_refresh()),
    };
    let user = users::find(&mut tx, record.user_id).await?.ok_or_else(invalid_refresh)?;
    let family = record.family_id.unwrap_or_else(Uuid::now_v7);
    let session = issue_session(&mut tx, &state.config, user, family, now).await?;
    tx.commit().await?;
    Ok(Json(session))
}

fn invalid_refresh() -> ApiError {
    ApiError::Status(StatusCode::UNAUTHORIZED, "Invalid or expired refresh token".into())
}

/// Revoke the presented token and every token of its sign-in.
#[utoipa::path(post, path = "/api/auth/logout", tag = "auth",
    security(("bearer" = [])),
    responses((status = 204), (status = 401, body = ErrorBody)))]
pub async fn logout(State(state): State<AppState>, principal: Principal) -> ApiResult<StatusCode> {
    // OAuth tokens are revoked at /api/oauth/revoke, by their client.
    principal.person()?;
    let now = store::now();
    let mut tx = state.db.begin_write().await?;
    match principal.credential {
        Credential::Session { family_id: Some(family) } => {
            tokens::revoke_family(&mut tx, family, now).await?
        }
        _ => tokens::revoke(&mut tx, principal.token_id, now).await?,
    }
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}

#[cfg(test)]
mod tests {
    use super::client_network;

    #[test]
    fn rate_limits_ipv6_clients_by_their_64() {
        let net = |s: &str| client_network(s.parse().expect("ip"));
        assert_eq!(net("203.0.113.7"), "203.0.113.7");
        assert_eq!(net("2001:db8:1:2:aaaa::1"), "2001:db8:1:2::/64");
        assert_eq!(net("2001:db8:1:2:bbbb::9"), net("2001:db8:1:2:aaaa::1"));
        assert_eq!(net("::ffff:203.0.113.7"), "203.0.113.7");
    }
}
