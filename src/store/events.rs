//! The append-only event log. Every change that emits an event appends it here inside the
//! change's own transaction, so the log never misses or invents a change.

use sqlx::AnyConnection;
use uuid::Uuid;

use super::{deliveries, get_uuid, to_millis, webhooks};
use crate::domain::event::NewEvent;

#[derive(Debug, Clone)]
pub struct StoredEvent {
    pub id: Uuid,
    /// The webhook body, exactly as delivered.
    pub payload: String,
}

/// Appends `event` and queues one delivery for each active webhook of its organization that
/// subscribes to it, in the caller's transaction.
pub async fn append(conn: &mut AnyConnection, event: &NewEvent) -> Result<(), sqlx::Error> {
    let subscribers = webhooks::subscribers(conn, event.organization.id, event.name).await?;
    append_for(conn, event, &subscribers).await
}

/// Appends `event` and queues a delivery to exactly `webhook_ids`.
pub async fn append_for(
    conn: &mut AnyConnection,
    event: &NewEvent,
    webhook_ids: &[Uuid],
) -> Result<(), sqlx::Error> {
    insert(conn, event).await?;
    if webhook_ids.is_empty() {
        return Ok(());
    }
    deliveries::enqueue(conn, event.id, event.name, webhook_ids, event.created_at).await?;
    if conn.backend_name() == "PostgreSQL" {
        // Sent at commit, and only if the transaction commits: every instance's worker wakes.
        sqlx::query("SELECT pg_notify($1, '')")
            .bind(crate::delivery::worker::NOTIFY_CHANNEL)
            .execute(conn)
            .await?;
    }
    Ok(())
}

async fn insert(conn: &mut AnyConnection, event: &NewEvent) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO events (id, organization_id, event_type, payload, created_at) \
         VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(event.id.to_string())
    .bind(event.organization.id.to_string())
    .bind(event.name)
    .bind(&event.payload)
    .bind(to_millis(event.created_at))
    .execute(conn)
    .await?;
    Ok(())
}

/// The organization's events, newest first.
pub async fn list(
    conn: &mut AnyConnection,
    org_id: Uuid,
    event_type: Option<&str>,
    before: Option<Uuid>,
    limit: i64,
) -> Result<Vec<StoredEvent>, sqlx::Error> {
    use sqlx::Row;
    sqlx::query(
        "SELECT id, payload FROM events WHERE organization_id = $1 \
         AND ($2 = '' OR event_type = $2) AND ($3 = '' OR id < $3) ORDER BY id DESC LIMIT $4",
    )
    .bind(org_id.to_string())
    .bind(event_type.unwrap_or("").to_owned())
    .bind(before.map(|b| b.to_string()).unwrap_or_default())
    .bind(limit)
    .fetch_all(conn)
    .await?
    .iter()
    .map(|row| Ok(StoredEvent { id: get_uuid(row, "id")?, payload: row.try_get("payload")? }))
    .collect()
}
