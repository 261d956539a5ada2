//! The console pages that emailed links open: resetting a forgotten password, verifying an
//! address (and asking for a new link), confirming a new address, accepting an invite. Each
//! spends its token only when its button is pressed, answers with the API's refusals, and
//! takes no form without its token.

use reqwest::StatusCode;
use serde_json::{Value, json};

use super::assert_same_refusal;
use crate::common::console::Console;
use crate::common::smtp::SmtpSink;
use crate::common::{Backend, PASSWORD, TestApp, TestUser};
use crate::email::{app_with_smtp, register_for_mail};

const NEW_PASSWORD: &str = "a brand new passphrase";
const INVALID: &str = "Invalid or expired token";
const FORGED: &str =
    "This form has expired or came from another site. Go back, reload the page and try again.";

async fn me(app: &TestApp, token: &str) -> Value {
    let (status, body) = app.get("/api/users/me", Some(token)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body
}

async fn a_forgotten_password_is_reset_through_the_console(backend: Backend) {
    let sink = SmtpSink::start().await;
    let app = app_with_smtp(backend, &sink, |_| {}).await;
    let (ada, _) = register_for_mail(&app, &sink, "ada").await;
    let console = Console::new(&app.base);
    let page = console.get("/console/sign-in").await;
    let forgot = page.link("Forgot your password?").expect("a link from the sign-in page");
    let page = console.get(&forgot).await;
    assert!(page.shows("Reset your password"), "{}", page.body);

    let page = console.post("/console/reset-password", &[("email", "nope")]).await;
    let api = app.post("/api/auth/password-reset", None, json!({"email": "nope"})).await;
    assert_same_refusal(api, &page);
    assert_eq!(page.input("email").as_deref(), Some("nope"), "kept as typed");
    let page = console.post("/console/reset-password", &[("email", &ada.email)]).await;
    assert_eq!(page.assert_redirect("/console/reset-password"), "done=sent");
    let page = console.get("/console/reset-password?done=sent").await;
    assert_eq!(
        page.notice().as_deref(),
        Some("If an account uses that address, a link to reset its password is on its way.")
    );

    let mail = sink.wait_for(2).await.swap_remove(1);
    assert!(mail.link().starts_with("http://roster.test/reset-password?token="), "{}", mail.text);
    let token = mail.token();
    let link = format!("/console/reset-password?token={token}");
    // Opening the link spends nothing, however often a scanner fetches it.
    console.get(&link).await;
    let page = console.get(&link).await;
    assert!(page.shows("Choose a new password"), "{}", page.body);

    let page = console
        .post("/console/reset-password/confirm", &[("token", &token), ("password", "short")])
        .await;
    let api = app
        .post(
            "/api/auth/password-reset/confirm",
            None,
            json!({"token": token, "password": "short"}),
        )
        .await;
    assert_same_refusal(api, &page);
    let fields = [("token", token.as_str()), ("password", NEW_PASSWORD)];
    let page = console.post("/console/reset-password/confirm", &fields).await;
    assert_eq!(page.assert_redirect("/console/sign-in"), "done=password-reset");
    let page = console.get("/console/sign-in?done=password-reset").await;
    assert!(page.notice().is_some_and(|n| n.starts_with("Your new password is set")));
    let page = console.sign_in(&ada.email, NEW_PASSWORD).await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "signed in with the new password");

    // The link worked once.
    let other = Console::new(&app.base);
    other.get(&link).await;
    let page = other.post("/console/reset-password/confirm", &fields).await;
    page.assert_refused(StatusCode::NOT_FOUND, INVALID);
    app.stop().await;
}

