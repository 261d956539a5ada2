//! Creating invites: who may invite which role, the body shown once with its token, conflicts.

use reqwest::StatusCode;
use serde_json::json;

use super::{
    ALREADY_PENDING, ROLES, SEVEN_DAYS_MS, accept, actor, assert_created, assert_invite, events,
    events_of, ids, invite, invite_path, invites_path, list_all, time_of,
};
use crate::common::messages::{ALREADY_MEMBER, BAD_UUID, ORG_NOT_FOUND, OWNER_INVITE_DENIED};
use crate::common::{AUTH_REQUIRED, Backend, TestApp, assert_error, assert_validation, str_of};

const INVITE_DENIED: &str = "Access denied. Only owners and admins can invite members.";

async fn owner_invites_any_role(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let f = app.org_with_roles().await;
    for role in ROLES {
        let email = format!("new-{}@example.com", role.to_lowercase());
        let body = invite(&app, &f.org, &f.owner, &email, role).await;
        assert_created(&body, &f.org, &email, role, &f.owner, SEVEN_DAYS_MS);
    }
    let listed = list_all(&app, &f.org, &f.owner, None).await;
    assert_eq!(listed.len(), 3);
    let roles: Vec<&str> = listed.iter().map(|i| str_of(i, "role")).collect();
    assert_eq!(roles, ["MEMBER", "ADMIN", "OWNER"], "newest first");
    for i in &listed {
        assert_invite(i, &f.org, str_of(i, "email"), str_of(i, "role"), "pending", &f.owner);
    }
    app.stop().await;
}

async fn admin_invites_members_and_admins_only(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let f = app.org_with_roles().await;
    let before = app.event_types(&f.org, &f.owner).await;

    let (status, body) = app
        .post(
            &invites_path(&f.org),
            Some(&f.admin.token),
            json!({"email": "boss@example.com", "role": "OWNER"}),
        )
        .await;
    assert_error(status, &body, StatusCode::FORBIDDEN, OWNER_INVITE_DENIED);
    assert_eq!(app.event_types(&f.org, &f.owner).await, before);
    assert!(list_all(&app, &f.org, &f.owner, None).await.is_empty());

    for role in ["MEMBER", "ADMIN"] {
        let email = format!("by-admin-{}@example.com", role.to_lowercase());
        let body = invite(&app, &f.org, &f.admin, &email, role).await;
        assert_created(&body, &f.org, &email, role, &f.admin, SEVEN_DAYS_MS);
    }
    let created = events_of(&app, &f.org, &f.owner, "invite.created").await;
    assert_eq!(created.len(), 2);
    for e in &created {
        assert_eq!(e["data"]["actor"], actor(&f.admin), "{e}");
    }
    app.stop().await;
}

async fn member_outsider_and_anonymous_cannot_invite(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let f = app.org_with_roles().await;
    let before = app.event_types(&f.org, &f.owner).await;
    let path = invites_path(&f.org);

    for role in ROLES {
        let body = json!({"email": "someone@example.com", "role": role});
        let (status, resp) = app.post(&path, Some(&f.member.token), body.clone()).await;
        assert_error(status, &resp, StatusCode::FORBIDDEN, INVITE_DENIED);
        let (status, resp) = app.post(&path, Some(&f.outsider.token), body.clone()).await;
        assert_error(status, &resp, StatusCode::NOT_FOUND, ORG_NOT_FOUND);
        let (status, resp) = app.post(&path, None, body.clone()).await;
        assert_error(status, &resp, StatusCode::UNAUTHORIZED, AUTH_REQUIRED);
        let (status, resp) = app.post(&path, Some("rst_at_not-a-real-token"), body).await;
        assert_error(status, &resp, StatusCode::UNAUTHORIZED, AUTH_REQUIRED);
    }
    // The outsider cannot invite itself in either.
    let (status, resp) = app
        .post(&path, Some(&f.outsider.token), json!({"email": f.outsider.email, "role": "OWNER"}))
        .await;
    assert_error(status, &resp, StatusCode::NOT_FOUND, ORG_NOT_FOUND);
    let missing = uuid::Uuid::new_v4().to_string();
    let (status, resp) = app
        .post(
            &invites_path(&missing),
            Some(&f.owner.token),
            json!({"email": "someone@example.com", "role": "MEMBER"}),
        )
        .await;
    assert_error(status, &resp, StatusCode::NOT_FOUND, ORG_NOT_FOUND);
    let (status, resp) = app
        .post(
            &invites_path("not-a-uuid"),
            Some(&f.owner.token),
            json!({"email": "someone@example.com", "role": "MEMBER"}),
        )
        .await;
    assert_error(status, &resp, StatusCode::BAD_REQUEST, BAD_UUID);

    assert_eq!(app.event_types(&f.org, &f.owner).await, before);
    assert!(list_all(&app, &f.org, &f.owner, None).await.is_empty());
    app.stop().await;
}

