//! Changing the password.
//!
//! A new password ends every other way into the account that a thief of the old one could
//! have set up: every other session and every personal access token (minting one only ever
//! took the password). The credential making the request keeps working, so the person is not
//! signed out of the device they are using. OAuth grants are left alone: each was given to
//! one organization's app on a consent page, and ends when the person leaves it.

use axum::extract::State;
use axum::http::StatusCode;

use super::CURRENT_PASSWORD;
use super::client::Caller;
use super::sessions::current_session;
use crate::auth::step_up;
use crate::email::Message;
use crate::error::ApiResult;
use crate::http::auth::NEW_PASSWORD_RULE;
use crate::http::body::{Prop, body_schema};
use crate::http::extract::JsonObject;
use crate::http::principal::{Credential, Principal};
use crate::http::validate::Fields;
use crate::http::views::ErrorBody;
use crate::state::AppState;
use crate::store::{tokens, users};

const NEW_PASSWORD: Prop = Prop::required("newPassword", NEW_PASSWORD_RULE);
const CHANGE: &[Prop] = &[CURRENT_PASSWORD, NEW_PASSWORD];
body_schema!(ChangePasswordRequest = CHANGE);

/// Change the password. Every other session and every other personal access token is revoked,
/// and a notice is emailed to the account's address.
#[utoipa::path(post, path = "/api/users/me/password", tag = "users", security(("bearer" = [])),
    request_body = ChangePasswordRequest,
    responses((status = 204), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
               (status = 403, body = ErrorBody,
                description = "Current password is incorrect, or an OAuth token was used"),
               (status = 429, body = ErrorBody,
                description = "Too many wrong passwords or failed sign-ins; see Retry-After")))]
pub async fn change_password(
    State(state): State<AppState>,
    principal: Principal,
    caller: Caller,
    JsonObject(body): JsonObject,
) -> ApiResult<StatusCode> {
    let user_id = principal.person()?;
    let mut f = Fields::new(body, CHANGE);
    let current = f.raw_string(&CURRENT_PASSWORD);
    let new = f.raw_string(&NEW_PASSWORD);
    f.finish()?;

    let sign_in = state.sign_in();
    step_up::confirm_password(&sign_in, user_id, current, caller.ip, state.clock.now()).await?;
    let hash = state.passwords.hash(new).await?;
    let now = state.clock.now();
    let this_token = match principal.credential {
        Credential::PersonalAccess => Some(principal.token_id),
        _ => None,
    };
    let mut tx = state.db.begin_write().await?;
    users::set_password_hash(&mut tx, user_id, &hash, now).await?;
    tokens::revoke_sign_ins(&mut tx, user_id, current_session(&principal), now).await?;
    tokens::revoke_all_personal(&mut tx, user_id, this_token, now).await?;
    if let Some(user) = users::find(&mut tx, user_id).await? {
        let notice = Message::PasswordChanged { name: user.name };
        state.outbox.queue(&mut tx, &user.email, &notice, now).await?;
    }
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}
