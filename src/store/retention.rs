//! Pruning credentials that expired long ago: sign-in and personal tokens and the sessions
//! they leave empty, OAuth codes, tokens and the grants they leave empty, emailed links,
//! portal sessions; and emails finished long ago. Only rows that expired before the cutoff are
//! touched, and live operations only lock rows that have not expired, so pruning never
//! contends with them for a lock.

use chrono::{DateTime, Utc};

use super::Db;
use crate::run;

/// Each statement deletes at most this many rows, in a transaction of its own, so that other
/// writers (on SQLite, all of them) are never held up for long.
const BATCH: i64 = 500;

/// Statements that delete one batch; `$1` is the cutoff, `$2` the batch size. Tokens go before
/// sessions and grants, so that emptied ones are pruned in the same pass.
const STATEMENTS: [(&str, &str); 8] = [
    (
        "tokens",
        "DELETE FROM tokens WHERE id IN \
         (SELECT id FROM tokens WHERE expires_at < $1 LIMIT $2)",
    ),
    // A session whose tokens are all gone has ended: nothing is left to sign out.
    (
        "sessions",
        "DELETE FROM sessions WHERE id IN (SELECT s.id FROM sessions s \
         WHERE s.last_used_at < $1 \
         AND NOT EXISTS (SELECT 1 FROM tokens t WHERE t.family_id = s.id) LIMIT $2)",
    ),
    (
        "oauth_codes",
        "DELETE FROM oauth_codes WHERE id IN \
         (SELECT id FROM oauth_codes WHERE expires_at < $1 LIMIT $2)",
    ),
    (
        "oauth_tokens",
        "DELETE FROM oauth_tokens WHERE id IN \
         (SELECT id FROM oauth_tokens WHERE expires_at < $1 LIMIT $2)",
    ),
    (
        "oauth_grants",
        "DELETE FROM oauth_grants WHERE id IN (SELECT g.id FROM oauth_grants g \
         WHERE g.created_at < $1 \
         AND NOT EXISTS (SELECT 1 FROM oauth_tokens t WHERE t.grant_id = g.id) LIMIT $2)",
    ),
    (
        "account_tokens",
        "DELETE FROM account_tokens WHERE token_hash IN \
         (SELECT token_hash FROM account_tokens WHERE expires_at < $1 LIMIT $2)",
    ),
    (
        "portal_sessions",
        "DELETE FROM portal_sessions WHERE id IN \
         (SELECT id FROM portal_sessions WHERE expires_at < $1 LIMIT $2)",
    ),
    // Sent and failed emails keep only their recipient, subject and outcome; a day is
    // enough to look into one.
    (
        "emails",
        "DELETE FROM emails WHERE id IN \
         (SELECT id FROM emails WHERE status <> 'pending' AND finished_at < $1 LIMIT $2)",
    ),
];

/// Deletes what expired before `cutoff`, batch by batch until done or until `stopping()`;
/// returns how many rows went.
pub async fn prune(
    db: &Db,
    cutoff: DateTime<Utc>,
    stopping: impl Fn() -> bool,
) -> Result<u64, sqlx::Error> {
    let mut pruned = 0;
    for (table, statement) in STATEMENTS {
        pruned += drain(db, table, statement, cutoff, BATCH, &stopping).await?;
    }
    Ok(pruned)
}

/// Runs `statement` (which deletes up to `$2` rows older than `$1`) in a transaction of its
/// own, again and again until it deletes less than a batch or `stopping()`; returns how many
/// rows went.
pub(super) async fn drain(
    db: &Db,
    table: &str,
    statement: &str,
    cutoff: DateTime<Utc>,
    batch: i64,
    stopping: &impl Fn() -> bool,
) -> Result<u64, sqlx::Error> {
    let mut pruned = 0;
    while !stopping() {
        let mut tx = db.begin_write().await?;
        let deleted = run!(&mut tx, execute, sqlx::query(statement).bind(cutoff).bind(batch))?;
        tx.commit().await?;
        pruned += deleted;
        if deleted > 0 {
            tracing::debug!(table, deleted, "pruned old rows");
        }
        if deleted < batch.max(1) as u64 {
            break;
        }
    }
    Ok(pruned)
}
