//! Changing the account's address through a link sent to the new one, and the security
//! notices that follow changes.

use reqwest::StatusCode;
use serde_json::json;

use super::{app_with_smtp, queued_to, register_for_mail, verify};
use crate::account::oauth_token_for;
use crate::common::smtp::SmtpSink;
use crate::common::{AUTH_REQUIRED, Backend, PASSWORD, TestApp, assert_error, assert_validation};

const PATH: &str = "/api/users/me/email";

async fn ask(
    app: &TestApp,
    token: &str,
    email: &str,
    password: &str,
) -> (StatusCode, serde_json::Value) {
    app.post(PATH, Some(token), json!({"email": email, "currentPassword": password})).await
}

async fn confirm(app: &TestApp, token: &str) -> (StatusCode, serde_json::Value) {
    app.post("/api/auth/email-change/confirm", None, json!({"token": token})).await
}

async fn the_new_address_takes_effect_once_its_link_is_opened(backend: Backend) {
    let sink = SmtpSink::start().await;
    let app = app_with_smtp(backend, &sink, |_| {}).await;
    let (ada, _) = register_for_mail(&app, &sink, "ada").await;

    let (status, body) = ask(&app, &ada.token, "ada@new.example", PASSWORD).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    let mail = sink.mail_to("ada@new.example").await;
    assert_eq!(mail.subject(), "Confirm your new email address");
    assert!(mail.link().starts_with("http://roster.test/confirm-email?token=rst_ce_"));
    // Until then, nothing changed.
    let (_, me) = app.get("/api/users/me", Some(&ada.token)).await;
    assert_eq!(me["email"], "ada@example.com");

    let (status, user) = confirm(&app, &mail.token()).await;
    assert_eq!(status, StatusCode::OK, "{user}");
    assert_eq!(user["email"], "ada@new.example");
    assert_eq!(user["emailVerified"], true);
    // The verification, the confirmation, then the notice to the old address.
    let notice = &sink.wait_for(3).await[2];
    assert_eq!(notice.to, vec!["ada@example.com"]);
    assert_eq!(notice.subject(), "Your email address was changed");
    assert!(notice.text.contains("ada@new.example"), "{}", notice.text);
    let (status, _) = app
        .post("/api/auth/login", None, json!({"email": "ada@new.example", "password": PASSWORD}))
        .await;
    assert_eq!(status, StatusCode::OK);

    let (status, body) = confirm(&app, &mail.token()).await;
    assert_error(status, &body, StatusCode::NOT_FOUND, "Invalid or expired token");
}

async fn a_change_needs_the_password_and_a_free_address(backend: Backend) {
    let sink = SmtpSink::start().await;
    let app = app_with_smtp(backend, &sink, |_| {}).await;
    let f = app.org_with_roles().await;
    let ada = &f.member;

    let (status, body) = ask(&app, &ada.token, "ada@new.example", "not my password").await;
    assert_error(status, &body, StatusCode::FORBIDDEN, "Current password is incorrect");
    let (status, body) = ask(&app, &ada.token, &f.owner.email, PASSWORD).await;
    assert_error(status, &body, StatusCode::CONFLICT, "Email already registered");
    let (status, body) = ask(&app, &ada.token, &ada.email.to_uppercase(), PASSWORD).await;
    assert_error(
        status,
        &body,
        StatusCode::CONFLICT,
        "That is already the account's email address",
    );
    let (status, body) = app.post(PATH, Some(&ada.token), json!({"email": "nope"})).await;
    assert_validation(
        status,
        &body,
        &["email must be an email", "currentPassword must be a string"],
    );
    let (status, body) =
        app.post(PATH, None, json!({"email": "a@b.example", "currentPassword": PASSWORD})).await;
    assert_error(status, &body, StatusCode::UNAUTHORIZED, AUTH_REQUIRED);
    let oauth = oauth_token_for(&app, &f.org, &f.owner, ada).await;
    let (status, body) = ask(&app, &oauth, "ada@new.example", PASSWORD).await;
    assert_error(
        status,
        &body,
        StatusCode::FORBIDDEN,
        "Access denied. OAuth tokens cannot be used for this route.",
    );
    assert_eq!(queued_to(&app, "ada@new.example").await, 0);
}

async fn an_address_taken_meanwhile_is_refused_at_confirmation(backend: Backend) {
    let sink = SmtpSink::start().await;
    let app = app_with_smtp(backend, &sink, |_| {}).await;
    let (ada, _) = register_for_mail(&app, &sink, "ada").await;
    assert_eq!(ask(&app, &ada.token, "taken@example.com", PASSWORD).await.0, StatusCode::ACCEPTED);
    let link = sink.mail_to("taken@example.com").await;
    app.register("taken").await;
    let (status, body) = confirm(&app, &link.token()).await;
    assert_error(status, &body, StatusCode::CONFLICT, "Email already registered");
    let (_, me) = app.get("/api/users/me", Some(&ada.token)).await;
    assert_eq!(me["email"], "ada@example.com");
}

async fn a_password_change_sends_a_notice(backend: Backend) {
    let sink = SmtpSink::start().await;
    let app = app_with_smtp(backend, &sink, |_| {}).await;
    let (ada, verification) = register_for_mail(&app, &sink, "ada").await;
    assert_eq!(verify(&app, &verification.token()).await.0, StatusCode::OK);
    let body = json!({"currentPassword": PASSWORD, "newPassword": "another fine passphrase"});
    let (status, res) = app.post("/api/users/me/password", Some(&ada.token), body).await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{res}");
    let notice = &sink.wait_for(2).await[1];
    assert_eq!(notice.to, vec![ada.email.clone()]);
    assert_eq!(notice.subject(), "Your password was changed");
}

on_both_backends!(
    the_new_address_takes_effect_once_its_link_is_opened,
    a_change_needs_the_password_and_a_free_address,
    an_address_taken_meanwhile_is_refused_at_confirmation,
    a_password_change_sends_a_notice,
);
