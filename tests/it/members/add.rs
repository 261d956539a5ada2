//! Adding members: who may add which role, and the errors.

use reqwest::StatusCode;
use serde_json::json;

use super::{ROLES, assert_member_event, events, members_path, roles_of};
use crate::common::messages::{
    ADD_DENIED, ALREADY_MEMBER, BAD_EMAIL, BAD_ROLE, BAD_UUID, ORG_NOT_FOUND, OWNERS_ONLY,
};
use crate::common::{
    AUTH_REQUIRED, Backend, TestApp, assert_error, assert_member, assert_validation,
};

const USER_NOT_FOUND: &str = "User not found";

async fn owner_adds_any_role(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let f = app.org_with_roles().await;
    let new_owner = app.register("newowner").await;
    let new_admin = app.register("newadmin").await;
    let new_member = app.register("newmember").await;
    let before = events(&app, &f.org, &f.owner).await.len();

    for (user, role) in [(&new_owner, "OWNER"), (&new_admin, "ADMIN"), (&new_member, "MEMBER")] {
        let (status, body) = app
            .post(
                &members_path(&f.org),
                Some(&f.owner.token),
                json!({"email": user.email, "role": role}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        assert_member(&body, &f.org, user, role);
        assert_eq!(body["createdAt"], body["updatedAt"]);
    }

    let roles = roles_of(&app, &f.org, &f.member).await;
    assert_eq!(roles.len(), 6);
    assert_eq!(roles[&new_owner.id], "OWNER");
    assert_eq!(roles[&new_admin.id], "ADMIN");
    assert_eq!(roles[&new_member.id], "MEMBER");

    // The new OWNER really is one: it can grant OWNER itself.
    let late = app.register("late").await;
    app.add_member(&f.org, &new_owner, &late, "OWNER").await;

    let log = events(&app, &f.org, &f.owner).await;
    assert_eq!(log.len(), before + 4);
    assert_member_event(&log[before], "member.added", &f.org, &f.owner, &new_owner, "OWNER", None);
    assert_member_event(
        &log[before + 1],
        "member.added",
        &f.org,
        &f.owner,
        &new_admin,
        "ADMIN",
        None,
    );
    assert_member_event(
        &log[before + 2],
        "member.added",
        &f.org,
        &f.owner,
        &new_member,
        "MEMBER",
        None,
    );
    assert_member_event(&log[before + 3], "member.added", &f.org, &new_owner, &late, "OWNER", None);
    // The fixture's own additions were recorded too, after organization.created.
    let types = app.event_types(&f.org, &f.owner).await;
    assert_eq!(&types[..3], ["organization.created", "member.added", "member.added"]);
    assert_member_event(&log[1], "member.added", &f.org, &f.owner, &f.admin, "ADMIN", None);
    app.stop().await;
}

async fn admin_adds_members_and_admins_only(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let f = app.org_with_roles().await;
    let carol = app.register("carol").await;
    let dave = app.register("dave").await;
    let erin = app.register("erin").await;
    let before = app.event_types(&f.org, &f.owner).await;

    let (status, body) = app
        .post(
            &members_path(&f.org),
            Some(&f.admin.token),
            json!({"email": erin.email, "role": "OWNER"}),
        )
        .await;
    assert_error(status, &body, StatusCode::FORBIDDEN, OWNERS_ONLY);
    assert_eq!(app.event_types(&f.org, &f.owner).await, before);
    assert!(!roles_of(&app, &f.org, &f.owner).await.contains_key(&erin.id));

    for (user, role) in [(&carol, "MEMBER"), (&dave, "ADMIN")] {
        let (status, body) = app
            .post(
                &members_path(&f.org),
                Some(&f.admin.token),
                json!({"email": user.email, "role": role}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        assert_member(&body, &f.org, user, role);
    }
    let log = events(&app, &f.org, &f.admin).await;
    assert_eq!(log.len(), before.len() + 2);
    assert_member_event(
        &log[before.len()],
        "member.added",
        &f.org,
        &f.admin,
        &carol,
        "MEMBER",
        None,
    );
    assert_member_event(
        &log[before.len() + 1],
        "member.added",
        &f.org,
        &f.admin,
        &dave,
        "ADMIN",
        None,
    );

    let roles = roles_of(&app, &f.org, &f.owner).await;
    assert_eq!(roles[&carol.id], "MEMBER");
    assert_eq!(roles[&dave.id], "ADMIN");
    assert!(!roles.contains_key(&erin.id));
    app.stop().await;
}

async fn member_and_outsider_cannot_add(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let f = app.org_with_roles().await;
    let carol = app.register("carol").await;
    let before = app.event_types(&f.org, &f.owner).await;

    for role in ROLES {
        let body = json!({"email": carol.email, "role": role});
        let (status, resp) =
            app.post(&members_path(&f.org), Some(&f.member.token), body.clone()).await;
        assert_error(status, &resp, StatusCode::FORBIDDEN, ADD_DENIED);
        let (status, resp) =
            app.post(&members_path(&f.org), Some(&f.outsider.token), body.clone()).await;
        assert_error(status, &resp, StatusCode::NOT_FOUND, ORG_NOT_FOUND);
        let (status, resp) = app.post(&members_path(&f.org), None, body).await;
        assert_error(status, &resp, StatusCode::UNAUTHORIZED, AUTH_REQUIRED);
    }
    // The outsider cannot add itself either.
    let (status, resp) = app
        .post(
            &members_path(&f.org),
            Some(&f.outsider.token),
            json!({"email": f.outsider.email, "role": "OWNER"}),
        )
        .await;
    assert_error(status, &resp, StatusCode::NOT_FOUND, ORG_NOT_FOUND);
    // A MEMBER learns nothing about which users exist.
    let (status, resp) = app
        .post(
            &members_path(&f.org),
            Some(&f.member.token),
            json!({"email": "nobody@example.com", "role": "MEMBER"}),
        )
        .await;
    assert_error(status, &resp, StatusCode::FORBIDDEN, ADD_DENIED);

    assert_eq!(app.event_types(&f.org, &f.owner).await, before);
    assert_eq!(roles_of(&app, &f.org, &f.owner).await.len(), 3);
    app.stop().await;
}

async fn add_member_errors(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let f = app.org_with_roles().await;
    let before = app.event_types(&f.org, &f.owner).await;
    let path = members_path(&f.org);
    let owner = Some(f.owner.token.as_str());

    let (status, body) =
        app.post(&path, owner, json!({"email": "nobody@example.com", "role": "MEMBER"})).await;
    assert_error(status, &body, StatusCode::NOT_FOUND, USER_NOT_FOUND);
    let (status, body) = app
        .post(&path, Some(&f.admin.token), json!({"email": "nobody@example.com", "role": "ADMIN"}))
        .await;
    assert_error(status, &body, StatusCode::NOT_FOUND, USER_NOT_FOUND);

    for (user, role) in
        [(&f.member, "MEMBER"), (&f.member, "ADMIN"), (&f.admin, "OWNER"), (&f.owner, "OWNER")]
    {
        let (status, body) =
            app.post(&path, owner, json!({"email": user.email, "role": role})).await;
        assert_error(status, &body, StatusCode::CONFLICT, ALREADY_MEMBER);
    }
    // Already a member regardless of the email's case.
    let (status, body) = app
        .post(&path, owner, json!({"email": f.member.email.to_uppercase(), "role": "MEMBER"}))
        .await;
    assert_error(status, &body, StatusCode::CONFLICT, ALREADY_MEMBER);
    let (status, body) = app
        .post(&path, Some(&f.admin.token), json!({"email": f.member.email, "role": "MEMBER"}))
        .await;
    assert_error(status, &body, StatusCode::CONFLICT, ALREADY_MEMBER);

    let email = f.outsider.email.clone();
    for role in [
        json!("owner"),
        json!("Member"),
        json!("SUPERUSER"),
        json!(""),
        json!(1),
        json!(null),
        json!(["OWNER"]),
    ] {
        let (status, body) = app.post(&path, owner, json!({"email": email, "role": role})).await;
        assert_validation(status, &body, &[BAD_ROLE]);
    }
    let (status, body) = app.post(&path, owner, json!({"email": email})).await;
    assert_validation(status, &body, &[BAD_ROLE]);

    for bad in [
        json!("not-an-email"),
        json!("outsider@"),
        json!("@example.com"),
        json!(""),
        json!(42),
        json!(null),
    ] {
        let (status, body) = app.post(&path, owner, json!({"email": bad, "role": "MEMBER"})).await;
        assert_validation(status, &body, &[BAD_EMAIL]);
    }
    let (status, body) = app.post(&path, owner, json!({"role": "MEMBER"})).await;
    assert_validation(status, &body, &[BAD_EMAIL]);
    let (status, body) = app.post(&path, owner, json!({})).await;
    assert_validation(status, &body, &[BAD_EMAIL, BAD_ROLE]);
    let (status, body) = app
        .post(&path, owner, json!({"email": "nope", "role": "nope", "userId": f.outsider.id}))
        .await;
    assert_validation(status, &body, &["property userId should not exist", BAD_EMAIL, BAD_ROLE]);
    let (status, body) =
        app.post(&path, owner, json!({"email": email, "role": "MEMBER", "name": "x"})).await;
    assert_validation(status, &body, &["property name should not exist"]);
    // Validation comes before permission: even a MEMBER is told what is wrong with the body.
    let (status, body) =
        app.post(&path, Some(&f.member.token), json!({"email": email, "role": "x"})).await;
    assert_validation(status, &body, &[BAD_ROLE]);

    let (status, body) = app
        .post(&members_path("not-a-uuid"), owner, json!({"email": email, "role": "MEMBER"}))
        .await;
    assert_error(status, &body, StatusCode::BAD_REQUEST, BAD_UUID);
    let missing = uuid::Uuid::new_v4().to_string();
    let (status, body) =
        app.post(&members_path(&missing), owner, json!({"email": email, "role": "MEMBER"})).await;
    assert_error(status, &body, StatusCode::NOT_FOUND, ORG_NOT_FOUND);

    // Nothing above changed anything.
    assert_eq!(app.event_types(&f.org, &f.owner).await, before);
    assert_eq!(roles_of(&app, &f.org, &f.owner).await.len(), 3);
    app.stop().await;
}

async fn add_member_matches_email_case_insensitively(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let f = app.org_with_roles().await;
    let carol = app.register("Carol").await;
    assert_eq!(carol.email, "Carol@example.com");

    let (status, body) = app
        .post(
            &members_path(&f.org),
            Some(&f.admin.token),
            json!({"email": "cAROL@EXAMPLE.COM", "role": "MEMBER"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    // The member carries the user's own email, not the spelling used to add them.
    assert_member(&body, &f.org, &carol, "MEMBER");
    let log = events(&app, &f.org, &f.owner).await;
    assert_member_event(
        log.last().expect("event"),
        "member.added",
        &f.org,
        &f.admin,
        &carol,
        "MEMBER",
        None,
    );

    // Carol sees the organization now.
    let (status, body) =
        app.get(&format!("/api/organizations/{}", f.org), Some(&carol.token)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    app.stop().await;
}

on_both_backends!(
    owner_adds_any_role,
    admin_adds_members_and_admins_only,
    member_and_outsider_cannot_add,
    add_member_errors,
    add_member_matches_email_case_insensitively
);
