//! Webhook endpoints and their subscriptions. Secrets are stored sealed (see `crate::crypto`).
//!
//! A webhook made or last changed with an OAuth token is controlled by the token's app and, for
//! a token acting for a person, by that person's authorization; when either access ends it is
//! orphaned: inactive until a change sets its url. The writers that end an access lock the app
//! (or the membership) before the webhooks, as every change with a token does.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::webhook_settings::split_names;
pub use super::webhook_settings::{DeliverySettings, Health, restart_health};
use super::{Conn, Tx, for_update};
use crate::domain::event::{DisabledReason, EventName};
use crate::run;

#[derive(Debug, Clone)]
pub struct Webhook {
    pub id: Uuid,
    pub organization_id: Uuid,
    pub url: String,
    pub events: Vec<EventName>,
    pub is_active: bool,
    /// The OAuth app whose token made or last changed it, if one did.
    pub oauth_app_id: Option<Uuid>,
    /// The person that token acted for, if it acted for one.
    pub oauth_user_id: Option<Uuid>,
    /// When the access of whoever controlled it ended.
    pub orphaned_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub delivery: DeliverySettings,
    pub health: Health,
}

impl Webhook {
    /// Its event types' names, in catalog order.
    pub fn event_names(&self) -> Vec<&str> {
        self.events.iter().map(EventName::as_str).collect()
    }

    /// Who controls it, and whether that access has ended.
    pub fn control(&self) -> (Option<Uuid>, Option<Uuid>, Option<DateTime<Utc>>) {
        (self.oauth_app_id, self.oauth_user_id, self.orphaned_at)
    }
}

#[derive(sqlx::FromRow)]
struct Row {
    id: Uuid,
    organization_id: Uuid,
    url: String,
    is_active: bool,
    oauth_app_id: Option<Uuid>,
    oauth_user_id: Option<Uuid>,
    orphaned_at: Option<DateTime<Utc>>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
    header_names: String,
    headers_sealed: Option<String>,
    rate_limit: Option<i32>,
    disabled_reason: Option<String>,
    disabled_at: Option<DateTime<Utc>>,
    failing_since: Option<DateTime<Utc>>,
    failing_deliveries: i32,
    last_error: Option<String>,
    last_error_at: Option<DateTime<Utc>>,
}

impl From<Row> for Webhook {
    fn from(row: Row) -> Self {
        Webhook {
            id: row.id,
            organization_id: row.organization_id,
            url: row.url,
            events: Vec::new(),
            is_active: row.is_active,
            oauth_app_id: row.oauth_app_id,
            oauth_user_id: row.oauth_user_id,
            orphaned_at: row.orphaned_at,
            created_at: row.created_at,
            updated_at: row.updated_at,
            delivery: DeliverySettings {
                header_names: split_names(&row.header_names),
                headers_sealed: row.headers_sealed,
                rate_limit: row.rate_limit,
            },
            health: Health {
                disabled_reason: row.disabled_reason.as_deref().and_then(DisabledReason::parse),
                disabled_at: row.disabled_at,
                failing_since: row.failing_since,
                failing_deliveries: row.failing_deliveries,
                last_error: row.last_error,
                last_error_at: row.last_error_at,
            },
        }
    }
}

const COLUMNS: &str = "id, organization_id, url, is_active, oauth_app_id, oauth_user_id, \
     orphaned_at, created_at, updated_at, header_names, headers_sealed, rate_limit, \
     disabled_reason, disabled_at, failing_since, failing_deliveries, last_error, last_error_at";

