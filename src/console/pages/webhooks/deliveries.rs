//! A webhook's delivery log: the page's part of it, the same part alone for the page to
//! refresh while deliveries are pending, redelivering one, and recovering since a time.

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use minijinja::{Value, context};
use uuid::Uuid;

use super::detail::answer;
use crate::console::api;
use crate::console::form::Posted;
use crate::console::pages::{self, Ids};
use crate::console::render::{self, Section};
use crate::console::session::Viewer;
use crate::error::ApiResult;
use crate::http::webhooks;
use crate::state::AppState;
use crate::store::deliveries::DeliveryStatus;

/// One page of the log as the template shows it: `deliveries`, `next_cursor`, `pending`.
pub async fn log(
    state: &AppState,
    viewer: &Viewer,
    org: Uuid,
    webhook: Uuid,
    cursor: Option<&str>,
) -> ApiResult<Value> {
    let path = api::path((org, webhook));
    let query = api::page(cursor, &[]);
    let listed = webhooks::deliveries::list_deliveries(
        api::state(state),
        viewer.principal.clone(),
        path,
        query,
    );
    let page = api::json(listed.await)?;
    let pending = page.data.iter().any(|d| d.status == DeliveryStatus::Pending);
    Ok(context! {
        deliveries => render::of(&page.data),
        next_cursor => page.next_cursor,
        pending => pending,
    })
}

/// The log alone, which the page's script fetches every few seconds while a delivery in it
/// is pending.
pub async fn fragment(
    State(state): State<AppState>,
    viewer: Viewer,
    Ids([org, webhook]): Ids<2>,
    Query(shown): Query<pages::Shown>,
) -> Response {
    match log(&state, &viewer, org, webhook, shown.cursor.as_deref()).await {
        Ok(log) => {
            let base = format!("/console/organizations/{org}/webhooks/{webhook}");
            let values = context! { ..log, ..context! { base => base } };
            render::page(StatusCode::OK, "deliveries.html", &viewer, Section::Webhooks, values)
        }
        Err(error) => render::api_error(error),
    }
}

pub async fn redeliver(
    State(state): State<AppState>,
    Ids([org, webhook, delivery]): Ids<3>,
    Posted { viewer, .. }: Posted,
) -> Response {
    let path = api::path((org, webhook, delivery));
    let change =
        webhooks::deliveries::redeliver(api::state(&state), viewer.principal.clone(), path);
    let outcome = api::in_turn(&state, org, change).await.map(|_| "redelivered");
    answer(&state, &viewer, (org, webhook), Default::default(), outcome).await
}

pub async fn recover(
    State(state): State<AppState>,
    Ids([org, webhook]): Ids<2>,
    Posted { viewer, form }: Posted,
) -> Response {
    let since = form.get("since").map(utc_from_local_input);
    let body = api::body([("since", since.map(serde_json::Value::String))]);
    let path = api::path((org, webhook));
    let change =
        webhooks::recovery::recover(api::state(&state), viewer.principal.clone(), path, body);
    let outcome = api::in_turn(&state, org, change).await.map(|_| "recovered");
    answer(&state, &viewer, (org, webhook), form, outcome).await
}

/// A `datetime-local` field's value (`2026-12-01T09:30`, seconds optional), which the form
/// labels as UTC, as the RFC 3339 time the API takes. Anything else is passed on as typed,
/// for the API to refuse in its words.
fn utc_from_local_input(value: &str) -> String {
    let value = value.trim();
    match value.len() {
        16 => format!("{value}:00Z"),
        19 => format!("{value}Z"),
        _ => value.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::utc_from_local_input;

    #[test]
    fn local_times_are_read_as_utc() {
        assert_eq!(utc_from_local_input("2026-12-01T09:30"), "2026-12-01T09:30:00Z");
        assert_eq!(utc_from_local_input("2026-12-01T09:30:15"), "2026-12-01T09:30:15Z");
        assert_eq!(utc_from_local_input("2026-12-01T09:30:00Z"), "2026-12-01T09:30:00Z");
        assert_eq!(utc_from_local_input("soon"), "soon");
    }
}