async fn an_address_is_verified_and_a_new_link_asked_for(backend: Backend) {
    let sink = SmtpSink::start().await;
    let app = app_with_smtp(backend, &sink, |_| {}).await;
    let (ada, mail) = register_for_mail(&app, &sink, "ada").await;
    let token = mail.token();
    let link = format!("/console/verify-email?token={token}");
    let console = Console::new(&app.base);
    let page = console.get(&link).await;
    assert!(page.shows("Verify your email address"), "{}", page.body);
    assert_eq!(me(&app, &ada.token).await["emailVerified"], false, "opening spends nothing");

    let page = console.post("/console/verify-email", &[("token", &token)]).await;
    assert_eq!(page.assert_redirect("/console/sign-in"), "done=verified");
    assert_eq!(me(&app, &ada.token).await["emailVerified"], true);
    console.get(&link).await;
    let page = console.post("/console/verify-email", &[("token", &token)]).await;
    page.assert_refused(StatusCode::NOT_FOUND, INVALID);

    let page = console.get("/console/verify-email").await;
    assert!(page.shows("Get a new verification link"), "{}", page.body);
    let page = console.post("/console/verify-email/resend", &[("email", "")]).await;
    let api = app.post("/api/auth/verify-email/resend", None, json!({"email": ""})).await;
    assert_same_refusal(api, &page);
    let page = console.post("/console/verify-email/resend", &[("email", &ada.email)]).await;
    assert_eq!(page.assert_redirect("/console/verify-email"), "done=sent");
    app.stop().await;
}

async fn a_new_address_is_confirmed_from_its_link(backend: Backend) {
    let sink = SmtpSink::start().await;
    let app = app_with_smtp(backend, &sink, |_| {}).await;
    let (ada, _) = register_for_mail(&app, &sink, "ada").await;
    let body = json!({"email": "ada.new@example.com", "currentPassword": PASSWORD});
    let (status, answer) = app.post("/api/users/me/email", Some(&ada.token), body).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{answer}");
    let token = sink.mail_to("ada.new@example.com").await.token();

    let console = Console::new(&app.base);
    let page = console.get(&format!("/console/confirm-email?token={token}")).await;
    assert!(page.shows("Confirm your new email address"), "{}", page.body);
    assert_eq!(me(&app, &ada.token).await["email"], ada.email.as_str(), "opening spends nothing");
    let page = console.post("/console/confirm-email", &[("token", "rst_ce_made-up")]).await;
    page.assert_refused(StatusCode::NOT_FOUND, INVALID);
    let page = console.post("/console/confirm-email", &[("token", &token)]).await;
    assert_eq!(page.assert_redirect("/console/sign-in"), "done=email-changed");
    assert_eq!(me(&app, &ada.token).await["email"], "ada.new@example.com");
    app.stop().await;
}

/// An invite for `to` to `org`, made by `by` through the API: its token.
async fn invite(app: &TestApp, org: &str, by: &TestUser, to: &str) -> String {
    let body = json!({"email": to, "role": "MEMBER", "sendEmail": false});
    let (status, invite) =
        app.post(&format!("/api/organizations/{org}/invites"), Some(&by.token), body).await;
    assert_eq!(status, StatusCode::CREATED, "{invite}");
    invite["token"].as_str().expect("a token").to_owned()
}

