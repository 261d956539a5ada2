//! Accepting invites: by the invited email only, once.

use std::collections::HashSet;

use reqwest::StatusCode;
use serde_json::{Value, json};

use super::{
    ACCEPT_PATH, ALREADY_ACCEPTED, INVITE_NOT_FOUND, SEVEN_DAYS_MS, WAS_CANCELLED, accept, actor,
    assert_created, assert_invite, events, events_of, ids, invite, invite_path, list_all,
    member_roles, time_of,
};
use crate::common::messages::{ALREADY_MEMBER, ORG_NOT_FOUND};
use crate::common::{
    AUTH_REQUIRED, Backend, TestApp, assert_error, assert_member, assert_validation, str_of,
};

const OTHER_EMAIL: &str = "This invite was sent to another email address";
const TOKEN_NOT_STRING: &str = "token must be a string";
const TOKEN_EMPTY: &str = "token should not be empty";

async fn accept_invite(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let f = app.org_with_roles().await;
    let carol = app.register("Carol").await;
    assert_eq!(carol.email, "Carol@example.com");
    // Invited in another case than she registered with.
    let created = invite(&app, &f.org, &f.admin, "cAROL@EXAMPLE.com", "ADMIN").await;
    let token = str_of(&created, "token").to_owned();
    let before = events(&app, &f.org, &f.owner).await.len();

    // Another user cannot take it.
    let (status, body) = accept(&app, &f.outsider, &token).await;
    assert_error(status, &body, StatusCode::FORBIDDEN, OTHER_EMAIL);
    let (status, body) = accept(&app, &f.member, &token).await;
    assert_error(status, &body, StatusCode::FORBIDDEN, OTHER_EMAIL);
    assert_eq!(events(&app, &f.org, &f.owner).await.len(), before);

    let (status, body) = accept(&app, &carol, &token).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let object = body.as_object().expect("object");
    assert_eq!(
        object.keys().map(String::as_str).collect::<HashSet<_>>(),
        ["invite", "member"].into(),
        "{body}"
    );
    assert_invite(&body["invite"], &f.org, "cAROL@EXAMPLE.com", "ADMIN", "accepted", &f.admin);
    assert_eq!(body["invite"]["id"], created["id"]);
    assert_eq!(body["invite"]["createdAt"], created["createdAt"]);
    assert_eq!(body["invite"]["expiresAt"], created["expiresAt"]);
    // The member carries the user's own email.
    assert_member(&body["member"], &f.org, &carol, "ADMIN");
    assert_eq!(body["member"]["createdAt"], body["invite"]["updatedAt"]);

    // Carol is a member with the invite's role, and acts as one.
    let roles = member_roles(&app, &f.org, &f.member).await;
    assert_eq!(roles.len(), 4);
    assert_eq!(roles.iter().filter(|(id, _)| *id == carol.id).count(), 1);
    assert!(roles.contains(&(carol.id.clone(), "ADMIN".to_owned())), "{roles:?}");
    let (status, org) = app.get(&format!("/api/organizations/{}", f.org), Some(&carol.token)).await;
    assert_eq!(status, StatusCode::OK, "{org}");
    let listed = list_all(&app, &f.org, &carol, None).await;
    assert_eq!(listed, vec![body["invite"].clone()]);
    assert_eq!(ids(&list_all(&app, &f.org, &carol, Some("accepted")).await), ids(&listed));

    // Two events, in this order, each exactly once.
    let log = events(&app, &f.org, &f.owner).await;
    assert_eq!(log.len(), before + 2);
    assert_eq!(log[before]["event"], json!("invite.accepted"));
    assert_eq!(
        log[before]["data"],
        json!({
            "inviteId": created["id"],
            "email": "cAROL@EXAMPLE.com",
            "role": "ADMIN",
            "userId": carol.id,
            "actor": actor(&carol),
        })
    );
    assert_eq!(log[before + 1]["event"], json!("member.added"));
    assert_eq!(
        log[before + 1]["data"],
        json!({"userId": carol.id, "email": carol.email, "role": "ADMIN", "actor": actor(&carol)})
    );
    for e in &log[before..] {
        assert_eq!(e["organization"]["id"], json!(f.org), "{e}");
        time_of(e, "timestamp");
    }
    assert_eq!(events_of(&app, &f.org, &f.owner, "invite.accepted").await.len(), 1);
    assert!(!log.iter().map(Value::to_string).any(|e| e.contains(&token)));

    // Only once.
    let (status, body) = accept(&app, &carol, &token).await;
    assert_error(status, &body, StatusCode::CONFLICT, ALREADY_ACCEPTED);
    let (status, body) = accept(&app, &f.outsider, &token).await;
    assert_error(status, &body, StatusCode::FORBIDDEN, OTHER_EMAIL);
    assert_eq!(events(&app, &f.org, &f.owner).await.len(), before + 2);
    assert_eq!(member_roles(&app, &f.org, &f.owner).await.len(), 4);
    app.stop().await;
}

