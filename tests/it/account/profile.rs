//! `PATCH /api/users/me`: changing one's name.

use reqwest::StatusCode;
use serde_json::json;

use super::oauth_token_for;
use crate::common::messages::OAUTH_REFUSED;
use crate::common::{AUTH_REQUIRED, Backend, TestApp, assert_error, assert_validation};

async fn renaming_changes_the_user_everywhere(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let f = app.org_with_roles().await;
    let (_, before) = app.get("/api/users/me", Some(&f.member.token)).await;
    let (status, user) =
        app.patch("/api/users/me", Some(&f.member.token), json!({"name": "  Ada L.  "})).await;
    assert_eq!(status, StatusCode::OK, "{user}");
    assert_eq!(user["name"], "Ada L.", "stored trimmed");
    assert_eq!((&user["id"], &user["email"]), (&before["id"], &before["email"]));
    assert_eq!(user["createdAt"], before["createdAt"]);
    let (_, me) = app.get("/api/users/me", Some(&f.member.token)).await;
    assert_eq!(me, user);
    let members =
        app.list_all(&format!("/api/organizations/{}/members", f.org), &f.owner.token).await;
    assert!(members.iter().any(|m| m["userId"] == json!(f.member.id) && m["name"] == "Ada L."));
    app.stop().await;
}

async fn renaming_follows_the_rules_of_registration(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let ada = app.register("ada").await;
    let too_long = "n".repeat(101);
    let cases = [
        (json!({}), vec!["name should not be empty", "name must be a string"]),
        (json!({"name": "   "}), vec!["name should not be empty"]),
        (json!({"name": 7}), vec!["name must be a string"]),
        (json!({"name": too_long}), vec!["name must be shorter than or equal to 100 characters"]),
        (
            json!({"name": "Ada", "email": "new@example.com"}),
            vec!["property email should not exist"],
        ),
    ];
    for (body, messages) in cases {
        let (status, res) = app.patch("/api/users/me", Some(&ada.token), body).await;
        assert_validation(status, &res, &messages);
    }
    let (_, me) = app.get("/api/users/me", Some(&ada.token)).await;
    assert_eq!(me["name"], "ada");
    app.stop().await;
}

async fn renaming_refuses_anonymous_and_oauth_callers(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let f = app.org_with_roles().await;
    let oauth = oauth_token_for(&app, &f.org, &f.owner, &f.member).await;
    let (status, body) = app.patch("/api/users/me", None, json!({"name": "X"})).await;
    assert_error(status, &body, StatusCode::UNAUTHORIZED, AUTH_REQUIRED);
    let (status, body) = app.patch("/api/users/me", Some(&oauth), json!({"name": "X"})).await;
    assert_error(status, &body, StatusCode::FORBIDDEN, OAUTH_REFUSED);
    let (_, me) = app.get("/api/users/me", Some(&f.member.token)).await;
    assert_eq!(me["name"], "member");
    app.stop().await;
}

on_both_backends!(
    renaming_changes_the_user_everywhere,
    renaming_follows_the_rules_of_registration,
    renaming_refuses_anonymous_and_oauth_callers,
);