async fn create_event_never_carries_token(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let f = app.org_with_roles().await;
    let before = app.event_types(&f.org, &f.owner).await;
    let body = invite(&app, &f.org, &f.owner, "Dana@Example.com", "ADMIN").await;
    // The address is kept as given.
    assert_created(&body, &f.org, "Dana@Example.com", "ADMIN", &f.owner, SEVEN_DAYS_MS);
    let token = str_of(&body, "token").to_owned();

    let log = events(&app, &f.org, &f.owner).await;
    assert_eq!(log.len(), before.len() + 1);
    let event = log.last().expect("event");
    assert_eq!(event["event"], json!("invite.created"), "{event}");
    assert_eq!(event["organization"]["id"], json!(f.org), "{event}");
    assert_eq!(
        event["data"],
        json!({
            "inviteId": body["id"],
            "email": "Dana@Example.com",
            "role": "ADMIN",
            "expiresAt": body["expiresAt"],
            "actor": actor(&f.owner),
        }),
        "{event}"
    );
    time_of(event, "timestamp");

    // The token appears nowhere after the create: not in the event log (as an OWNER or an
    // ADMIN reads it) and not in the invite list.
    for viewer in [&f.owner, &f.admin] {
        let (status, all) = app
            .get(&format!("/api/organizations/{}/events?limit=100", f.org), Some(&viewer.token))
            .await;
        assert_eq!(status, StatusCode::OK);
        let text = all.to_string();
        assert!(!text.contains(&token), "token leaked into events: {text}");
        assert!(!text.contains(&token["rst_inv_".len()..]), "token leaked into events: {text}");
        let (status, list) = app.get(&invites_path(&f.org), Some(&viewer.token)).await;
        assert_eq!(status, StatusCode::OK);
        assert!(!list.to_string().contains(&token), "token leaked into list: {list}");
    }
    let listed = list_all(&app, &f.org, &f.owner, None).await;
    assert_eq!(listed.len(), 1);
    let mut without_token = body.clone();
    without_token.as_object_mut().expect("object").remove("token");
    assert_eq!(listed[0], without_token);
    app.stop().await;
}

async fn create_conflicts(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let f = app.org_with_roles().await;
    let path = invites_path(&f.org);
    let owner = Some(f.owner.token.as_str());

    // Existing members, in any case of their email, for any role.
    for user in [&f.owner, &f.admin, &f.member] {
        for email in [user.email.clone(), user.email.to_uppercase()] {
            for role in ROLES {
                let (status, body) =
                    app.post(&path, owner, json!({"email": email, "role": role})).await;
                assert_error(status, &body, StatusCode::CONFLICT, ALREADY_MEMBER);
            }
        }
    }
    let (status, body) = app
        .post(&path, Some(&f.admin.token), json!({"email": f.member.email, "role": "MEMBER"}))
        .await;
    assert_error(status, &body, StatusCode::CONFLICT, ALREADY_MEMBER);
    assert!(list_all(&app, &f.org, &f.owner, None).await.is_empty());

    // A second pending invite for the same address, in any case, by anyone, for any role.
    let first = invite(&app, &f.org, &f.admin, "Pat@Example.com", "MEMBER").await;
    let before = app.event_types(&f.org, &f.owner).await;
    for (by, email, role) in [
        (&f.owner, "Pat@Example.com", "MEMBER"),
        (&f.owner, "pat@example.com", "OWNER"),
        (&f.admin, "PAT@EXAMPLE.COM", "ADMIN"),
    ] {
        let (status, body) =
            app.post(&path, Some(&by.token), json!({"email": email, "role": role})).await;
        assert_error(status, &body, StatusCode::CONFLICT, ALREADY_PENDING);
    }
    // An address is taken as written: white space around it is not an address.
    let padded = json!({"email": "  pat@example.COM ", "role": "MEMBER"});
    let (status, body) = app.post(&path, owner, padded).await;
    assert_validation(status, &body, &["email must be an email"]);
    assert_eq!(app.event_types(&f.org, &f.owner).await, before);
    assert_eq!(ids(&list_all(&app, &f.org, &f.owner, None).await), [str_of(&first, "id")]);

    // Once cancelled, the address may be invited again.
    let (status, body) = app.delete(&invite_path(&f.org, str_of(&first, "id")), owner).await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    let second = invite(&app, &f.org, &f.owner, "pat@example.com", "ADMIN").await;
    assert_created(&second, &f.org, "pat@example.com", "ADMIN", &f.owner, SEVEN_DAYS_MS);

    // Once accepted, the address belongs to a member.
    let pat = app.register("pat").await;
    let (status, body) = accept(&app, &pat, str_of(&second, "token")).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, body) =
        app.post(&path, owner, json!({"email": "PAT@example.com", "role": "MEMBER"})).await;
    assert_error(status, &body, StatusCode::CONFLICT, ALREADY_MEMBER);

    // A pending invite in one organization does not block another.
    let other = app.create_org(&f.outsider, "Other Org").await;
    invite(&app, &f.org, &f.owner, "quinn@example.com", "MEMBER").await;
    let body = invite(&app, &other, &f.outsider, "QUINN@example.com", "MEMBER").await;
    assert_created(&body, &other, "QUINN@example.com", "MEMBER", &f.outsider, SEVEN_DAYS_MS);
    app.stop().await;
}

on_both_backends!(
    owner_invites_any_role,
    admin_invites_members_and_admins_only,
    member_outsider_and_anonymous_cannot_invite,
    create_event_never_carries_token,
    create_conflicts
);
