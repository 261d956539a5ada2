//! Proving an address: the link sent at registration (or asked for again) marks it verified.

use std::net::SocketAddr;

use axum::Json;
use axum::extract::{ConnectInfo, State};
use axum::http::StatusCode;

use super::{invalid_link, request_limit, send_link_later};
use crate::auth::token;
use crate::error::ApiResult;
use crate::http::body::{Prop, Rule, body_schema};
use crate::http::extract::JsonObject;
use crate::http::validate::Fields;
use crate::http::views::{ErrorBody, UserView};
use crate::state::AppState;
use crate::store::account_tokens::{self, Purpose};
use crate::store::users;

pub const LINK_TOKEN: Prop = Prop::required("token", Rule::Raw { min: 1, max: token::MAX_LEN })
    .about("The token from the emailed link.");
const VERIFY: &[Prop] = &[LINK_TOKEN];
body_schema!(VerifyEmailRequest = VERIFY);

pub const EMAIL: Prop = Prop::required("email", Rule::Email);
const RESEND: &[Prop] = &[EMAIL];
body_schema!(ResendVerificationRequest = RESEND);

/// Verify an email address with the token from its link.
#[utoipa::path(post, path = "/api/auth/verify-email", tag = "auth",
    request_body = VerifyEmailRequest,
    responses(
        (status = 200, body = UserView, description = "The account, its address verified"),
        (status = 400, body = ErrorBody, description = "Invalid input"),
        (status = 404, body = ErrorBody, description = "An unknown, used or expired token, or one for an address the account no longer has"),
    ))]
pub async fn verify(
    State(state): State<AppState>,
    JsonObject(body): JsonObject,
) -> ApiResult<Json<UserView>> {
    let mut f = Fields::new(body, VERIFY);
    let presented = f.raw_string(&LINK_TOKEN);
    f.finish()?;

    let now = state.clock.now();
    let mut tx = state.db.begin_write().await?;
    let spent =
        account_tokens::spend(&mut tx, Purpose::VerifyEmail, &token::digest(&presented), now)
            .await?
            .ok_or_else(invalid_link)?;
    // A link sent to an address the account has since left proves nothing about the new one.
    let user = users::mark_verified(&mut tx, spent.user_id, &spent.email, now)
        .await?
        .ok_or_else(invalid_link)?;
    account_tokens::spend_all(&mut tx, Purpose::VerifyEmail, user.id, now).await?;
    tx.commit().await?;
    Ok(Json(user.into()))
}

/// Send a new verification link. Answers 202 whether or not an account uses the address, and
/// whether or not it is verified already: only its owner learns, from their inbox.
#[utoipa::path(post, path = "/api/auth/verify-email/resend", tag = "auth",
    request_body = ResendVerificationRequest,
    responses(
        (status = 202, description = "If an unverified account uses the address, a link is on its way"),
        (status = 400, body = ErrorBody),
        (status = 429, body = ErrorBody, description = "Too many requests for this address or network; see Retry-After"),
    ))]
pub async fn resend(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    JsonObject(body): JsonObject,
) -> ApiResult<StatusCode> {
    let mut f = Fields::new(body, RESEND);
    let email = f.email(&EMAIL);
    f.finish()?;

    let mut tx = state.db.begin_write().await?;
    request_limit::take(&state, &mut tx, "verify", &email, peer.ip(), state.clock.now()).await?;
    tx.commit().await?;
    send_link_later(&state, Purpose::VerifyEmail, email, true);
    Ok(StatusCode::ACCEPTED)
}
