//! Changing the account's email address. The new address takes effect only once a link sent
//! to it is opened (`account_links::change_email`); until then the account keeps the old one,
//! so a typo or a stolen session cannot move the account to an address its owner never had.

use axum::extract::State;
use axum::http::StatusCode;

use super::CURRENT_PASSWORD;
use super::client::Caller;
use crate::auth::step_up;
use crate::error::{ApiError, ApiResult};
use crate::http::account_links::send_link;
use crate::http::body::{Prop, Rule, body_schema};
use crate::http::extract::JsonObject;
use crate::http::principal::Principal;
use crate::http::validate::Fields;
use crate::http::views::ErrorBody;
use crate::state::AppState;
use crate::store::account_tokens::Purpose;
use crate::store::users;

const NEW_EMAIL: Prop = Prop::required("email", Rule::Email).about("The new address.");
const CHANGE: &[Prop] = &[NEW_EMAIL, CURRENT_PASSWORD];
body_schema!(ChangeEmailRequest = CHANGE);

/// Ask to change the account's email address: a confirmation link goes to the new address,
/// and the change takes effect when it is opened.
#[utoipa::path(post, path = "/api/users/me/email", tag = "users", security(("bearer" = [])),
    request_body = ChangeEmailRequest,
    responses((status = 202, description = "A confirmation link is on its way to the new address"),
               (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
               (status = 403, body = ErrorBody,
                description = "Current password is incorrect, or an OAuth token was used"),
               (status = 409, body = ErrorBody, description = "Email already registered, or the account's own"),
               (status = 429, body = ErrorBody,
                description = "Too many wrong passwords or failed sign-ins; see Retry-After")))]
pub async fn change_email(
    State(state): State<AppState>,
    principal: Principal,
    caller: Caller,
    JsonObject(body): JsonObject,
) -> ApiResult<StatusCode> {
    let user_id = principal.person()?;
    let mut f = Fields::new(body, CHANGE);
    let email = f.email(&NEW_EMAIL);
    let current = f.raw_string(&CURRENT_PASSWORD);
    f.finish()?;

    let sign_in = state.sign_in();
    step_up::confirm_password(&sign_in, user_id, current, caller.ip, state.clock.now()).await?;
    let now = state.clock.now();
    let mut tx = state.db.begin_write().await?;
    let user = users::find(&mut tx, user_id).await?.ok_or_else(ApiError::unauthorized)?;
    if users::normalize_email(&user.email) == users::normalize_email(&email) {
        return Err(ApiError::conflict("That is already the account's email address"));
    }
    if users::find_by_email(&mut tx, &email).await?.is_some() {
        return Err(ApiError::conflict("Email already registered"));
    }
    send_link(&state, &mut tx, Purpose::ChangeEmail, &user, &email, now).await?;
    tx.commit().await?;
    Ok(StatusCode::ACCEPTED)
}
