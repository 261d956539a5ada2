//! The signed-in person's own account: their sessions, profile, email address and password, and
//! deleting the account. Every route here is for people's own tokens (sign-in sessions and personal access
//! tokens); OAuth tokens are refused with a 403, whatever their scopes.

pub mod client;
pub mod delete;
pub mod email;
pub mod password;
pub mod profile;
pub mod sessions;

use super::body::{Prop, Rule};
use crate::auth::sign_in::PASSWORD_MAX;

/// The account's password, asked again before a sensitive change (see `auth::step_up`).
pub const CURRENT_PASSWORD: Prop =
    Prop::required("currentPassword", Rule::Raw { min: 1, max: PASSWORD_MAX })
        .about("The account's current password, confirming that its owner is present.");
