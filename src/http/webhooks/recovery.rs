//! Recovery after an outage: every delivery that failed since a given time gets a fresh
//! attempt chain.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use uuid::Uuid;

use super::access::ensure_active;
use super::views::Requeued;
use crate::domain::scope::Scope;
use crate::error::ApiResult;
use crate::http::access::{self, Hold};
use crate::http::body::{Prop, Rule, body_schema};
use crate::http::extract::{ApiPath, JsonObject};
use crate::http::principal::Principal;
use crate::http::validate::Fields;
use crate::http::views::ErrorBody;
use crate::state::AppState;
use crate::store::deliveries;
use crate::store::webhooks::Webhook;

const SINCE: Prop = Prop::required("since", Rule::DateTime).about(
    "Deliveries that failed at or after this time are attempted again. RFC 3339, with a year \
     from 0000 to 9999 in UTC.",
);
const RECOVER: &[Prop] = &[SINCE];
body_schema!(RecoverRequest = RECOVER);

/// Start a fresh attempt chain for every delivery of this webhook that failed at or after
/// `since`, for when a receiver was down for a while. Runs in batches of 500 deliveries, each
/// committed on its own: if the webhook is deactivated midway, the answer is `409` and the
/// batches already committed stay requeued.
#[utoipa::path(post, path = "/api/organizations/{organizationId}/webhooks/{webhookId}/recover",
    tag = "webhooks", security(("bearer" = []), ("oauth2" = ["webhooks:write"])),
    params(("organizationId" = Uuid, Path), ("webhookId" = Uuid, Path)),
    request_body = RecoverRequest,
    responses((status = 202, body = Requeued), (status = 400, body = ErrorBody),
               (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
               (status = 404, body = ErrorBody),
               (status = 409, body = ErrorBody, description = "The webhook is inactive")))]
pub async fn recover(
    State(state): State<AppState>,
    principal: Principal,
    ApiPath((org_id, webhook_id)): ApiPath<(Uuid, Uuid)>,
    JsonObject(body): JsonObject,
) -> ApiResult<(StatusCode, Json<Requeued>)> {
    let mut f = Fields::new(body, RECOVER);
    let since = f.timestamp(&SINCE);
    f.finish()?;

    // Failures recorded after the request began are not this recovery's to restart: a
    // restarted delivery failing again is not picked up a second time.
    let until = state.clock.now();
    let mut requeued = 0;
    loop {
        let mut tx = state.db.begin_write().await?;
        let (_, hook) = access::managed::<Webhook>(
            &mut tx,
            org_id,
            webhook_id,
            &principal,
            Scope::WebhooksWrite,
            "recover webhook deliveries",
            Hold::Row,
        )
        .await?;
        ensure_active(&hook)?;
        let now = state.clock.now().max(until);
        let batch = deliveries::recover(&mut tx, webhook_id, since, until, now).await?;
        tx.commit().await?;
        requeued += batch;
        if batch < deliveries::RECOVER_BATCH as u64 {
            return Ok((StatusCode::ACCEPTED, Json(Requeued { requeued })));
        }
    }
}
