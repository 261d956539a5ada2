//! When a credential was last used (tokens, sessions, server keys), kept to the minute: most
//! uses then need no write.

use chrono::{DateTime, TimeDelta, Utc};
use uuid::Uuid;

use super::Tx;
use crate::run;

/// How stale `last_used_at` may get before a use records itself.
pub const TOUCH_EVERY: TimeDelta = TimeDelta::minutes(1);

/// Whether a use now should be recorded, given when the last one was.
pub fn is_due(last_used_at: Option<DateTime<Utc>>, now: DateTime<Utc>) -> bool {
    last_used_at.is_none_or(|at| now - at >= TOUCH_EVERY)
}

/// Records a use of row `id` of `table`, unless one within [`TOUCH_EVERY`] already is: the
/// same bound spares the write when another request (or another token of a session) did it.
pub(super) async fn touch(
    tx: &mut Tx,
    table: &'static str,
    id: Uuid,
    now: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    let sql = format!(
        "UPDATE {table} SET last_used_at = $2 WHERE id = $1 \
         AND (last_used_at IS NULL OR last_used_at < $3)"
    );
    run!(tx, execute, sqlx::query(&sql).bind(id).bind(now).bind(now - TOUCH_EVERY))?;
    Ok(())
}
