//! Deprecating an application's event type: webhooks that subscribe to it keep it and its
//! events are still published, but no webhook takes it up anew.

use axum::Json;
use axum::extract::State;

use super::{EventTypeView, NameParam, NamePath};
use crate::domain::event::EventType;
use crate::domain::key_scope::KeyScope;
use crate::error::{ApiError, ApiResult};
use crate::http::server_key::Caller;
use crate::http::views::ErrorBody;
use crate::state::AppState;
use crate::store::event_types;

/// Deprecate an event type of the application (server key with `event-types:write`).
/// Registering it again with `PUT` undoes this.
#[utoipa::path(post, path = "/api/event-types/{name}/deprecate", tag = "event-types",
    security(("server_key" = [])), params(NameParam),
    responses((status = 200, body = EventTypeView), (status = 401, body = ErrorBody),
               (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
               (status = 409, body = ErrorBody, description = "Roster's own types stay")))]
pub async fn deprecate(
    State(state): State<AppState>,
    caller: Caller,
    NamePath(name): NamePath,
) -> ApiResult<Json<EventTypeView>> {
    caller.key_with(KeyScope::EventTypesWrite)?;
    if EventType::parse(&name).is_some() {
        return Err(ApiError::conflict("Roster's own event types cannot be deprecated"));
    }
    let mut tx = state.db.begin_write().await?;
    let deprecated = event_types::deprecate(&mut tx, &name, state.clock.now())
        .await?
        .ok_or_else(super::not_found)?;
    tx.commit().await?;
    Ok(Json(EventTypeView::custom(deprecated)?))
}
