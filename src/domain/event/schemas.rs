//! What each of Roster's own event types is, in words and as a JSON Schema (2020-12) of its
//! `data`: the event catalogue shows them beside the application's types, and the OpenAPI
//! document's `webhooks` are built from them. The tests check every type's real `data`
//! against its schema, so the two cannot drift apart.

use serde_json::{Map, Value, json};

use super::{EventType, LogOnlyEvent, LoggedEvent};

/// One line on when the event happens.
pub fn description(event: LoggedEvent) -> &'static str {
    use EventType::*;
    use LogOnlyEvent::*;
    match event {
        LoggedEvent::Catalog(event) => match event {
            OrganizationCreated => {
                "An organization was created (recorded in the event log only: \
                 no webhook can exist before it)."
            }
            OrganizationUpdated => "An organization's name or slug changed.",
            OrganizationDeleted => "An organization was deleted.",
            MemberAdded => "A user joined the organization, directly or by invite.",
            MemberRemoved => "A member was removed or left.",
            MemberRoleUpdated => "A member's role changed.",
            InviteCreated => "Someone was invited.",
            InviteAccepted => "An invite was accepted.",
            InviteCancelled => "An invite was cancelled.",
            OauthAppCreated => "An OAuth app was registered.",
            OauthAppRevoked => "An OAuth app was revoked.",
            WebhookCreated => "A webhook was created.",
            WebhookDisabled => {
                "Roster disabled a webhook: its receiver answered 410 Gone, or its \
                 deliveries kept failing."
            }
            DeliveryExhausted => "A delivery failed its last attempt; no more will follow.",
        },
        LoggedEvent::LogOnly(event) => match event {
            WebhookTest => "A test delivery, sent to one webhook whatever it subscribes to.",
            WebhookUpdated => "A webhook was changed (event log only).",
            WebhookDeleted => "A webhook was deleted (event log only).",
            WebhookSecretRotated => "A webhook's signing secret was rotated (event log only).",
            OauthAppUpdated => "An OAuth app was changed (event log only).",
            OauthAppSecretRotated => "An OAuth app's secret was rotated (event log only).",
        },
    }
}

/// The JSON Schema of the event's `data`, `actor` included.
pub fn data_schema(event: LoggedEvent) -> Value {
    use EventType::*;
    use LogOnlyEvent::*;
    let member = [("userId", uuid()), ("email", email()), ("role", role())];
    let invite = [("inviteId", uuid()), ("email", email()), ("role", role())];
    let app = [("appId", uuid()), ("name", string()), ("clientId", string())];
    let webhook = [("webhookId", uuid()), ("url", uri()), ("events", strings())];
    match event {
        LoggedEvent::Catalog(event) => match event {
            OrganizationCreated | OrganizationDeleted => object(&[], &[]),
            OrganizationUpdated => {
                let changes =
                    object(&[], &[("name", change(string())), ("slug", change(string()))]);
                object(&[("changes", changes)], &[])
            }
            MemberAdded | MemberRemoved => object(&member, &[]),
            MemberRoleUpdated => object(&[&member[..], &[("previousRole", role())]].concat(), &[]),
            InviteCreated => object(&[&invite[..], &[("expiresAt", time())]].concat(), &[]),
            InviteAccepted => object(&[&invite[..], &[("userId", uuid())]].concat(), &[]),
            InviteCancelled => object(&invite, &[]),
            OauthAppCreated => object(&[&app[..], &[("scopes", strings())]].concat(), &[]),
            OauthAppRevoked => object(&app, &[]),
            WebhookCreated => object(&webhook, &[]),
            WebhookDisabled => object(
                &[
                    ("webhookId", uuid()),
                    ("url", uri()),
                    ("reason", json!({"type": "string", "enum": ["gone", "failing"]})),
                    ("lastError", nullable_string()),
                ],
                &[],
            ),
            DeliveryExhausted => object(
                &[
                    ("webhookId", uuid()),
                    ("deliveryId", uuid()),
                    ("eventId", uuid()),
                    ("eventType", string()),
                    ("attempts", json!({"type": "integer", "minimum": 1})),
                    ("lastError", nullable_string()),
                ],
                &[],
            ),
        },
        LoggedEvent::LogOnly(event) => match event {
            WebhookTest => object(&[("webhookId", uuid()), ("message", string())], &[]),
            WebhookUpdated => {
                let changes = object(
                    &[],
                    &[
                        ("url", change(uri())),
                        ("events", change(strings())),
                        ("isActive", change(json!({"type": "boolean"}))),
                        ("headerNames", change(strings())),
                        ("rateLimit", change(json!({"type": ["integer", "null"]}))),
                    ],
                );
                object(&[("webhookId", uuid()), ("changes", changes)], &[])
            }
            WebhookDeleted => object(&webhook, &[]),
            WebhookSecretRotated => {
                object(&[("webhookId", uuid()), ("previousSecretExpiresAt", time())], &[])
            }
            OauthAppUpdated => {
                let changes = object(
                    &[],
                    &[
                        ("name", change(string())),
                        ("redirectUris", change(strings())),
                        ("scopes", change(strings())),
                    ],
                );
                object(&[&app[..], &[("changes", changes)]].concat(), &[])
            }
            OauthAppSecretRotated => {
                object(&[&app[..], &[("previousSecretExpiresAt", time())]].concat(), &[])
            }
        },
    }
    .with_actor()
}

/// Who caused an event: a user, an OAuth app acting as itself, or Roster itself (`system`,
/// which has no `id`).
pub fn actor_schema() -> Value {
    json!({
        "type": "object",
        "properties": {
            "type": {"type": "string", "enum": ["user", "oauth_app", "system"]},
            "id": {"type": "string", "format": "uuid"},
        },
        "required": ["type"],
    })
}

trait WithActor {
    fn with_actor(self) -> Value;
}

impl WithActor for Value {
    fn with_actor(mut self) -> Value {
        self["properties"]["actor"] = actor_schema();
        if let Some(required) = self["required"].as_array_mut() {
            required.push(json!("actor"));
        }
        self
    }
}

/// An object with `required` and `optional` properties. Others may appear as Roster grows
/// (fields are appended, never removed), so none are forbidden.
fn object(required: &[(&str, Value)], optional: &[(&str, Value)]) -> Value {
    let mut properties = Map::new();
    for (name, schema) in required.iter().chain(optional) {
        properties.insert((*name).to_owned(), schema.clone());
    }
    let names: Vec<&str> = required.iter().map(|(name, _)| *name).collect();
    json!({"type": "object", "properties": properties, "required": names})
}

fn change(of: Value) -> Value {
    object(&[("previous", of.clone()), ("current", of)], &[])
}

fn string() -> Value {
    json!({"type": "string"})
}

fn nullable_string() -> Value {
    json!({"type": ["string", "null"]})
}

fn strings() -> Value {
    json!({"type": "array", "items": {"type": "string"}})
}

fn uuid() -> Value {
    json!({"type": "string", "format": "uuid"})
}

fn email() -> Value {
    json!({"type": "string", "format": "email"})
}

fn uri() -> Value {
    json!({"type": "string", "format": "uri"})
}

fn time() -> Value {
    json!({"type": "string", "format": "date-time"})
}

fn role() -> Value {
    json!({"type": "string", "enum": ["OWNER", "ADMIN", "MEMBER"]})
}

#[cfg(test)]
#[path = "schemas_tests.rs"]
mod tests;
