//! Webhook endpoints and their subscriptions. Secrets are stored sealed (see `crate::crypto`).

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::{Conn, Tx, for_update};
use crate::domain::event::EventType;
use crate::run;

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

#[derive(sqlx::FromRow)]
struct Row {
    id: Uuid,
    organization_id: Uuid,
    url: String,
    is_active: bool,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

impl From<Row> for Webhook {
    fn from(row: Row) -> Self {
        Webhook {
            id: row.id,
            organization_id: row.organization_id,
            url: row.url,
            events: Vec::new(),
            is_active: row.is_active,
            created_at: row.created_at,
            updated_at: row.updated_at,
        }
    }
}

const COLUMNS: &str = "id, organization_id, url, is_active, created_at, updated_at";

async fn load_events(conn: &mut dyn Conn, hook: &mut Webhook) -> Result<(), sqlx::Error> {
    let names: Vec<String> = run!(
        conn,
        fetch_all,
        sqlx::query_scalar("SELECT event_type FROM webhook_events WHERE webhook_id = $1")
            .bind(hook.id)
    )?;
    let mut events: Vec<EventType> = names.iter().filter_map(|n| EventType::parse(n)).collect();
    // Catalog order, so responses are stable.
    events.sort_by_key(|e| EventType::ALL.iter().position(|x| x == e));
    hook.events = events;
    Ok(())
}

async fn replace_events(tx: &mut Tx, hook: &Webhook) -> Result<(), sqlx::Error> {
    run!(
        tx,
        execute,
        sqlx::query("DELETE FROM webhook_events WHERE webhook_id = $1").bind(hook.id)
    )?;
    for event in &hook.events {
        run!(
            tx,
            execute,
            sqlx::query(
                "INSERT INTO webhook_events (webhook_id, organization_id, event_type) \
                 VALUES ($1, $2, $3)",
            )
            .bind(hook.id)
            .bind(hook.organization_id)
            .bind(event.as_str())
        )?;
    }
    Ok(())
}

/// Stores a new webhook; `oauth_app` is the app whose own token created it, if one did.
pub async fn insert(
    tx: &mut Tx,
    hook: &Webhook,
    sealed_secret: &str,
    oauth_app: Option<Uuid>,
) -> Result<(), sqlx::Error> {
    run!(
        tx,
        execute,
        sqlx::query(
            "INSERT INTO webhooks (id, organization_id, url, is_active, secret_sealed, \
             created_at, updated_at, oauth_app_id) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(hook.id)
        .bind(hook.organization_id)
        .bind(&hook.url)
        .bind(hook.is_active)
        .bind(sealed_secret)
        .bind(hook.created_at)
        .bind(hook.updated_at)
        .bind(oauth_app)
    )?;
    replace_events(tx, hook).await
}

/// Deactivates the live webhooks an app created; they get no further deliveries.
pub async fn deactivate_for_app(
    tx: &mut Tx,
    app_id: Uuid,
    now: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    run!(
        tx,
        execute,
        sqlx::query(
            "UPDATE webhooks SET is_active = FALSE, updated_at = $2 \
             WHERE oauth_app_id = $1 AND is_active AND deleted_at IS NULL",
        )
        .bind(app_id)
        .bind(now)
    )?;
    Ok(())
}

/// A webhook of the organization that has not been deleted.
pub async fn find(
    conn: &mut dyn Conn,
    org_id: Uuid,
    id: Uuid,
) -> Result<Option<Webhook>, sqlx::Error> {
    find_with(conn, org_id, id, "").await
}

/// The organization's webhook, its row locked until the transaction ends so that changes to
/// it run one after the other. A webhook of another organization is neither found nor locked.
pub async fn find_locked(
    conn: &mut dyn Conn,
    org_id: Uuid,
    id: Uuid,
) -> Result<Option<Webhook>, sqlx::Error> {
    let lock = for_update(conn);
    find_with(conn, org_id, id, lock).await
}

async fn find_with(
    conn: &mut dyn Conn,
    org_id: Uuid,
    id: Uuid,
    lock: &str,
) -> Result<Option<Webhook>, sqlx::Error> {
    let sql = format!(
        "SELECT {COLUMNS} FROM webhooks WHERE organization_id = $1 AND id = $2 \
         AND deleted_at IS NULL{lock}"
    );
    let row: Option<Row> = run!(conn, fetch_optional, sqlx::query_as(&sql).bind(org_id).bind(id))?;
    let Some(row) = row else { return Ok(None) };
    let mut hook = Webhook::from(row);
    load_events(conn, &mut hook).await?;
    Ok(Some(hook))
}

pub async fn list(
    conn: &mut dyn Conn,
    org_id: Uuid,
    before: Option<Uuid>,
    limit: i64,
) -> Result<Vec<Webhook>, sqlx::Error> {
    let sql = format!(
        "SELECT {COLUMNS} FROM webhooks WHERE organization_id = $1 AND deleted_at IS NULL \
         AND ($2 IS NULL OR id < $2) ORDER BY id DESC LIMIT $3"
    );
    let rows: Vec<Row> =
        run!(conn, fetch_all, sqlx::query_as(&sql).bind(org_id).bind(before).bind(limit))?;
    let mut hooks: Vec<Webhook> = rows.into_iter().map(Webhook::from).collect();
    for hook in &mut hooks {
        load_events(conn, hook).await?;
    }
    Ok(hooks)
}

pub async fn update(tx: &mut Tx, hook: &Webhook) -> Result<(), sqlx::Error> {
    run!(
        tx,
        execute,
        sqlx::query("UPDATE webhooks SET url = $2, is_active = $3, updated_at = $4 WHERE id = $1")
            .bind(hook.id)
            .bind(&hook.url)
            .bind(hook.is_active)
            .bind(hook.updated_at)
    )?;
    replace_events(tx, hook).await
}

pub async fn mark_deleted(tx: &mut Tx, id: Uuid, now: DateTime<Utc>) -> Result<(), sqlx::Error> {
    run!(
        tx,
        execute,
        sqlx::query(
            "UPDATE webhooks SET deleted_at = $2, is_active = FALSE, updated_at = $2 WHERE id = $1",
        )
        .bind(id)
        .bind(now)
    )?;
    Ok(())
}

/// Makes `sealed` the current secret; the old one keeps signing until `overlap_until`.
pub async fn rotate_secret(
    tx: &mut Tx,
    id: Uuid,
    sealed: &str,
    overlap_until: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    run!(
        tx,
        execute,
        sqlx::query(
            "UPDATE webhooks SET previous_secret_sealed = secret_sealed, \
             previous_secret_expires_at = $3, secret_sealed = $2, updated_at = $4 WHERE id = $1",
        )
        .bind(id)
        .bind(sealed)
        .bind(overlap_until)
        .bind(now)
    )?;
    Ok(())
}

/// IDs of the organization's live, active webhooks subscribed to `event_type`.
pub async fn subscribers(
    conn: &mut dyn Conn,
    org_id: Uuid,
    event_type: &str,
) -> Result<Vec<Uuid>, sqlx::Error> {
    run!(
        conn,
        fetch_all,
        sqlx::query_scalar(
            "SELECT w.id FROM webhook_events e JOIN webhooks w ON w.id = e.webhook_id \
             WHERE e.organization_id = $1 AND e.event_type = $2 \
             AND w.is_active AND w.deleted_at IS NULL",
        )
        .bind(org_id)
        .bind(event_type)
    )
}
