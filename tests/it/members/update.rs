//! Changing roles: the permission matrix, one's own role, and the errors.

use reqwest::{Method, StatusCode};
use serde_json::json;

use super::{
    LAST_OWNER, MEMBER_NOT_FOUND, ROLES, UPDATE_DENIED, assert_member_event, events, list_all,
    member_path, owner_count, roles_of,
};
use crate::common::messages::{BAD_ROLE, BAD_UUID, ORG_NOT_FOUND, OWNERS_ONLY};
use crate::common::{
    AUTH_REQUIRED, Backend, TestApp, assert_error, assert_member, assert_validation,
};

/// What `actor` (None: an outsider) changing a `current` member to `new` is answered.
fn patch_outcome(
    actor: Option<&str>,
    current: &str,
    new: &str,
) -> Option<(StatusCode, &'static str)> {
    match actor {
        None => Some((StatusCode::NOT_FOUND, ORG_NOT_FOUND)),
        Some("MEMBER") => Some((StatusCode::FORBIDDEN, UPDATE_DENIED)),
        Some("ADMIN") if current == "OWNER" || new == "OWNER" => {
            Some((StatusCode::FORBIDDEN, OWNERS_ONLY))
        }
        Some(_) => None,
    }
}

async fn patch_permission_matrix(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let founder = app.register("founder").await;
    let actor = app.register("actor").await;
    let target = app.register("target").await;

    for actor_role in [Some("OWNER"), Some("ADMIN"), Some("MEMBER"), None] {
        for current in ROLES {
            for new in ROLES.into_iter().filter(|r| *r != current) {
                let case = format!("{actor_role:?} changes {current} to {new}");
                let org = app.create_org(&founder, "Matrix").await;
                if let Some(role) = actor_role {
                    app.add_member(&org, &founder, &actor, role).await;
                }
                app.add_member(&org, &founder, &target, current).await;
                let before = events(&app, &org, &founder).await;
                let roles_before = roles_of(&app, &org, &founder).await;

                let (status, body) = app
                    .patch(&member_path(&org, &target.id), Some(&actor.token), json!({"role": new}))
                    .await;
                match patch_outcome(actor_role, current, new) {
                    Some((code, message)) => {
                        assert_error(status, &body, code, message);
                        assert_eq!(roles_of(&app, &org, &founder).await, roles_before, "{case}");
                        assert_eq!(events(&app, &org, &founder).await, before, "{case}");
                    }
                    None => {
                        assert_eq!(status, StatusCode::OK, "{case}: {body}");
                        assert_member(&body, &org, &target, new);
                        let roles = roles_of(&app, &org, &founder).await;
                        assert_eq!(roles[&target.id], new, "{case}");
                        assert_eq!(roles.len(), roles_before.len(), "{case}");
                        let log = events(&app, &org, &founder).await;
                        assert_eq!(log.len(), before.len() + 1, "{case}");
                        assert_eq!(log[..before.len()], before[..], "{case}");
                        assert_member_event(
                            &log[before.len()],
                            "member.role_updated",
                            &org,
                            &actor,
                            &target,
                            new,
                            Some(current),
                        );
                    }
                }
            }
        }
    }
    app.stop().await;
}

async fn patch_own_role(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let f = app.org_with_roles().await;
    let before = app.event_types(&f.org, &f.owner).await;

    // A MEMBER cannot promote itself; an ADMIN cannot make itself OWNER.
    let (status, body) = app
        .patch(&member_path(&f.org, &f.member.id), Some(&f.member.token), json!({"role": "ADMIN"}))
        .await;
    assert_error(status, &body, StatusCode::FORBIDDEN, UPDATE_DENIED);
    let (status, body) = app
        .patch(&member_path(&f.org, &f.admin.id), Some(&f.admin.token), json!({"role": "OWNER"}))
        .await;
    assert_error(status, &body, StatusCode::FORBIDDEN, OWNERS_ONLY);
    assert_eq!(app.event_types(&f.org, &f.owner).await, before);

    // An ADMIN may step down to MEMBER.
    let (status, body) = app
        .patch(&member_path(&f.org, &f.admin.id), Some(&f.admin.token), json!({"role": "MEMBER"}))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_member(&body, &f.org, &f.admin, "MEMBER");
    let log = events(&app, &f.org, &f.owner).await;
    assert_eq!(log.len(), before.len() + 1);
    assert_member_event(
        log.last().expect("event"),
        "member.role_updated",
        &f.org,
        &f.admin,
        &f.admin,
        "MEMBER",
        Some("ADMIN"),
    );

    // An OWNER may step down once another OWNER exists.
    let (status, body) = app
        .patch(&member_path(&f.org, &f.member.id), Some(&f.owner.token), json!({"role": "OWNER"}))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, body) = app
        .patch(&member_path(&f.org, &f.owner.id), Some(&f.owner.token), json!({"role": "ADMIN"}))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_member(&body, &f.org, &f.owner, "ADMIN");
    let roles = roles_of(&app, &f.org, &f.member).await;
    assert_eq!(roles[&f.owner.id], "ADMIN");
    assert_eq!(roles[&f.member.id], "OWNER");
    assert_eq!(owner_count(&roles), 1);
    let log = events(&app, &f.org, &f.member).await;
    assert_eq!(log.len(), before.len() + 3);
    assert_member_event(
        &log[log.len() - 2],
        "member.role_updated",
        &f.org,
        &f.owner,
        &f.member,
        "OWNER",
        Some("MEMBER"),
    );
    assert_member_event(
        &log[log.len() - 1],
        "member.role_updated",
        &f.org,
        &f.owner,
        &f.owner,
        "ADMIN",
        Some("OWNER"),
    );
    app.stop().await;
}