async fn accept_owner_invite(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let f = app.org_with_roles().await;
    let dan = app.register("dan").await;
    let created = invite(&app, &f.org, &f.owner, "dan@example.com", "OWNER").await;
    let (status, body) = accept(&app, &dan, str_of(&created, "token")).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_member(&body["member"], &f.org, &dan, "OWNER");
    // Dan really is an OWNER: he may invite owners himself.
    let body = invite(&app, &f.org, &dan, "eve@example.com", "OWNER").await;
    assert_created(&body, &f.org, "eve@example.com", "OWNER", &dan, SEVEN_DAYS_MS);
    app.stop().await;
}

async fn accept_errors(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let f = app.org_with_roles().await;
    let gus = app.register("gus").await;
    let cancelled = invite(&app, &f.org, &f.owner, "gus@example.com", "MEMBER").await;
    let (status, body) =
        app.delete(&invite_path(&f.org, str_of(&cancelled, "id")), Some(&f.owner.token)).await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    let before = app.event_types(&f.org, &f.owner).await;

    let (status, body) = accept(&app, &gus, str_of(&cancelled, "token")).await;
    assert_error(status, &body, StatusCode::CONFLICT, WAS_CANCELLED);
    for unknown in ["rst_inv_doesnotexist", "x", "rst_at_abc"] {
        let (status, body) = accept(&app, &gus, unknown).await;
        assert_error(status, &body, StatusCode::NOT_FOUND, INVITE_NOT_FOUND);
    }
    // A token that was valid but altered.
    let mut altered = str_of(&cancelled, "token").to_owned();
    let last = altered.pop().expect("char");
    altered.push(if last == 'A' { 'B' } else { 'A' });
    let (status, body) = accept(&app, &gus, &altered).await;
    assert_error(status, &body, StatusCode::NOT_FOUND, INVITE_NOT_FOUND);

    let pending = invite(&app, &f.org, &f.owner, "gus@example.com", "MEMBER").await;
    let token = str_of(&pending, "token");
    let before_pending = app.event_types(&f.org, &f.owner).await;
    let (status, body) = app.post(ACCEPT_PATH, None, json!({"token": token})).await;
    assert_error(status, &body, StatusCode::UNAUTHORIZED, AUTH_REQUIRED);
    let (status, body) =
        app.post(ACCEPT_PATH, Some("rst_at_not-a-real-token"), json!({"token": token})).await;
    assert_error(status, &body, StatusCode::UNAUTHORIZED, AUTH_REQUIRED);
    // The invite token is not a bearer token.
    let (status, body) = app.post(ACCEPT_PATH, Some(token), json!({"token": token})).await;
    assert_error(status, &body, StatusCode::UNAUTHORIZED, AUTH_REQUIRED);

    let gus_token = Some(gus.token.as_str());
    let (status, body) = app.post(ACCEPT_PATH, gus_token, json!({})).await;
    assert_validation(status, &body, &[TOKEN_NOT_STRING]);
    for bad in [json!(null), json!(42), json!(["x"]), json!({"token": token})] {
        let (status, body) = app.post(ACCEPT_PATH, gus_token, json!({"token": bad})).await;
        assert_validation(status, &body, &[TOKEN_NOT_STRING]);
    }
    let (status, body) = app.post(ACCEPT_PATH, gus_token, json!({"token": ""})).await;
    assert_validation(status, &body, &[TOKEN_EMPTY]);
    let (status, body) = app.post(ACCEPT_PATH, gus_token, json!({"token": "x".repeat(129)})).await;
    assert_validation(status, &body, &["token must be shorter than or equal to 128 characters"]);
    let (status, body) =
        app.post(ACCEPT_PATH, gus_token, json!({"token": token, "inviteId": pending["id"]})).await;
    assert_validation(status, &body, &["property inviteId should not exist"]);
    let (status, body) = app.post(ACCEPT_PATH, gus_token, json!({"email": gus.email})).await;
    assert_validation(status, &body, &["property email should not exist", TOKEN_NOT_STRING]);

    // None of that touched the pending invite; it still works.
    assert_eq!(app.event_types(&f.org, &f.owner).await, before_pending);
    assert_eq!(before_pending.len(), before.len() + 1);
    let (status, body) = accept(&app, &gus, token).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_member(&body["member"], &f.org, &gus, "MEMBER");
    app.stop().await;
}

