//! Deleting the account.
//!
//! The person leaves every organization (each with its `member.removed` event, as if they had
//! left it themselves), every session, personal access token and OAuth grant of theirs ends,
//! and their personal data is erased, all in one transaction. The `users` row stays as a
//! tombstone (`deleted_at` set, a unique address no one has, no name, a password no one
//! knows), so that the invites they sent and the events that name them as actor still refer
//! to a row. Events already recorded keep what they recorded: they were delivered to webhooks
//! as they are. Their address is free to register again.

use axum::extract::State;
use axum::http::StatusCode;
use uuid::Uuid;

use super::CURRENT_PASSWORD;
use super::client::Caller;
use crate::auth::{step_up, token};
use crate::domain::event::Actor;
use crate::domain::role::Role;
use crate::error::{ApiError, ApiResult};
use crate::http::body::{Prop, body_schema};
use crate::http::extract::JsonObject;
use crate::http::members::take_out;
use crate::http::principal::Principal;
use crate::http::validate::Fields;
use crate::http::views::ErrorBody;
use crate::state::AppState;
use crate::store::{account_tokens, members, oauth_grants, organizations, tokens, users};

const DELETE: &[Prop] = &[CURRENT_PASSWORD];
body_schema!(DeleteAccountRequest = DELETE);

/// The refusal while the person is the last OWNER of `names`: they would be left ownerless.
fn last_owner_of(mut names: Vec<String>) -> ApiError {
    names.sort();
    let them = if names.len() == 1 { "it" } else { "them" };
    ApiError::conflict(format!(
        "You are the last owner of {}. Transfer ownership or delete {them} first.",
        names.join(", ")
    ))
}

/// Delete the signed-in user's account, leaving every organization they belong to.
#[utoipa::path(delete, path = "/api/users/me", tag = "users", security(("bearer" = [])),
    request_body = DeleteAccountRequest,
    responses((status = 204), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
               (status = 403, body = ErrorBody,
                description = "Current password is incorrect, or an OAuth token was used"),
               (status = 409, body = ErrorBody,
                description = "The user is the last OWNER of some organizations, which it names"),
               (status = 429, body = ErrorBody,
                description = "Too many wrong passwords or failed sign-ins; see Retry-After")))]
pub async fn delete_account(
    State(state): State<AppState>,
    principal: Principal,
    caller: Caller,
    JsonObject(body): JsonObject,
) -> ApiResult<StatusCode> {
    let user_id = principal.person()?;
    let mut f = Fields::new(body, DELETE);
    let password = f.raw_string(&CURRENT_PASSWORD);
    f.finish()?;

    let sign_in = state.sign_in();
    step_up::confirm_password(&sign_in, user_id, password, caller.ip, state.clock.now()).await?;
    // The hash of a secret that is thrown away: a stored hash that no password matches, and
    // that reads like any other.
    let unusable = state.passwords.hash(token::generate("deleted_")).await?;
    let now = state.clock.now();
    let mut tx = state.db.begin_write().await?;
    // Organizations are locked in one order (newest first), so two deletions never deadlock;
    // the membership is read again under the lock, where it counts.
    let joined = organizations::list_for_user(&mut tx, user_id, None, i64::MAX).await?;
    let mut leaving = Vec::new();
    let mut last_owned = Vec::new();
    for (org, _) in joined {
        if !organizations::lock(&mut tx, org.id).await? {
            continue;
        }
        let Some((org, role)) = organizations::find_membership(&mut tx, org.id, user_id).await?
        else {
            continue;
        };
        if role == Role::Owner && members::count_owners(&mut tx, org.id).await? <= 1 {
            last_owned.push(org.name.clone());
        }
        if let Some(member) = members::find(&mut tx, org.id, user_id).await? {
            leaving.push((org, member));
        }
    }
    if !last_owned.is_empty() {
        return Err(last_owner_of(last_owned));
    }
    for (org, member) in &leaving {
        take_out(&mut tx, org, member, Actor::User(user_id), now).await?;
    }
    tokens::revoke_sign_ins(&mut tx, user_id, None, now).await?;
    tokens::revoke_all_personal(&mut tx, user_id, None, now).await?;
    oauth_grants::revoke_all_user_grants(&mut tx, user_id, now).await?;
    account_tokens::forget_all(&mut tx, user_id).await?;
    // Random, not derived from the user's ID, which others can read: no one can name it.
    let tombstone = format!("deleted-{}@invalid", Uuid::new_v4());
    if !users::erase(&mut tx, user_id, &tombstone, &unusable, now).await? {
        // A concurrent deletion of the same account came first.
        return Err(ApiError::unauthorized());
    }
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}
