//! The append-only event log. Every change that emits an event appends it here inside the
//! change's own transaction, so the log never misses or invents a change.

use uuid::Uuid;

use super::{Conn, JsonText, TextList, Tx, deliveries, in_text_list, webhooks};
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
    let subscribers = webhooks::subscribers(tx, event.organization.id, event.name).await?;
    append_for(tx, event, &subscribers).await
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
        .bind(event.name)
        .bind(JsonText(event.payload.as_str()))
        .bind(event.created_at)
    )?;
    deliveries::enqueue(tx, event.id, event.name, webhook_ids, event.created_at).await
}

/// The organization's events, newest first; with `types`, only events of those types. The
/// filter is part of the query, so that a page holds `limit` events whatever it leaves out.
pub async fn list(
    conn: &mut dyn Conn,
    org_id: Uuid,
    types: Option<&[&str]>,
    before: Option<Uuid>,
    limit: i64,
) -> Result<Vec<StoredEvent>, sqlx::Error> {
    let sql = format!(
        "SELECT id, payload FROM events WHERE organization_id = $1 \
         AND ($2 IS NULL OR {}) AND ($3 IS NULL OR id < $3) \
         ORDER BY id DESC LIMIT $4",
        in_text_list(conn, "event_type", "$2")
    );
    let types = types.map(|names| TextList(names.iter().map(|&n| n.to_owned()).collect()));
    let rows: Vec<(Uuid, JsonText)> = run!(
        conn,
        fetch_all,
        sqlx::query_as(&sql).bind(org_id).bind(types).bind(before).bind(limit)
    )?;
    Ok(rows.into_iter().map(|(id, payload)| StoredEvent { id, payload: payload.0 }).collect())
}
