//! Recording attempt results: each chunk of results costs two statements, whatever its size
//! (one on PostgreSQL when all succeeded), then what the outcomes do to their webhooks (see
//! `outcomes`: a statement per failure, and one per webhook for a run of its successes).

use chrono::{DateTime, Duration, Utc};
use sqlx::PgConnection;
use uuid::Uuid;

use super::DeliveryStatus;
use super::outcomes::{self, HealthRules};
use crate::domain::retry::{self, Next, Outcome};
use crate::run;
use crate::store::Tx;

/// The result of one attempt, ready to record.
#[derive(Debug, Clone)]
pub struct AttemptRecord {
    pub delivery_id: Uuid,
    pub lease_id: Uuid,
    pub webhook_id: Uuid,
    pub event_id: Uuid,
    pub event_type: String,
    /// Attempts made in the current chain before this one.
    pub chain_attempts: i64,
    pub total_attempts: i64,
    pub attempted_at: DateTime<Utc>,
    pub duration_ms: i64,
    pub status_code: Option<u16>,
    pub error: Option<String>,
    pub response_body: Option<String>,
    pub succeeded: bool,
    /// True when no request was made and none should be (the webhook is disabled).
    pub abandon: bool,
    /// How long the receiver asked to wait (`Retry-After` on a 429 or 503), already capped.
    pub retry_after: Option<std::time::Duration>,
}

impl AttemptRecord {
    pub fn outcome(&self) -> Outcome {
        if self.abandon {
            Outcome::Abandoned
        } else if self.succeeded {
            Outcome::Succeeded
        } else {
            Outcome::Failed
        }
    }

    /// The receiver answered `410 Gone`: the endpoint is no more.
    pub fn gone(&self) -> bool {
        !self.abandon && self.status_code == Some(410)
    }

    /// Where the delivery goes after this attempt, on `schedule`. After a `410` nothing
    /// follows: its webhook is disabled.
    pub fn next(&self, schedule: &[std::time::Duration]) -> Next {
        if self.gone() {
            return Next::Failed;
        }
        retry::next_waiting(self.outcome(), self.chain_attempts, schedule, self.retry_after)
    }

    /// A request was made and it failed.
    pub fn failed(&self) -> bool {
        self.outcome() == Outcome::Failed
    }

    /// What the attempt got, as the webhook's `lastError` tells it.
    pub fn error_text(&self) -> Option<String> {
        match (self.status_code, &self.error) {
            (Some(code), _) => Some(format!("HTTP {code}")),
            (None, Some(kind)) => Some(kind.clone()),
            (None, None) => None,
        }
    }
}

/// Rows per statement when recording: well under both backends' parameter limits.
const RECORD_CHUNK: usize = 400;

/// Binds [`move_on_sql`]'s parameters for `chunk`, on a query of either backend.
macro_rules! bind_move_on {
    ($query:expr, $chunk:expr, $schedule:expr, $now:expr) => {{
        let mut query = $query;
        for r in $chunk {
            let (status, next_attempt_at) = next_state(r, $schedule, $now);
            query = query
                .bind(r.delivery_id)
                .bind(r.lease_id)
                .bind(status.as_str())
                .bind(next_attempt_at)
                .bind(i32::from(!r.abandon));
        }
        query.bind($now)
    }};
}

/// Binds [`log_sql`]'s parameters for the attempts `made`.
macro_rules! bind_attempts {
    ($query:expr, $made:expr) => {{
        let mut query = $query;
        for r in $made {
            query = query
                .bind(Uuid::now_v7())
                .bind(r.delivery_id)
                .bind(i32::try_from(r.total_attempts + 1).unwrap_or(i32::MAX))
                .bind(r.attempted_at)
                .bind(i32::try_from(r.duration_ms).unwrap_or(i32::MAX))
                .bind(r.status_code.map(i32::from))
                .bind(r.error.as_deref())
                .bind(r.response_body.as_deref());
        }
        query
    }};
}

/// Records attempts and moves each delivery on: succeeded, retried after the next delay of
/// `schedule` (or the longer wait the receiver asked for), or failed when the schedule is
/// spent. A result whose lease was lost (it expired and another worker claimed the row) is
/// logged as an attempt but moves nothing, and counts for nothing in its webhook's health.
/// The outcomes' effects on their webhooks, and the events they cause, are written in the
/// same transaction.
pub async fn record(
    tx: &mut Tx,
    results: &[AttemptRecord],
    schedule: &[std::time::Duration],
    rules: &HealthRules,
    now: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    for chunk in results.chunks(RECORD_CHUNK) {
        let sql = format!("{} RETURNING deliveries.id", move_on_sql(chunk.len(), 0));
        let moved: Vec<Uuid> =
            run!(tx, fetch_all, bind_move_on!(sqlx::query_scalar(&sql), chunk, schedule, now))?;
        warn_if_lost(chunk.len(), moved.len() as u64);
        let made: Vec<&AttemptRecord> = chunk.iter().filter(|r| !r.abandon).collect();
        if !made.is_empty() {
            let sql = log_sql(made.len(), 0);
            run!(tx, execute, bind_attempts!(sqlx::query(&sql), &made))?;
        }
        let kept: Vec<&AttemptRecord> =
            chunk.iter().filter(|r| moved.contains(&r.delivery_id)).collect();
        outcomes::apply(tx, &kept, schedule, rules, now).await?;
    }
    Ok(())
}

