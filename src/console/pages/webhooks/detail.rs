//! One webhook: its state and settings, the actions on it (activate, test, rotate, delete,
//! edit), and the first page of its delivery log.

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use minijinja::context;
use uuid::Uuid;

use super::{deliveries, event_types, settings_body};
use crate::console::api;
use crate::console::form::{Form, Posted};
use crate::console::pages::{self, Ids, done, failed};
use crate::console::render::{self, Section};
use crate::console::session::Viewer;
use crate::error::ApiError;
use crate::http::webhooks;
use crate::state::AppState;

const NOTICES: &[(&str, &str)] = &[
    ("saved", "Webhook saved."),
    ("active", "Webhook activated."),
    ("inactive", "Webhook deactivated: nothing is sent to it until it is activated again."),
    ("test", "Test event queued: its delivery appears below."),
    ("redelivered", "Delivery queued again."),
    ("recovered", "Deliveries since then are being sent again."),
];

/// What the page shows beyond the webhook itself.
pub type Shown = pages::detail::Detail;

pub async fn page(
    State(state): State<AppState>,
    viewer: Viewer,
    Ids([org, webhook]): Ids<2>,
    Query(query): Query<pages::Shown>,
) -> Response {
    let shown = Shown::from_query(query);
    webhook_page(&state, &viewer, org, webhook, StatusCode::OK, shown).await
}

pub async fn webhook_page(
    state: &AppState,
    viewer: &Viewer,
    org_id: Uuid,
    webhook_id: Uuid,
    status: StatusCode,
    shown: Shown,
) -> Response {
    let path = api::path((org_id, webhook_id));
    let read = webhooks::read::get(api::state(state), viewer.principal.clone(), path);
    let (org, webhook) = match pages::detail::org_and(state, viewer, org_id, &shown, read).await {
        Ok(found) => found,
        Err(page) => return *page,
    };
    let error = shown.error.as_ref();
    let log =
        match deliveries::log(state, viewer, org_id, webhook_id, shown.cursor.as_deref()).await {
            Ok(log) => log,
            Err(load) => return failed(load, error),
        };
    let types = match event_types(state, viewer, &webhook.events).await {
        Ok(types) => types,
        Err(load) => return failed(load, error),
    };
    let form = match &shown.form {
        Some(form) => context! {
            url => form.value("url"),
            events => form.values("events"),
            rateLimit => form.value("rateLimit"),
            since => form.value("since"),
        },
        None => context! {
            url => webhook.url.clone(),
            events => webhook.events.clone(),
            rateLimit => webhook.rate_limit.map(|n| n.to_string()).unwrap_or_default(),
            since => "",
        },
    };
    let values = context! {
        ..log,
        ..shown.values(NOTICES),
        ..context! {
            base => format!("/console/organizations/{org_id}/webhooks/{webhook_id}"),
            cursor => shown.cursor.clone(),
            webhook => render::of(&webhook),
            event_types => render::of(&types),
            form => form,
            org => render::of(&org),
        }
    };
    render::page(shown.status(status), "webhook.html", viewer, Section::Webhooks, values)
}

/// Back to the webhook's page after a form: with a notice, or with the API's refusal.
pub async fn answer(
    state: &AppState,
    viewer: &Viewer,
    (org, webhook): (Uuid, Uuid),
    form: Form,
    outcome: Result<&str, ApiError>,
) -> Response {
    match outcome {
        Ok(key) => done(&format!("/console/organizations/{org}/webhooks/{webhook}"), key),
        Err(error) => {
            let shown = Shown::refused(form, error);
            webhook_page(state, viewer, org, webhook, StatusCode::OK, shown).await
        }
    }
}

pub async fn edit(
    State(state): State<AppState>,
    Ids([org, webhook]): Ids<2>,
    Posted { viewer, form }: Posted,
) -> Response {
    let body = api::body(settings_body(&form, true));
    let path = api::path((org, webhook));
    let change = webhooks::update::update(api::state(&state), viewer.principal.clone(), path, body);
    let outcome = api::in_turn(&state, org, change).await.map(|_| "saved");
    answer(&state, &viewer, (org, webhook), form, outcome).await
}

pub async fn set_active(
    State(state): State<AppState>,
    Ids([org, webhook]): Ids<2>,
    Posted { viewer, form }: Posted,
) -> Response {
    let active = form.get("isActive") == Some("true");
    let body = api::body([("isActive", Some(serde_json::Value::Bool(active)))]);
    let path = api::path((org, webhook));
    let change = webhooks::update::update(api::state(&state), viewer.principal.clone(), path, body);
    let key = if active { "active" } else { "inactive" };
    let outcome = api::in_turn(&state, org, change).await.map(|_| key);
    answer(&state, &viewer, (org, webhook), Form::default(), outcome).await
}

pub async fn test(
    State(state): State<AppState>,
    Ids([org, webhook]): Ids<2>,
    Posted { viewer, .. }: Posted,
) -> Response {
    let path = api::path((org, webhook));
    let change = webhooks::test::test(api::state(&state), viewer.principal.clone(), path);
    let outcome = api::in_turn(&state, org, change).await.map(|_| "test");
    answer(&state, &viewer, (org, webhook), Form::default(), outcome).await
}

pub async fn rotate(
    State(state): State<AppState>,
    Ids([org, webhook]): Ids<2>,
    Posted { viewer, .. }: Posted,
) -> Response {
    let path = api::path((org, webhook));
    let change =
        webhooks::secrets::rotate_secret(api::state(&state), viewer.principal.clone(), path);
    match api::in_turn(&state, org, change).await {
        Ok(axum::Json(rotated)) => {
            let shown = Shown::secret(rotated.secret, "Secret rotated: here is the new one");
            webhook_page(&state, &viewer, org, webhook, StatusCode::OK, shown).await
        }
        Err(error) => answer(&state, &viewer, (org, webhook), Form::default(), Err(error)).await,
    }
}

pub async fn delete(
    State(state): State<AppState>,
    Ids([org, webhook]): Ids<2>,
    Posted { viewer, .. }: Posted,
) -> Response {
    let path = api::path((org, webhook));
    let change = webhooks::update::delete(api::state(&state), viewer.principal.clone(), path);
    match api::in_turn(&state, org, change).await {
        Ok(_) => done(&format!("/console/organizations/{org}/webhooks"), "deleted"),
        Err(error) => answer(&state, &viewer, (org, webhook), Form::default(), Err(error)).await,
    }
}
