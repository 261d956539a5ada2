//! Resetting a forgotten password through a link sent to the account's address. Setting the
//! new password ends every sign-in, personal access token and OAuth authorization of the
//! account: whoever knew the old password may have made some.

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, State};
use axum::http::StatusCode;

use super::verify_email::{EMAIL, LINK_TOKEN};
use super::{invalid_link, request_limit, send_link_later};
use crate::auth::token;
use crate::email::Message;
use crate::error::ApiResult;
use crate::http::auth::NEW_PASSWORD;
use crate::http::body::{Prop, body_schema};
use crate::http::extract::JsonObject;
use crate::http::validate::Fields;
use crate::http::views::ErrorBody;
use crate::state::AppState;
use crate::store::account_tokens::{self, Purpose};
use crate::store::{tokens, users};

const REQUEST: &[Prop] = &[EMAIL];
body_schema!(PasswordResetRequest = REQUEST);

const CONFIRM: &[Prop] = &[LINK_TOKEN, NEW_PASSWORD];
body_schema!(PasswordResetConfirmRequest = CONFIRM);

/// Ask for a password-reset link. Answers 202 whether or not an account uses the address,
/// after the same work either way: the link is queued after the answer.
#[utoipa::path(post, path = "/api/auth/password-reset", tag = "auth",
    request_body = PasswordResetRequest,
    responses(
        (status = 202, description = "If an account uses the address, a link is on its way"),
        (status = 400, body = ErrorBody),
        (status = 429, body = ErrorBody, description = "Too many requests for this address or network; see Retry-After"),
    ))]
pub async fn request(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    JsonObject(body): JsonObject,
) -> ApiResult<StatusCode> {
    let mut f = Fields::new(body, REQUEST);
    let email = f.email(&EMAIL);
    f.finish()?;

    let mut tx = state.db.begin_write().await?;
    request_limit::take(&state, &mut tx, "reset", &email, peer.ip(), state.clock.now()).await?;
    tx.commit().await?;
    send_link_later(&state, Purpose::PasswordReset, email, false);
    Ok(StatusCode::ACCEPTED)
}

/// Set a new password with the token from a reset link.
#[utoipa::path(post, path = "/api/auth/password-reset/confirm", tag = "auth",
    request_body = PasswordResetConfirmRequest,
    responses(
        (status = 204, description = "The password is set and every sign-in of the account ended"),
        (status = 400, body = ErrorBody, description = "Invalid input"),
        (status = 404, body = ErrorBody, description = "An unknown, used or expired token, or one for an address the account no longer has"),
    ))]
pub async fn confirm(
    State(state): State<AppState>,
    JsonObject(body): JsonObject,
) -> ApiResult<StatusCode> {
    let mut f = Fields::new(body, CONFIRM);
    let presented = f.raw_string(&LINK_TOKEN);
    let password = f.raw_string(&NEW_PASSWORD);
    f.finish()?;

    let digest = token::digest(&presented);
    // Hashing is slow: only for a live link (so a stranger's guesses cost no hash), and
    // before the transaction, which then holds no lock meanwhile.
    let mut conn = state.db.acquire().await?;
    let live =
        account_tokens::is_live(&mut conn, Purpose::PasswordReset, &digest, state.clock.now())
            .await?;
    drop(conn);
    if !live {
        return Err(invalid_link());
    }
    let password_hash = state.passwords.hash(password).await?;
    let now = state.clock.now();
    let mut tx = state.db.begin_write().await?;
    let spent = account_tokens::spend(&mut tx, Purpose::PasswordReset, &digest, now)
        .await?
        .ok_or_else(invalid_link)?;
    // The link was sent to this address: it proves the address, if the account still uses it.
    let user = users::mark_verified(&mut tx, spent.user_id, &spent.email, now)
        .await?
        .ok_or_else(invalid_link)?;
    users::set_password_hash(&mut tx, user.id, &password_hash, now).await?;
    account_tokens::spend_all(&mut tx, Purpose::PasswordReset, user.id, now).await?;
    tokens::revoke_sign_ins(&mut tx, user.id, None, now).await?;
    tokens::revoke_all_personal(&mut tx, user.id, None, now).await?;
    crate::store::oauth_grants::revoke_all_user_grants(&mut tx, user.id, now).await?;
    let notice = Message::PasswordChanged { name: user.name.clone() };
    state.outbox.queue(&mut tx, &user.email, &notice, now).await?;
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}
