//! Removing members and leaving.

use reqwest::StatusCode;
use serde_json::Value;

use super::{
    LAST_OWNER, MEMBER_NOT_FOUND, REMOVE_DENIED, ROLES, assert_member_event, events, member_path,
    members_path, roles_of,
};
use crate::common::messages::{BAD_UUID, ORG_NOT_FOUND, OWNER_REMOVAL_DENIED};
use crate::common::{AUTH_REQUIRED, Backend, TestApp, assert_error};

fn remove_outcome(actor: Option<&str>, target: &str) -> Option<(StatusCode, &'static str)> {
    match actor {
        None => Some((StatusCode::NOT_FOUND, ORG_NOT_FOUND)),
        Some("MEMBER") => Some((StatusCode::FORBIDDEN, REMOVE_DENIED)),
        Some("ADMIN") if target == "OWNER" => Some((StatusCode::FORBIDDEN, OWNER_REMOVAL_DENIED)),
        Some(_) => None,
    }
}

async fn remove_permission_matrix(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let founder = app.register("founder").await;
    let actor = app.register("actor").await;
    let target = app.register("target").await;

    for actor_role in [Some("OWNER"), Some("ADMIN"), Some("MEMBER"), None] {
        for target_role in ROLES {
            let case = format!("{actor_role:?} removes {target_role}");
            let org = app.create_org(&founder, "Matrix").await;
            if let Some(role) = actor_role {
                app.add_member(&org, &founder, &actor, role).await;
            }
            app.add_member(&org, &founder, &target, target_role).await;
            let before = events(&app, &org, &founder).await;
            let roles_before = roles_of(&app, &org, &founder).await;

            let (status, body) =
                app.delete(&member_path(&org, &target.id), Some(&actor.token)).await;
            match remove_outcome(actor_role, target_role) {
                Some((code, message)) => {
                    assert_error(status, &body, code, message);
                    assert_eq!(roles_of(&app, &org, &founder).await, roles_before, "{case}");
                    assert_eq!(events(&app, &org, &founder).await, before, "{case}");
                    let (status, _) =
                        app.get(&format!("/api/organizations/{org}"), Some(&target.token)).await;
                    assert_eq!(status, StatusCode::OK, "{case}: target still a member");
                }
                None => {
                    assert_eq!((status, &body), (StatusCode::NO_CONTENT, &Value::Null), "{case}");
                    let roles = roles_of(&app, &org, &founder).await;
                    assert!(!roles.contains_key(&target.id), "{case}");
                    assert_eq!(roles.len(), roles_before.len() - 1, "{case}");
                    let log = events(&app, &org, &founder).await;
                    assert_eq!(log.len(), before.len() + 1, "{case}");
                    assert_member_event(
                        &log[before.len()],
                        "member.removed",
                        &org,
                        &actor,
                        &target,
                        target_role,
                        None,
                    );
                    // The removed user no longer sees the organization.
                    let (status, body) =
                        app.get(&format!("/api/organizations/{org}"), Some(&target.token)).await;
                    assert_error(status, &body, StatusCode::NOT_FOUND, ORG_NOT_FOUND);
                    let (status, body) = app.get(&members_path(&org), Some(&target.token)).await;
                    assert_error(status, &body, StatusCode::NOT_FOUND, ORG_NOT_FOUND);
                    // Removing again: the member is gone.
                    let (status, body) =
                        app.delete(&member_path(&org, &target.id), Some(&actor.token)).await;
                    assert_error(status, &body, StatusCode::NOT_FOUND, MEMBER_NOT_FOUND);
                }
            }
        }
    }
    app.stop().await;
}

