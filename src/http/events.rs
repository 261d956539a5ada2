//! An organization's event log, the audit trail: every event emitted for it within the
//! retention period (see `crate::store::log_retention`), newest first.
//!
//! People who reach it (OWNERs and ADMINs) read all of it. An OAuth token reads only the events
//! its scopes read through the API, by the same rule ([`scope::reading`]) that limits what it
//! may subscribe a webhook to: the log is one more way of reading them.

use axum::Json;
use axum::extract::State;
use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::{Map, Value};
use utoipa::ToSchema;
use uuid::Uuid;

use super::access;
use super::extract::{ApiPath, ListQuery, PageParams, cursor, query_param};
use super::views::{ErrorBody, Page};
use crate::domain::event::LoggedEvent;
use crate::domain::scope::{self, Scope};
use crate::error::{ApiError, ApiResult};
use crate::http::principal::Principal;
use crate::state::AppState;
use crate::store::{Conn, event_types, events};

/// An entry of the event log: the webhook payload plus its ID.
#[derive(Serialize, ToSchema)]
pub struct EventView {
    pub id: Uuid,
    #[serde(flatten)]
    #[schema(value_type = Object)]
    pub payload: Map<String, Value>,
}

/// A page of the event log, and how far back the log reaches.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct EventLogPage {
    pub data: Vec<EventView>,
    /// Null on the last page.
    pub next_cursor: Option<String>,
    /// Events from this time on are kept; older ones are pruned (the retention period,
    /// `ROSTER_KEEP_EVENTS_FOR`, before now). An older event may still show while a delivery
    /// of it is kept.
    pub retained_since: DateTime<Utc>,
}

/// `?event=`: any type the log holds, from the same list the route parses.
pub struct EventFilter;

impl utoipa::IntoParams for EventFilter {
    fn into_params(
        _: impl Fn() -> Option<utoipa::openapi::path::ParameterIn>,
    ) -> Vec<utoipa::openapi::path::Parameter> {
        let names: Vec<&str> = LoggedEvent::all().map(LoggedEvent::as_str).collect();
        let schema = serde_json::json!({"type": "string", "enum": names});
        vec![query_param("event", "Only events of this type.", schema)]
    }
}

/// The organization's event log, newest first (OWNER or ADMIN). An OAuth token sees only the
/// events its scopes can read; asking for a type it cannot read answers 403.
#[utoipa::path(get, path = "/api/organizations/{organizationId}/events", tag = "organizations",
    security(("bearer" = []), ("oauth2" = ["organization:read"])),
    params(("organizationId" = Uuid, Path), EventFilter, PageParams),
    responses((status = 200, body = EventLogPage), (status = 400, body = ErrorBody),
               (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
               (status = 404, body = ErrorBody)))]
pub async fn list_events(
    State(state): State<AppState>,
    principal: Principal,
    ApiPath(id): ApiPath<Uuid>,
    query: ListQuery,
) -> ApiResult<Json<EventLogPage>> {
    let before = cursor::decode_uuid(query.cursor.as_deref())?;
    let mut conn = state.db.acquire().await?;
    let wanted = match query.params.get("event") {
        None => None,
        Some(name) => Some(wanted(&mut conn, name).await?),
    };
    access::as_manager(&mut conn, id, &principal, Scope::OrganizationRead, "view the event log")
        .await?;
    let types = visible_types(&mut conn, &principal, wanted).await?;
    let rows = events::list(&mut conn, id, types.as_deref(), before, query.limit + 1).await?;
    let views = rows
        .into_iter()
        .map(|e| {
            let payload = serde_json::from_str::<Map<String, Value>>(&e.payload)
                .map_err(|err| ApiError::Internal(err.into()))?;
            Ok((e.id, payload))
        })
        .collect::<ApiResult<Vec<_>>>()?;
    let page = Page::from_rows(
        views,
        query.limit,
        |(id, _)| id.to_string(),
        |(id, payload)| EventView { id, payload },
    );
    let now = state.clock.now();
    let retained_since = crate::maintenance::before(now, state.config.retention.events);
    Ok(Json(EventLogPage {
        data: page.data,
        next_cursor: page.next_cursor,
        retained_since: retained_since.unwrap_or(DateTime::<Utc>::MIN_UTC),
    }))
}

/// The type `?event=` asks for: one of Roster's, or one the application registered.
enum Wanted {
    Roster(LoggedEvent),
    Application(String),
}

async fn wanted(conn: &mut dyn Conn, name: &str) -> ApiResult<Wanted> {
    if let Some(event) = LoggedEvent::parse(name) {
        return Ok(Wanted::Roster(event));
    }
    if event_types::find(conn, name).await?.is_some() {
        return Ok(Wanted::Application(name.to_owned()));
    }
    Err(ApiError::Validation(vec![format!(
        "event must be one of the following values: {}",
        LoggedEvent::catalog()
    )]))
}

/// The event types the caller's page may hold (`None`: every type), or why the type asked
/// for is not theirs to read. The application's events are read with `organization:read`,
/// which the route needs anyway.
async fn visible_types(
    conn: &mut dyn Conn,
    principal: &Principal,
    wanted: Option<Wanted>,
) -> ApiResult<Option<Vec<String>>> {
    let grant = principal.oauth();
    let event = match (wanted, grant) {
        (Some(Wanted::Application(name)), _) => return Ok(Some(vec![name])),
        (Some(Wanted::Roster(event)), None) => return Ok(Some(vec![event.as_str().to_owned()])),
        (None, None) => return Ok(None),
        (Some(Wanted::Roster(event)), Some(_)) => event,
        (None, Some(grant)) => {
            let readable = scope::readable(&grant.scopes);
            let mut names: Vec<String> =
                readable.into_iter().map(|e| e.as_str().to_owned()).collect();
            names.extend(event_types::names(conn).await?.into_iter().map(|(name, _)| name));
            return Ok(Some(names));
        }
    };
    let scopes = grant.map(|g| &g.scopes);
    match scope::reading(event) {
        Some(needed) if scopes.is_some_and(|s| s.contains(needed)) => {
            Ok(Some(vec![event.as_str().to_owned()]))
        }
        Some(needed) => Err(ApiError::InsufficientScope(needed)),
        None => {
            Err(ApiError::forbidden("Access denied. OAuth tokens cannot read oauth_app events."))
        }
    }
}
