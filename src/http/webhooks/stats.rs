//! How a webhook's deliveries of the last day turned out, hour by hour: what its page charts,
//! and what a dashboard can poll.

use axum::Json;
use axum::extract::State;
use chrono::{DateTime, Duration, DurationRound, Utc};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::error::{ApiError, ApiResult};
use crate::http::extract::ApiPath;
use crate::http::principal::Principal;
use crate::http::views::ErrorBody;
use crate::state::AppState;
use crate::store::deliveries::{self, HourCounts};

/// Hours the stats cover, the current one included.
pub const HOURS: usize = 24;

/// A webhook's deliveries of the last 24 hours, counted per hour by their state now.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DeliveryStats {
    /// The start of the first hour (a whole UTC hour).
    pub since: DateTime<Utc>,
    /// The end of the last hour, the current one: an hour after its start.
    pub until: DateTime<Utc>,
    /// 24 hours, oldest first.
    pub hours: Vec<HourStats>,
    /// The same counts over the whole day.
    pub total: Counts,
}

#[derive(Serialize, ToSchema)]
pub struct HourStats {
    /// The start of the hour; deliveries made from then until an hour later count here.
    pub start: DateTime<Utc>,
    #[serde(flatten)]
    pub counts: Counts,
}

/// Deliveries by state: those that succeeded, failed every attempt, or are still being tried.
#[derive(Serialize, ToSchema, Clone, Copy, Default)]
pub struct Counts {
    pub succeeded: i64,
    pub failed: i64,
    pub pending: i64,
}

impl From<HourCounts> for Counts {
    fn from(c: HourCounts) -> Self {
        Self { succeeded: c.succeeded, failed: c.failed, pending: c.pending }
    }
}

/// The webhook's deliveries of the last 24 hours (the current hour and the 23 before it), by
/// the hour they were made in and the state they are in now.
#[utoipa::path(get,
    path = "/api/organizations/{organizationId}/webhooks/{webhookId}/delivery-stats",
    tag = "webhooks", security(("bearer" = []), ("oauth2" = ["webhooks:read"])),
    params(("organizationId" = Uuid, Path), ("webhookId" = Uuid, Path)),
    responses((status = 200, body = DeliveryStats), (status = 400, body = ErrorBody),
               (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
               (status = 404, body = ErrorBody)))]
pub async fn delivery_stats(
    State(state): State<AppState>,
    principal: Principal,
    ApiPath((org_id, webhook_id)): ApiPath<(Uuid, Uuid)>,
) -> ApiResult<Json<DeliveryStats>> {
    let mut conn = state.db.acquire().await?;
    super::access::check_delivery_reader(&mut conn, org_id, webhook_id, &principal).await?;
    let hour = Duration::hours(1);
    let this_hour =
        state.clock.now().duration_trunc(hour).map_err(|e| ApiError::Internal(e.into()))?;
    let since = this_hour - hour * (HOURS as i32 - 1);
    let counts = deliveries::by_hour(&mut conn, webhook_id, since, HOURS).await?;
    let mut total = Counts::default();
    let hours = (0..)
        .zip(counts)
        .map(|(i, c)| {
            total.succeeded += c.succeeded;
            total.failed += c.failed;
            total.pending += c.pending;
            HourStats { start: since + hour * i, counts: c.into() }
        })
        .collect();
    Ok(Json(DeliveryStats { since, until: this_hour + hour, hours, total }))
}