async fn members_leave(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let f = app.org_with_roles().await;
    let before = app.event_types(&f.org, &f.owner).await;

    // The only OWNER cannot leave.
    let (status, body) = app.delete(&member_path(&f.org, &f.owner.id), Some(&f.owner.token)).await;
    assert_error(status, &body, StatusCode::CONFLICT, LAST_OWNER);
    assert_eq!(app.event_types(&f.org, &f.owner).await, before);

    // A MEMBER can leave; an ADMIN too.
    for (user, role) in [(&f.member, "MEMBER"), (&f.admin, "ADMIN")] {
        let (status, body) = app.delete(&member_path(&f.org, &user.id), Some(&user.token)).await;
        assert_eq!((status, body), (StatusCode::NO_CONTENT, Value::Null));
        let log = events(&app, &f.org, &f.owner).await;
        assert_member_event(
            log.last().expect("event"),
            "member.removed",
            &f.org,
            user,
            user,
            role,
            None,
        );
        let (status, body) =
            app.get(&format!("/api/organizations/{}", f.org), Some(&user.token)).await;
        assert_error(status, &body, StatusCode::NOT_FOUND, ORG_NOT_FOUND);
        // Leaving twice: no longer a member of the organization at all.
        let (status, body) = app.delete(&member_path(&f.org, &user.id), Some(&user.token)).await;
        assert_error(status, &body, StatusCode::NOT_FOUND, ORG_NOT_FOUND);
    }
    assert_eq!(app.event_types(&f.org, &f.owner).await.len(), before.len() + 2);
    let roles = roles_of(&app, &f.org, &f.owner).await;
    assert_eq!(roles.len(), 1);

    // An outsider "leaving" learns nothing.
    let (status, body) =
        app.delete(&member_path(&f.org, &f.outsider.id), Some(&f.outsider.token)).await;
    assert_error(status, &body, StatusCode::NOT_FOUND, ORG_NOT_FOUND);

    // With a second OWNER, the first may leave, and the second is then the last.
    app.add_member(&f.org, &f.owner, &f.member, "OWNER").await;
    let (status, body) = app.delete(&member_path(&f.org, &f.owner.id), Some(&f.owner.token)).await;
    assert_eq!((status, body), (StatusCode::NO_CONTENT, Value::Null));
    let (status, body) =
        app.delete(&member_path(&f.org, &f.member.id), Some(&f.member.token)).await;
    assert_error(status, &body, StatusCode::CONFLICT, LAST_OWNER);
    let roles = roles_of(&app, &f.org, &f.member).await;
    assert_eq!(roles.len(), 1);
    assert_eq!(roles[&f.member.id], "OWNER");
    let log = events(&app, &f.org, &f.member).await;
    assert_member_event(
        log.last().expect("event"),
        "member.removed",
        &f.org,
        &f.owner,
        &f.owner,
        "OWNER",
        None,
    );

    // A removed user can be added back.
    app.add_member(&f.org, &f.member, &f.admin, "ADMIN").await;
    let (status, _) = app.get(&format!("/api/organizations/{}", f.org), Some(&f.admin.token)).await;
    assert_eq!(status, StatusCode::OK);
    app.stop().await;
}

async fn remove_errors(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let f = app.org_with_roles().await;
    let before = app.event_types(&f.org, &f.owner).await;
    let owner = Some(f.owner.token.as_str());
    let random = uuid::Uuid::new_v4().to_string();

    for user_id in [random.as_str(), f.outsider.id.as_str()] {
        let (status, body) = app.delete(&member_path(&f.org, user_id), owner).await;
        assert_error(status, &body, StatusCode::NOT_FOUND, MEMBER_NOT_FOUND);
        let (status, body) = app.delete(&member_path(&f.org, user_id), Some(&f.admin.token)).await;
        assert_error(status, &body, StatusCode::NOT_FOUND, MEMBER_NOT_FOUND);
        let (status, body) = app.delete(&member_path(&f.org, user_id), Some(&f.member.token)).await;
        assert_error(status, &body, StatusCode::FORBIDDEN, REMOVE_DENIED);
    }
    let (status, body) = app.delete(&member_path(&f.org, "not-a-uuid"), owner).await;
    assert_error(status, &body, StatusCode::BAD_REQUEST, BAD_UUID);
    let (status, body) = app.delete(&member_path("not-a-uuid", &f.member.id), owner).await;
    assert_error(status, &body, StatusCode::BAD_REQUEST, BAD_UUID);
    let (status, body) = app.delete(&member_path(&random, &f.member.id), owner).await;
    assert_error(status, &body, StatusCode::NOT_FOUND, ORG_NOT_FOUND);
    let (status, body) = app.delete(&member_path(&f.org, &f.member.id), None).await;
    assert_error(status, &body, StatusCode::UNAUTHORIZED, AUTH_REQUIRED);
    // A MEMBER cannot remove the OWNER or the ADMIN.
    for target in [&f.owner, &f.admin] {
        let (status, body) =
            app.delete(&member_path(&f.org, &target.id), Some(&f.member.token)).await;
        assert_error(status, &body, StatusCode::FORBIDDEN, REMOVE_DENIED);
    }

    assert_eq!(app.event_types(&f.org, &f.owner).await, before);
    assert_eq!(roles_of(&app, &f.org, &f.owner).await.len(), 3);
    app.stop().await;
}

on_both_backends!(remove_permission_matrix, members_leave, remove_errors);
