//! Flows that run through a link sent by email: verifying an address, resetting a forgotten
//! password, confirming a new address. Requests for a link answer the same whether or not an account uses the address,
//! so they tell nobody which addresses have accounts.

pub mod change_email;
pub mod password_reset;
mod request_limit;
pub mod verify_email;

use axum::http::StatusCode;
use chrono::{DateTime, Utc};

use crate::auth::token;
use crate::email::Message;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use crate::store::Tx;
use crate::store::account_tokens::{self, Purpose};
use crate::store::users::{self, User};

pub const VERIFY_PREFIX: &str = "rst_ve_";
pub const RESET_PREFIX: &str = "rst_pr_";
pub const CHANGE_EMAIL_PREFIX: &str = "rst_ce_";

/// Issues a single-use link of `purpose` for `user`, sent to `to`, in `tx`.
pub async fn send_link(
    state: &AppState,
    tx: &mut Tx,
    purpose: Purpose,
    user: &User,
    to: &str,
    now: DateTime<Utc>,
) -> ApiResult<()> {
    let settings = &state.config.email;
    let (prefix, path, valid_for) = match purpose {
        Purpose::VerifyEmail => (VERIFY_PREFIX, "verify-email", settings.verification_ttl),
        Purpose::PasswordReset => (RESET_PREFIX, "reset-password", settings.password_reset_ttl),
        Purpose::ChangeEmail => (CHANGE_EMAIL_PREFIX, "confirm-email", settings.verification_ttl),
    };
    let value = token::generate(prefix);
    let expires_at = now + chrono::Duration::from_std(valid_for).unwrap_or_default();
    account_tokens::insert(tx, purpose, &token::digest(&value), user.id, to, expires_at, now)
        .await?;
    let link = state.outbox.link(path, &value);
    let name = user.name.clone();
    let message = match purpose {
        Purpose::VerifyEmail => Message::VerifyEmail { name, link, valid_for },
        Purpose::PasswordReset => Message::PasswordReset { name, link, valid_for },
        Purpose::ChangeEmail => Message::ChangeEmail { name, link, valid_for },
    };
    state.outbox.queue(tx, to, &message, now).await
}

/// After the answer: sends a `purpose` link to the account that uses `email`, if one does (and,
/// with `unverified_only`, if its address is not verified yet). Done after answering so that
/// the answer takes as long whether or not an account uses the address; the link and its
/// email are written in one transaction, so a crash before it leaves neither.
pub fn send_link_later(state: &AppState, purpose: Purpose, email: String, unverified_only: bool) {
    let state = state.clone();
    state.background.clone().spawn(async move {
        let sent = async {
            let now = state.clock.now();
            let mut tx = state.db.begin_write().await?;
            let user = users::find_by_email(&mut tx, &email).await?;
            let Some(user) = user.filter(|u| !unverified_only || u.email_verified_at.is_none())
            else {
                return Ok(());
            };
            let to = user.email.clone();
            send_link(&state, &mut tx, purpose, &user, &to, now).await?;
            tx.commit().await?;
            Ok::<_, ApiError>(())
        };
        if let Err(err) = sent.await {
            tracing::error!(error = ?err, ?purpose, "queueing an emailed link failed");
        }
    });
}

/// The answer to a link that is unknown, spent, expired, or no longer the account's: one
/// answer for all, like an unknown invite's.
pub fn invalid_link() -> ApiError {
    ApiError::Status(StatusCode::NOT_FOUND, "Invalid or expired token".into())
}
