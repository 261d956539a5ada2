//! What the OAuth authorization server hands out: authorization codes, grants, and access
//! and refresh tokens. Only SHA-256 digests are stored. Every token belongs to a grant (one
//! redeemed code, or one `client_credentials` issuance); revoking the grant ends all of its
//! tokens at once, including a pair a concurrent refresh is issuing, because rotation locks
//! the grant's row.
//!
//! Lock order, to stay free of deadlocks: the app's row (shared), the user's membership, a
//! code's or refresh token's row, then its grant.

mod codes;
mod grants;
mod tokens;

pub use codes::{AuthorizationCode, CodeOutcome, code_user, insert_code, redeem_code};
pub use grants::{insert_grant, revoke_all_user_grants, revoke_grant, revoke_user_grants};
pub use tokens::{
    LiveToken, OAuthToken, RefreshOutcome, TokenKind, find_live, find_of_app, insert_token,
    refresh_user, remove_scopes, revoke_token, rotate_refresh,
};
