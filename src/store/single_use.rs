//! Spending single-use credentials: sign-in refresh tokens, OAuth refresh tokens and OAuth
//! authorization codes follow one rule, kept here. Of concurrent presentations of one
//! credential exactly one spends it (a conditional update); the others queue on its row and
//! then learn whether it had been spent before, which the caller treats as a replay and
//! answers by revoking everything the credential gave.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::{Tx, for_update};
use crate::run;

/// Where one kind of single-use credential lives.
pub(super) struct SingleUse {
    pub table: &'static str,
    pub hash_column: &'static str,
    /// Extra condition that picks this kind out of a shared table.
    pub kind: &'static str,
    /// Whether the table has `revoked_at` (a revoked credential is dead, not replayed).
    pub revocable: bool,
}

pub(super) const SESSION_REFRESH: SingleUse = SingleUse {
    table: "tokens",
    hash_column: "token_hash",
    kind: "AND kind = 'refresh'",
    revocable: true,
};
pub(super) const OAUTH_REFRESH: SingleUse = SingleUse {
    table: "oauth_tokens",
    hash_column: "token_hash",
    kind: "AND kind = 'refresh'",
    revocable: true,
};
pub(super) const OAUTH_CODE: SingleUse =
    SingleUse { table: "oauth_codes", hash_column: "code_hash", kind: "", revocable: false };

/// When a credential was spent and when it was revoked.
type UseState = (Option<DateTime<Utc>>, Option<DateTime<Utc>>);

/// What presenting a credential did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Presented {
    /// It was live and this call spent it.
    Spent,
    /// It had been spent before and is not revoked: a replay.
    Replayed,
    /// Unknown, expired or revoked.
    Dead,
}

/// Spends the credential with digest `hash` (of the app `app`, for OAuth credentials).
pub(super) async fn present(
    tx: &mut Tx,
    kind: &SingleUse,
    hash: &str,
    app: Option<Uuid>,
    now: DateTime<Utc>,
) -> Result<Presented, sqlx::Error> {
    let SingleUse { table, hash_column, kind: filter, revocable } = kind;
    // OAuth credentials belong to one app: another app's presentation finds nothing.
    let owner = |n: u8| {
        if app.is_some() { format!("AND app_id = ${n}") } else { format!("AND ${n} IS NULL") }
    };
    let live = if *revocable { "AND revoked_at IS NULL" } else { "" };
    let spend = format!(
        "UPDATE {table} SET used_at = $2 WHERE {hash_column} = $1 {filter} {owner} \
         AND used_at IS NULL {live} AND expires_at > $2",
        owner = owner(3)
    );
    let spent = run!(tx, execute, sqlx::query(&spend).bind(hash).bind(now).bind(app))?;
    if spent == 1 {
        return Ok(Presented::Spent);
    }
    // Losers queue on the credential's row, so that their revocations of what it gave run
    // one after another instead of deadlocking.
    let revoked = if *revocable { "revoked_at" } else { "NULL" };
    let read = format!(
        "SELECT used_at, {revoked} FROM {table} WHERE {hash_column} = $1 {filter} {owner}{lock}",
        owner = owner(2),
        lock = for_update(tx)
    );
    let state: Option<UseState> =
        run!(tx, fetch_optional, sqlx::query_as(&read).bind(hash).bind(app))?;
    Ok(match state {
        Some((Some(_), None)) => Presented::Replayed,
        _ => Presented::Dead,
    })
}
