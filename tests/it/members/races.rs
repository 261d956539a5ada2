//! The "at least one OWNER" invariant under concurrent requests.

use reqwest::StatusCode;
use serde_json::{Value, json};

use super::{
    LAST_OWNER, MEMBER_NOT_FOUND, REMOVE_DENIED, UPDATE_DENIED, assert_member_event, events,
    member_path, owner_count, roles_of,
};
use crate::common::messages::ORG_NOT_FOUND;
use crate::common::{Backend, TestApp, TestUser, assert_error};

const RACE_ROUNDS: usize = 10;

/// A fresh organization owned by both `a` and `b`.
async fn two_owner_org(app: &TestApp, a: &TestUser, b: &TestUser) -> String {
    let org = app.create_org(a, "Race").await;
    app.add_member(&org, a, b, "OWNER").await;
    org
}

/// A and B demote each other at once. Whichever is served first wins; the other is by then a
/// MEMBER and is refused as one. Either way one OWNER remains and one event is recorded.
async fn race_owners_demote_each_other(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let a = app.register("alice").await;
    let b = app.register("bob").await;
    for round in 0..RACE_ROUNDS {
        let org = two_owner_org(&app, &a, &b).await;
        let before = app.event_types(&org, &a).await;
        let path_b = member_path(&org, &b.id);
        let path_a = member_path(&org, &a.id);
        let (ra, rb) = tokio::join!(
            app.patch(&path_b, Some(&a.token), json!({"role": "MEMBER"})),
            app.patch(&path_a, Some(&b.token), json!({"role": "MEMBER"})),
        );
        let (winner, loser, lost) = match (ra.0, rb.0) {
            (StatusCode::OK, _) => (&a, &b, rb),
            (_, StatusCode::OK) => (&b, &a, ra),
            _ => panic!("round {round}: one demotion succeeds: {ra:?} {rb:?}"),
        };
        assert_error(lost.0, &lost.1, StatusCode::FORBIDDEN, UPDATE_DENIED);
        let roles = roles_of(&app, &org, winner).await;
        assert_eq!(owner_count(&roles), 1, "round {round}: {roles:?}");
        assert_eq!(roles[&winner.id], "OWNER", "round {round}");
        assert_eq!(roles[&loser.id], "MEMBER", "round {round}");
        let log = events(&app, &org, winner).await;
        assert_eq!(log.len(), before.len() + 1, "round {round}");
        assert_member_event(
            log.last().expect("event"),
            "member.role_updated",
            &org,
            winner,
            loser,
            "MEMBER",
            Some("OWNER"),
        );
    }
    app.stop().await;
}

/// A and B each demote themselves at once: one succeeds, the other would leave no OWNER.
async fn race_owners_step_down_together(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let a = app.register("alice").await;
    let b = app.register("bob").await;
    for round in 0..RACE_ROUNDS {
        let org = two_owner_org(&app, &a, &b).await;
        let before = app.event_types(&org, &a).await;
        let path_a = member_path(&org, &a.id);
        let path_b = member_path(&org, &b.id);
        let (ra, rb) = tokio::join!(
            app.patch(&path_a, Some(&a.token), json!({"role": "ADMIN"})),
            app.patch(&path_b, Some(&b.token), json!({"role": "ADMIN"})),
        );
        let (stepped, stayed, refused) = match (ra.0, rb.0) {
            (StatusCode::OK, _) => (&a, &b, rb),
            (_, StatusCode::OK) => (&b, &a, ra),
            _ => panic!("round {round}: one step-down succeeds: {ra:?} {rb:?}"),
        };
        assert_error(refused.0, &refused.1, StatusCode::CONFLICT, LAST_OWNER);
        let roles = roles_of(&app, &org, stayed).await;
        assert_eq!(owner_count(&roles), 1, "round {round}: {roles:?}");
        assert_eq!(roles[&stayed.id], "OWNER", "round {round}");
        assert_eq!(roles[&stepped.id], "ADMIN", "round {round}");
        let log = events(&app, &org, stayed).await;
        assert_eq!(log.len(), before.len() + 1, "round {round}");
        assert_member_event(
            log.last().expect("event"),
            "member.role_updated",
            &org,
            stepped,
            stepped,
            "ADMIN",
            Some("OWNER"),
        );
    }
    app.stop().await;
}