async fn load_events(conn: &mut dyn Conn, hook: &mut Webhook) -> Result<(), sqlx::Error> {
    let names: Vec<String> = run!(
        conn,
        fetch_all,
        sqlx::query_scalar("SELECT event_type FROM webhook_events WHERE webhook_id = $1")
            .bind(hook.id)
    )?;
    let mut events: Vec<EventName> = names.iter().map(|n| EventName::from_stored(n)).collect();
    // Catalog order, so responses are stable.
    events.sort_by(|a, b| a.order().cmp(&b.order()));
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

pub async fn insert(tx: &mut Tx, hook: &Webhook, sealed_secret: &str) -> Result<(), sqlx::Error> {
    run!(
        tx,
        execute,
        sqlx::query(
            "INSERT INTO webhooks (id, organization_id, url, is_active, secret_sealed, \
             created_at, updated_at, oauth_app_id, oauth_user_id, header_names, headers_sealed, \
             rate_limit) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
        )
        .bind(hook.id)
        .bind(hook.organization_id)
        .bind(&hook.url)
        .bind(hook.is_active)
        .bind(sealed_secret)
        .bind(hook.created_at)
        .bind(hook.updated_at)
        .bind(hook.oauth_app_id)
        .bind(hook.oauth_user_id)
        .bind(hook.delivery.header_names.join(","))
        .bind(hook.delivery.headers_sealed.as_deref())
        .bind(hook.delivery.rate_limit)
    )?;
    replace_events(tx, hook).await
}

/// Orphans the live webhooks the app controls: its access has ended. (A change racing this
/// holds the app, or it changed the row before: PostgreSQL then re-checks the row as changed.)
pub async fn orphan_of_app(
    tx: &mut Tx,
    app_id: Uuid,
    now: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    run!(
        tx,
        execute,
        sqlx::query(&format!("{ORPHAN} WHERE oauth_app_id = $1 AND {LIVE_CONTROLLED}"))
            .bind(app_id)
            .bind(now)
    )?;
    Ok(())
}

/// Orphans the organization's live webhooks that the person's authorization of its apps
/// controls: they have left it. (A change with their token racing this holds their
/// membership, which the caller has deleted.)
pub async fn orphan_of_user(
    tx: &mut Tx,
    org_id: Uuid,
    user_id: Uuid,
    now: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    run!(
        tx,
        execute,
        sqlx::query(&format!(
            "{ORPHAN} WHERE organization_id = $3 AND oauth_user_id = $1 AND {LIVE_CONTROLLED}"
        ))
        .bind(user_id)
        .bind(now)
        .bind(org_id)
    )?;
    Ok(())
}

const ORPHAN: &str = "UPDATE webhooks SET is_active = FALSE, orphaned_at = $2, updated_at = $2";
const LIVE_CONTROLLED: &str = "deleted_at IS NULL AND orphaned_at IS NULL";

/// The app's live webhooks that are not orphaned, each locked to the end of the transaction.
pub async fn hold_of_app(tx: &mut Tx, app_id: Uuid) -> Result<Vec<Webhook>, sqlx::Error> {
    let sql = format!(
        "SELECT {COLUMNS} FROM webhooks WHERE oauth_app_id = $1 AND {LIVE_CONTROLLED}{}",
        for_update(tx)
    );
    let rows: Vec<Row> = run!(tx, fetch_all, sqlx::query_as(&sql).bind(app_id))?;
    let mut hooks: Vec<Webhook> = rows.into_iter().map(Webhook::from).collect();
    for hook in &mut hooks {
        load_events(tx, hook).await?;
    }
    Ok(hooks)
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

/// Writes the webhook's url, subscriptions, activity, controller, delivery settings and
/// `updated_at`.
pub async fn update(tx: &mut Tx, hook: &Webhook) -> Result<(), sqlx::Error> {
    run!(
        tx,
        execute,
        sqlx::query(
            "UPDATE webhooks SET url = $2, is_active = $3, updated_at = $4, oauth_app_id = $5, \
             oauth_user_id = $6, orphaned_at = $7, header_names = $8, headers_sealed = $9, \
             rate_limit = $10 WHERE id = $1",
        )
        .bind(hook.id)
        .bind(&hook.url)
        .bind(hook.is_active)
        .bind(hook.updated_at)
        .bind(hook.oauth_app_id)
        .bind(hook.oauth_user_id)
        .bind(hook.orphaned_at)
        .bind(hook.delivery.header_names.join(","))
        .bind(hook.delivery.headers_sealed.as_deref())
        .bind(hook.delivery.rate_limit)
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

/// IDs of the organization's live, active webhooks subscribed to `event_type`. (On
/// PostgreSQL, [`super::events::append`] selects the same ones inside its insert.)
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
