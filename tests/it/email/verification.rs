//! Verifying an address: the link from registration, asking for another, and what an
//! unverified account may not do while the server requires verification (the default).

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::json;

use super::{app_with_smtp, queued_to, register_for_mail, verify};
use crate::common::smtp::SmtpSink;
use crate::common::{Backend, PASSWORD, assert_error, assert_validation};

const INVALID: &str = "Invalid or expired token";
const UNVERIFIED_SIGN_IN: &str =
    "Verify your email address first: open the link we sent you, or ask for a new one";

async fn login(app: &crate::common::TestApp, email: &str) -> (StatusCode, serde_json::Value) {
    app.post("/api/auth/login", None, json!({"email": email, "password": PASSWORD})).await
}

async fn the_link_verifies_the_address_once(backend: Backend) {
    let sink = SmtpSink::start().await;
    let app = app_with_smtp(backend, &sink, |_| {}).await;
    let (user, mail) = register_for_mail(&app, &sink, "ada").await;
    let (_, me) = app.get("/api/users/me", Some(&user.token)).await;
    assert_eq!(me["emailVerified"], false);

    let (status, body) = verify(&app, &mail.token()).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["emailVerified"], true);
    assert_eq!(body["id"], user.id.as_str());
    let (_, me) = app.get("/api/users/me", Some(&user.token)).await;
    assert_eq!(me["emailVerified"], true);

    let (status, body) = verify(&app, &mail.token()).await;
    assert_error(status, &body, StatusCode::NOT_FOUND, INVALID);
    let (status, body) = verify(&app, "rst_ve_nothing").await;
    assert_error(status, &body, StatusCode::NOT_FOUND, INVALID);
    let (status, body) = app.post("/api/auth/verify-email", None, json!({})).await;
    assert_validation(status, &body, &["token must be a string"]);
}

async fn an_expired_link_verifies_nothing(backend: Backend) {
    let sink = SmtpSink::start().await;
    let app = app_with_smtp(backend, &sink, |_| {}).await;
    let (user, mail) = register_for_mail(&app, &sink, "ada").await;
    app.advance(Duration::from_secs(24 * 3600 + 1));
    let (status, body) = verify(&app, &mail.token()).await;
    assert_error(status, &body, StatusCode::NOT_FOUND, INVALID);
    let (status, body) = login(&app, &user.email).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["user"]["emailVerified"], false);
}

async fn a_new_link_goes_only_to_an_unverified_account(backend: Backend) {
    let sink = SmtpSink::start().await;
    let app = app_with_smtp(backend, &sink, |_| {}).await;
    let (user, first) = register_for_mail(&app, &sink, "ada").await;
    let resend = |email: &str| {
        let body = json!({"email": email});
        async { app.post("/api/auth/verify-email/resend", None, body).await }
    };

    let (status, _) = resend("ADA@example.com").await;
    assert_eq!(status, StatusCode::ACCEPTED);
    let mails = sink.wait_for(2).await;
    let second = &mails[1];
    assert_eq!(second.to, vec![user.email.clone()]);
    assert_ne!(second.token(), first.token());

    // Unknown and verified addresses get the same answer, and no email.
    let (status, _) = resend("nobody@example.com").await;
    assert_eq!(status, StatusCode::ACCEPTED);
    assert_eq!(verify(&app, &second.token()).await.0, StatusCode::OK);
    let (status, _) = resend(&user.email).await;
    assert_eq!(status, StatusCode::ACCEPTED);
    assert_eq!(queued_to(&app, "nobody@example.com").await, 0);
    assert_eq!(queued_to(&app, &user.email).await, 2);

    let (status, body) = resend("not an address").await;
    assert_validation(status, &body, &["email must be an email"]);
}

