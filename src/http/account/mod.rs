//! The signed-in person's own account: their sessions, profile and password, and deleting the
//! account. Every route here is for people's own tokens (sign-in sessions and personal access
//! tokens); OAuth tokens are refused with a 403, whatever their scopes.

pub mod client;
pub mod sessions;
