//! The email that carries an invite.

use reqwest::StatusCode;
use serde_json::json;

use super::{app_with_smtp, queued_to};
use crate::common::smtp::SmtpSink;
use crate::common::{Backend, TestApp};

async fn create_invite(
    app: &TestApp,
    org: &str,
    token: &str,
    body: serde_json::Value,
) -> serde_json::Value {
    let (status, body) =
        app.post(&format!("/api/organizations/{org}/invites"), Some(token), body).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    body
}

async fn the_invitee_gets_an_accept_link(backend: Backend) {
    let sink = SmtpSink::start().await;
    let app = app_with_smtp(backend, &sink, |_| {}).await;
    let owner = app.register("owner").await;
    let org = app.create_org(&owner, "Acme & Co").await;
    let invite = create_invite(
        &app,
        &org,
        &owner.token,
        json!({"email": "Ada@Example.com", "role": "ADMIN"}),
    )
    .await;

    let mail = sink.mail_to("Ada@Example.com").await;
    assert_eq!(mail.subject(), "owner invited you to Acme & Co");
    assert_eq!(
        mail.link(),
        format!(
            "http://roster.test/invites/accept?token={}",
            invite["token"].as_str().expect("token")
        )
    );
    assert!(mail.text.contains("as ADMIN"), "{}", mail.text);
    assert!(mail.html.contains("Acme &amp; Co"), "escaped in HTML: {}", mail.html);
}

async fn no_email_when_the_request_or_the_server_says_so(backend: Backend) {
    let sink = SmtpSink::start().await;
    let app = app_with_smtp(backend, &sink, |_| {}).await;
    let owner = app.register("owner").await;
    let org = app.create_org(&owner, "Acme").await;
    let invite = create_invite(
        &app,
        &org,
        &owner.token,
        json!({"email": "quiet@example.com", "role": "MEMBER", "sendEmail": false}),
    )
    .await;
    assert!(invite["token"].as_str().is_some_and(|t| t.starts_with("rst_inv_")));
    assert_eq!(queued_to(&app, "quiet@example.com").await, 0);
    let (status, body) = app
        .post(
            &format!("/api/organizations/{org}/invites"),
            Some(&owner.token),
            json!({"email": "x@example.com", "role": "MEMBER", "sendEmail": "no"}),
        )
        .await;
    crate::common::assert_validation(status, &body, &["sendEmail must be a boolean value"]);

    let quiet = app_with_smtp(backend, &sink, |c| c.email.invite_emails = false).await;
    let owner = quiet.register("owner").await;
    let org = quiet.create_org(&owner, "Acme").await;
    create_invite(&quiet, &org, &owner.token, json!({"email": "a@example.com", "role": "MEMBER"}))
        .await;
    assert_eq!(queued_to(&quiet, "a@example.com").await, 0);
    create_invite(
        &quiet,
        &org,
        &owner.token,
        json!({"email": "b@example.com", "role": "MEMBER", "sendEmail": true}),
    )
    .await;
    assert_eq!(queued_to(&quiet, "b@example.com").await, 1);
}

on_both_backends!(the_invitee_gets_an_accept_link, no_email_when_the_request_or_the_server_says_so);
