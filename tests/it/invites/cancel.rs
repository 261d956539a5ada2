//! Cancelling invites.

use reqwest::StatusCode;
use serde_json::{Value, json};

use super::{
    INVITE_NOT_FOUND, accept, actor, assert_invite, events, ids, invite, invite_path, list_all,
};
use crate::common::messages::{BAD_UUID, ORG_NOT_FOUND};
use crate::common::{AUTH_REQUIRED, Backend, TestApp, assert_error, str_of};

const CANCEL_DENIED: &str = "Access denied. Only owners and admins can cancel invites.";

async fn cancel_invite(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let f = app.org_with_roles().await;
    let by_owner = invite(&app, &f.org, &f.owner, "one@example.com", "OWNER").await;
    let by_admin = invite(&app, &f.org, &f.admin, "two@example.com", "MEMBER").await;

    for (body, canceller, email, role) in [
        (&by_owner, &f.owner, "one@example.com", "OWNER"),
        (&by_admin, &f.admin, "two@example.com", "MEMBER"),
    ] {
        let id = str_of(body, "id");
        let before = events(&app, &f.org, &f.owner).await.len();
        let (status, resp) = app.delete(&invite_path(&f.org, id), Some(&canceller.token)).await;
        assert_eq!(status, StatusCode::NO_CONTENT, "{resp}");
        assert_eq!(resp, Value::Null, "204 has no body");

        let listed = list_all(&app, &f.org, &f.owner, Some("cancelled")).await;
        let found = listed.iter().find(|i| i["id"] == json!(id)).expect("listed as cancelled");
        let invited_by = if role == "OWNER" { &f.owner } else { &f.admin };
        assert_invite(found, &f.org, email, role, "cancelled", invited_by);
        assert_eq!(found["createdAt"], body["createdAt"]);
        assert_eq!(found["expiresAt"], body["expiresAt"]);

        let log = events(&app, &f.org, &f.owner).await;
        assert_eq!(log.len(), before + 1);
        let event = log.last().expect("event");
        assert_eq!(event["event"], json!("invite.cancelled"), "{event}");
        assert_eq!(event["organization"]["id"], json!(f.org), "{event}");
        assert_eq!(
            event["data"],
            json!({"inviteId": id, "email": email, "role": role, "actor": actor(canceller)}),
            "{event}"
        );

        // Cancelling again conflicts and records nothing.
        let (status, resp) = app.delete(&invite_path(&f.org, id), Some(&f.owner.token)).await;
        assert_error(status, &resp, StatusCode::CONFLICT, "Invite is cancelled");
        assert_eq!(events(&app, &f.org, &f.owner).await.len(), before + 1);
    }
    assert!(list_all(&app, &f.org, &f.owner, Some("pending")).await.is_empty());
    app.stop().await;
}

async fn cancel_errors(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let f = app.org_with_roles().await;
    let pending = invite(&app, &f.org, &f.owner, "pending@example.com", "MEMBER").await;
    let accepted = invite(&app, &f.org, &f.owner, "joiner@example.com", "MEMBER").await;
    let joiner = app.register("joiner").await;
    let (status, body) = accept(&app, &joiner, str_of(&accepted, "token")).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let before = app.event_types(&f.org, &f.owner).await;
    let id = str_of(&pending, "id");
    let owner = Some(f.owner.token.as_str());

    // An accepted invite cannot be cancelled.
    let (status, body) = app.delete(&invite_path(&f.org, str_of(&accepted, "id")), owner).await;
    assert_error(status, &body, StatusCode::CONFLICT, "Invite is accepted");
    let unknown = uuid::Uuid::new_v4().to_string();
    let (status, body) = app.delete(&invite_path(&f.org, &unknown), owner).await;
    assert_error(status, &body, StatusCode::NOT_FOUND, INVITE_NOT_FOUND);
    let (status, body) = app.delete(&invite_path(&f.org, id), Some(&f.member.token)).await;
    assert_error(status, &body, StatusCode::FORBIDDEN, CANCEL_DENIED);
    // The newcomer joined as a MEMBER and is refused like one.
    let (status, body) = app.delete(&invite_path(&f.org, id), Some(&joiner.token)).await;
    assert_error(status, &body, StatusCode::FORBIDDEN, CANCEL_DENIED);
    let (status, body) = app.delete(&invite_path(&f.org, &unknown), Some(&f.member.token)).await;
    assert_error(status, &body, StatusCode::FORBIDDEN, CANCEL_DENIED);
    let (status, body) = app.delete(&invite_path(&f.org, id), Some(&f.outsider.token)).await;
    assert_error(status, &body, StatusCode::NOT_FOUND, ORG_NOT_FOUND);
    let (status, body) = app.delete(&invite_path(&f.org, id), None).await;
    assert_error(status, &body, StatusCode::UNAUTHORIZED, AUTH_REQUIRED);
    let (status, body) = app.delete(&invite_path(&f.org, "not-a-uuid"), owner).await;
    assert_error(status, &body, StatusCode::BAD_REQUEST, BAD_UUID);
    let (status, body) = app.delete(&invite_path("not-a-uuid", id), owner).await;
    assert_error(status, &body, StatusCode::BAD_REQUEST, BAD_UUID);
    let (status, body) = app.delete(&invite_path(&unknown, id), owner).await;
    assert_error(status, &body, StatusCode::NOT_FOUND, ORG_NOT_FOUND);

    // Nothing changed.
    assert_eq!(app.event_types(&f.org, &f.owner).await, before);
    assert_eq!(ids(&list_all(&app, &f.org, &f.owner, Some("pending")).await), [id]);
    app.stop().await;
}

/// Only an OWNER may invite an OWNER, so only an OWNER may take such an invite back.
async fn only_owners_cancel_owner_invites(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let f = app.org_with_roles().await;
    let owner_invite = invite(&app, &f.org, &f.owner, "boss@example.com", "OWNER").await;
    let id = str_of(&owner_invite, "id");
    let (status, body) = app.delete(&invite_path(&f.org, id), Some(&f.admin.token)).await;
    assert_error(
        status,
        &body,
        StatusCode::FORBIDDEN,
        "Access denied. Only owners can cancel invites for owners.",
    );
    let pending = list_all(&app, &f.org, &f.owner, Some("pending")).await;
    assert_eq!(ids(&pending), vec![id.to_owned()]);
    let (status, _) = app.delete(&invite_path(&f.org, id), Some(&f.owner.token)).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    app.stop().await;
}

on_both_backends!(cancel_invite, cancel_errors, only_owners_cancel_owner_invites);
