//! Webhook endpoints and their subscriptions. Secrets are stored sealed (see `crate::crypto`).

use chrono::{DateTime, Utc};
use sqlx::AnyConnection;
use sqlx::any::AnyRow;
use uuid::Uuid;

use super::{get_time, get_uuid, to_millis};
use crate::domain::event::EventType;

#[derive(Debug, Clone)]
pub struct Webhook {
    pub id: Uuid,
    pub organization_id: Uuid,
    pub url: String,
    pub events: Vec<EventType>,
    pub is_active: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

const COLUMNS: &str = "id, organization_id, url, is_active, created_at, updated_at";

fn from_row(row: &AnyRow) -> Result<Webhook, sqlx::Error> {
    use sqlx::Row;
    Ok(Webhook {
        id: get_uuid(row, "id")?,
        organization_id: get_uuid(row, "organization_id")?,
        url: row.try_get("url")?,
        events: Vec::new(),
        is_active: row.try_get::<i64, _>("is_active")? != 0,
        created_at: get_time(row, "created_at")?,
        updated_at: get_time(row, "updated_at")?,
    })
}

async fn load_events(conn: &mut AnyConnection, hook: &mut Webhook) -> Result<(), sqlx::Error> {
    let names: Vec<String> =
        sqlx::query_scalar("SELECT event_type FROM webhook_events WHERE webhook_id = $1")
            .bind(hook.id.to_string())
            .fetch_all(conn)
            .await?;
    let mut events: Vec<EventType> = names.iter().filter_map(|n| EventType::parse(n)).collect();
    // Catalog order, so responses are stable.
    events.sort_by_key(|e| EventType::ALL.iter().position(|x| x == e));
    hook.events = events;
    Ok(())
}

async fn replace_events(conn: &mut AnyConnection, hook: &Webhook) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM webhook_events WHERE webhook_id = $1")
        .bind(hook.id.to_string())
        .execute(&mut *conn)
        .await?;
    for event in &hook.events {
        sqlx::query(
            "INSERT INTO webhook_events (webhook_id, organization_id, event_type) VALUES ($1, $2, $3)",
        )
        .bind(hook.id.to_string())
        .bind(hook.organization_id.to_string())
        .bind(event.as_str())
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}

/// Stores a new webhook; `oauth_app` is the app whose own token created it, if one did.
pub async fn insert(
    conn: &mut AnyConnection,
    hook: &Webhook,
    sealed_secret: &str,
    oauth_app: Option<Uuid>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO webhooks (id, organization_id, url, is_active, secret_sealed, created_at, \
         updated_at, oauth_app_id) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(hook.id.to_string())
    .bind(hook.organization_id.to_string())
    .bind(&hook.url)
    .bind(i64::from(hook.is_active))
    .bind(sealed_secret)
    .bind(to_millis(hook.created_at))
    .bind(to_millis(hook.updated_at))
    .bind(oauth_app.map(|a| a.to_string()))
    .execute(&mut *conn)
    .await?;
    replace_events(conn, hook).await
}

/// Deactivates the live webhooks an app created; they get no further deliveries.
pub async fn deactivate_for_app(
    conn: &mut AnyConnection,
    app_id: Uuid,
    now: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE webhooks SET is_active = 0, updated_at = $2 \
         WHERE oauth_app_id = $1 AND is_active = 1 AND deleted_at IS NULL",
    )
    .bind(app_id.to_string())
    .bind(to_millis(now))
    .execute(conn)
    .await?;
    Ok(())
}

/// A webhook of the organization that has not been deleted.
pub async fn find(
    conn: &mut AnyConnection,
    org_id: Uuid,
    id: Uuid,
) -> Result<Option<Webhook>, sqlx::Error> {
    let row = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM webhooks WHERE organization_id = $1 AND id = $2 AND deleted_at IS NULL"
    ))
    .bind(org_id.to_string())
    .bind(id.to_string())
    .fetch_optional(&mut *conn)
    .await?;
    let Some(row) = row else { return Ok(None) };
    let mut hook = from_row(&row)?;
    load_events(conn, &mut hook).await?;
    Ok(Some(hook))
}

pub async fn list(
    conn: &mut AnyConnection,
    org_id: Uuid,
    before: Option<Uuid>,
    limit: i64,
) -> Result<Vec<Webhook>, sqlx::Error> {
    let rows = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM webhooks WHERE organization_id = $1 AND deleted_at IS NULL \
         AND ($2 = '' OR id < $2) ORDER BY id DESC LIMIT $3"
    ))
    .bind(org_id.to_string())
    .bind(before.map(|b| b.to_string()).unwrap_or_default())
    .bind(limit)
    .fetch_all(&mut *conn)
    .await?;
    let mut hooks = rows.iter().map(from_row).collect::<Result<Vec<_>, _>>()?;
    for hook in &mut hooks {
        load_events(conn, hook).await?;
    }
    Ok(hooks)
}

pub async fn update(conn: &mut AnyConnection, hook: &Webhook) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE webhooks SET url = $2, is_active = $3, updated_at = $4 WHERE id = $1")
        .bind(hook.id.to_string())
        .bind(&hook.url)
        .bind(i64::from(hook.is_active))
        .bind(to_millis(hook.updated_at))
        .execute(&mut *conn)
        .await?;
    replace_events(conn, hook).await
}

/// Serialises changes to one webhook: read-modify-write handlers take this first, so two
/// concurrent edits cannot overwrite each other's fields.
pub async fn lock(conn: &mut AnyConnection, id: Uuid) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE webhooks SET id = id WHERE id = $1")
        .bind(id.to_string())
        .execute(conn)
        .await?;
    Ok(())
}

pub async fn mark_deleted(
    conn: &mut AnyConnection,
    id: Uuid,
    now: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE webhooks SET deleted_at = $2, is_active = 0, updated_at = $2 WHERE id = $1",
    )
    .bind(id.to_string())
    .bind(to_millis(now))
    .execute(conn)
    .await?;
    Ok(())
}

/// Makes `sealed` the current secret; the old one keeps signing until `overlap_until`.
pub async fn rotate_secret(
    conn: &mut AnyConnection,
    id: Uuid,
    sealed: &str,
    overlap_until: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE webhooks SET previous_secret_sealed = secret_sealed, \
         previous_secret_expires_at = $3, secret_sealed = $2, updated_at = $4 WHERE id = $1",
    )
    .bind(id.to_string())
    .bind(sealed)
    .bind(to_millis(overlap_until))
    .bind(to_millis(now))
    .execute(conn)
    .await?;
    Ok(())
}

/// IDs of the organization's live, active webhooks subscribed to `event_type`.
pub async fn subscribers(
    conn: &mut AnyConnection,
    org_id: Uuid,
    event_type: &str,
) -> Result<Vec<Uuid>, sqlx::Error> {
    let ids: Vec<String> = sqlx::query_scalar(
        "SELECT w.id FROM webhook_events e JOIN webhooks w ON w.id = e.webhook_id \
         WHERE e.organization_id = $1 AND e.event_type = $2 \
         AND w.is_active = 1 AND w.deleted_at IS NULL",
    )
    .bind(org_id.to_string())
    .bind(event_type)
    .fetch_all(conn)
    .await?;
    Ok(ids.iter().filter_map(|id| Uuid::parse_str(id).ok()).collect())
}
