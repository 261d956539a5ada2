//! An organization's webhooks: the list and adding one ([`list`]), one webhook and its
//! settings ([`detail`]), its delivery log ([`deliveries`]) and the chart of its last day
//! ([`chart`]).

pub mod chart;
pub mod deliveries;
pub mod detail;
pub mod list;

use serde_json::Value;

use crate::console::api;
use crate::console::form::Form;
use crate::console::seat::Seat;
use crate::error::ApiResult;
use crate::http::event_types::EventTypeView;
use crate::http::server_key::Caller;
use crate::state::AppState;

/// Pages of the catalogue read for the event picker at most: thousands of types.
const CATALOGUE_PAGES: usize = 50;

/// Every type the picker offers: the catalogue's (those the seat may subscribe to),
/// deprecated ones only where `keep` has them.
pub async fn event_types(
    state: &AppState,
    seat: &Seat,
    keep: &[String],
) -> ApiResult<Vec<EventTypeView>> {
    let offered = |t: &EventTypeView| {
        (!t.deprecated || keep.contains(&t.name))
            && seat.allowed_events().is_none_or(|allowed| allowed.contains(&t.name))
    };
    let types = catalogue(state, &seat.principal).await?;
    Ok(types.into_iter().filter(offered).collect())
}

/// The whole catalogue, page after page, as the API lists it to `principal`.
pub async fn catalogue(
    state: &AppState,
    principal: &crate::http::principal::Principal,
) -> ApiResult<Vec<EventTypeView>> {
    let mut types = Vec::new();
    let mut cursor = None;
    for _ in 0..CATALOGUE_PAGES {
        let mut query = api::page(cursor.as_deref(), &[]);
        query.limit = crate::http::extract::MAX_LIMIT;
        let caller = Caller::Token(principal.clone());
        let page = api::json(
            crate::http::event_types::read::list(api::state(state), caller, query).await,
        )?;
        types.extend(page.data);
        cursor = page.next_cursor;
        if cursor.is_none() {
            break;
        }
    }
    Ok(types)
}

/// The webhook fields a console form sets, as the API's body.
pub fn settings_body(form: &Form, clear_rate_limit: bool) -> Vec<(&'static str, Option<Value>)> {
    let events = form.all("events").into_iter().map(|e| Value::String(e.to_owned())).collect();
    let rate_limit = match form.number("rateLimit") {
        None if clear_rate_limit => Some(Value::Null),
        number => number,
    };
    vec![
        ("url", form.text("url")),
        ("events", Some(Value::Array(events))),
        ("rateLimit", rate_limit),
    ]
}

/// Refuses a form that subscribes to a type the seat may not offer.
pub fn check_subscribable(seat: &Seat, form: &Form) -> Result<(), crate::error::ApiError> {
    let Some(allowed) = seat.allowed_events() else { return Ok(()) };
    if form.all("events").iter().all(|e| allowed.iter().any(|a| a == e)) {
        return Ok(());
    }
    Err(crate::error::ApiError::forbidden(format!(
        "This page can subscribe webhooks only to: {}",
        allowed.join(", ")
    )))
}

/// The webhook, if the seat shows it: a portal limited to some types shows only webhooks
/// subscribed to nothing else, and acts on no other.
pub async fn shown_webhook(
    state: &AppState,
    seat: &Seat,
    webhook: uuid::Uuid,
) -> ApiResult<crate::http::webhooks::views::WebhookView> {
    let path = api::path((seat.org_id, webhook));
    let read = crate::http::webhooks::read::get(api::state(state), seat.principal.clone(), path);
    let view = api::json(read.await)?;
    if seat.shows(&view.events) {
        Ok(view)
    } else {
        Err(crate::error::ApiError::not_found("Webhook"))
    }
}

/// The organization as its webhooks pages show it. A portal shows its own organization's
/// name without asking the API, whose organization routes need a scope (`organization:read`)
/// that webhooks alone do not give; every webhooks call still checks its maker's access.
pub async fn org_of(state: &AppState, seat: &Seat) -> ApiResult<minijinja::Value> {
    if seat.portal().is_none() {
        let org = crate::console::pages::organization(state, &seat.principal, seat.org_id).await?;
        return Ok(crate::console::render::of(&org));
    }
    let mut conn = state.db.acquire().await?;
    let org = crate::store::organizations::find(&mut conn, seat.org_id)
        .await?
        .ok_or_else(|| crate::error::ApiError::not_found("Organization"))?;
    Ok(minijinja::context! { id => org.id.to_string(), name => org.name, slug => org.slug })
}
