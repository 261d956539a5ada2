//! Concurrent accepts, creates and cancels.

use reqwest::StatusCode;
use serde_json::json;

use super::{
    ALREADY_ACCEPTED, ALREADY_PENDING, WAS_CANCELLED, accept, events_of, invite, invite_path,
    invites_path, list_all, member_roles,
};
use crate::common::{Backend, TestApp, assert_error, assert_member, str_of};

const RACE_ROUNDS: usize = 10;

async fn race_concurrent_accepts(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let owner = app.register("founder").await;
    let joiner = app.register("joiner").await;
    for round in 0..RACE_ROUNDS {
        let org = app.create_org(&owner, "Race").await;
        let created = invite(&app, &org, &owner, "joiner@example.com", "MEMBER").await;
        let token = str_of(&created, "token");
        let (ra, rb) = tokio::join!(accept(&app, &joiner, token), accept(&app, &joiner, token));
        let (won, lost) = match (ra.0, rb.0) {
            (StatusCode::OK, _) => (ra, rb),
            (_, StatusCode::OK) => (rb, ra),
            _ => panic!("round {round}: one accept succeeds: {ra:?} {rb:?}"),
        };
        assert_error(lost.0, &lost.1, StatusCode::CONFLICT, ALREADY_ACCEPTED);
        assert_member(&won.1["member"], &org, &joiner, "MEMBER");

        let roles = member_roles(&app, &org, &owner).await;
        assert_eq!(roles.len(), 2, "round {round}: {roles:?}");
        assert_eq!(roles.iter().filter(|(id, _)| *id == joiner.id).count(), 1, "round {round}");
        let accepted = events_of(&app, &org, &owner, "invite.accepted").await;
        assert_eq!(accepted.len(), 1, "round {round}: {accepted:?}");
        assert_eq!(accepted[0]["data"]["inviteId"], created["id"]);
        let added = events_of(&app, &org, &owner, "member.added").await;
        assert_eq!(added.len(), 1, "round {round}: {added:?}");
        assert_eq!(added[0]["data"]["userId"], json!(joiner.id));
        let listed = list_all(&app, &org, &owner, None).await;
        assert_eq!(listed.len(), 1);
        assert_eq!(listed[0]["status"], json!("accepted"));
    }

    // Several accepts of one invite at once: still exactly one membership.
    let org = app.create_org(&owner, "Crowd").await;
    let created = invite(&app, &org, &owner, "joiner@example.com", "ADMIN").await;
    let token = str_of(&created, "token");
    let results = futures::future::join_all((0..6).map(|_| accept(&app, &joiner, token))).await;
    assert_eq!(results.iter().filter(|(s, _)| *s == StatusCode::OK).count(), 1, "{results:?}");
    for (status, body) in results.iter().filter(|(s, _)| *s != StatusCode::OK) {
        assert_error(*status, body, StatusCode::CONFLICT, ALREADY_ACCEPTED);
    }
    assert_eq!(member_roles(&app, &org, &owner).await.len(), 2);
    assert_eq!(events_of(&app, &org, &owner, "invite.accepted").await.len(), 1);
    assert_eq!(events_of(&app, &org, &owner, "member.added").await.len(), 1);
    app.stop().await;
}

/// Two invites to one address made at once: one 201, one 409.
async fn race_concurrent_creates(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let owner = app.register("founder").await;
    let org = app.create_org(&owner, "Race").await;
    for round in 0..RACE_ROUNDS {
        let email = format!("race{round}@example.com");
        let path = invites_path(&org);
        let (ra, rb) = tokio::join!(
            app.post(&path, Some(&owner.token), json!({"email": email, "role": "MEMBER"})),
            app.post(
                &path,
                Some(&owner.token),
                json!({"email": email.to_uppercase(), "role": "ADMIN"})
            ),
        );
        let lost = match (ra.0, rb.0) {
            (StatusCode::CREATED, _) => rb,
            (_, StatusCode::CREATED) => ra,
            _ => panic!("round {round}: one create succeeds: {ra:?} {rb:?}"),
        };
        assert_error(lost.0, &lost.1, StatusCode::CONFLICT, ALREADY_PENDING);
    }
    assert_eq!(list_all(&app, &org, &owner, Some("pending")).await.len(), RACE_ROUNDS);
    assert_eq!(events_of(&app, &org, &owner, "invite.created").await.len(), RACE_ROUNDS);
    app.stop().await;
}

/// An invite cancelled while it is being accepted: exactly one of the two happens.
async fn race_cancel_and_accept(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let owner = app.register("founder").await;
    let joiner = app.register("joiner").await;
    for round in 0..RACE_ROUNDS {
        let org = app.create_org(&owner, "Race").await;
        let created = invite(&app, &org, &owner, "joiner@example.com", "MEMBER").await;
        let path = invite_path(&org, str_of(&created, "id"));
        let (cancelled, accepted) = tokio::join!(
            app.delete(&path, Some(&owner.token)),
            accept(&app, &joiner, str_of(&created, "token")),
        );
        let members = member_roles(&app, &org, &owner).await;
        let listed = list_all(&app, &org, &owner, None).await;
        let types = app.event_types(&org, &owner).await;
        match (cancelled.0, accepted.0) {
            (StatusCode::NO_CONTENT, _) => {
                assert_error(accepted.0, &accepted.1, StatusCode::CONFLICT, WAS_CANCELLED);
                assert_eq!(members.len(), 1, "round {round}");
                assert_eq!(listed[0]["status"], json!("cancelled"), "round {round}");
                assert_eq!(
                    types,
                    ["organization.created", "invite.created", "invite.cancelled"],
                    "round {round}"
                );
            }
            (_, StatusCode::OK) => {
                assert_error(cancelled.0, &cancelled.1, StatusCode::CONFLICT, "Invite is accepted");
                assert_eq!(members.len(), 2, "round {round}");
                assert_eq!(listed[0]["status"], json!("accepted"), "round {round}");
                assert_eq!(
                    types,
                    ["organization.created", "invite.created", "invite.accepted", "member.added"],
                    "round {round}"
                );
            }
            _ => panic!("round {round}: one of them succeeds: {cancelled:?} {accepted:?}"),
        }
    }
    app.stop().await;
}

on_both_backends!(race_concurrent_accepts, race_concurrent_creates, race_cancel_and_accept);
