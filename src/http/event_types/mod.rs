//! The event catalogue: Roster's own event types and those the application registers, each
//! with a description and the JSON Schema of its `data`. Webhooks subscribe to any of them;
//! the application publishes its own ([`super::publish`]).
//!
//! Anyone with a valid credential may read the catalogue (it describes the product, not an
//! organization); only a server key with `event-types:write` changes it.

pub mod deprecate;
pub mod put;
pub mod read;

use axum::extract::{FromRequestParts, Path};
use axum::http::request::Parts;
use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;

use crate::domain::event::name::{self, RESERVED_NOUNS, Refusal};
use crate::domain::event::{EventType, LoggedEvent, schemas};
use crate::error::{ApiError, ApiResult};
use crate::store::event_types::CustomType;

/// An event type of the catalogue.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct EventTypeView {
    #[schema(example = "invoice.paid")]
    pub name: String,
    pub description: String,
    /// The JSON Schema (2020-12) of the events' `data`.
    #[schema(value_type = Object)]
    pub schema: Value,
    /// One of Roster's own types, which it emits itself; the rest are the application's.
    pub built_in: bool,
    /// Webhooks keep a deprecated type they subscribe to, but no new subscription takes it.
    pub deprecated: bool,
    pub deprecated_at: Option<DateTime<Utc>>,
    /// When the application registered it; null for Roster's own.
    pub created_at: Option<DateTime<Utc>>,
    pub updated_at: Option<DateTime<Utc>>,
}

impl EventTypeView {
    pub fn built_in(event: EventType) -> Self {
        let logged = LoggedEvent::Catalog(event);
        Self {
            name: event.as_str().to_owned(),
            description: schemas::description(logged).to_owned(),
            schema: schemas::data_schema(logged),
            built_in: true,
            deprecated: false,
            deprecated_at: None,
            created_at: None,
            updated_at: None,
        }
    }

    pub fn custom(custom: CustomType) -> ApiResult<Self> {
        let schema =
            serde_json::from_str(&custom.schema).map_err(|err| ApiError::Internal(err.into()))?;
        Ok(Self {
            name: custom.name,
            description: custom.description,
            schema,
            built_in: false,
            deprecated: custom.deprecated_at.is_some(),
            deprecated_at: custom.deprecated_at,
            created_at: Some(custom.created_at),
            updated_at: Some(custom.updated_at),
        })
    }
}

/// `{name}` of the path; one that is not UTF-8 once decoded is refused in the API's shape.
pub struct NamePath(pub String);

impl<S: Send + Sync> FromRequestParts<S> for NamePath {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        Path::<String>::from_request_parts(parts, state).await.map(|Path(name)| Self(name)).map_err(
            |_| ApiError::bad_request("Validation failed (an event type name is expected)"),
        )
    }
}

/// The name an application may register, from the path, or why not.
fn registrable(raw: &str) -> ApiResult<&str> {
    name::check_custom(raw).map(|()| raw).map_err(|refusal| {
        ApiError::Validation(vec![match refusal {
            Refusal::Malformed => format!(
                "name must be noun.verb: two words of lowercase letters, digits and _, \
                 each starting with a letter, at most {} characters",
                name::MAX_LEN
            ),
            Refusal::Reserved => format!(
                "name must not be one of Roster's event types nor start with their nouns ({})",
                RESERVED_NOUNS.join(", ")
            ),
        }])
    })
}

pub fn not_found() -> ApiError {
    ApiError::not_found("Event type")
}

/// `{name}` in the document: the pattern of an application's names, which Roster's fit too.
pub struct NameParam;

impl utoipa::IntoParams for NameParam {
    fn into_params(
        _: impl Fn() -> Option<utoipa::openapi::path::ParameterIn>,
    ) -> Vec<utoipa::openapi::path::Parameter> {
        let schema = serde_json::json!({"type": "string", "pattern": name::PATTERN,
                                        "maxLength": name::MAX_LEN});
        let about = format!(
            "The event type, `noun.verb`. An application's may not use the nouns of Roster's \
             own ({}).",
            RESERVED_NOUNS.join(", ")
        );
        let parameter = serde_json::json!({"name": "name", "in": "path", "required": true,
            "description": about, "schema": schema});
        // Only this module's own JSON comes here.
        vec![serde_json::from_value(parameter).expect("a valid parameter")]
    }
}
