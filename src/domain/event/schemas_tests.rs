use chrono::Utc;
use serde_json::{Value, json};
use uuid::Uuid;

use super::*;
use crate::domain::event::*;
use crate::domain::role::Role;

/// `schema` with every object closed: a property the code sends that the schema does not
/// name fails, as does one it names and the code does not send.
fn strict(mut schema: Value) -> Value {
    if let Some(object) = schema.as_object_mut() {
        if object.get("type") == Some(&json!("object")) {
            object.insert("additionalProperties".into(), json!(false));
        }
        for value in object.values_mut() {
            *value = strict(value.take());
        }
    }
    schema
}

fn data_of(event: &NewEvent) -> Value {
    let body: Value = serde_json::from_str(&event.payload).expect("json");
    body["data"].clone()
}

#[test]
fn every_built_in_event_meets_its_schema() {
    let org = OrgRef { id: Uuid::nil(), slug: "acme".into(), name: "Acme".into() };
    let (actor, at, id) = (Actor::User(Uuid::nil()), Utc::now(), Uuid::now_v7());
    let member = MemberRef { user_id: id, email: "a@b.co", role: Role::Admin };
    let invite = InviteRef { invite_id: id, email: "a@b.co", role: Role::Member };
    let app = AppRef { app_id: id, name: "CRM", client_id: "rst_ci_x" };
    let names = ["member.added"];
    let webhook = WebhookRef { webhook_id: id, url: "https://example.com/h", events: &names };
    let uris = ["https://example.com/cb".to_owned()];
    let event = |e: NewEvent| (LoggedEvent::parse(&e.name).expect("a logged type"), e);
    let o = || org.clone();
    let events = [
        event(NewEvent::of(&OrganizationCreated {}, o(), actor, at)),
        event(NewEvent::of(
            &OrganizationUpdated {
                changes: OrganizationChanges {
                    name: Change::between("Acme", "Acme 2"),
                    slug: Change::between("acme", "acme-2"),
                },
            },
            o(),
            actor,
            at,
        )),
        event(NewEvent::of(&OrganizationDeleted {}, o(), actor, at)),
        event(NewEvent::of(&MemberAdded(member), o(), actor, at)),
        event(NewEvent::of(&MemberRemoved(member), o(), actor, at)),
        event(NewEvent::of(
            &MemberRoleUpdated { member, previous_role: Role::Member },
            o(),
            actor,
            at,
        )),
        event(NewEvent::of(&InviteCreated { invite, expires_at: at }, o(), actor, at)),
        event(NewEvent::of(&InviteAccepted { invite, user_id: id }, o(), actor, at)),
        event(NewEvent::of(&InviteCancelled(invite), o(), actor, at)),
        event(NewEvent::of(&OauthAppCreated { app, scopes: &["members:read"] }, o(), actor, at)),
        event(NewEvent::of(&OauthAppRevoked(app), o(), actor, at)),
        event(NewEvent::of(&WebhookCreated(webhook), o(), actor, at)),
        event(NewEvent::of(
            &WebhookDisabled {
                webhook_id: id,
                url: "https://example.com/h",
                reason: DisabledReason::Gone,
                last_error: Some("HTTP 410"),
            },
            o(),
            Actor::System,
            at,
        )),
        event(NewEvent::of(
            &DeliveryExhausted {
                webhook_id: id,
                delivery_id: id,
                event_id: id,
                event_type: "member.added",
                attempts: 4,
                last_error: None,
            },
            o(),
            Actor::System,
            at,
        )),
        event(NewEvent::of(
            &WebhookTest { webhook_id: id, message: WebhookTest::MESSAGE },
            o(),
            actor,
            at,
        )),
        event(NewEvent::of(
            &WebhookUpdated {
                webhook_id: id,
                changes: WebhookChanges {
                    url: Change::between("https://a.example", "https://b.example"),
                    events: Change::between(&names[..], &[][..]),
                    is_active: Change::between(true, false),
                    header_names: Change::between(&uris[..], &[][..]),
                    rate_limit: Change::between(None, Some(5)),
                },
            },
            o(),
            actor,
            at,
        )),
        event(NewEvent::of(&WebhookDeleted(webhook), o(), actor, at)),
        event(NewEvent::of(
            &WebhookSecretRotated { webhook_id: id, previous_secret_expires_at: at },
            o(),
            Actor::OauthApp(id),
            at,
        )),
        event(NewEvent::of(
            &OauthAppUpdated {
                app,
                changes: OauthAppChanges {
                    name: Change::between("CRM", "CRM 2"),
                    redirect_uris: Change::between(&uris[..], &[][..]),
                    scopes: Change::between(&["members:read"][..], &[][..]),
                },
            },
            o(),
            Actor::OauthApp(id),
            at,
        )),
        event(NewEvent::of(
            &OauthAppSecretRotated { app, previous_secret_expires_at: at },
            o(),
            actor,
            at,
        )),
    ];
    let covered: Vec<LoggedEvent> = events.iter().map(|(logged, _)| *logged).collect();
    for logged in LoggedEvent::all() {
        assert!(covered.contains(&logged), "{} has no sample here", logged.as_str());
    }
    for (logged, event) in &events {
        let schema = strict(data_schema(*logged));
        let validator = jsonschema::draft202012::new(&schema).expect("a valid schema");
        let data = data_of(event);
        let errors: Vec<String> = validator.iter_errors(&data).map(|e| e.to_string()).collect();
        assert!(errors.is_empty(), "{}: {errors:?} in {data}", logged.as_str());
        assert!(!description(*logged).is_empty());
    }
}