async fn accept_when_already_member(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let f = app.org_with_roles().await;
    let hal = app.register("hal").await;
    let created = invite(&app, &f.org, &f.owner, "hal@example.com", "ADMIN").await;
    // Added directly while the invite was pending.
    app.add_member(&f.org, &f.owner, &hal, "MEMBER").await;
    let before = app.event_types(&f.org, &f.owner).await;
    let (status, body) = accept(&app, &hal, str_of(&created, "token")).await;
    assert_error(status, &body, StatusCode::CONFLICT, ALREADY_MEMBER);
    assert_eq!(app.event_types(&f.org, &f.owner).await, before);
    let roles = member_roles(&app, &f.org, &f.owner).await;
    assert!(roles.contains(&(hal.id.clone(), "MEMBER".to_owned())), "{roles:?}");
    assert_eq!(roles.len(), 4);
    app.stop().await;
}

/// The documented flow: someone without an account is invited, registers with the invited
/// address, and accepts.
async fn invite_then_register_then_accept(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let owner = app.register("founder").await;
    let org = app.create_org(&owner, "Newco").await;
    let created = invite(&app, &org, &owner, "Newbie@Example.com", "MEMBER").await;
    assert_created(&created, &org, "Newbie@Example.com", "MEMBER", &owner, SEVEN_DAYS_MS);
    let token = str_of(&created, "token").to_owned();

    let newbie = app.register("newbie").await;
    assert_eq!(newbie.email, "newbie@example.com");
    let (status, body) = app.get(&format!("/api/organizations/{org}"), Some(&newbie.token)).await;
    assert_error(status, &body, StatusCode::NOT_FOUND, ORG_NOT_FOUND);

    let (status, body) = accept(&app, &newbie, &token).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_invite(&body["invite"], &org, "Newbie@Example.com", "MEMBER", "accepted", &owner);
    assert_member(&body["member"], &org, &newbie, "MEMBER");

    let (status, body) = app.get("/api/organizations", Some(&newbie.token)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let orgs = body["data"].as_array().expect("data");
    assert_eq!(orgs.len(), 1, "{body}");
    assert_eq!(orgs[0]["id"], json!(org));
    assert_eq!(orgs[0]["role"], json!("MEMBER"));
    let roles = member_roles(&app, &org, &newbie).await;
    assert_eq!(roles.len(), 2);
    assert_eq!(
        app.event_types(&org, &owner).await,
        ["organization.created", "invite.created", "invite.accepted", "member.added"]
    );
    app.stop().await;
}

on_both_backends!(
    accept_invite,
    accept_owner_invite,
    accept_errors,
    accept_when_already_member,
    invite_then_register_then_accept
);
