//! One webhook: its state and settings, the actions on it (activate, test, rotate, delete,
//! edit), and the first page of its delivery log.

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use minijinja::context;
use uuid::Uuid;

use super::deliveries::{self, LogQuery};
use super::{chart, check_subscribable, event_types, settings_body, shown_webhook};
use crate::console::api;
use crate::console::form::Form;
use crate::console::pages::{done, notice};
use crate::console::render::{self, describe};
use crate::console::seat::{At, Seat, Submitted};
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
#[derive(Default)]
pub struct Shown {
    secret: Option<(String, &'static str)>,
    form: Option<Form>,
    error: Option<(StatusCode, String)>,
    done: Option<String>,
    cursor: Option<String>,
    status: Option<String>,
}

impl Shown {
    /// A signing secret, shown this once under `label`.
    pub fn secret(secret: String, label: &'static str) -> Self {
        Self { secret: Some((secret, label)), ..Self::default() }
    }

    /// A refused form, shown again with the API's error.
    pub fn refused(form: Form, error: ApiError) -> Self {
        Self { form: Some(form), error: Some(describe(error)), ..Self::default() }
    }
}

pub async fn page(
    State(state): State<AppState>,
    At(seat, [webhook]): At<1>,
    Query(query): Query<LogQuery>,
) -> Response {
    let status = query.status().map(str::to_owned);
    let shown = Shown { done: query.done, cursor: query.cursor, status, ..Shown::default() };
    webhook_page(&state, &seat, webhook, StatusCode::OK, shown).await
}

pub async fn webhook_page(
    state: &AppState,
    seat: &Seat,
    webhook_id: Uuid,
    status: StatusCode,
    shown: Shown,
) -> Response {
    let error = shown.error.as_ref();
    let org = match super::org_of(state, seat).await {
        Ok(org) => org,
        Err(load) => return seat.failed(load, error),
    };
    let webhook = match shown_webhook(state, seat, webhook_id).await {
        Ok(webhook) => webhook,
        Err(load) => return seat.failed(load, error),
    };
    let (cursor, filter) = (shown.cursor.as_deref(), shown.status.as_deref());
    let log = match deliveries::log(state, seat, webhook_id, cursor, filter).await {
        Ok(log) => log,
        Err(load) => return seat.failed(load, error),
    };
    let chart = match chart::chart(state, seat, webhook_id).await {
        Ok(chart) => chart,
        Err(load) => return seat.failed(load, error),
    };
    let types = match event_types(state, seat, &webhook.events).await {
        Ok(types) => types,
        Err(load) => return seat.failed(load, error),
    };
    // A refused edit is shown as typed; any other form (recover) keeps the webhook's settings
    // in the edit form, and its own field.
    let form = match &shown.form {
        Some(form) if form.get("url").is_some() => context! {
            url => form.value("url"),
            events => form.values("events"),
            rateLimit => form.value("rateLimit"),
            since => "",
        },
        other => context! {
            url => webhook.url.clone(),
            events => webhook.events.clone(),
            rateLimit => webhook.rate_limit.map(|n| n.to_string()).unwrap_or_default(),
            since => other.as_ref().map(|f| f.value("since").to_owned()).unwrap_or_default(),
        },
    };
    let status = shown.error.as_ref().map_or(status, |(status, _)| *status);
    let values = context! {
        ..log,
        ..context! {
            base => format!("{}/{webhook_id}", seat.home),
            chart => chart,
            webhook => render::of(&webhook),
            event_types => render::of(&types),
            secret => shown.secret.as_ref().map(|(secret, _)| secret),
            secret_label => shown.secret.as_ref().map(|(_, label)| *label),
            form => form,
            notice => notice(shown.done.as_deref(), NOTICES),
            error => shown.error.as_ref().map(|(_, message)| message),
            org => org,
        }
    };
    render::seated(status, "webhook.html", seat, values)
}

/// Back to the webhook's page after a form: with a notice, or with the API's refusal.
pub async fn answer(
    state: &AppState,
    seat: &Seat,
    webhook: Uuid,
    form: Form,
    outcome: Result<&str, ApiError>,
) -> Response {
    match outcome {
        Ok(key) => done(&format!("{}/{webhook}", seat.home), key),
        Err(error) => {
            let shown = Shown::refused(form, error);
            webhook_page(state, seat, webhook, StatusCode::OK, shown).await
        }
    }
}

/// Runs `change` on a webhook the seat shows, in the organization's turn.
pub async fn on_shown<T>(
    state: &AppState,
    seat: &Seat,
    webhook: Uuid,
    change: impl std::future::Future<Output = Result<T, ApiError>>,
) -> Result<T, ApiError> {
    shown_webhook(state, seat, webhook).await?;
    api::in_turn(state, seat.org_id, change).await
}

pub async fn edit(
    State(state): State<AppState>,
    Submitted(seat, [webhook], form): Submitted<1>,
) -> Response {
    let outcome = async {
        check_subscribable(&seat, &form)?;
        let body = api::body(settings_body(&form, true));
        let path = api::path((seat.org_id, webhook));
        let change =
            webhooks::update::update(api::state(&state), seat.principal.clone(), path, body);
        on_shown(&state, &seat, webhook, change).await
    };
    let outcome = outcome.await.map(|_| "saved");
    answer(&state, &seat, webhook, form, outcome).await
}

pub async fn set_active(
    State(state): State<AppState>,
    Submitted(seat, [webhook], form): Submitted<1>,
) -> Response {
    let active = form.get("isActive") == Some("true");
    let body = api::body([("isActive", Some(serde_json::Value::Bool(active)))]);
    let path = api::path((seat.org_id, webhook));
    let change = webhooks::update::update(api::state(&state), seat.principal.clone(), path, body);
    let key = if active { "active" } else { "inactive" };
    let outcome = on_shown(&state, &seat, webhook, change).await.map(|_| key);
    answer(&state, &seat, webhook, Form::default(), outcome).await
}

pub async fn test(
    State(state): State<AppState>,
    Submitted(seat, [webhook], _): Submitted<1>,
) -> Response {
    let path = api::path((seat.org_id, webhook));
    let change = webhooks::test::test(api::state(&state), seat.principal.clone(), path);
    let outcome = on_shown(&state, &seat, webhook, change).await.map(|_| "test");
    answer(&state, &seat, webhook, Form::default(), outcome).await
}

pub async fn rotate(
    State(state): State<AppState>,
    Submitted(seat, [webhook], _): Submitted<1>,
) -> Response {
    let path = api::path((seat.org_id, webhook));
    let change = webhooks::secrets::rotate_secret(api::state(&state), seat.principal.clone(), path);
    match on_shown(&state, &seat, webhook, change).await {
        Ok(axum::Json(rotated)) => {
            let shown = Shown::secret(rotated.secret, "Secret rotated: here is the new one");
            webhook_page(&state, &seat, webhook, StatusCode::OK, shown).await
        }
        Err(error) => answer(&state, &seat, webhook, Form::default(), Err(error)).await,
    }
}

/// Deleting is the console's only: a portal's customer pauses a webhook instead.
pub async fn delete(
    State(state): State<AppState>,
    Submitted(seat, [webhook], _): Submitted<1>,
) -> Response {
    let path = api::path((seat.org_id, webhook));
    let change = webhooks::update::delete(api::state(&state), seat.principal.clone(), path);
    match on_shown(&state, &seat, webhook, change).await {
        Ok(_) => done(&seat.home, "deleted"),
        Err(error) => answer(&state, &seat, webhook, Form::default(), Err(error)).await,
    }
}
