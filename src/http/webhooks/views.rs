//! What the webhook routes answer. A signing secret appears only in [`WebhookWithSecret`],
//! on creation and rotation.

use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::store::deliveries::{Attempt, Delivery, DeliveryStatus};
use crate::store::webhooks::{Health, Webhook};

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct WebhookView {
    pub id: Uuid,
    pub organization_id: Uuid,
    pub url: String,
    pub events: Vec<String>,
    pub is_active: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// The names of its custom headers; their values are never shown.
    pub header_names: Vec<String>,
    /// Deliveries per second at most; null for no limit.
    pub rate_limit: Option<i32>,
    #[serde(flatten)]
    pub health: Health,
}

impl From<Webhook> for WebhookView {
    fn from(w: Webhook) -> Self {
        Self {
            id: w.id,
            organization_id: w.organization_id,
            url: w.url,
            events: w.events.iter().map(|e| e.as_str().to_owned()).collect(),
            is_active: w.is_active,
            created_at: w.created_at,
            updated_at: w.updated_at,
            header_names: w.delivery.header_names,
            rate_limit: w.delivery.rate_limit,
            health: w.health,
        }
    }
}

/// A webhook with its signing secret, which is shown only here. Exactly the original API
/// page's example response, in its order: the webhook's read (`WebhookView`) shows the rest.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct WebhookWithSecret {
    pub id: Uuid,
    pub organization_id: Uuid,
    pub url: String,
    pub events: Vec<String>,
    pub is_active: bool,
    #[schema(example = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")]
    pub secret: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl WebhookWithSecret {
    pub fn new(webhook: WebhookView, secret: String) -> Self {
        Self {
            id: webhook.id,
            organization_id: webhook.organization_id,
            url: webhook.url,
            events: webhook.events,
            is_active: webhook.is_active,
            secret,
            created_at: webhook.created_at,
            updated_at: webhook.updated_at,
        }
    }
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AttemptView {
    pub number: i64,
    pub attempted_at: DateTime<Utc>,
    pub duration_ms: i64,
    /// The receiver's HTTP status, when it answered.
    pub status_code: Option<i64>,
    /// What went wrong without an answer: timeout, connection_failed, tls_failure, …
    pub error: Option<String>,
    /// The first 4 KiB of the receiver's answer.
    pub response_body: Option<String>,
}

impl From<Attempt> for AttemptView {
    fn from(a: Attempt) -> Self {
        Self {
            number: a.number,
            attempted_at: a.attempted_at,
            duration_ms: a.duration_ms,
            status_code: a.status_code,
            error: a.error,
            response_body: a.response_body,
        }
    }
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DeliveryView {
    pub id: Uuid,
    pub webhook_id: Uuid,
    pub event_id: Uuid,
    pub event: String,
    pub status: DeliveryStatus,
    pub next_attempt_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// The latest attempts (at most 8), oldest first; every one of them is at
    /// `…/deliveries/{deliveryId}/attempts`.
    pub attempts: Vec<AttemptView>,
    /// How many attempts there have been in all, redeliveries included.
    pub attempt_count: i64,
}

impl From<Delivery> for DeliveryView {
    fn from(d: Delivery) -> Self {
        Self {
            id: d.id,
            webhook_id: d.webhook_id,
            event_id: d.event_id,
            event: d.event_type,
            status: d.status,
            next_attempt_at: d.next_attempt_at,
            created_at: d.created_at,
            updated_at: d.updated_at,
            attempts: d.attempts.into_iter().map(AttemptView::from).collect(),
            attempt_count: d.attempt_count,
        }
    }
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Requeued {
    /// Deliveries given a fresh attempt chain.
    pub requeued: u64,
}
