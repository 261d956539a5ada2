//! `POST /api/users/me/password`: changing the password.

use reqwest::StatusCode;
use serde_json::{Value, json};

use super::{
    assert_token_refused, assert_token_works, create_pat, login_from, oauth_token_for, refresh,
};
use crate::common::messages::{BAD_LOGIN, OAUTH_REFUSED, RATE_LIMITED, WRONG_PASSWORD};
use crate::common::{AUTH_REQUIRED, Backend, PASSWORD, TestApp, assert_error, assert_validation};

const PATH: &str = "/api/users/me/password";
const NEW: &str = "a brand new password";

fn change(current: &str) -> Value {
    json!({"currentPassword": current, "newPassword": NEW})
}

async fn login(app: &TestApp, email: &str, password: &str) -> StatusCode {
    let body = json!({"email": email, "password": password});
    app.post("/api/auth/login", None, body).await.0
}

async fn a_new_password_ends_every_other_way_in(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let ada = app.register("ada").await;
    let laptop = login_from(&app, &ada, "Laptop/1.0").await;
    let pat = create_pat(&app, &ada).await;
    let bob = app.register("bob").await;

    let (status, body) = app.post(PATH, Some(&laptop.token), change(PASSWORD)).await;
    assert_eq!((status, body), (StatusCode::NO_CONTENT, Value::Null));
    assert_eq!(login(&app, &ada.email, NEW).await, StatusCode::OK);
    let (status, body) =
        app.post("/api/auth/login", None, json!({"email": ada.email, "password": PASSWORD})).await;
    assert_error(status, &body, StatusCode::UNAUTHORIZED, BAD_LOGIN);

    // The session that changed it goes on, refresh included; the rest end.
    assert_token_works(&app, &laptop.token).await;
    let (status, _) = refresh(&app, &laptop.refresh).await;
    assert_eq!(status, StatusCode::OK);
    assert_token_refused(&app, &ada.token).await;
    assert_eq!(refresh(&app, &ada.refresh).await.0, StatusCode::UNAUTHORIZED);
    assert_token_refused(&app, &pat).await;
    assert_token_works(&app, &bob.token).await;
    app.stop().await;
}

async fn a_personal_token_that_changes_the_password_keeps_working(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let ada = app.register("ada").await;
    let pat = create_pat(&app, &ada).await;
    let other = create_pat(&app, &ada).await;
    let (status, _) = app.post(PATH, Some(&pat), change(PASSWORD)).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_token_works(&app, &pat).await;
    assert_token_refused(&app, &other).await;
    assert_token_refused(&app, &ada.token).await;
    app.stop().await;
}

async fn a_wrong_current_password_is_refused_and_counted(backend: Backend) {
    let app = TestApp::spawn_with(backend, |c| c.login_max_failures = 2).await;
    let ada = app.register("ada").await;
    for _ in 0..2 {
        let (status, body) = app.post(PATH, Some(&ada.token), change("not it at all")).await;
        assert_error(status, &body, StatusCode::FORBIDDEN, WRONG_PASSWORD);
    }
    // Guessing through a stolen session stops at the sign-in limit.
    let (status, body) = app.post(PATH, Some(&ada.token), change(PASSWORD)).await;
    assert_error(status, &body, StatusCode::TOO_MANY_REQUESTS, RATE_LIMITED);
    assert_token_works(&app, &ada.token).await;
    assert_eq!(login(&app, &ada.email, NEW).await, StatusCode::TOO_MANY_REQUESTS);
    app.stop().await;
}

async fn a_new_password_follows_the_rules_of_registration(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let ada = app.register("ada").await;
    let cases = [
        (json!({}), vec!["currentPassword must be a string", "newPassword must be a string"]),
        (
            json!({"currentPassword": PASSWORD, "newPassword": "short"}),
            vec!["newPassword must be longer than or equal to 8 characters"],
        ),
        (
            json!({"currentPassword": "", "newPassword": "x".repeat(129), "old": 1}),
            vec![
                "property old should not exist",
                "currentPassword should not be empty",
                "newPassword must be shorter than or equal to 128 characters",
            ],
        ),
    ];
    for (body, messages) in cases {
        let (status, res) = app.post(PATH, Some(&ada.token), body).await;
        assert_validation(status, &res, &messages);
    }
    assert_eq!(login(&app, &ada.email, PASSWORD).await, StatusCode::OK);
    app.stop().await;
}

async fn password_change_refuses_anonymous_and_oauth_callers(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let f = app.org_with_roles().await;
    let oauth = oauth_token_for(&app, &f.org, &f.owner, &f.member).await;
    let (status, body) = app.post(PATH, None, change(PASSWORD)).await;
    assert_error(status, &body, StatusCode::UNAUTHORIZED, AUTH_REQUIRED);
    let (status, body) = app.post(PATH, Some(&oauth), change(PASSWORD)).await;
    assert_error(status, &body, StatusCode::FORBIDDEN, OAUTH_REFUSED);
    assert_eq!(login(&app, &f.member.email, PASSWORD).await, StatusCode::OK);
    app.stop().await;
}

on_both_backends!(
    a_new_password_ends_every_other_way_in,
    a_personal_token_that_changes_the_password_keeps_working,
    a_wrong_current_password_is_refused_and_counted,
    a_new_password_follows_the_rules_of_registration,
    password_change_refuses_anonymous_and_oauth_callers,
);
