//! A webhook's delivery log: the page's part of it, the same part alone for the page to
//! refresh while deliveries are pending, redelivering one, and recovering since a time.

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use minijinja::{Value, context};
use serde::Deserialize;
use uuid::Uuid;

use super::detail::{answer, on_shown};
use crate::console::api;
use crate::console::render;
use crate::console::seat::{At, Seat, Submitted};
use crate::error::ApiResult;
use crate::http::webhooks;
use crate::state::AppState;
use crate::store::deliveries::DeliveryStatus;

/// The query of a webhook's page and of its log alone: where the log continues, the state it
/// is filtered by, and what just happened.
#[derive(Debug, Default, Deserialize)]
pub struct LogQuery {
    pub cursor: Option<String>,
    pub status: Option<String>,
    pub done: Option<String>,
}

impl LogQuery {
    /// The state asked for; empty is every state, as no filter is.
    pub fn status(&self) -> Option<&str> {
        self.status.as_deref().filter(|s| !s.is_empty())
    }
}

/// One page of the log as the template shows it: `deliveries`, the page's `cursor` and its
/// `next_cursor`, `pending`, and
/// the `status` filter with the `filters` to choose from.
pub async fn log(
    state: &AppState,
    seat: &Seat,
    webhook: Uuid,
    cursor: Option<&str>,
    status: Option<&str>,
) -> ApiResult<Value> {
    let path = api::path((seat.org_id, webhook));
    let params: Vec<(&str, &str)> = status.map(|s| ("status", s)).into_iter().collect();
    let query = api::page(cursor, &params);
    let principal = seat.principal.clone();
    let listed = webhooks::deliveries::list_deliveries(api::state(state), principal, path, query);
    let page = api::json(listed.await)?;
    let pending = page.data.iter().any(|d| d.status == DeliveryStatus::Pending);
    // The states the API filters by, in its order; the page adds "All".
    let filters: Vec<&str> = DeliveryStatus::CHOICES.iter().map(|(name, _)| *name).collect();
    Ok(context! {
        deliveries => render::of(&page.data),
        next_cursor => page.next_cursor,
        cursor => cursor,
        pending => pending,
        status => status.unwrap_or_default(),
        filters => filters,
    })
}

/// The log alone, which the page's script fetches every few seconds while a delivery in it
/// is pending.
pub async fn fragment(
    State(state): State<AppState>,
    At(seat, [webhook]): At<1>,
    Query(query): Query<LogQuery>,
) -> Response {
    let found = async {
        super::shown_webhook(&state, &seat, webhook).await?;
        log(&state, &seat, webhook, query.cursor.as_deref(), query.status()).await
    };
    match found.await {
        Ok(log) => {
            let base = format!("{}/{webhook}", seat.home);
            let values = context! { ..log, ..context! { base => base } };
            render::seated(StatusCode::OK, "deliveries.html", &seat, values)
        }
        Err(error) => seat.failed(error, None),
    }
}

pub async fn redeliver(
    State(state): State<AppState>,
    Submitted(seat, [webhook, delivery], _): Submitted<2>,
) -> Response {
    let path = api::path((seat.org_id, webhook, delivery));
    let change = webhooks::deliveries::redeliver(api::state(&state), seat.principal.clone(), path);
    let outcome = on_shown(&state, &seat, webhook, change).await.map(|_| "redelivered");
    answer(&state, &seat, webhook, Default::default(), outcome).await
}

/// Recovering is the console's only, like deleting.
pub async fn recover(
    State(state): State<AppState>,
    Submitted(seat, [webhook], form): Submitted<1>,
) -> Response {
    let since = form.get("since").map(utc_from_local_input);
    let body = api::body([("since", since.map(serde_json::Value::String))]);
    let path = api::path((seat.org_id, webhook));
    let principal = seat.principal.clone();
    let change = webhooks::recovery::recover(api::state(&state), principal, path, body);
    let outcome = on_shown(&state, &seat, webhook, change).await.map(|_| "recovered");
    answer(&state, &seat, webhook, form, outcome).await
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
