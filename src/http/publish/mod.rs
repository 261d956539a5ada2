//! Publishing the application's own events to an organization: with a server key that has
//! `events:publish`, or an OAuth token of that organization with the `events:publish` scope.
//! The event and its deliveries are stored in one transaction, as Roster's own events are,
//! and delivered with the same body shape, headers and signatures.

pub mod compiled;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::domain::event::{EventType, NewEvent, name};
use crate::domain::key_scope::KeyScope;
use crate::domain::scope::Scope;
use crate::error::{ApiError, ApiResult};
use crate::http::access;
use crate::http::body::{Prop, Rule, body_schema};
use crate::http::extract::{ApiPath, JsonObject};
use crate::http::server_key::Caller;
use crate::http::validate::Fields;
use crate::http::views::ErrorBody;
use crate::state::AppState;
use crate::store::{event_types, events, organizations};

fn type_pattern() -> String {
    name::PATTERN.to_owned()
}

const TYPE: Prop = Prop::required(
    "type",
    Rule::Matching { pattern: type_pattern, format: None, min: 3, max: name::MAX_LEN },
)
.about("An event type the application registered in the catalogue.");
const DATA: Prop =
    Prop::required("data", Rule::Object).about("The event's data, as the type's schema wants it.");
const PUBLISH: &[Prop] = &[TYPE, DATA];
body_schema!(PublishEventRequest = PUBLISH);

/// The event as stored.
#[derive(Serialize, ToSchema)]
pub struct PublishedEvent {
    /// The event's ID in the event log; deliveries name it too.
    pub id: Uuid,
}

/// Publish an event of the application to the organization's webhooks that subscribe to its
/// type. `data` must meet the type's schema; every violation is listed with its JSON pointer.
#[utoipa::path(post, path = "/api/organizations/{organizationId}/events", tag = "event-types",
    security(("server_key" = []), ("oauth2" = ["events:publish"])),
    params(("organizationId" = Uuid, Path)), request_body = PublishEventRequest,
    responses((status = 202, body = PublishedEvent, description = "Stored; deliveries follow"),
               (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
               (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn publish(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(org_id): ApiPath<Uuid>,
    JsonObject(body): JsonObject,
) -> ApiResult<(StatusCode, Json<PublishedEvent>)> {
    // Who may publish is settled before the body is read, as on every organization route.
    match &caller {
        Caller::Key(_) => {
            caller.key_with(KeyScope::EventsPublish)?;
        }
        Caller::Token(principal) => match principal.oauth() {
            None => {
                return Err(ApiError::forbidden(
                    "Access denied. Only server keys and OAuth tokens with the events:publish \
                     scope can publish events.",
                ));
            }
            Some(grant) if grant.organization_id != org_id => {
                return Err(ApiError::not_found("Organization"));
            }
            Some(grant) if !grant.scopes.contains(Scope::EventsPublish) => {
                return Err(ApiError::InsufficientScope(Scope::EventsPublish));
            }
            Some(_) => {}
        },
    }
    let mut f = Fields::new(body, PUBLISH);
    let name = f.take(&TYPE);
    let data = f.object(&DATA);
    let name = match name {
        Some(Value::String(name)) => name,
        _ => {
            f.error("type must be a string");
            String::new()
        }
    };
    f.finish()?;
    if EventType::parse(&name).is_some() {
        return Err(ApiError::Validation(vec![format!(
            "type must be an event type of the application: Roster publishes {name} itself"
        )]));
    }

    let mut conn = state.db.acquire().await?;
    let custom = event_types::find(&mut conn, &name).await?.ok_or_else(|| {
        ApiError::Validation(vec!["type must be an event type registered in the catalogue".into()])
    })?;
    drop(conn);
    let schema = state.compiled_schemas.get(&custom).map_err(|errors| {
        ApiError::Internal(anyhow::anyhow!("stored schema of {name} fails: {errors:?}"))
    })?;
    let data = Value::Object(data);
    let violations = schema.violations(&data);
    if !violations.is_empty() {
        return Err(ApiError::Validation(violations));
    }

    let mut tx = state.db.begin_write().await?;
    let org = match &caller {
        Caller::Token(principal) => {
            access::membership(&mut tx, org_id, principal, Scope::EventsPublish).await?;
            organizations::find_kept(&mut tx, org_id).await?
        }
        Caller::Key(_) => organizations::find_kept(&mut tx, org_id).await?,
    }
    .ok_or_else(|| ApiError::not_found("Organization"))?;
    let event = NewEvent::published(name, org.as_ref(), data, state.clock.now());
    events::append(&mut tx, &event).await?;
    tx.commit().await?;
    Ok((StatusCode::ACCEPTED, Json(PublishedEvent { id: event.id })))
}
