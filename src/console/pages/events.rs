//! An organization's event log (OWNER, ADMIN): newest first, filtered by type with the
//! API's `?event=`, each event's `data` shown as the JSON a webhook receives.

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use minijinja::{Value, context};
use serde::Deserialize;

use super::webhooks::catalogue;
use super::{Ids, failed, organization};
use crate::console::api;
use crate::console::render::{self, Section};
use crate::console::session::Viewer;
use crate::domain::event::LoggedEvent;
use crate::http::events::{self, EventView};
use crate::state::AppState;

/// The log page's query: where it continues, and the type it is filtered by.
#[derive(Debug, Default, Deserialize)]
pub struct Filter {
    cursor: Option<String>,
    event: Option<String>,
}

pub async fn page(
    State(state): State<AppState>,
    viewer: Viewer,
    Ids([org_id]): Ids<1>,
    Query(filter): Query<Filter>,
) -> Response {
    let org = match organization(&state, &viewer.principal, org_id).await {
        Ok(org) => org,
        Err(load) => return failed(load, None),
    };
    // An empty choice is "every type": the API is asked without `?event=`.
    let chosen = filter.event.as_deref().filter(|e| !e.is_empty());
    let params: Vec<(&str, &str)> = chosen.map(|e| ("event", e)).into_iter().collect();
    let query = api::page(filter.cursor.as_deref(), &params);
    let listed =
        events::list_events(api::state(&state), viewer.principal.clone(), api::path(org_id), query);
    let page = match api::json(listed.await) {
        Ok(page) => page,
        Err(load) => return failed(load, None),
    };
    let types = match event_types(&state, &viewer).await {
        Ok(types) => types,
        Err(load) => return failed(load, None),
    };
    let values = context! {
        events => page.data.iter().map(shown).collect::<Vec<_>>(),
        next_cursor => page.next_cursor,
        retained_since => render::of(&page.retained_since),
        event_types => types,
        chosen => chosen.unwrap_or_default(),
        org => render::of(&org),
    };
    render::page(StatusCode::OK, "events.html", &viewer, Section::Events, values)
}

/// One event as the page shows it: its `data` pretty-printed, without the actor it names
/// in its own column.
fn shown(event: &EventView) -> Value {
    let data = event.payload.get("data");
    let actor = data.and_then(|d| d.get("actor"));
    let pretty = data.and_then(|d| serde_json::to_string_pretty(d).ok()).unwrap_or_default();
    context! {
        event => event.payload.get("event").map(render::of),
        timestamp => event.payload.get("timestamp").map(render::of),
        actor => actor.map(render::of),
        data => pretty,
    }
}

/// Every type the log can hold, for the filter: Roster's own (the log-only ones too) and the
/// application's, deprecated ones included since older events keep their type.
async fn event_types(
    state: &AppState,
    viewer: &Viewer,
) -> Result<Vec<String>, crate::error::ApiError> {
    let mut names: Vec<String> = LoggedEvent::all().map(|e| e.as_str().to_owned()).collect();
    let custom = catalogue(state, &viewer.principal).await?.into_iter().filter(|t| !t.built_in);
    names.extend(custom.map(|t| t.name));
    Ok(names)
}