async fn patch_errors(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let f = app.org_with_roles().await;
    let before = app.event_types(&f.org, &f.owner).await;
    let owner = Some(f.owner.token.as_str());

    // The only OWNER cannot be demoted.
    for role in ["ADMIN", "MEMBER"] {
        let (status, body) =
            app.patch(&member_path(&f.org, &f.owner.id), owner, json!({"role": role})).await;
        assert_error(status, &body, StatusCode::CONFLICT, LAST_OWNER);
    }

    // Unknown members: a random ID, and a user who exists but is not a member.
    let random = uuid::Uuid::new_v4().to_string();
    for user_id in [random.as_str(), f.outsider.id.as_str()] {
        let (status, body) =
            app.patch(&member_path(&f.org, user_id), owner, json!({"role": "ADMIN"})).await;
        assert_error(status, &body, StatusCode::NOT_FOUND, MEMBER_NOT_FOUND);
        let (status, body) = app
            .patch(&member_path(&f.org, user_id), Some(&f.admin.token), json!({"role": "MEMBER"}))
            .await;
        assert_error(status, &body, StatusCode::NOT_FOUND, MEMBER_NOT_FOUND);
    }
    // A MEMBER is refused before anything is looked up.
    let (status, body) = app
        .patch(&member_path(&f.org, &random), Some(&f.member.token), json!({"role": "MEMBER"}))
        .await;
    assert_error(status, &body, StatusCode::FORBIDDEN, UPDATE_DENIED);

    // Path IDs that are not UUIDs.
    let (status, body) =
        app.patch(&member_path(&f.org, "not-a-uuid"), owner, json!({"role": "ADMIN"})).await;
    assert_error(status, &body, StatusCode::BAD_REQUEST, BAD_UUID);
    let (status, body) =
        app.patch(&member_path("not-a-uuid", &f.member.id), owner, json!({"role": "ADMIN"})).await;
    assert_error(status, &body, StatusCode::BAD_REQUEST, BAD_UUID);
    let (status, body) = app
        .patch(&member_path(&f.org, &format!("{}x", f.member.id)), owner, json!({"role": "ADMIN"}))
        .await;
    assert_error(status, &body, StatusCode::BAD_REQUEST, BAD_UUID);
    // A missing organization.
    let (status, body) =
        app.patch(&member_path(&random, &f.member.id), owner, json!({"role": "ADMIN"})).await;
    assert_error(status, &body, StatusCode::NOT_FOUND, ORG_NOT_FOUND);

    // Bodies.
    for role in [json!("admin"), json!("GOD"), json!(2), json!(null)] {
        let (status, body) =
            app.patch(&member_path(&f.org, &f.member.id), owner, json!({"role": role})).await;
        assert_validation(status, &body, &[BAD_ROLE]);
    }
    let (status, body) = app.patch(&member_path(&f.org, &f.member.id), owner, json!({})).await;
    assert_validation(status, &body, &[BAD_ROLE]);
    let (status, body) = app
        .patch(
            &member_path(&f.org, &f.member.id),
            owner,
            json!({"role": "ADMIN", "email": "x@y.co"}),
        )
        .await;
    assert_validation(status, &body, &["property email should not exist"]);
    let (status, body) = app
        .call(
            Method::PATCH,
            &member_path(&f.org, &f.member.id),
            None,
            Some(json!({"role": "ADMIN"})),
        )
        .await;
    assert_error(status, &body, StatusCode::UNAUTHORIZED, AUTH_REQUIRED);

    // An ADMIN cannot even re-state an OWNER's role.
    let (status, body) = app
        .patch(&member_path(&f.org, &f.owner.id), Some(&f.admin.token), json!({"role": "OWNER"}))
        .await;
    assert_error(status, &body, StatusCode::FORBIDDEN, OWNERS_ONLY);

    assert_eq!(app.event_types(&f.org, &f.owner).await, before);
    let roles = roles_of(&app, &f.org, &f.owner).await;
    assert_eq!(roles[&f.owner.id], "OWNER");
    assert_eq!(roles[&f.admin.id], "ADMIN");
    assert_eq!(roles[&f.member.id], "MEMBER");

    // The same role again: 200 with the member unchanged, and no event. This holds for the
    // only OWNER too.
    let list_before = list_all(&app, &f.org, &f.owner).await;
    for (actor, target, role) in [
        (&f.owner, &f.owner, "OWNER"),
        (&f.owner, &f.admin, "ADMIN"),
        (&f.admin, &f.member, "MEMBER"),
        (&f.admin, &f.admin, "ADMIN"),
    ] {
        let (status, body) = app
            .patch(&member_path(&f.org, &target.id), Some(&actor.token), json!({"role": role}))
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_member(&body, &f.org, target, role);
        let listed = list_before.iter().find(|m| m["userId"] == json!(target.id)).expect("listed");
        assert_eq!(&body, listed, "unchanged, updatedAt included");
    }
    assert_eq!(app.event_types(&f.org, &f.owner).await, before);
    assert_eq!(list_all(&app, &f.org, &f.owner).await, list_before);
    app.stop().await;
}

on_both_backends!(patch_permission_matrix, patch_own_role, patch_errors);
