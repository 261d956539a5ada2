//! Creating a webhook: the original API page's route. The signing secret is in this answer
//! only; the database keeps it sealed.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use uuid::Uuid;

use super::access::{check_token_may_receive, hold_controller};
use super::views::{WebhookView, WebhookWithSecret};
use super::{fields, settings};
use crate::domain::event::{NewEvent, WebhookCreated, WebhookRef};
use crate::domain::scope::Scope;
use crate::domain::secret;
use crate::error::{ApiError, ApiResult};
use crate::http::access;
use crate::http::body::{Prop, body_schema};
use crate::http::extract::{ApiPath, JsonObject};
use crate::http::principal::Principal;
use crate::http::quota;
use crate::http::validate::Fields;
use crate::http::views::ErrorBody;
use crate::state::AppState;
use crate::store::webhooks::{self, Webhook};
use crate::store::{events, organizations};

const CREATE: &[Prop] = &[fields::URL, fields::EVENTS, settings::HEADERS, settings::RATE_LIMIT];
body_schema!(CreateWebhookRequest = CREATE);

/// Create a webhook endpoint for receiving events. Only OWNERS and ADMINS can create webhooks.
#[utoipa::path(post, path = "/api/organizations/{organizationId}/webhooks", tag = "webhooks",
    security(("bearer" = []), ("oauth2" = ["webhooks:write"])), params(("organizationId" = Uuid, Path)),
    request_body = CreateWebhookRequest,
    responses((status = 201, body = WebhookWithSecret,
               description = "Webhook created successfully. Returns webhook configuration with signing secret."),
               (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
               (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
               (status = 409, body = ErrorBody, description = "The organization's webhook quota is reached")))]
pub async fn create(
    State(state): State<AppState>,
    principal: Principal,
    ApiPath(org_id): ApiPath<Uuid>,
    JsonObject(body): JsonObject,
) -> ApiResult<(StatusCode, Json<WebhookWithSecret>)> {
    let mut f = Fields::new(body, CREATE);
    let url = f.take(&fields::URL);
    let url = fields::url(&mut f, url, state.config.webhook_allow_private);
    let events = f.take(&fields::EVENTS);
    let registered = fields::Registered::load_for(&state.db, events.as_ref()).await?;
    let events = fields::events(&mut f, events, &registered);
    let headers = settings::for_create(&mut f);
    let rate_limit = f.optional_int(&settings::RATE_LIMIT).and_then(|n| i32::try_from(n).ok());
    f.finish()?;
    registered.check_new_subscriptions(&events, &[]).map_err(ApiError::Validation)?;

    let secret = secret::webhook_secret();
    let sealed = state.secret_box.seal(&secret)?;
    let delivery = settings::seal(&state.secret_box, headers.as_ref(), rate_limit)?;
    let mut tx = state.db.begin_write().await?;
    let (org, _) =
        access::as_manager(&mut tx, org_id, &principal, Scope::WebhooksWrite, "create webhooks")
            .await?;
    // Checked first, locked second: a caller who may not touch the organization never locks
    // it. From here on a concurrent deletion waits for this webhook, or came first, and
    // concurrent creations are counted one after the other.
    if !organizations::lock(&mut tx, org.id).await? {
        return Err(ApiError::not_found("Organization"));
    }
    quota::webhook(&mut tx, &state.config.quotas, org.id).await?;
    let controller = hold_controller(&mut tx, &principal).await?;
    if let Some(controller) = &controller {
        check_token_may_receive(controller, &events)?;
    }
    let now = state.clock.now();
    let hook = Webhook {
        id: Uuid::now_v7(),
        organization_id: org.id,
        url,
        events,
        is_active: true,
        oauth_app_id: controller.as_ref().map(|c| c.app_id),
        oauth_user_id: controller.as_ref().and_then(|c| c.user_id),
        orphaned_at: None,
        created_at: now,
        updated_at: now,
        delivery,
        health: Default::default(),
    };
    webhooks::insert(&mut tx, &hook, &sealed).await?;
    let names = hook.event_names();
    let data = WebhookCreated(WebhookRef { webhook_id: hook.id, url: &hook.url, events: &names });
    events::append(&mut tx, &NewEvent::of(&data, org.as_ref(), principal.actor(), now)).await?;
    let view = WebhookView::from(hook);
    tx.commit().await?;
    Ok((StatusCode::CREATED, Json(WebhookWithSecret::new(view, secret))))
}
