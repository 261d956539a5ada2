//! Registration, sign-in, refresh-token rotation and sign-out.

use crate::store::Tx;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use super::account::client::Caller;
use super::account_links;
use super::body::{Prop, Rule, body_schema};
use super::extract::JsonObject;
use super::validate::Fields;
use super::views::{ErrorBody, UserView};
use crate::auth::sign_in::PASSWORD_MAX;
use crate::auth::token;
use crate::config::Config;
use crate::error::{ApiError, ApiResult};
use crate::http::principal::{Credential, Principal};
use crate::state::AppState;
use crate::store::account_tokens::Purpose;
use crate::store::tokens::{RefreshOutcome, TokenKind, TokenRecord};
use crate::store::users::{self, User};
use crate::store::{StoreError, sessions, tokens};

pub const PASSWORD_MIN: usize = 8;
pub const UNVERIFIED_SIGN_IN: &str =
    "Verify your email address first: open the link we sent you, or ask for a new one";
pub const NAME_MAX: usize = 100;

const EMAIL: Prop = Prop::required("email", Rule::Email);
const PASSWORD: Prop = Prop::required("password", Rule::Raw { min: 1, max: PASSWORD_MAX });

/// What a new password must be, at registration and when it is changed.
pub(crate) const NEW_PASSWORD_RULE: Rule = Rule::Raw { min: PASSWORD_MIN, max: PASSWORD_MAX };
pub const NEW_PASSWORD: Prop = Prop::required("password", NEW_PASSWORD_RULE);
pub(crate) const NAME: Prop = Prop::required("name", Rule::Text { max: NAME_MAX });
const REGISTER: &[Prop] = &[EMAIL.about("Unique regardless of case."), NEW_PASSWORD, NAME];
body_schema!(RegisterRequest = REGISTER);

const LOGIN: &[Prop] = &[EMAIL, PASSWORD];
body_schema!(LoginRequest = LOGIN);

const REFRESH_TOKEN: Prop =
    Prop::required("refreshToken", Rule::Raw { min: 1, max: token::MAX_LEN });
const REFRESH: &[Prop] = &[REFRESH_TOKEN];
body_schema!(RefreshRequest = REFRESH);

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
    tx: &mut Tx,
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
        tokens::insert(tx, &record, &token::digest(value)).await?;
    }
    Ok(AuthResponse {
        user: user.into(),
        access_token: access,
        refresh_token: refresh,
        token_type: "Bearer",
        expires_in: config.access_token_ttl.as_secs(),
    })
}

/// Create an account and sign in. A link to verify the address is emailed to it.
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
    caller: Caller,
    JsonObject(body): JsonObject,
) -> ApiResult<(StatusCode, Json<AuthResponse>)> {
    let mut f = Fields::new(body, REGISTER);
    let email = f.email(&EMAIL);
    let password = f.raw_string(&NEW_PASSWORD);
    let name = f.text(&NAME);
    f.finish()?;
    if !state.config.allow_signup {
        return Err(ApiError::forbidden("Sign-up is disabled"));
    }

    let password_hash = state.passwords.hash(password).await?;
    let now = state.clock.now();
    let user = User {
        id: Uuid::now_v7(),
        email,
        name,
        email_verified_at: None,
        created_at: now,
        updated_at: now,
    };
    let mut tx = state.db.begin_write().await?;
    users::insert(&mut tx, &user, &password_hash).await.map_err(|e| match e {
        StoreError::Conflict => ApiError::conflict("Email already registered"),
        other => other.into(),
    })?;
    let to = user.email.clone();
    account_links::send_link(&state, &mut tx, Purpose::VerifyEmail, &user, &to, now).await?;
    let family = Uuid::now_v7();
    sessions::start(&mut tx, family, user.id, &caller.client(), now).await?;
    let session = issue_session(&mut tx, &state.config, user, family, now).await?;
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
        (status = 403, body = ErrorBody, description = "The address is not verified yet, and the server requires it"),
        (status = 429, body = ErrorBody, description = "Too many failed attempts; see Retry-After"),
    ))]
pub async fn login(
    State(state): State<AppState>,
    caller: Caller,
    JsonObject(body): JsonObject,
) -> ApiResult<Json<AuthResponse>> {
    let user = sign_in_with(&state, &caller, body).await?;
    let now = state.clock.now();
    let mut tx = state.db.begin_write().await?;
    let family = Uuid::now_v7();
    sessions::start(&mut tx, family, user.id, &caller.client(), now).await?;
    let session = issue_session(&mut tx, &state.config, user, family, now).await?;
    tx.commit().await?;
    Ok(Json(session))
}

/// The check every sign-in with a password passes, the API's and the console's: the same
/// fields, failure limits, and rule for addresses nobody has verified.
pub async fn sign_in_with(
    state: &AppState,
    caller: &Caller,
    body: serde_json::Map<String, serde_json::Value>,
) -> ApiResult<User> {
    let mut f = Fields::new(body, LOGIN);
    let email = f.email(&EMAIL);
    let password = f.raw_string(&PASSWORD);
    f.finish()?;
    let user = state.sign_in().check(caller.ip, &email, password, state.clock.now()).await?;
    // Only after the password is checked: the answer tells nothing to who does not know it.
    if state.config.email.require_verified_email && user.email_verified_at.is_none() {
        return Err(ApiError::forbidden(UNVERIFIED_SIGN_IN));
    }
    Ok(user)
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
    let mut f = Fields::new(body, REFRESH);
    let presented = f.raw_string(&REFRESH_TOKEN);
    f.finish()?;

    let now = state.clock.now();
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
    sessions::refreshed(&mut tx, family, user.id, now).await?;
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
    let now = state.clock.now();
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
