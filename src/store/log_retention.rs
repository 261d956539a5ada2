//! Pruning the webhook log, and idempotency keys past their expiry. Attempts of finished
//! deliveries go first, then finished deliveries (with any attempts they still have), then
//! events no delivery refers to, which is the order the foreign keys ask for. A pending
//! delivery is never touched, nor its attempts, nor the event it needs.
//!
//! Each batch is a short transaction of its own. On PostgreSQL a batch skips rows that are
//! locked (`FOR UPDATE SKIP LOCKED`), so instances pruning at once take different rows, and a
//! live writer (a redelivery, a recovery) is never waited for; it wins, and the row is looked
//! at again on the next pass. On SQLite, which has one writer at a time, batches stay small.

use chrono::{DateTime, Utc};

use super::retention::drain;
use super::{Backend, Db};

/// What the log keeps and for how long, as cutoffs: rows older than each go.
pub struct Cutoffs {
    pub attempts: DateTime<Utc>,
    pub deliveries: DateTime<Utc>,
    pub events: DateTime<Utc>,
    /// Idempotency keys that expired before this.
    pub idempotency_keys: DateTime<Utc>,
}

/// A table, its key, the selection of a batch and the cutoff it takes.
type Selection = (&'static str, &'static str, &'static str, fn(&Cutoffs) -> DateTime<Utc>);

/// The selection of one batch of each table; `{lock}` is the backend's row-lock clause, `$1`
/// the cutoff and `$2` the batch size. Each selection reads an index on its time column.
const SELECTIONS: [Selection; 4] = [
    (
        "delivery_attempts",
        "id",
        "SELECT a.id FROM delivery_attempts a WHERE a.attempted_at < $1 \
         AND NOT EXISTS (SELECT 1 FROM deliveries d \
           WHERE d.id = a.delivery_id AND d.status = 'pending') LIMIT $2{lock}",
        |c| c.attempts,
    ),
    (
        "deliveries",
        "id",
        "SELECT id FROM deliveries WHERE status <> 'pending' AND updated_at < $1 \
         LIMIT $2{lock}",
        |c| c.deliveries,
    ),
    (
        "events",
        "id",
        "SELECT e.id FROM events e WHERE e.created_at < $1 \
         AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.event_id = e.id) LIMIT $2{lock}",
        |c| c.events,
    ),
    (
        "idempotency_keys",
        "(credential_digest, idempotency_key)",
        "SELECT credential_digest, idempotency_key FROM idempotency_keys \
         WHERE expires_at < $1 LIMIT $2{lock}",
        |c| c.idempotency_keys,
    ),
];

/// The statement that deletes one batch of `table`.
pub fn statement(backend: Backend, table: &str) -> Option<String> {
    let lock = match backend {
        Backend::Postgres => " FOR UPDATE SKIP LOCKED",
        Backend::Sqlite => "",
    };
    let (_, key, selection, _) = SELECTIONS.iter().find(|(name, ..)| *name == table)?;
    let selection = selection.replace("{lock}", lock);
    Some(format!("DELETE FROM {table} WHERE {key} IN ({selection})"))
}

/// Deletes what is older than its cutoff, `batch` rows at a time, until done or until
/// `stopping()`; returns how many rows went.
pub async fn prune(
    db: &Db,
    cutoffs: &Cutoffs,
    batch: i64,
    stopping: impl Fn() -> bool,
) -> Result<u64, sqlx::Error> {
    let mut pruned = 0;
    for (table, _, _, cutoff) in SELECTIONS {
        let cutoff = cutoff(cutoffs);
        let Some(statement) = statement(db.backend(), table) else { continue };
        pruned += drain(db, table, &statement, cutoff, batch, &stopping).await?;
    }
    Ok(pruned)
}
