//! The append-only event log. Every change that emits an event appends it here inside the
//! change's own transaction, so the log never misses or invents a change.

use uuid::Uuid;

use sqlx::PgConnection;

use super::{Conn, JsonText, Native, TextList, Tx, deliveries, in_text_list, webhooks};
use crate::domain::event::NewEvent;
use crate::run;

#[derive(Debug, Clone)]
pub struct StoredEvent {
    pub id: Uuid,
    /// The webhook body, exactly as delivered.
    pub payload: String,
}

/// Appends `event` and queues one delivery for each active webhook of its organization that
/// subscribes to it, in the caller's transaction.
pub async fn append(tx: &mut Tx, event: &NewEvent) -> Result<(), sqlx::Error> {
    if let Native::Postgres(conn) = tx.native() {
        let queued = append_postgres(conn, event).await?;
        if queued > 0 {
            tx.queued_work();
        }
        return Ok(());
    }
    let subscribers = webhooks::subscribers(tx, event.organization.id, &event.name).await?;
    append_for(tx, event, &subscribers).await
}

/// [`append`] on PostgreSQL in one round trip, where each is a network hop made while the
/// caller holds its locks: the event, and a delivery to each subscriber (the same ones as
/// [`webhooks::subscribers`]). A delivery's ID is the event's with its last eight bytes
/// random: still a UUIDv7, in the event's millisecond. Answers how many were queued.
async fn append_postgres(conn: &mut PgConnection, event: &NewEvent) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar(
        "WITH event AS (\
           INSERT INTO events (id, organization_id, event_type, payload, created_at) \
           VALUES ($1, $2, $3, $4, $5)), \
         queued AS (\
           INSERT INTO deliveries (id, webhook_id, event_id, event_type, status, \
             chain_attempts, total_attempts, next_attempt_at, created_at, updated_at) \
           SELECT encode(overlay(uuid_send($1) PLACING substring(uuid_send(gen_random_uuid()) \
               FROM 9 FOR 8) FROM 9), 'hex')::uuid, \
             w.id, $1, $3, 'pending', 0, 0, $5, $5, $5 \
           FROM webhook_events s JOIN webhooks w ON w.id = s.webhook_id \
           WHERE s.organization_id = $2 AND s.event_type = $3 \
           AND w.is_active AND w.deleted_at IS NULL \
           RETURNING 1) \
         SELECT COUNT(*) FROM queued",
    )
    .bind(event.id)
    .bind(event.organization.id)
    .bind(event.name.as_ref())
    .bind(JsonText(event.payload.as_str()))
    .bind(event.created_at)
    .fetch_one(conn)
    .await
}

/// Appends `event` and queues a delivery to exactly `webhook_ids`.
pub async fn append_for(
    tx: &mut Tx,
    event: &NewEvent,
    webhook_ids: &[Uuid],
) -> Result<(), sqlx::Error> {
    run!(
        tx,
        execute,
        sqlx::query(
            "INSERT INTO events (id, organization_id, event_type, payload, created_at) \
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(event.id)
        .bind(event.organization.id)
        .bind(event.name.as_ref())
        .bind(JsonText(event.payload.as_str()))
        .bind(event.created_at)
    )?;
    deliveries::enqueue(tx, event.id, &event.name, webhook_ids, event.created_at).await
}

/// The organization's events, newest first; with `types`, only events of those types. The
/// filter is part of the query, so that a page holds `limit` events whatever it leaves out.
pub async fn list(
    conn: &mut dyn Conn,
    org_id: Uuid,
    types: Option<&[String]>,
    before: Option<Uuid>,
    limit: i64,
) -> Result<Vec<StoredEvent>, sqlx::Error> {
    let sql = format!(
        "SELECT id, payload FROM events WHERE organization_id = $1 \
         AND ($2 IS NULL OR {}) AND ($3 IS NULL OR id < $3) \
         ORDER BY id DESC LIMIT $4",
        in_text_list(conn, "event_type", "$2")
    );
    let types = types.map(|names| TextList(names.to_vec()));
    let rows: Vec<(Uuid, JsonText)> = run!(
        conn,
        fetch_all,
        sqlx::query_as(&sql).bind(org_id).bind(types).bind(before).bind(limit)
    )?;
    Ok(rows.into_iter().map(|(id, payload)| StoredEvent { id, payload: payload.0 }).collect())
}
