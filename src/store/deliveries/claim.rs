//! Claiming due deliveries under a lease, fairly: a claim takes at most a share of its batch
//! from one webhook and from one organization, and leaves out those whose share is already
//! in flight (see `delivery::slots`).
//!
//! A webhook with a rate limit of n a second gets at most n deliveries a claim, and only when
//! its window is open; a claim that takes any closes the window for a second
//! (`rate_window_ends_at`). The window is on the webhook's row, so the limit holds across
//! instances: on PostgreSQL the claim that opens it locks the row, and a claim racing it
//! skips that webhook. Deliveries over the limit stay pending and are claimed later.

use chrono::{DateTime, Duration, Utc};
use sqlx::PgConnection;
use uuid::Uuid;

use crate::run;
use crate::store::conn::not_in_id_list;
use crate::store::{Backend, Conn, IdList, JsonText, Tx};

/// How many of the oldest due deliveries a claim looks through. Bounding it keeps a claim
/// cheap however long the queue, at a price: deliveries queued behind more than this many
/// of webhooks left out wait until some of those go.
pub const CLAIM_WINDOW: i64 = 1024;

/// How long a rate-limited webhook's share lasts: its limit is per second.
const RATE_WINDOW: Duration = Duration::seconds(1);

/// Webhooks and organizations a claim leaves out.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Exclusions {
    pub webhooks: Vec<Uuid>,
    pub organizations: Vec<Uuid>,
}

impl Exclusions {
    pub fn is_empty(&self) -> bool {
        self.webhooks.is_empty() && self.organizations.is_empty()
    }
}

/// Binds `$1`–`$8` of a claim, in the order [`chosen`] names them, on a `query` or
/// `query_as` of either backend.
macro_rules! bind_claim {
    ($query:expr, $lease_id:expr, $now:expr, $lease:expr, $rules:expr) => {
        $query
            .bind($lease_id)
            .bind($now + $lease)
            .bind($now)
            .bind($rules.limit)
            .bind(IdList($rules.leaving_out.webhooks.clone()))
            .bind(IdList($rules.leaving_out.organizations.clone()))
            .bind($rules.per_webhook)
            .bind($rules.per_organization)
    };
}

/// What one claim may take.
#[derive(Debug, Clone)]
pub struct ClaimRules {
    pub limit: i64,
    pub per_webhook: i64,
    pub per_organization: i64,
    pub leaving_out: Exclusions,
}

/// What a worker needs to make one attempt.
#[derive(Debug, Clone)]
pub struct DueDelivery {
    pub id: Uuid,
    pub lease_id: Uuid,
    pub webhook_id: Uuid,
    pub organization_id: Uuid,
    pub event_id: Uuid,
    pub event_type: String,
    pub chain_attempts: i64,
    pub total_attempts: i64,
    pub url: String,
    /// False when the webhook was deactivated or deleted since the delivery was queued.
    pub webhook_enabled: bool,
    pub secret_sealed: String,
    pub previous_secret: Option<(String, DateTime<Utc>)>,
    /// The webhook's custom headers, sealed (a JSON object of names to values).
    pub headers_sealed: Option<String>,
    pub payload: String,
}

#[derive(sqlx::FromRow)]
struct DueRow {
    id: Uuid,
    webhook_id: Uuid,
    organization_id: Uuid,
    event_id: Uuid,
    event_type: String,
    chain_attempts: i32,
    total_attempts: i32,
    url: String,
    is_active: bool,
    deleted_at: Option<DateTime<Utc>>,
    secret_sealed: String,
    previous_secret_sealed: Option<String>,
    previous_secret_expires_at: Option<DateTime<Utc>>,
    headers_sealed: Option<String>,
    payload: JsonText,
}

impl DueRow {
    fn leased(self, lease_id: Uuid) -> DueDelivery {
        DueDelivery {
            id: self.id,
            lease_id,
            webhook_id: self.webhook_id,
            organization_id: self.organization_id,
            event_id: self.event_id,
            event_type: self.event_type,
            chain_attempts: self.chain_attempts.into(),
            total_attempts: self.total_attempts.into(),
            url: self.url,
            webhook_enabled: self.is_active && self.deleted_at.is_none(),
            secret_sealed: self.secret_sealed,
            previous_secret: self.previous_secret_sealed.zip(self.previous_secret_expires_at),
            headers_sealed: self.headers_sealed,
            payload: self.payload.0,
        }
    }
}

/// The columns of a [`DueRow`], from the claimed deliveries `d`, webhooks `w` and events `e`.
const DUE_COLUMNS: &str = "d.id, d.webhook_id, w.organization_id, d.event_id, d.event_type, \
     d.chain_attempts, d.total_attempts, w.url, w.is_active, w.deleted_at, w.secret_sealed, \
     w.previous_secret_sealed, w.previous_secret_expires_at, w.headers_sealed, e.payload";

