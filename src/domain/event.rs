//! The event catalog and the payload every event carries, both in the event log and in
//! webhook deliveries: `{event, organization: {id, slug, name}, data, timestamp}`.

use chrono::{DateTime, SecondsFormat, Utc};
use serde::Serialize;
use serde_json::{Map, Value, json};
use uuid::Uuid;

macro_rules! event_types {
    ($($variant:ident => $name:literal),+ $(,)?) => {
        /// Every event type a webhook can subscribe to.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum EventType { $($variant),+ }

        impl EventType {
            pub const ALL: &'static [EventType] = &[$(EventType::$variant),+];

            pub fn as_str(self) -> &'static str {
                match self { $(EventType::$variant => $name),+ }
            }
        }
    };
}

event_types! {
    OrganizationCreated => "organization.created",
    OrganizationUpdated => "organization.updated",
    OrganizationDeleted => "organization.deleted",
    MemberAdded => "member.added",
    MemberRemoved => "member.removed",
    MemberRoleUpdated => "member.role_updated",
    InviteCreated => "invite.created",
    InviteAccepted => "invite.accepted",
    InviteCancelled => "invite.cancelled",
    OauthAppCreated => "oauth_app.created",
    OauthAppRevoked => "oauth_app.revoked",
    WebhookCreated => "webhook.created",
}

impl EventType {
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|e| e.as_str() == s)
    }

    /// The catalog as class-validator lists it in `isIn` messages.
    pub fn catalog() -> String {
        Self::ALL.iter().map(|e| e.as_str()).collect::<Vec<_>>().join(", ")
    }
}

/// Who caused an event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(tag = "type", content = "id", rename_all = "snake_case")]
pub enum Actor {
    User(Uuid),
    OauthApp(Uuid),
}

impl Actor {
    pub fn id(self) -> Uuid {
        match self {
            Actor::User(id) | Actor::OauthApp(id) => id,
        }
    }
}

/// The organization as an event describes it, captured when the event happens.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct OrgRef {
    pub id: Uuid,
    pub slug: String,
    pub name: String,
}

/// The event type of test deliveries; not in the catalog, so no webhook subscribes to it.
pub const TEST_EVENT: &str = "webhook.test";

/// An event about to be appended to the log.
#[derive(Debug, Clone)]
pub struct NewEvent {
    pub id: Uuid,
    /// A catalog event type, or [`TEST_EVENT`].
    pub name: &'static str,
    pub organization: OrgRef,
    pub created_at: DateTime<Utc>,
    /// The exact JSON body a webhook receiver gets.
    pub payload: String,
}

impl NewEvent {
    /// Builds the payload. `data` must be a JSON object; `actor` is added to it.
    pub fn new(
        event_type: EventType,
        organization: OrgRef,
        actor: Actor,
        data: Value,
        at: DateTime<Utc>,
    ) -> Self {
        Self::named(event_type.as_str(), organization, actor, data, at)
    }

    /// A `webhook.test` event, delivered only to the webhook under test.
    pub fn test(organization: OrgRef, actor: Actor, data: Value, at: DateTime<Utc>) -> Self {
        Self::named(TEST_EVENT, organization, actor, data, at)
    }

    fn named(
        name: &'static str,
        organization: OrgRef,
        actor: Actor,
        data: Value,
        at: DateTime<Utc>,
    ) -> Self {
        let mut data = match data {
            Value::Object(map) => map,
            _ => Map::new(),
        };
        data.insert("actor".into(), json!(actor));
        let payload = json!({
            "event": name,
            "organization": organization,
            "data": data,
            "timestamp": at.to_rfc3339_opts(SecondsFormat::Millis, true),
        })
        .to_string();
        Self { id: Uuid::now_v7(), name, organization, created_at: at, payload }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payload_has_the_seed_shape() {
        let org = OrgRef { id: Uuid::nil(), slug: "acme-corp".into(), name: "Acme Corp".into() };
        let actor = Uuid::max();
        let at = chrono::DateTime::parse_from_rfc3339("2025-12-26T10:00:00Z")
            .map(|t| t.with_timezone(&Utc))
            .expect("valid time");
        let event = NewEvent::new(
            EventType::MemberAdded,
            org,
            Actor::User(actor),
            json!({"userId": "u", "email": "a@b.co", "role": "MEMBER"}),
            at,
        );
        let body: Value = serde_json::from_str(&event.payload).expect("json");
        assert_eq!(
            body,
            json!({
                "event": "member.added",
                "organization": {"id": Uuid::nil(), "slug": "acme-corp", "name": "Acme Corp"},
                "data": {"userId": "u", "email": "a@b.co", "role": "MEMBER",
                         "actor": {"type": "user", "id": actor}},
                "timestamp": "2025-12-26T10:00:00.000Z",
            })
        );
    }

    #[test]
    fn catalog_matches_the_seed() {
        assert_eq!(EventType::ALL.len(), 12);
        assert_eq!(EventType::parse("oauth_app.revoked"), Some(EventType::OauthAppRevoked));
        assert_eq!(EventType::parse("webhook.test"), None);
        assert!(EventType::catalog().starts_with("organization.created, organization.updated"));
    }
}
