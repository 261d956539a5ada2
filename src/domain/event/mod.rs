//! The event catalog and the payload every event carries, both in the event log and in
//! webhook deliveries: `{event, organization: {id, slug, name}, data, timestamp}`.
//!
//! Each event's `data` has a type in [`data`] ([`OrganizationUpdated`], [`MemberAdded`], …),
//! so its shape is decided in one place; [`NewEvent::of`] adds `actor` as its last key. Field order
//! is key order on the wire, and receivers have seen it since the first release: append new
//! fields, never reorder.

use std::borrow::Cow;

use chrono::{DateTime, SecondsFormat, Utc};
use serde::Serialize;
use serde_json::{Map, Value, json};
use uuid::Uuid;

/// An enum of event types with their wire names, in the order given.
macro_rules! event_enum {
    ($(#[$doc:meta])* $enum:ident { $($variant:ident => $name:literal),+ $(,)? }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum $enum { $($variant),+ }

        impl $enum {
            pub const ALL: &'static [$enum] = &[$($enum::$variant),+];

            pub const fn as_str(self) -> &'static str {
                match self { $($enum::$variant => $name),+ }
            }
        }
    };
}

pub mod data;
pub mod data_schema;
pub mod logged;
pub mod name;
pub mod schemas;

pub use data::*;
pub use logged::{LogOnlyEvent, LoggedEvent};
pub use name::EventName;

event_enum! {
    /// Every event type a webhook can subscribe to.
    EventType {
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
        WebhookDisabled => "webhook.disabled",
        DeliveryExhausted => "delivery.exhausted",
    }
}

impl EventType {
    /// The original API page's twelve types: the list its `isIn` message names.
    pub const SEED: &'static [EventType] = Self::ALL.split_at(12).0;

    /// What Roster says about its webhooks' health; no person is behind them.
    pub const OPERATIONAL: &'static [EventType] =
        &[EventType::WebhookDisabled, EventType::DeliveryExhausted];

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|e| e.as_str() == s)
    }

    /// The seed's catalog as class-validator lists it in `isIn` messages: the operational
    /// types are accepted too, but the message stays the original page's.
    pub fn catalog() -> String {
        Self::SEED.iter().map(|e| e.as_str()).collect::<Vec<_>>().join(", ")
    }
}

/// Who caused an event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(tag = "type", content = "id", rename_all = "snake_case")]
pub enum Actor {
    User(Uuid),
    OauthApp(Uuid),
    /// Roster itself, for what it decides on its own (`{"type": "system"}`): disabling a
    /// failing webhook, giving up on a delivery. Never the actor of a request.
    System,
}

