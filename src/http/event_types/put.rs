//! Registering an application's event type, or replacing its description and schema.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde_json::Value;

use super::{EventTypeView, NameParam, NamePath, registrable};
use crate::domain::event::data_schema::DataSchema;
use crate::domain::key_scope::KeyScope;
use crate::error::{ApiError, ApiResult};
use crate::http::body::{Prop, Rule, body_schema};
use crate::http::extract::JsonObject;
use crate::http::server_key::Caller;
use crate::http::validate::Fields;
use crate::http::views::ErrorBody;
use crate::state::AppState;
use crate::store::event_types;

pub const DESCRIPTION_MAX: usize = 1000;

const DESCRIPTION: Prop = Prop::required("description", Rule::Text { max: DESCRIPTION_MAX })
    .about("What happened, for the people who subscribe to it.");
const SCHEMA: Prop = Prop::required("schema", Rule::Object).about(
    "A JSON Schema (draft 2020-12, at most 64 KiB) that every published event's `data` must \
     meet. `$ref` may point only inside it.",
);
const PUT: &[Prop] = &[DESCRIPTION, SCHEMA];
body_schema!(PutEventTypeRequest = PUT);

/// Register an event type of the application (server key with `event-types:write`). The same
/// name again replaces its description and schema, and undoes a deprecation. Events already
/// published keep the data they had.
#[utoipa::path(put, path = "/api/event-types/{name}", tag = "event-types",
    security(("server_key" = [])), params(NameParam), request_body = PutEventTypeRequest,
    responses((status = 201, body = EventTypeView, description = "Registered"),
               (status = 200, body = EventTypeView, description = "Replaced"),
               (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
               (status = 403, body = ErrorBody)))]
pub async fn put(
    State(state): State<AppState>,
    caller: Caller,
    NamePath(name): NamePath,
    JsonObject(body): JsonObject,
) -> ApiResult<(StatusCode, Json<EventTypeView>)> {
    caller.key_with(KeyScope::EventTypesWrite)?;
    let name = registrable(&name)?;
    let mut f = Fields::new(body, PUT);
    let description = f.text(&DESCRIPTION);
    let schema = Value::Object(f.object(&SCHEMA));
    f.finish()?;
    DataSchema::compile(&schema).map_err(ApiError::Validation)?;

    let now = state.clock.now();
    let mut tx = state.db.begin_write().await?;
    let created = event_types::put(&mut tx, name, &description, &schema.to_string(), now).await?;
    let stored = event_types::find(&mut tx, name).await?.ok_or_else(super::not_found)?;
    tx.commit().await?;
    let status = if created { StatusCode::CREATED } else { StatusCode::OK };
    Ok((status, Json(EventTypeView::custom(stored)?)))
}
