//! Reading the catalogue: Roster's types and the application's, together, by name.

use axum::Json;
use axum::extract::State;

use super::{EventTypeView, NameParam, NamePath};
use crate::domain::event::EventType;
use crate::error::ApiResult;
use crate::http::extract::{ListQuery, PageParams, cursor};
use crate::http::server_key::Caller;
use crate::http::views::{ErrorBody, Page};
use crate::state::AppState;
use crate::store::event_types;

/// Every event type webhooks can subscribe to, Roster's and the application's, by name (any
/// valid credential).
#[utoipa::path(get, path = "/api/event-types", tag = "event-types",
    security(("bearer" = []), ("oauth2" = []), ("server_key" = [])), params(PageParams),
    responses((status = 200, body = Page<EventTypeView>), (status = 400, body = ErrorBody),
               (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    _caller: Caller,
    query: ListQuery,
) -> ApiResult<Json<Page<EventTypeView>>> {
    let after = query.cursor.as_deref().map(cursor::decode).transpose()?;
    let mut conn = state.db.acquire().await?;
    let custom = event_types::list(&mut conn, after.as_deref(), query.limit + 1).await?;
    drop(conn);
    let mut views: Vec<EventTypeView> = EventType::ALL
        .iter()
        .filter(|e| after.as_deref().is_none_or(|after| e.as_str() > after))
        .map(|e| EventTypeView::built_in(*e))
        .collect();
    for custom in custom {
        views.push(EventTypeView::custom(custom)?);
    }
    views.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(Json(Page::from_rows(views, query.limit, |v| v.name.clone(), |v| v)))
}

/// One event type of the catalogue (any valid credential).
#[utoipa::path(get, path = "/api/event-types/{name}", tag = "event-types",
    security(("bearer" = []), ("oauth2" = []), ("server_key" = [])), params(NameParam),
    responses((status = 200, body = EventTypeView), (status = 401, body = ErrorBody),
               (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn get(
    State(state): State<AppState>,
    _caller: Caller,
    NamePath(name): NamePath,
) -> ApiResult<Json<EventTypeView>> {
    if let Some(event) = EventType::parse(&name) {
        return Ok(Json(EventTypeView::built_in(event)));
    }
    let mut conn = state.db.acquire().await?;
    let custom = event_types::find(&mut conn, &name).await?.ok_or_else(super::not_found)?;
    Ok(Json(EventTypeView::custom(custom)?))
}
