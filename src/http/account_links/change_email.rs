//! Confirming a new email address with the link sent to it: the account moves to the address,
//! verified, and a notice goes to the address it leaves.

use axum::Json;
use axum::extract::State;

use super::invalid_link;
use super::verify_email::LINK_TOKEN;
use crate::auth::token;
use crate::email::Message;
use crate::error::{ApiError, ApiResult};
use crate::http::body::{Prop, body_schema};
use crate::http::extract::JsonObject;
use crate::http::validate::Fields;
use crate::http::views::{ErrorBody, UserView};
use crate::state::AppState;
use crate::store::account_tokens::{self, Purpose};
use crate::store::{StoreError, users};

const CONFIRM: &[Prop] = &[LINK_TOKEN];
body_schema!(ConfirmEmailChangeRequest = CONFIRM);

/// Confirm a new email address with the token from the link sent to it.
#[utoipa::path(post, path = "/api/auth/email-change/confirm", tag = "auth",
    request_body = ConfirmEmailChangeRequest,
    responses(
        (status = 200, body = UserView, description = "The account, at its new, verified address"),
        (status = 400, body = ErrorBody, description = "Invalid input"),
        (status = 404, body = ErrorBody, description = "An unknown, used or expired token, or one for an address the account no longer has"),
        (status = 409, body = ErrorBody, description = "Another account took the address meanwhile"),
    ))]
pub async fn confirm(
    State(state): State<AppState>,
    JsonObject(body): JsonObject,
) -> ApiResult<Json<UserView>> {
    let mut f = Fields::new(body, CONFIRM);
    let presented = f.raw_string(&LINK_TOKEN);
    f.finish()?;

    let now = state.clock.now();
    let mut tx = state.db.begin_write().await?;
    let spent =
        account_tokens::spend(&mut tx, Purpose::ChangeEmail, &token::digest(&presented), now)
            .await?
            .ok_or_else(invalid_link)?;
    let before = users::find(&mut tx, spent.user_id).await?.ok_or_else(invalid_link)?;
    let user = users::change_email(&mut tx, before.id, &spent.email, now)
        .await
        .map_err(|e| match e {
            StoreError::Conflict => ApiError::conflict("Email already registered"),
            other => other.into(),
        })?
        .ok_or_else(invalid_link)?;
    // Links sent to the old address (a reset, a verification) no longer prove anything.
    for purpose in [Purpose::ChangeEmail, Purpose::VerifyEmail, Purpose::PasswordReset] {
        account_tokens::spend_all(&mut tx, purpose, user.id, now).await?;
    }
    let notice = Message::EmailChanged { name: user.name.clone(), new_email: user.email.clone() };
    state.outbox.queue(&mut tx, &before.email, &notice, now).await?;
    tx.commit().await?;
    Ok(Json(user.into()))
}