impl Actor {
    /// The user's or app's ID. A request always acts for one of them; [`Actor::System`],
    /// which no request acts as, has the nil ID.
    pub fn id(self) -> Uuid {
        match self {
            Actor::User(id) | Actor::OauthApp(id) => id,
            Actor::System => Uuid::nil(),
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
pub const TEST_EVENT: &str = LogOnlyEvent::WebhookTest.as_str();

/// An event about to be appended to the log.
#[derive(Debug, Clone)]
pub struct NewEvent {
    pub id: Uuid,
    /// A catalog event type, one the application registered, or [`TEST_EVENT`].
    pub name: Cow<'static, str>,
    pub organization: OrgRef,
    pub created_at: DateTime<Utc>,
    /// The exact JSON body a webhook receiver gets.
    pub payload: String,
}

impl NewEvent {
    /// The event `data` describes.
    pub fn of<D: EventData>(
        data: &D,
        organization: OrgRef,
        actor: Actor,
        at: DateTime<Utc>,
    ) -> Self {
        // A struct of plain fields always serializes to an object.
        let data = serde_json::to_value(data).unwrap_or_default();
        Self::named(D::NAME, organization, actor, data, at)
    }

    /// Builds the payload from any `data`, which must be a JSON object; `actor` is added to
    /// it. Handlers use [`Self::of`], whose types fix each event's shape.
    pub fn new(
        event_type: EventType,
        organization: OrgRef,
        actor: Actor,
        data: Value,
        at: DateTime<Utc>,
    ) -> Self {
        Self::named(event_type.as_str(), organization, actor, data, at)
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
        Self::built(Cow::Borrowed(name), organization, Value::Object(data), at)
    }

    /// An event of a type the application registered, published with `data` (an object)
    /// exactly as given: its receivers check it against the type's schema, which knows no
    /// `actor`.
    pub fn published(name: String, organization: OrgRef, data: Value, at: DateTime<Utc>) -> Self {
        Self::built(Cow::Owned(name), organization, data, at)
    }

    fn built(
        name: Cow<'static, str>,
        organization: OrgRef,
        data: Value,
        at: DateTime<Utc>,
    ) -> Self {
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
    use super::super::role::Role;
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

    fn data_of(event: &NewEvent) -> String {
        let body: Value = serde_json::from_str(&event.payload).expect("json");
        body["data"].to_string()
    }

    #[test]
    fn typed_data_keeps_its_keys_in_order_and_actor_last() {
        let org = OrgRef { id: Uuid::nil(), slug: "acme".into(), name: "Acme".into() };
        let actor = Actor::User(Uuid::nil());
        let at = Utc::now();
        let event = |data: &dyn Fn(OrgRef) -> NewEvent| data_of(&data(org.clone()));
        let member = MemberRef { user_id: Uuid::nil(), email: "a@b.co", role: Role::Admin };
        let nil = Uuid::nil();
        assert_eq!(
            event(&|o| NewEvent::of(
                &MemberRoleUpdated { member, previous_role: Role::Member },
                o,
                actor,
                at
            )),
            format!(
                r#"{{"userId":"{nil}","email":"a@b.co","role":"ADMIN","previousRole":"MEMBER","actor":{{"type":"user","id":"{nil}"}}}}"#
            )
        );
        assert_eq!(
            event(&|o| NewEvent::of(&OrganizationCreated {}, o, actor, at)),
            format!(r#"{{"actor":{{"type":"user","id":"{nil}"}}}}"#)
        );
        let renamed = |o| {
            let slug = Some(Change { previous: "acme", current: "acme-2" });
            let changes = OrganizationChanges { name: None, slug };
            NewEvent::of(&OrganizationUpdated { changes }, o, actor, at)
        };
        assert_eq!(
            event(&renamed),
            format!(
                r#"{{"changes":{{"slug":{{"previous":"acme","current":"acme-2"}}}},"actor":{{"type":"user","id":"{nil}"}}}}"#
            )
        );
        let app = AppRef { app_id: nil, name: "CRM", client_id: "rst_ci_x" };
        assert_eq!(
            event(&|o| NewEvent::of(
                &OauthAppCreated { app, scopes: &["members:read"] },
                o,
                actor,
                at
            )),
            format!(
                r#"{{"appId":"{nil}","name":"CRM","clientId":"rst_ci_x","scopes":["members:read"],"actor":{{"type":"user","id":"{nil}"}}}}"#
            )
        );
        let test = NewEvent::of(
            &WebhookTest { webhook_id: nil, message: WebhookTest::MESSAGE },
            org.clone(),
            actor,
            at,
        );
        assert_eq!(test.name, TEST_EVENT);
    }

    #[test]
    fn catalog_matches_the_seed() {
        assert_eq!(EventType::SEED.len(), 12);
        assert_eq!(EventType::SEED.last(), Some(&EventType::WebhookCreated));
        assert!(!EventType::catalog().contains("webhook.disabled"));
        assert_eq!(serde_json::to_value(Actor::System).expect("json"), json!({"type": "system"}));
        assert_eq!(EventType::parse("oauth_app.revoked"), Some(EventType::OauthAppRevoked));
        assert_eq!(EventType::parse("webhook.test"), None);
        assert!(EventType::catalog().starts_with("organization.created, organization.updated"));
    }
}
