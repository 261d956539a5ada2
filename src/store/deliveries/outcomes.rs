//! What attempt outcomes do to their webhooks: a success ends the webhook's failure streak; a
//! failure starts or extends it, and a delivery whose last attempt failed counts towards it
//! and is announced as `delivery.exhausted`. A `410 Gone`, or a streak of enough deliveries
//! over long enough, disables the webhook and announces `webhook.disabled`.
//!
//! The arithmetic is in SQL, on the webhook's row, which the first statement of each webhook
//! locks to the end of the transaction: recorders of several instances then take turns, each
//! sees the others' counts, and only the one whose update finds the webhook still active
//! disables it and writes the event. Webhooks are taken in ID order, so two recorders never
//! wait on each other in a circle.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::AttemptRecord;
use crate::domain::event::{
    Actor, DeliveryExhausted, DisabledReason, EventType, NewEvent, WebhookDisabled,
};
use crate::domain::retry::Next;
use crate::run;
use crate::store::{Tx, events, organizations, webhooks};

/// When a failing webhook is disabled: `deliveries` in a row failed every attempt, and its
/// first failure since the last success lies at least `after` back.
#[derive(Debug, Clone, Copy)]
pub struct HealthRules {
    pub deliveries: i64,
    pub after: chrono::Duration,
}

/// PostgreSQL: ends the failure streak of the webhooks whose deliveries in `moved` succeeded,
/// for a statement that has them as `moved (webhook_id, status)`; their rows are locked in ID
/// order, as [`apply`] takes them.
pub const HEAL_MOVED: &str = "UPDATE webhooks SET failing_since = NULL, failing_deliveries = 0 \
     WHERE id IN (SELECT id FROM webhooks WHERE failing_since IS NOT NULL \
       AND id IN (SELECT webhook_id FROM moved WHERE status = 'succeeded') \
       ORDER BY id FOR UPDATE)";

/// Applies the `results` whose deliveries moved on, in the recording transaction.
pub async fn apply(
    tx: &mut Tx,
    results: &[&AttemptRecord],
    schedule: &[std::time::Duration],
    rules: &HealthRules,
    now: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    let mut ordered: Vec<&AttemptRecord> = results.iter().copied().filter(|r| !r.abandon).collect();
    // Each webhook's rows in ID order (the lock order); its results in the order they
    // happened, so that the latest one says whether it is failing.
    ordered.sort_by_key(|r| (r.webhook_id, r.attempted_at, r.delivery_id));
    // A run of successes to one webhook heals it once.
    let mut healed: Option<uuid::Uuid> = None;
    for r in ordered {
        if r.succeeded {
            if healed != Some(r.webhook_id) {
                run!(
                    tx,
                    execute,
                    sqlx::query(&format!("{HEAL} WHERE id = $1 AND failing_since IS NOT NULL"))
                        .bind(r.webhook_id)
                )?;
                healed = Some(r.webhook_id);
            }
            continue;
        }
        healed = None;
        let exhausted = r.next(schedule) == Next::Failed;
        let error = r.error_text();
        let (count, since): (i32, DateTime<Utc>) = run!(
            tx,
            fetch_one,
            sqlx::query_as(
                "UPDATE webhooks SET failing_since = COALESCE(failing_since, $2), \
                 failing_deliveries = failing_deliveries + $3, last_error = $4, \
                 last_error_at = $2 WHERE id = $1 RETURNING failing_deliveries, failing_since",
            )
            .bind(r.webhook_id)
            .bind(r.attempted_at)
            .bind(i32::from(exhausted))
            .bind(error.as_deref())
        )?;
        if exhausted && !is_operational(&r.event_type) {
            announce_exhausted(tx, r, error.as_deref(), now).await?;
        }
        let reason = if r.gone() {
            Some(DisabledReason::Gone)
        } else {
            let failing = i64::from(count) >= rules.deliveries && now - since >= rules.after;
            failing.then_some(DisabledReason::Failing)
        };
        if let Some(reason) = reason {
            disable(tx, r.webhook_id, reason, error.as_deref(), now).await?;
        }
    }
    Ok(())
}

const HEAL: &str = "UPDATE webhooks SET failing_since = NULL, failing_deliveries = 0";

/// Operational events are about deliveries; a delivery of one is never announced again, or a
/// failing receiver of them would feed itself.
fn is_operational(event_type: &str) -> bool {
    EventType::OPERATIONAL.iter().any(|e| e.as_str() == event_type)
}

/// Makes the webhook inactive for `reason`, unless it is already, and says so: exactly once.
async fn disable(
    tx: &mut Tx,
    webhook_id: Uuid,
    reason: DisabledReason,
    last_error: Option<&str>,
    now: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    let disabled: Option<(Uuid, String)> = run!(
        tx,
        fetch_optional,
        sqlx::query_as(
            "UPDATE webhooks SET is_active = FALSE, disabled_reason = $2, disabled_at = $3, \
             updated_at = $3 WHERE id = $1 AND is_active AND deleted_at IS NULL \
             RETURNING organization_id, url",
        )
        .bind(webhook_id)
        .bind(reason.as_str())
        .bind(now)
    )?;
    let Some((org_id, url)) = disabled else { return Ok(()) };
    tracing::warn!(webhook = %webhook_id, reason = reason.as_str(), "webhook disabled");
    let data = WebhookDisabled { webhook_id, url: &url, reason, last_error };
    announce(tx, org_id, webhook_id, &data, now).await
}

async fn announce_exhausted(
    tx: &mut Tx,
    r: &AttemptRecord,
    last_error: Option<&str>,
    now: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    let org_id: Option<Uuid> = run!(
        tx,
        fetch_optional,
        sqlx::query_scalar("SELECT organization_id FROM webhooks WHERE id = $1").bind(r.webhook_id)
    )?;
    let Some(org_id) = org_id else { return Ok(()) };
    let data = DeliveryExhausted {
        webhook_id: r.webhook_id,
        delivery_id: r.delivery_id,
        event_id: r.event_id,
        event_type: &r.event_type,
        attempts: r.total_attempts + 1,
        last_error,
    };
    announce(tx, org_id, r.webhook_id, &data, now).await
}

/// Logs an event Roster itself causes and delivers it to the organization's subscribers other
/// than the webhook it is about.
async fn announce<D: crate::domain::event::EventData>(
    tx: &mut Tx,
    org_id: Uuid,
    about: Uuid,
    data: &D,
    now: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    let Some(org) = organizations::find(tx, org_id).await? else { return Ok(()) };
    let event = NewEvent::of(data, org.as_ref(), Actor::System, now);
    let mut subscribers = webhooks::subscribers(tx, org_id, &event.name).await?;
    subscribers.retain(|id| *id != about);
    events::append_for(tx, &event, &subscribers).await
}