async fn asking_for_links_is_limited_per_address(backend: Backend) {
    let sink = SmtpSink::start().await;
    let app = app_with_smtp(backend, &sink, |_| {}).await;
    for _ in 0..5 {
        let (status, _) = app
            .post("/api/auth/verify-email/resend", None, json!({"email": "x@example.com"}))
            .await;
        assert_eq!(status, StatusCode::ACCEPTED);
    }
    let res = app
        .client
        .post(format!("{}/api/auth/verify-email/resend", app.base))
        .json(&json!({"email": "x@example.com"}))
        .send()
        .await
        .expect("request");
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
    let retry_after: u64 =
        res.headers()["retry-after"].to_str().expect("ascii").parse().expect("secs");
    assert!((1..=900).contains(&retry_after), "{retry_after}");
    // Another address is not held up by it.
    let (status, _) =
        app.post("/api/auth/verify-email/resend", None, json!({"email": "y@example.com"})).await;
    assert_eq!(status, StatusCode::ACCEPTED);
}

async fn an_unverified_account_signs_in_only_once_verified(backend: Backend) {
    let sink = SmtpSink::start().await;
    let app = app_with_smtp(backend, &sink, |c| c.email.require_verified_email = true).await;
    let (user, mail) = register_for_mail(&app, &sink, "ada").await;
    let (status, body) = login(&app, &user.email).await;
    assert_error(status, &body, StatusCode::FORBIDDEN, UNVERIFIED_SIGN_IN);
    // A wrong password still answers 401: the 403 tells only who knows the password.
    let (status, _) = app
        .post("/api/auth/login", None, json!({"email": user.email, "password": "wrong password"}))
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);

    assert_eq!(verify(&app, &mail.token()).await.0, StatusCode::OK);
    let (status, body) = login(&app, &user.email).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["user"]["emailVerified"], true);
}

async fn an_unverified_account_cannot_accept_an_invite(backend: Backend) {
    let sink = SmtpSink::start().await;
    let app = app_with_smtp(backend, &sink, |c| c.email.require_verified_email = true).await;
    let owner = app.register("owner").await;
    let org = app.create_org(&owner, "Acme").await;
    let (invitee, mail) = register_for_mail(&app, &sink, "ada").await;
    let invite = app.invite(&org, &owner, &invitee.email, "MEMBER").await;
    let token = invite["token"].as_str().expect("token");

    let accept = || app.post("/api/invites/accept", Some(&invitee.token), json!({"token": token}));
    let (status, body) = accept().await;
    assert_error(
        status,
        &body,
        StatusCode::FORBIDDEN,
        "Verify your email address before accepting an invite",
    );
    assert_eq!(verify(&app, &mail.token()).await.0, StatusCode::OK);
    let (status, body) = accept().await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

async fn with_verification_not_required_an_unverified_account_signs_in(backend: Backend) {
    let sink = SmtpSink::start().await;
    let app = app_with_smtp(backend, &sink, |c| c.email.require_verified_email = false).await;
    let (user, _) = register_for_mail(&app, &sink, "ada").await;
    let (status, body) = login(&app, &user.email).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["user"]["emailVerified"], false);
}

async fn an_unverified_account_cannot_be_added_directly(backend: Backend) {
    let sink = SmtpSink::start().await;
    let app = app_with_smtp(backend, &sink, |c| c.email.require_verified_email = true).await;
    let owner = app.register("owner").await;
    let org = app.create_org(&owner, "Acme").await;
    let (ada, mail) = register_for_mail(&app, &sink, "ada").await;
    let path = format!("/api/organizations/{org}/members");
    let add = || {
        let body = json!({"email": ada.email, "role": "MEMBER"});
        app.post(&path, Some(&owner.token), body)
    };
    let (status, body) = add().await;
    assert_error(
        status,
        &body,
        StatusCode::CONFLICT,
        "The user has not verified their email address yet",
    );
    assert_eq!(verify(&app, &mail.token()).await.0, StatusCode::OK);
    let (status, body) = add().await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
}

on_both_backends!(
    the_link_verifies_the_address_once,
    an_expired_link_verifies_nothing,
    a_new_link_goes_only_to_an_unverified_account,
    asking_for_links_is_limited_per_address,
    an_unverified_account_signs_in_only_once_verified,
    an_unverified_account_cannot_accept_an_invite,
    with_verification_not_required_an_unverified_account_signs_in,
    an_unverified_account_cannot_be_added_directly,
);