/// Whether [`record_postgres`] can record `results`: none failed, so no webhook's streak
/// grows and no event follows; the others go through [`record`] in a transaction.
pub fn all_quiet(results: &[AttemptRecord]) -> bool {
    !results.iter().any(AttemptRecord::failed)
}

/// PostgreSQL: [`record`] of results that are [`all_quiet`], in one statement a chunk,
/// outside any transaction block, on a session of the worker's own (whose commits need not
/// wait for the WAL flush): one round trip instead of a transaction's five. A success ends
/// its webhook's failure streak in the same statement.
pub async fn record_postgres(
    conn: &mut PgConnection,
    results: &[AttemptRecord],
    schedule: &[std::time::Duration],
    now: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    for chunk in results.chunks(RECORD_CHUNK) {
        let made: Vec<&AttemptRecord> = chunk.iter().filter(|r| !r.abandon).collect();
        let move_on = move_on_sql(chunk.len(), 0);
        let moved = format!(
            "moved AS ({move_on} RETURNING deliveries.webhook_id, v.column3 AS status), \
             healed AS ({})",
            outcomes::HEAL_MOVED
        );
        let sql = if made.is_empty() {
            format!("WITH {moved} SELECT COUNT(*) FROM moved")
        } else {
            let log = log_sql(made.len(), chunk.len() * 5 + 1);
            format!("WITH {moved}, logged AS ({log}) SELECT COUNT(*) FROM moved")
        };
        let query = bind_move_on!(sqlx::query_scalar(&sql), chunk, schedule, now);
        let moved: i64 = bind_attempts!(query, &made).fetch_one(&mut *conn).await?;
        warn_if_lost(chunk.len(), u64::try_from(moved).unwrap_or_default());
    }
    Ok(())
}

fn warn_if_lost(sent: usize, moved: u64) {
    if moved < sent as u64 {
        tracing::warn!(
            lost = sent as u64 - moved,
            "leases lost before attempts were recorded; those deliveries were claimed again"
        );
    }
}

/// The state a delivery moves to after `r`, and when it is next due.
fn next_state(
    r: &AttemptRecord,
    schedule: &[std::time::Duration],
    now: DateTime<Utc>,
) -> (DeliveryStatus, Option<DateTime<Utc>>) {
    match r.next(schedule) {
        Next::Succeeded => (DeliveryStatus::Succeeded, None),
        Next::RetryAfter(delay) => {
            (DeliveryStatus::Pending, Some(now + Duration::from_std(delay).unwrap_or_default()))
        }
        Next::Failed => (DeliveryStatus::Failed, None),
    }
}

/// Placeholders `($first, …), …` for `rows` rows of `width`, numbered from `after + 1`.
fn value_rows(rows: usize, width: usize, after: usize) -> String {
    (0..rows)
        .map(|i| {
            let first = after + i * width + 1;
            let list: Vec<String> = (first..first + width).map(|n| format!("${n}")).collect();
            format!("({})", list.join(", "))
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// Moves `rows` deliveries on, binds numbered from `after + 1`: five a row, then `now`.
fn move_on_sql(rows: usize, after: usize) -> String {
    // `VALUES` rows are read back as column1…column5 on both backends.
    let now_param = after + rows * 5 + 1;
    format!(
        "UPDATE deliveries SET status = v.column3, next_attempt_at = v.column4, lease_id = NULL, \
         chain_attempts = deliveries.chain_attempts + v.column5, \
         total_attempts = deliveries.total_attempts + v.column5, updated_at = ${now_param} \
         FROM (VALUES {}) AS v WHERE deliveries.id = v.column1 AND deliveries.lease_id = v.column2",
        value_rows(rows, 5, after)
    )
}

/// Logs `rows` attempts, binds numbered from `after + 1`: eight a row.
fn log_sql(rows: usize, after: usize) -> String {
    format!(
        "INSERT INTO delivery_attempts (id, delivery_id, number, attempted_at, duration_ms, \
         status_code, error, response_body) VALUES {}",
        value_rows(rows, 8, after)
    )
}
