//! Resetting a forgotten password through its emailed link.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::json;

use super::{app_with_smtp, queued_to, register_for_mail};
use crate::common::smtp::SmtpSink;
use crate::common::{AUTH_REQUIRED, Backend, PASSWORD, TestApp, assert_error, assert_validation};

const NEW_PASSWORD: &str = "a brand new passphrase";
const INVALID: &str = "Invalid or expired token";

async fn ask(app: &TestApp, email: &str) -> StatusCode {
    app.post("/api/auth/password-reset", None, json!({"email": email})).await.0
}

async fn confirm(app: &TestApp, token: &str, password: &str) -> (StatusCode, serde_json::Value) {
    let body = json!({"token": token, "password": password});
    app.post("/api/auth/password-reset/confirm", None, body).await
}

async fn login(app: &TestApp, email: &str, password: &str) -> StatusCode {
    app.post("/api/auth/login", None, json!({"email": email, "password": password})).await.0
}

async fn the_link_sets_a_new_password_and_ends_every_sign_in(backend: Backend) {
    let sink = SmtpSink::start().await;
    let app = app_with_smtp(backend, &sink, |_| {}).await;
    let (user, _) = register_for_mail(&app, &sink, "ada").await;
    let (status, pat) = app
        .post(
            "/api/users/me/tokens",
            Some(&user.token),
            json!({"name": "ci", "currentPassword": PASSWORD}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{pat}");

    assert_eq!(ask(&app, "Ada@Example.com").await, StatusCode::ACCEPTED);
    let mails = sink.wait_for(2).await;
    let mail = &mails[1];
    assert_eq!(mail.to, vec![user.email.clone()]);
    assert_eq!(mail.subject(), "Reset your password");
    assert!(mail.link().starts_with("http://roster.test/reset-password?token=rst_pr_"));
    assert!(mail.text.contains("for 1 hour"), "{}", mail.text);

    let (status, body) = confirm(&app, &mail.token(), NEW_PASSWORD).await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    for token in [user.token.as_str(), pat["token"].as_str().expect("pat")] {
        let (status, body) = app.get("/api/users/me", Some(token)).await;
        assert_error(status, &body, StatusCode::UNAUTHORIZED, AUTH_REQUIRED);
    }
    let (status, _) =
        app.post("/api/auth/refresh", None, json!({"refreshToken": user.refresh})).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(login(&app, &user.email, PASSWORD).await, StatusCode::UNAUTHORIZED);
    assert_eq!(login(&app, &user.email, NEW_PASSWORD).await, StatusCode::OK);

    // The link worked once, proved the address, and a notice followed.
    let (status, body) = confirm(&app, &mail.token(), "yet another passphrase").await;
    assert_error(status, &body, StatusCode::NOT_FOUND, INVALID);
    let notice = &sink.wait_for(3).await[2];
    assert_eq!(notice.to, vec![user.email.clone()]);
    assert_eq!(notice.subject(), "Your password was changed");
    let (_, signed_in) = app
        .post("/api/auth/login", None, json!({"email": user.email, "password": NEW_PASSWORD}))
        .await;
    assert_eq!(signed_in["user"]["emailVerified"], true);
}

async fn an_unknown_address_gets_the_same_answer_and_no_email(backend: Backend) {
    let sink = SmtpSink::start().await;
    let app = app_with_smtp(backend, &sink, |_| {}).await;
    assert_eq!(ask(&app, "nobody@example.com").await, StatusCode::ACCEPTED);
    assert_eq!(queued_to(&app, "nobody@example.com").await, 0);
    let (status, body) = app.post("/api/auth/password-reset", None, json!({"email": "nope"})).await;
    assert_validation(status, &body, &["email must be an email"]);
}

async fn a_bad_or_expired_link_sets_nothing(backend: Backend) {
    let sink = SmtpSink::start().await;
    let app = app_with_smtp(backend, &sink, |_| {}).await;
    let (user, verification) = register_for_mail(&app, &sink, "ada").await;
    assert_eq!(ask(&app, &user.email).await, StatusCode::ACCEPTED);
    let reset = sink.wait_for(2).await[1].token();

    let (status, body) = confirm(&app, &reset, "short").await;
    assert_validation(status, &body, &["password must be longer than or equal to 8 characters"]);
    // A verification link is no reset link.
    let (status, body) = confirm(&app, &verification.token(), NEW_PASSWORD).await;
    assert_error(status, &body, StatusCode::NOT_FOUND, INVALID);
    app.advance(Duration::from_secs(3601));
    let (status, body) = confirm(&app, &reset, NEW_PASSWORD).await;
    assert_error(status, &body, StatusCode::NOT_FOUND, INVALID);
    assert_eq!(login(&app, &user.email, PASSWORD).await, StatusCode::OK);
}

async fn requests_are_limited_per_address_alike_for_unknown_ones(backend: Backend) {
    let sink = SmtpSink::start().await;
    let app = app_with_smtp(backend, &sink, |_| {}).await;
    let (user, _) = register_for_mail(&app, &sink, "ada").await;
    for email in [user.email.as_str(), "nobody@example.com"] {
        for _ in 0..5 {
            assert_eq!(ask(&app, email).await, StatusCode::ACCEPTED);
        }
        let (status, body) =
            app.post("/api/auth/password-reset", None, json!({"email": email})).await;
        assert_error(
            status,
            &body,
            StatusCode::TOO_MANY_REQUESTS,
            "Too many requests. Try again later.",
        );
    }
    assert_eq!(queued_to(&app, &user.email).await, 6, "the verification and five resets");
    // The window passes.
    app.advance(Duration::from_secs(15 * 60 + 1));
    assert_eq!(ask(&app, &user.email).await, StatusCode::ACCEPTED);
}

on_both_backends!(
    the_link_sets_a_new_password_and_ends_every_sign_in,
    an_unknown_address_gets_the_same_answer_and_no_email,
    a_bad_or_expired_link_sets_nothing,
    requests_are_limited_per_address_alike_for_unknown_ones,
);
