//! What a webhook row holds beside its url and subscriptions: how its requests are made, and
//! its endpoint's health.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::Tx;
use crate::domain::event::DisabledReason;
use crate::run;

/// How a webhook's requests are made, beyond its url and secret.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DeliverySettings {
    /// The names of its custom headers, as given.
    pub header_names: Vec<String>,
    /// Its custom headers, name to value, sealed: their values may be credentials.
    pub headers_sealed: Option<String>,
    /// Deliveries per second at most; `None` for no limit.
    pub rate_limit: Option<i32>,
}

/// The health of a webhook's endpoint: its failure streak, its last error, and why Roster
/// disabled it, if it did. Making the webhook active again clears it.
#[derive(Debug, Clone, Default, serde::Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Health {
    /// Why Roster disabled it: `gone` (the receiver answered 410), `failing` (its
    /// deliveries kept failing), or null when Roster did not. Cleared when it is re-enabled.
    pub disabled_reason: Option<DisabledReason>,
    /// When Roster disabled it.
    pub disabled_at: Option<DateTime<Utc>>,
    /// Since when every attempt has failed: the first failure since the last success, null
    /// while the latest attempt succeeded.
    pub failing_since: Option<DateTime<Utc>>,
    /// Deliveries in a row that failed every attempt.
    pub failing_deliveries: i32,
    /// What the latest failed attempt got: `HTTP 503`, `timeout`, `connection_failed`, …
    pub last_error: Option<String>,
    pub last_error_at: Option<DateTime<Utc>>,
}

/// Header names are HTTP tokens, which hold no comma: stored joined by commas.
pub(super) fn split_names(joined: &str) -> Vec<String> {
    joined.split(',').filter(|n| !n.is_empty()).map(str::to_owned).collect()
}

/// Forgets the webhook's failures and why it was disabled: it is starting afresh.
pub async fn restart_health(tx: &mut Tx, id: Uuid) -> Result<(), sqlx::Error> {
    run!(
        tx,
        execute,
        sqlx::query(
            "UPDATE webhooks SET disabled_reason = NULL, disabled_at = NULL, \
             failing_since = NULL, failing_deliveries = 0, last_error = NULL, \
             last_error_at = NULL WHERE id = $1",
        )
        .bind(id)
    )?;
    Ok(())
}
