//! The email outbox. An email is written in the transaction of the change that causes it and
//! leased to a worker by moving `next_attempt_at` to the end of the lease: an email whose
//! worker died falls due again by itself. Each claim counts an attempt, so that a result is
//! recorded only by the claim it belongs to.

use chrono::{DateTime, Duration, Utc};
use uuid::Uuid;

use super::{Backend, Conn, Tx};
use crate::run;

/// An email ready for the outbox; `sealed_body` is its sealed [`crate::email::outbox`] body.
pub struct NewEmail<'a> {
    pub id: Uuid,
    pub template: &'a str,
    pub recipient: &'a str,
    pub subject: &'a str,
    pub sealed_body: &'a str,
    pub created_at: DateTime<Utc>,
}

/// An email leased for sending.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct QueuedEmail {
    pub id: Uuid,
    pub template: String,
    pub recipient: String,
    pub subject: String,
    pub sealed_body: Option<String>,
    /// Attempts so far, this one included.
    pub attempts: i32,
}

/// What became of an attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Sent {
    Sent,
    RetryAt(DateTime<Utc>, String),
    Failed(String),
}

pub async fn insert(tx: &mut Tx, email: &NewEmail<'_>) -> Result<(), sqlx::Error> {
    run!(
        tx,
        execute,
        sqlx::query(
            "INSERT INTO emails (id, template, recipient, subject, sealed_body, status, \
             next_attempt_at, created_at) VALUES ($1, $2, $3, $4, $5, 'pending', $6, $6)",
        )
        .bind(email.id)
        .bind(email.template)
        .bind(email.recipient)
        .bind(email.subject)
        .bind(email.sealed_body)
        .bind(email.created_at)
    )?;
    tx.queued_email();
    Ok(())
}

/// Leases up to `limit` due emails, oldest due first, until `now + lease`. On PostgreSQL,
/// rows another instance is claiming are skipped rather than waited for.
pub async fn claim(
    tx: &mut Tx,
    now: DateTime<Utc>,
    lease: Duration,
    limit: i64,
) -> Result<Vec<QueuedEmail>, sqlx::Error> {
    let skip_locked = match tx.backend() {
        Backend::Postgres => "FOR UPDATE SKIP LOCKED",
        Backend::Sqlite => "",
    };
    let sql = format!(
        "UPDATE emails SET next_attempt_at = $2, attempts = attempts + 1 WHERE id IN \
         (SELECT id FROM emails WHERE status = 'pending' AND next_attempt_at <= $1 \
         ORDER BY next_attempt_at LIMIT $3 {skip_locked}) \
         RETURNING id, template, recipient, subject, sealed_body, attempts"
    );
    run!(tx, fetch_all, sqlx::query_as(&sql).bind(now).bind(now + lease).bind(limit))
}

/// Records an attempt's result, unless the email's lease passed to another claim meanwhile.
pub async fn record(
    tx: &mut Tx,
    email: &QueuedEmail,
    sent: &Sent,
    now: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    // A finished email keeps no body: its links carry tokens.
    let (status, next, error) = match sent {
        Sent::Sent => ("sent", now, None),
        Sent::RetryAt(at, error) => ("pending", *at, Some(error.as_str())),
        Sent::Failed(error) => ("failed", now, Some(error.as_str())),
    };
    run!(
        tx,
        execute,
        sqlx::query(
            "UPDATE emails SET status = $3, next_attempt_at = $4, last_error = $5, \
             finished_at = CASE WHEN $3 = 'pending' THEN NULL ELSE $6 END, \
             sealed_body = CASE WHEN $3 = 'pending' THEN sealed_body ELSE NULL END \
             WHERE id = $1 AND attempts = $2 AND status = 'pending'",
        )
        .bind(email.id)
        .bind(email.attempts)
        .bind(status)
        .bind(next)
        .bind(error)
        .bind(now)
    )?;
    Ok(())
}

/// When the next pending email falls due.
pub async fn next_due(conn: &mut dyn Conn) -> Result<Option<DateTime<Utc>>, sqlx::Error> {
    let sql = "SELECT MIN(next_attempt_at) FROM emails WHERE status = 'pending'";
    let (at,): (Option<DateTime<Utc>>,) = run!(conn, fetch_one, sqlx::query_as(sql))?;
    Ok(at)
}

/// Emails not yet finished, and when the oldest of them was queued.
pub async fn backlog(conn: &mut dyn Conn) -> Result<(i64, Option<DateTime<Utc>>), sqlx::Error> {
    let sql = "SELECT COUNT(*), MIN(created_at) FROM emails WHERE status = 'pending'";
    run!(conn, fetch_one, sqlx::query_as(sql))
}
