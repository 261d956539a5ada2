//! A `client_credentials` token acts as an ADMIN; an `authorization_code` token as its user.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::common::messages::{
    ADD_DENIED, DELETE_DENIED, OAUTH_REFUSED, ONLY_MEMBER, ORG_NOT_FOUND, OWNER_INVITE_DENIED,
    OWNER_REMOVAL_DENIED, OWNERS_ONLY,
};
use crate::common::oauth::{ALL_SCOPES, TestOAuthApp, assert_insufficient_scope, org_path};
use crate::common::{AUTH_REQUIRED, Backend, PASSWORD, TestApp, TestUser, assert_error};

/// An `authorization_code` access token for `user` with `scope`.
async fn authorization_code_token(
    app: &TestApp,
    oauth: &TestOAuthApp,
    user: &TestUser,
    scope: &str,
) -> String {
    let body = app.authorization_code_grant(oauth, user, Some(scope)).await;
    body["access_token"].as_str().expect("access token").to_owned()
}

async fn client_credentials_acts_as_an_admin(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let f = app.org_with_roles().await;
    let oauth = app.create_oauth_app(&f.org, &f.owner, &ALL_SCOPES).await;
    let token = app.client_credentials_token(&oauth, None).await;
    let t = Some(token.as_str());
    let op = org_path(&f.org);
    let plain = app.register("plain").await;
    let boss = app.register("boss").await;
    let would_be_owner = app.register("would-be-owner").await;
    let actor = json!({"type": "oauth_app", "id": oauth.id});

    // Adds MEMBERs, never ADMINs (the one role a token gives) or OWNERs (the role rules).
    let (status, body) = app
        .post(&format!("{op}/members"), t, json!({"email": plain.email, "role": "MEMBER"}))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body["role"], "MEMBER");
    let (status, body) =
        app.post(&format!("{op}/members"), t, json!({"email": boss.email, "role": "ADMIN"})).await;
    assert_error(status, &body, StatusCode::FORBIDDEN, ONLY_MEMBER);
    app.add_member(&f.org, &f.owner, &boss, "ADMIN").await;
    let (status, body) = app
        .post(&format!("{op}/members"), t, json!({"email": would_be_owner.email, "role": "OWNER"}))
        .await;
    assert_error(status, &body, StatusCode::FORBIDDEN, OWNERS_ONLY);

    // Changes roles down to MEMBER, never up, and never to or from OWNER.
    let (status, body) =
        app.patch(&format!("{op}/members/{}", plain.id), t, json!({"role": "OWNER"})).await;
    assert_error(status, &body, StatusCode::FORBIDDEN, OWNERS_ONLY);
    let (status, body) =
        app.patch(&format!("{op}/members/{}", f.owner.id), t, json!({"role": "MEMBER"})).await;
    assert_error(status, &body, StatusCode::FORBIDDEN, OWNERS_ONLY);
    let (status, body) =
        app.patch(&format!("{op}/members/{}", f.member.id), t, json!({"role": "ADMIN"})).await;
    assert_error(status, &body, StatusCode::FORBIDDEN, ONLY_MEMBER);
    let (status, body) =
        app.patch(&format!("{op}/members/{}", f.admin.id), t, json!({"role": "MEMBER"})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["role"], "MEMBER");

    // Removes members and admins, never the OWNER.
    let (status, body) = app.delete(&format!("{op}/members/{}", f.owner.id), t).await;
    assert_error(status, &body, StatusCode::FORBIDDEN, OWNER_REMOVAL_DENIED);
    let (status, body) = app.delete(&format!("{op}/members/{}", boss.id), t).await;
    assert_eq!((status, body), (StatusCode::NO_CONTENT, Value::Null));

    // Invites MEMBERs only; the invite names the app as its inviter.
    let (status, body) = app
        .post(&format!("{op}/invites"), t, json!({"email": "boss2@example.com", "role": "OWNER"}))
        .await;
    assert_error(status, &body, StatusCode::FORBIDDEN, OWNER_INVITE_DENIED);
    let (status, body) = app
        .post(&format!("{op}/invites"), t, json!({"email": "new@example.com", "role": "ADMIN"}))
        .await;
    assert_error(status, &body, StatusCode::FORBIDDEN, ONLY_MEMBER);
    let (status, invite) = app
        .post(&format!("{op}/invites"), t, json!({"email": "new@example.com", "role": "MEMBER"}))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{invite}");
    assert_eq!(invite["invitedBy"], json!(oauth.id), "{invite}");
    let invite_id = invite["id"].as_str().expect("invite id").to_owned();
    let (status, listed) = app.get(&format!("{op}/invites"), Some(&f.owner.token)).await;
    assert_eq!(status, StatusCode::OK, "{listed}");
    let listed = listed["data"]
        .as_array()
        .expect("data")
        .iter()
        .find(|i| i["id"] == json!(invite_id))
        .cloned()
        .expect("the invite is listed");
    assert_eq!(listed["invitedBy"], json!(oauth.id), "{listed}");

    // Updates the organization and manages webhooks, but never deletes the organization.
    let (status, body) = app.patch(&op, t, json!({"name": "Acme Renamed"})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, body) = app
        .post(
            &format!("{op}/webhooks"),
            t,
            json!({"url": "https://example.com/h", "events": ["member.added"]}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let webhook_id = body["id"].as_str().expect("webhook id").to_owned();
    let (status, body) = app.delete(&op, t).await;
    assert_error(status, &body, StatusCode::FORBIDDEN, DELETE_DENIED);
    let (status, body) = app.get(&op, Some(&f.owner.token)).await;
    assert_eq!(status, StatusCode::OK, "the organization survives: {body}");

    // The owner is still the owner.
    let members = app.list_all(&format!("{op}/members"), &f.owner.token).await;
    let owner = members.iter().find(|m| m["userId"] == json!(f.owner.id)).expect("owner listed");
    assert_eq!(owner["role"], "OWNER");
    assert!(!members.iter().any(|m| m["userId"] == json!(would_be_owner.id)));

    // Every event it caused names the app as the actor, and only those do.
    let events = app.events(&f.org, &f.owner).await;
    let by_app: Vec<&Value> = events.iter().filter(|e| e["data"]["actor"] == actor).collect();
    let mut types: Vec<&str> = by_app.iter().map(|e| e["event"].as_str().expect("event")).collect();
    types.reverse();
    assert_eq!(
        types,
        [
            "member.added",
            "member.role_updated",
            "member.removed",
            "invite.created",
            "organization.updated",
            "webhook.created",
        ],
        "{events:?}"
    );
    let added: Vec<&Value> =
        by_app.iter().filter(|e| e["event"] == "member.added").copied().collect();
    assert!(
        added
            .iter()
            .any(|e| e["data"]["userId"] == json!(plain.id) && e["data"]["role"] == "MEMBER")
    );
    let created = by_app.iter().find(|e| e["event"] == "invite.created").expect("invite.created");
    assert_eq!(created["data"]["inviteId"], json!(invite_id));
    let hooked = by_app.iter().find(|e| e["event"] == "webhook.created").expect("webhook.created");
    assert_eq!(hooked["data"]["webhookId"], json!(webhook_id));
    for e in &events {
        let kind = e["data"]["actor"]["type"].as_str().expect("actor type");
        assert!(kind == "user" || kind == "oauth_app", "{e}");
        if kind == "user" {
            assert!(
                ["organization.created", "member.added", "oauth_app.created"]
                    .contains(&e["event"].as_str().expect("event")),
                "only the fixture's own steps were the people's: {e}"
            );
        }
    }
}

async fn authorization_code_tokens_act_as_their_user(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let f = app.org_with_roles().await;
    let oauth = app.create_oauth_app(&f.org, &f.owner, &ALL_SCOPES).await;
    let op = org_path(&f.org);
    let newcomer = app.register("newcomer").await;
    // The MEMBER is in another organization too; the token sees only the app's.
    let elsewhere = app.create_org(&f.member, "Member's Own").await;

    // A MEMBER's token has a MEMBER's powers, whatever its scopes.
    let member_token = authorization_code_token(
        &app,
        &oauth,
        &f.member,
        "members:read members:write organization:read",
    )
    .await;
    let (status, body) = app.get(&format!("{op}/members"), Some(&member_token)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, body) = app
        .post(
            &format!("{op}/members"),
            Some(&member_token),
            json!({"email": newcomer.email, "role": "MEMBER"}),
        )
        .await;
    assert_error(status, &body, StatusCode::FORBIDDEN, ADD_DENIED);
    let (status, headers, body) =
        app.send(Method::GET, &format!("{op}/invites"), Some(&member_token), None).await;
    assert_insufficient_scope(
        "GET invites with a MEMBER's token",
        status,
        &headers,
        &body,
        "invites:read",
    );
    let (status, body) = app.get("/api/organizations", Some(&member_token)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let data = body["data"].as_array().expect("data");
    assert_eq!(data.len(), 1, "only the token's organization: {body}");
    assert_eq!(data[0]["id"], json!(f.org));
    assert_eq!(data[0]["role"], "MEMBER", "{body}");
    let (status, body) = app.get(&org_path(&elsewhere), Some(&member_token)).await;
    assert_error(status, &body, StatusCode::NOT_FOUND, ORG_NOT_FOUND);
    for (method, path, body) in [
        (Method::GET, "/api/users/me".to_owned(), None),
        (
            Method::POST,
            "/api/users/me/tokens".to_owned(),
            Some(json!({"name": "ci", "currentPassword": PASSWORD})),
        ),
        (Method::POST, "/api/organizations".to_owned(), Some(json!({"name": "Sneaky"}))),
        (Method::POST, "/api/auth/logout".to_owned(), Some(json!({}))),
    ] {
        let (status, res) = app.call(method.clone(), &path, Some(&member_token), body).await;
        assert_error(status, &res, StatusCode::FORBIDDEN, OAUTH_REFUSED);
    }

    // The user's current role: promoted, the same token now adds members.
    let (status, body) = app
        .patch(
            &format!("{op}/members/{}", f.member.id),
            Some(&f.owner.token),
            json!({"role": "ADMIN"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, body) = app
        .post(
            &format!("{op}/members"),
            Some(&member_token),
            json!({"email": newcomer.email, "role": "MEMBER"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let events = app.events(&f.org, &f.owner).await;
    let added = events
        .iter()
        .find(|e| e["event"] == "member.added" && e["data"]["userId"] == json!(newcomer.id))
        .expect("member.added for the newcomer");
    assert_eq!(added["data"]["actor"], json!({"type": "user", "id": f.member.id}), "{added}");

    // Leaving the organization ends the grant: the token is no longer valid at all.
    app.remove_member(&f.org, &f.member, &f.member).await;
    let (status, body) = app.get(&format!("{op}/members"), Some(&member_token)).await;
    assert_error(status, &body, StatusCode::UNAUTHORIZED, AUTH_REQUIRED);

    // The OWNER's token can delete the organization, with organization:write only.
    let no_write = authorization_code_token(&app, &oauth, &f.owner, "organization:read").await;
    let (status, headers, body) = app.send(Method::DELETE, &op, Some(&no_write), None).await;
    assert_insufficient_scope(
        "DELETE org without organization:write",
        status,
        &headers,
        &body,
        "organization:write",
    );
    let owner_token = authorization_code_token(&app, &oauth, &f.owner, "organization:write").await;
    let (status, body) = app.delete(&op, Some(&owner_token)).await;
    assert_eq!((status, body), (StatusCode::NO_CONTENT, Value::Null));
    let (status, body) = app.get(&op, Some(&f.owner.token)).await;
    assert_error(status, &body, StatusCode::NOT_FOUND, ORG_NOT_FOUND);
}

on_both_backends!(client_credentials_acts_as_an_admin, authorization_code_tokens_act_as_their_user);