async fn an_invite_link_signs_in_first_then_joins(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let f = app.org_with_roles().await;
    let bob = app.register("bob").await;
    let token = invite(&app, &f.org, &f.owner, &bob.email).await;
    let link = format!("/console/invites/accept?token={token}");

    // Not signed in: to the sign-in page, and back to the link afterwards.
    let console = Console::new(&app.base);
    let page = console.get(&link).await;
    let query = page.assert_redirect("/console/sign-in");
    let next: String = url::form_urlencoded::parse(query.as_bytes())
        .find(|(k, _)| k == "next")
        .map(|(_, v)| v.into_owned())
        .expect("a next page");
    assert_eq!(next, link);
    console.get(&format!("/console/sign-in?{query}")).await;
    let fields = [("email", bob.email.as_str()), ("password", PASSWORD), ("next", &next)];
    let page = console.post("/console/sign-in", &fields).await;
    assert_eq!(page.location.as_deref(), Some(link.as_str()), "{}", page.body);

    let page = console.get(&link).await;
    assert!(page.shows(&format!("You are signed in as {}", bob.email)), "{}", page.body);
    let page = console.post("/console/invites/accept", &[("token", &token)]).await;
    let org_page = format!("/console/organizations/{}", f.org);
    assert_eq!(page.assert_redirect(&org_page), "done=joined");
    let page = console.get(&format!("{org_page}?done=joined")).await;
    assert_eq!(page.notice().as_deref(), Some("Invite accepted: you are a member now."));

    // Spent: the API's refusal, as the API gives it.
    console.get(&link).await;
    let page = console.post("/console/invites/accept", &[("token", &token)]).await;
    let api = app.post("/api/invites/accept", Some(&bob.token), json!({"token": token})).await;
    assert_same_refusal(api, &page);

    // Someone else's invite is refused in the API's words.
    let carol = app.register("carol").await;
    let theirs = invite(&app, &f.org, &f.owner, &carol.email).await;
    console.get(&format!("/console/invites/accept?token={theirs}")).await;
    let page = console.post("/console/invites/accept", &[("token", &theirs)]).await;
    assert_eq!(page.status, StatusCode::FORBIDDEN, "{}", page.body);
    let api = app.post("/api/invites/accept", Some(&bob.token), json!({"token": theirs})).await;
    assert_same_refusal(api, &page);
    app.stop().await;
}

async fn link_forms_take_nothing_without_their_token(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let ada = app.register("ada").await;
    let forms: [(&str, &[(&str, &str)]); 5] = [
        ("/console/reset-password", &[("email", "ada@example.com")]),
        ("/console/reset-password/confirm", &[("token", "rst_pr_x"), ("password", NEW_PASSWORD)]),
        ("/console/verify-email", &[("token", "rst_ve_x")]),
        ("/console/verify-email/resend", &[("email", "ada@example.com")]),
        ("/console/confirm-email", &[("token", "rst_ce_x")]),
    ];
    for (path, fields) in forms {
        let console = Console::new(&app.base);
        // No page loaded: no token cookie.
        let page = console.post_exactly(path, fields, &[]).await;
        page.assert_refused(StatusCode::FORBIDDEN, FORGED);
        // A token that is not the cookie's.
        console.get(path).await;
        let mut forged = fields.to_vec();
        forged.push(("csrf_token", "made-up"));
        console.get("/console/reset-password").await;
        let page = console.post_exactly(path, &forged, &[]).await;
        page.assert_refused(StatusCode::FORBIDDEN, FORGED);
        // A post the browser says came from another site, with the right token.
        console.get("/console/reset-password").await;
        let page = console.post(path, fields).await;
        assert_ne!(page.status, StatusCode::FORBIDDEN, "{path}: the genuine form is taken");
        console.get("/console/reset-password").await;
        let page = console.post_exactly(path, fields, &[("sec-fetch-site", "cross-site")]).await;
        page.assert_refused(StatusCode::FORBIDDEN, FORGED);
    }
    // A form larger than any of these is refused whole, never read in part.
    let console = Console::new(&app.base);
    console.get("/console/reset-password").await;
    let big = "x".repeat(70 * 1024);
    let page = console.post("/console/reset-password", &[("email", &big)]).await;
    assert_eq!(page.status, StatusCode::PAYLOAD_TOO_LARGE, "{}", page.body);

    // Accepting an invite is a signed-in form: it needs the sign-in's token.
    let signed_in = Console::signed_in(&app, &ada).await;
    let page =
        signed_in.post_exactly("/console/invites/accept", &[("token", "rst_inv_x")], &[]).await;
    page.assert_refused(StatusCode::FORBIDDEN, FORGED);
    app.stop().await;
}

on_both_backends!(
    a_forgotten_password_is_reset_through_the_console,
    an_address_is_verified_and_a_new_link_asked_for,
    a_new_address_is_confirmed_from_its_link,
    an_invite_link_signs_in_first_then_joins,
    link_forms_take_nothing_without_their_token,
);