/// A and B both leave at once: one 204, one 409, and the one who stayed is still OWNER.
async fn race_owners_leave_together(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let a = app.register("alice").await;
    let b = app.register("bob").await;
    for round in 0..RACE_ROUNDS {
        let org = two_owner_org(&app, &a, &b).await;
        let before = app.event_types(&org, &a).await;
        let path_a = member_path(&org, &a.id);
        let path_b = member_path(&org, &b.id);
        let (ra, rb) =
            tokio::join!(app.delete(&path_a, Some(&a.token)), app.delete(&path_b, Some(&b.token)),);
        let (left, stayed, refused) = match (ra.0, rb.0) {
            (StatusCode::NO_CONTENT, _) => (&a, &b, rb),
            (_, StatusCode::NO_CONTENT) => (&b, &a, ra),
            _ => panic!("round {round}: one leaves: {ra:?} {rb:?}"),
        };
        assert_error(refused.0, &refused.1, StatusCode::CONFLICT, LAST_OWNER);
        let roles = roles_of(&app, &org, stayed).await;
        assert_eq!(roles.len(), 1, "round {round}: {roles:?}");
        assert_eq!(roles[&stayed.id], "OWNER", "round {round}");
        let log = events(&app, &org, stayed).await;
        assert_eq!(log.len(), before.len() + 1, "round {round}");
        assert_member_event(
            log.last().expect("event"),
            "member.removed",
            &org,
            left,
            left,
            "OWNER",
            None,
        );
        let (status, body) = app.get(&format!("/api/organizations/{org}"), Some(&left.token)).await;
        assert_error(status, &body, StatusCode::NOT_FOUND, ORG_NOT_FOUND);
    }
    app.stop().await;
}

/// A removes B while B removes A: the one served second is no longer a member.
async fn race_owners_remove_each_other(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let a = app.register("alice").await;
    let b = app.register("bob").await;
    for round in 0..RACE_ROUNDS {
        let org = two_owner_org(&app, &a, &b).await;
        let path_b = member_path(&org, &b.id);
        let path_a = member_path(&org, &a.id);
        let (ra, rb) =
            tokio::join!(app.delete(&path_b, Some(&a.token)), app.delete(&path_a, Some(&b.token)),);
        let (winner, loser, lost) = match (ra.0, rb.0) {
            (StatusCode::NO_CONTENT, _) => (&a, &b, rb),
            (_, StatusCode::NO_CONTENT) => (&b, &a, ra),
            _ => panic!("round {round}: one removal succeeds: {ra:?} {rb:?}"),
        };
        assert_error(lost.0, &lost.1, StatusCode::NOT_FOUND, ORG_NOT_FOUND);
        let roles = roles_of(&app, &org, winner).await;
        assert_eq!(roles.len(), 1, "round {round}: {roles:?}");
        assert_eq!(roles[&winner.id], "OWNER", "round {round}");
        let log = events(&app, &org, winner).await;
        assert_member_event(
            log.last().expect("event"),
            "member.removed",
            &org,
            winner,
            loser,
            "OWNER",
            None,
        );
    }
    app.stop().await;
}

/// Many concurrent demotions and departures of three owners: at least one OWNER always remains.
async fn race_many_owner_changes(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let owners =
        [app.register("alice").await, app.register("bob").await, app.register("carol").await];
    for round in 0..RACE_ROUNDS {
        let org = app.create_org(&owners[0], "Race").await;
        for o in &owners[1..] {
            app.add_member(&org, &owners[0], o, "OWNER").await;
        }
        type Call<'a> =
            std::pin::Pin<Box<dyn std::future::Future<Output = (StatusCode, Value)> + Send + 'a>>;
        let paths: Vec<String> = owners.iter().map(|o| member_path(&org, &o.id)).collect();
        let mut requests: Vec<Call<'_>> = Vec::new();
        for (i, o) in owners.iter().enumerate() {
            // Each owner steps down to MEMBER and removes the next owner, all at once.
            let next = (i + 1) % owners.len();
            requests.push(Box::pin(app.patch(
                &paths[i],
                Some(&o.token),
                json!({"role": "MEMBER"}),
            )));
            requests.push(Box::pin(app.delete(&paths[next], Some(&o.token))));
        }
        let results = futures::future::join_all(requests).await;
        for (status, body) in &results {
            match status.as_u16() {
                200 | 204 => {}
                409 => assert_eq!(body, &json!({"statusCode": 409, "message": LAST_OWNER})),
                403 => {
                    let message = body["message"].as_str().expect("message");
                    assert!(
                        [UPDATE_DENIED, REMOVE_DENIED].contains(&message),
                        "round {round}: {body}"
                    );
                }
                404 => assert!(
                    body == &json!({"statusCode": 404, "message": ORG_NOT_FOUND})
                        || body == &json!({"statusCode": 404, "message": MEMBER_NOT_FOUND}),
                    "round {round}: {body}"
                ),
                _ => panic!("round {round}: unexpected {status}: {body}"),
            }
        }
        let survivor = {
            let mut found = None;
            for o in &owners {
                let (status, body) =
                    app.get(&format!("/api/organizations/{org}"), Some(&o.token)).await;
                if status == StatusCode::OK && body["role"] == json!("OWNER") {
                    found = Some(o);
                }
            }
            found.unwrap_or_else(|| panic!("round {round}: no OWNER left: {results:?}"))
        };
        let roles = roles_of(&app, &org, survivor).await;
        assert!(owner_count(&roles) >= 1, "round {round}: {roles:?}");
    }
    app.stop().await;
}

on_both_backends!(
    race_owners_demote_each_other,
    race_owners_step_down_together,
    race_owners_leave_together,
    race_owners_remove_each_other,
    race_many_owner_changes
);
