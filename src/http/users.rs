//! The signed-in user and their personal access tokens.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use super::account::CURRENT_PASSWORD;
use super::account::client::Caller;
use super::body::{Prop, Rule, body_schema};
use super::extract::{ApiPath, JsonObject, ListQuery, PageParams, cursor};
use super::quota;
use super::validate::Fields;
use super::views::{ErrorBody, Page, UserView};
use crate::auth::{step_up, token};
use crate::error::{ApiError, ApiResult};
use crate::http::principal::Principal;
use crate::state::AppState;
use crate::store::tokens::{TokenKind, TokenRecord};
use crate::store::{tokens, users};

pub const TOKEN_NAME_MAX: usize = 100;
pub const TOKEN_MAX_DAYS: i64 = 3650;

/// The signed-in user.
#[utoipa::path(get, path = "/api/users/me", tag = "users", security(("bearer" = [])),
    responses((status = 200, body = UserView), (status = 401, body = ErrorBody)))]
pub async fn me(State(state): State<AppState>, principal: Principal) -> ApiResult<Json<UserView>> {
    let user_id = principal.person()?;
    let mut conn = state.db.acquire().await?;
    let user = users::find(&mut conn, user_id).await?.ok_or_else(ApiError::unauthorized)?;
    Ok(Json(user.into()))
}

const NAME: Prop = Prop::required("name", Rule::Text { max: TOKEN_NAME_MAX });
const EXPIRES_IN_DAYS: Prop =
    Prop::optional("expiresInDays", Rule::Int { min: 1, max: TOKEN_MAX_DAYS })
        .about("Days until the token expires; without it the token does not expire.");
const CREATE_TOKEN: &[Prop] = &[NAME, EXPIRES_IN_DAYS, CURRENT_PASSWORD];
body_schema!(CreateTokenRequest = CREATE_TOKEN);

/// A personal access token as listed; the token itself is shown only on creation.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TokenView {
    pub id: Uuid,
    pub name: String,
    pub created_at: DateTime<Utc>,
    pub expires_at: Option<DateTime<Utc>>,
    pub last_used_at: Option<DateTime<Utc>>,
}

impl From<TokenRecord> for TokenView {
    fn from(t: TokenRecord) -> Self {
        Self {
            id: t.id,
            name: t.name.unwrap_or_default(),
            created_at: t.created_at,
            expires_at: t.expires_at,
            last_used_at: t.last_used_at,
        }
    }
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CreatedToken {
    #[serde(flatten)]
    pub info: TokenView,
    /// `rst_pat_…`: shown once, store it now.
    pub token: String,
}

/// Create a personal access token for scripts. The account's password is asked again: a
/// token that outlives every session must not be something a stolen session can mint.
#[utoipa::path(post, path = "/api/users/me/tokens", tag = "users", security(("bearer" = [])),
    request_body = CreateTokenRequest,
    responses((status = 201, body = CreatedToken), (status = 400, body = ErrorBody),
               (status = 401, body = ErrorBody),
               (status = 403, body = ErrorBody,
                description = "Current password is incorrect, or an OAuth token was used"),
               (status = 429, body = ErrorBody,
                description = "Too many wrong passwords or failed sign-ins; see Retry-After"),
               (status = 409, body = ErrorBody, description = "The account's token quota is reached")))]
pub async fn create_token(
    State(state): State<AppState>,
    principal: Principal,
    caller: Caller,
    JsonObject(body): JsonObject,
) -> ApiResult<(StatusCode, Json<CreatedToken>)> {
    let mut f = Fields::new(body, CREATE_TOKEN);
    let name = f.text(&NAME);
    let days = f.optional_int(&EXPIRES_IN_DAYS);
    let password = f.raw_string(&CURRENT_PASSWORD);
    f.finish()?;
    let user_id = principal.person()?;
    let sign_in = state.sign_in();
    step_up::confirm_password(&sign_in, user_id, password, caller.ip, state.clock.now()).await?;

    let now = state.clock.now();
    let value = token::generate(token::PERSONAL_PREFIX);
    let record = TokenRecord {
        id: Uuid::now_v7(),
        kind: TokenKind::PersonalAccess,
        user_id,
        family_id: None,
        name: Some(name),
        expires_at: days.map(|d| now + chrono::Duration::days(d)),
        last_used_at: None,
        created_at: now,
    };
    let mut tx = state.db.begin_write().await?;
    quota::personal_token(&mut tx, &state.config.quotas, user_id, now).await?;
    tokens::insert(&mut tx, &record, &token::digest(&value)).await?;
    tx.commit().await?;
    Ok((StatusCode::CREATED, Json(CreatedToken { info: record.into(), token: value })))
}

/// List the user's live personal access tokens, newest first.
#[utoipa::path(get, path = "/api/users/me/tokens", tag = "users", security(("bearer" = [])),
    params(PageParams),
    responses((status = 200, body = Page<TokenView>), (status = 401, body = ErrorBody)))]
pub async fn list_tokens(
    State(state): State<AppState>,
    principal: Principal,
    query: ListQuery,
) -> ApiResult<Json<Page<TokenView>>> {
    let user_id = principal.person()?;
    let before = cursor::decode_uuid(query.cursor.as_deref())?;
    let mut conn = state.db.acquire().await?;
    let rows =
        tokens::list_personal(&mut conn, user_id, state.clock.now(), before, query.limit + 1)
            .await?;
    Ok(Json(Page::from_rows(rows, query.limit, |t| t.id.to_string(), TokenView::from)))
}

/// Revoke a personal access token.
#[utoipa::path(delete, path = "/api/users/me/tokens/{tokenId}", tag = "users",
    security(("bearer" = [])), params(("tokenId" = Uuid, Path)),
    responses((status = 204), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
               (status = 404, body = ErrorBody, description = "Token not found")))]
pub async fn revoke_token(
    State(state): State<AppState>,
    principal: Principal,
    ApiPath(token_id): ApiPath<Uuid>,
) -> ApiResult<StatusCode> {
    let user_id = principal.person()?;
    let mut tx = state.db.begin_write().await?;
    let revoked = tokens::revoke_personal(&mut tx, user_id, token_id, state.clock.now()).await?;
    tx.commit().await?;
    if revoked { Ok(StatusCode::NO_CONTENT) } else { Err(ApiError::not_found("Token")) }
}
