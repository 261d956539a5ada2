//! Idempotency keys. A request claims its key with one atomic insert, committed at once, so
//! no transaction stays open while the request runs; the key's row is then finished with the
//! answer, or deleted when the answer is not one to replay. Only the claimant (by
//! `claim_id`) finishes or deletes a row, so a request whose stale claim was taken over
//! cannot overwrite the answer of the one that took it.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::Db;
use crate::run;

/// Which key of which credential, and the request it was used with.
pub struct KeyUse<'a> {
    pub credential_digest: &'a str,
    pub key: &'a str,
    pub request_digest: &'a str,
}

/// What is recorded under a key that someone else holds.
#[derive(Debug)]
pub enum Recorded {
    /// The key was used with another request.
    OtherRequest,
    /// The request that claimed it is still running.
    InProgress,
    /// The finished answer: its status and sealed headers and body.
    Answer { status: u16, response: String },
}

/// The outcome of a claim.
#[derive(Debug)]
pub enum Claim {
    /// This request holds the key, as `claim_id`.
    Claimed(Uuid),
    Taken(Recorded),
}

/// Claims `key` for a request until `locked_until`, recording it to expire at `expires_at`.
/// An expired row, or a claim of the same request whose lease ran out, is taken over.
pub async fn claim(
    db: &Db,
    key: &KeyUse<'_>,
    now: DateTime<Utc>,
    locked_until: DateTime<Utc>,
    expires_at: DateTime<Utc>,
) -> Result<Claim, sqlx::Error> {
    // The row can vanish between the insert and the read (its claimant deleted it after an
    // answer not to keep); the insert then succeeds on the next round.
    for _ in 0..3 {
        let claim_id = Uuid::now_v7();
        let mut tx = db.begin_write().await?;
        let won: Option<Uuid> = run!(
            &mut tx,
            fetch_optional,
            sqlx::query_scalar(
                "INSERT INTO idempotency_keys (credential_digest, idempotency_key, \
                   request_digest, claim_id, locked_until, created_at, expires_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7) \
                 ON CONFLICT (credential_digest, idempotency_key) DO UPDATE SET \
                   request_digest = excluded.request_digest, claim_id = excluded.claim_id, \
                   status = NULL, response = NULL, locked_until = excluded.locked_until, \
                   created_at = excluded.created_at, expires_at = excluded.expires_at \
                 WHERE idempotency_keys.expires_at <= excluded.created_at \
                   OR (idempotency_keys.status IS NULL \
                       AND idempotency_keys.locked_until <= excluded.created_at \
                       AND idempotency_keys.request_digest = excluded.request_digest) \
                 RETURNING claim_id",
            )
            .bind(key.credential_digest)
            .bind(key.key)
            .bind(key.request_digest)
            .bind(claim_id)
            .bind(locked_until)
            .bind(now)
            .bind(expires_at)
        )?;
        tx.commit().await?;
        if won == Some(claim_id) {
            return Ok(Claim::Claimed(claim_id));
        }
        if let Some(recorded) = read(db, key).await? {
            return Ok(Claim::Taken(recorded));
        }
    }
    Ok(Claim::Taken(Recorded::InProgress))
}

async fn read(db: &Db, key: &KeyUse<'_>) -> Result<Option<Recorded>, sqlx::Error> {
    let mut conn = db.acquire().await?;
    let row: Option<(String, Option<i32>, Option<String>)> = run!(
        &mut conn,
        fetch_optional,
        sqlx::query_as(
            "SELECT request_digest, status, response FROM idempotency_keys \
             WHERE credential_digest = $1 AND idempotency_key = $2",
        )
        .bind(key.credential_digest)
        .bind(key.key)
    )?;
    Ok(row.map(|(digest, status, response)| match (status, response) {
        _ if digest != key.request_digest => Recorded::OtherRequest,
        (Some(status), Some(response)) => {
            Recorded::Answer { status: u16::try_from(status).unwrap_or(500), response }
        }
        _ => Recorded::InProgress,
    }))
}

/// Records the answer of the request that holds `claim_id`.
pub async fn finish(
    db: &Db,
    key: &KeyUse<'_>,
    claim_id: Uuid,
    status: u16,
    response: &str,
) -> Result<(), sqlx::Error> {
    let mut tx = db.begin_write().await?;
    run!(
        &mut tx,
        execute,
        sqlx::query(
            "UPDATE idempotency_keys SET status = $1, response = $2 \
             WHERE credential_digest = $3 AND idempotency_key = $4 AND claim_id = $5",
        )
        .bind(i32::from(status))
        .bind(response)
        .bind(key.credential_digest)
        .bind(key.key)
        .bind(claim_id)
    )?;
    tx.commit().await
}

/// Gives the key up, so that a retry runs the request again.
pub async fn release(db: &Db, key: &KeyUse<'_>, claim_id: Uuid) -> Result<(), sqlx::Error> {
    let mut tx = db.begin_write().await?;
    run!(
        &mut tx,
        execute,
        sqlx::query(
            "DELETE FROM idempotency_keys \
             WHERE credential_digest = $1 AND idempotency_key = $2 AND claim_id = $3",
        )
        .bind(key.credential_digest)
        .bind(key.key)
        .bind(claim_id)
    )?;
    tx.commit().await
}