/// The `chosen` deliveries of a claim: oldest first within the window, at most `$7` of a
/// webhook and `$8` of an organization, none of those left out (`$5`, `$6`), `$4` in all.
/// Binds: `$3` now. The window is written into the text, not bound, so that a plan made
/// for any parameters still knows the scan is short (an index scan, never a sort of the
/// whole queue).
fn chosen(backend: Backend) -> String {
    let webhooks = not_in_id_list(backend, "o.webhook_id", "$5");
    let orgs = not_in_id_list(backend, "w.organization_id", "$6");
    format!(
        "oldest AS (\
           SELECT id, webhook_id, next_attempt_at FROM deliveries \
           WHERE status = 'pending' AND next_attempt_at <= $3 \
           ORDER BY next_attempt_at LIMIT {CLAIM_WINDOW}), \
         ranked AS (\
           SELECT o.id, o.webhook_id, o.next_attempt_at, w.rate_limit, \
             row_number() OVER (PARTITION BY o.webhook_id ORDER BY o.next_attempt_at, o.id) \
               AS nth_of_webhook, \
             row_number() OVER (PARTITION BY w.organization_id ORDER BY o.next_attempt_at, o.id) \
               AS nth_of_org \
           FROM oldest o JOIN webhooks w ON w.id = o.webhook_id WHERE {webhooks} AND {orgs} \
           AND (w.rate_limit IS NULL OR w.rate_window_ends_at IS NULL \
             OR w.rate_window_ends_at <= $3)), \
         chosen AS (\
           SELECT id, webhook_id, rate_limit FROM ranked \
           WHERE nth_of_webhook <= $7 AND nth_of_org <= $8 \
           AND (rate_limit IS NULL OR nth_of_webhook <= rate_limit) \
           ORDER BY next_attempt_at LIMIT $4)"
    )
}

/// SQLite: leases the chosen deliveries until `now + lease` and returns the lease ID to
/// [`load_leased`] them by. (SQLite has one writer, so no row locking is needed; PostgreSQL
/// uses [`claim_postgres`].)
pub async fn lease_due(
    tx: &mut Tx,
    now: DateTime<Utc>,
    lease: Duration,
    rules: &ClaimRules,
) -> Result<Option<Uuid>, sqlx::Error> {
    let lease_id = Uuid::now_v7();
    let sql = format!(
        "WITH {} UPDATE deliveries SET lease_id = $1, next_attempt_at = $2 \
         WHERE id IN (SELECT id FROM chosen)",
        chosen(Backend::Sqlite)
    );
    let claimed = run!(tx, execute, bind_claim!(sqlx::query(&sql), lease_id, now, lease, rules))?;
    if claimed == 0 {
        return Ok(None);
    }
    run!(
        tx,
        execute,
        sqlx::query(
            "UPDATE webhooks SET rate_window_ends_at = $2 WHERE rate_limit IS NOT NULL \
             AND id IN (SELECT webhook_id FROM deliveries WHERE lease_id = $1)",
        )
        .bind(lease_id)
        .bind(now + RATE_WINDOW)
    )?;
    Ok(Some(lease_id))
}

/// PostgreSQL only: leases the chosen deliveries and returns them, in one statement on the
/// worker's own session. Rows another worker holds are skipped, not waited for; the locking
/// read checks again that each row is still due, since another worker may have claimed it
/// after this statement's snapshot was taken.
pub async fn claim_postgres(
    conn: &mut PgConnection,
    now: DateTime<Utc>,
    lease: Duration,
    rules: &ClaimRules,
) -> Result<Vec<DueDelivery>, sqlx::Error> {
    let lease_id = Uuid::now_v7();
    let sql = format!(
        "WITH {}, opened AS (\
           UPDATE webhooks SET rate_window_ends_at = $3 + interval '1 second' WHERE id IN (\
             SELECT id FROM webhooks \
             WHERE id IN (SELECT webhook_id FROM chosen WHERE rate_limit IS NOT NULL) \
             AND (rate_window_ends_at IS NULL OR rate_window_ends_at <= $3) \
             FOR UPDATE SKIP LOCKED) \
           RETURNING id), \
         claimed AS (\
           UPDATE deliveries SET lease_id = $1, next_attempt_at = $2 WHERE id IN (\
             SELECT id FROM deliveries WHERE id IN (SELECT id FROM chosen \
               WHERE rate_limit IS NULL OR webhook_id IN (SELECT id FROM opened)) \
             AND status = 'pending' AND next_attempt_at <= $3 FOR UPDATE SKIP LOCKED) \
           RETURNING id, webhook_id, event_id, event_type, chain_attempts, total_attempts) \
         SELECT {DUE_COLUMNS} \
         FROM claimed d JOIN webhooks w ON w.id = d.webhook_id JOIN events e ON e.id = d.event_id",
        chosen(Backend::Postgres)
    );
    let rows: Vec<DueRow> =
        bind_claim!(sqlx::query_as(&sql), lease_id, now, lease, rules).fetch_all(conn).await?;
    Ok(rows.into_iter().map(|row| row.leased(lease_id)).collect())
}

/// Everything needed to attempt the deliveries held by `lease_id`.
pub async fn load_leased(
    conn: &mut dyn Conn,
    lease_id: Uuid,
) -> Result<Vec<DueDelivery>, sqlx::Error> {
    let sql = format!(
        "SELECT {DUE_COLUMNS} FROM deliveries d JOIN webhooks w ON w.id = d.webhook_id \
         JOIN events e ON e.id = d.event_id WHERE d.lease_id = $1"
    );
    let rows: Vec<DueRow> = run!(conn, fetch_all, sqlx::query_as(&sql).bind(lease_id))?;
    Ok(rows.into_iter().map(|row| row.leased(lease_id)).collect())
}
