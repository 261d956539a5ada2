//! Rotating a webhook's signing secret. The old secret keeps signing for the configured
//! overlap ([`crate::domain::secret::retired_at`]), so receivers can switch without a gap.

use axum::Json;
use axum::extract::State;
use uuid::Uuid;

use super::views::WebhookWithSecret;
use crate::domain::event::{NewEvent, WebhookSecretRotated};
use crate::domain::scope::Scope;
use crate::domain::secret;
use crate::error::ApiResult;
use crate::http::access::{self, Hold};
use crate::http::extract::ApiPath;
use crate::http::principal::Principal;
use crate::http::views::ErrorBody;
use crate::state::AppState;
use crate::store::events;
use crate::store::webhooks::{self, Webhook};

/// Replace the signing secret. For 24 hours deliveries carry signatures by both secrets in
/// `webhook-signature`; `X-Webhook-Signature` uses the new one.
#[utoipa::path(post, path = "/api/organizations/{organizationId}/webhooks/{webhookId}/rotate-secret",
    tag = "webhooks", security(("bearer" = []), ("oauth2" = ["webhooks:write"])),
    params(("organizationId" = Uuid, Path), ("webhookId" = Uuid, Path)),
    responses((status = 200, body = WebhookWithSecret), (status = 400, body = ErrorBody),
               (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
               (status = 404, body = ErrorBody)))]
pub async fn rotate_secret(
    State(state): State<AppState>,
    principal: Principal,
    ApiPath((org_id, webhook_id)): ApiPath<(Uuid, Uuid)>,
) -> ApiResult<Json<WebhookWithSecret>> {
    let secret = secret::webhook_secret();
    let sealed = state.secret_box.seal(&secret)?;
    let mut tx = state.db.begin_write().await?;
    let (org, mut hook) = access::managed::<Webhook>(
        &mut tx,
        org_id,
        webhook_id,
        &principal,
        Scope::WebhooksWrite,
        "rotate webhook secrets",
        Hold::Row,
    )
    .await?;
    let now = state.clock.now();
    let retired_at = secret::retired_at(now, state.config.oauth_secret_overlap);
    webhooks::rotate_secret(&mut tx, hook.id, &sealed, retired_at, now).await?;
    let data = WebhookSecretRotated { webhook_id: hook.id, previous_secret_expires_at: retired_at };
    events::append(&mut tx, &NewEvent::of(&data, org.as_ref(), principal.actor(), now)).await?;
    tx.commit().await?;
    hook.updated_at = now;
    Ok(Json(WebhookWithSecret::new(hook.into(), secret)))
}
