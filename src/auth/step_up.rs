//! Confirming the signed-in person's password before a sensitive change (a new personal
//! access token, a new password, deleting the account). The check is a sign-in in all but
//! name: it goes through [`SignIn::check`], so a wrong password counts against the same
//! limits as a failed login, and a stolen session cannot be used to guess the password.

use std::net::IpAddr;

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::sign_in::{SignIn, SignInError};
use crate::error::{ApiError, ApiResult};
use crate::store::users;

/// The answer to a wrong current password. A 403, not a 401: the caller is authenticated, and
/// a client that signs out on 401 must not do so here.
pub const WRONG_PASSWORD: &str = "Current password is incorrect";

/// Succeeds if `password` is the password of `user_id`, under the sign-in limits for `client`.
pub async fn confirm_password(
    sign_in: &SignIn<'_>,
    user_id: Uuid,
    password: String,
    client: IpAddr,
    now: DateTime<Utc>,
) -> ApiResult<()> {
    let mut conn = sign_in.db.acquire().await?;
    let user = users::find(&mut conn, user_id).await?.ok_or_else(ApiError::unauthorized)?;
    drop(conn);
    match sign_in.check(client, &user.email, password, now).await {
        Ok(found) if found.id == user_id => Ok(()),
        Ok(_) | Err(SignInError::Invalid) => Err(wrong_password()),
        Err(other) => Err(other.into()),
    }
}

pub fn wrong_password() -> ApiError {
    ApiError::forbidden(WRONG_PASSWORD)
}
