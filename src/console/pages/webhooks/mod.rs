//! An organization's webhooks: the list and adding one ([`list`]), one webhook and its
//! settings ([`detail`]), and its delivery log ([`deliveries`]).

pub mod deliveries;
pub mod detail;
pub mod list;

use serde_json::Value;

use crate::console::api;
use crate::console::form::Form;
use crate::console::session::Viewer;
use crate::error::ApiResult;
use crate::http::event_types::EventTypeView;
use crate::http::server_key::Caller;
use crate::state::AppState;

/// Pages of the catalogue read for the event picker at most: thousands of types.
const CATALOGUE_PAGES: usize = 50;

/// Every type the picker offers: the catalogue's, deprecated ones only where `keep` has them.
pub async fn event_types(
    state: &AppState,
    viewer: &Viewer,
    keep: &[String],
) -> ApiResult<Vec<EventTypeView>> {
    let types = catalogue(state, viewer).await?;
    Ok(types.into_iter().filter(|t| !t.deprecated || keep.contains(&t.name)).collect())
}

/// The whole catalogue, page after page, as the API lists it to the viewer.
pub async fn catalogue(state: &AppState, viewer: &Viewer) -> ApiResult<Vec<EventTypeView>> {
    let mut types = Vec::new();
    let mut cursor = None;
    for _ in 0..CATALOGUE_PAGES {
        let mut query = api::page(cursor.as_deref(), &[]);
        query.limit = crate::http::extract::MAX_LIMIT;
        let caller = Caller::Token(viewer.principal.clone());
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
