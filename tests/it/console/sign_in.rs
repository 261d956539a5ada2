//! `/console/sign-in` and `/console/sign-out`: a console sign-in is an API session kept in an
//! `HttpOnly` cookie, with the API's sign-in limits, and idle and absolute expiry.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::json;

use crate::common::console::Console;
use crate::common::{Backend, PASSWORD, TestApp};

const INVALID: &str = "Invalid email or password";

async fn signing_in_sets_a_session_cookie_and_signing_out_ends_it(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let ada = app.register("ada").await;
    let console = Console::new(&app.base);
    // Not signed in: the console sends people to sign in, and back afterwards.
    let page = console.get("/console").await;
    assert_eq!(page.assert_redirect("/console/sign-in"), "next=%2Fconsole");

    let form = console.get("/console/sign-in?next=/console/organizations/x").await;
    assert_eq!(form.status, StatusCode::OK);
    assert!(form.body.contains("<label for=\"email\">Email</label>"));
    let signed_in = console
        .post(
            "/console/sign-in",
            &[("email", &ada.email), ("password", PASSWORD), ("next", "/console/organizations/x")],
        )
        .await;
    signed_in.assert_redirect("/console/organizations/x");
    let cookie = signed_in
        .set_cookies
        .iter()
        .find(|c| c.starts_with("roster_console="))
        .expect("a session cookie");
    assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"), "{cookie}");
    assert!(cookie.contains("Path=/console"), "{cookie}");
    assert!(!cookie.contains("Secure"), "not over plain HTTP: {cookie}");

    let home = console.get("/console").await;
    assert_eq!(home.status, StatusCode::OK);
    assert!(home.shows("ada"));
    for header in ["content-security-policy", "x-frame-options"] {
        assert!(home.headers.contains_key(header), "{header}");
    }
    assert_eq!(home.headers["cache-control"], "no-store");

    // The sign-in is one of the account's sessions.
    let sessions = app.list_all("/api/users/me/sessions", &ada.token).await;
    assert_eq!(sessions.len(), 2, "{sessions:?}");

    console.post("/console/sign-out", &[]).await.assert_redirect("/console/sign-in");
    console.get("/console").await.assert_redirect("/console/sign-in");
    let sessions = app.list_all("/api/users/me/sessions", &ada.token).await;
    assert_eq!(sessions.len(), 1, "the console's session ended: {sessions:?}");
    app.stop().await;
}

async fn the_cookie_is_secure_when_the_server_is_served_over_https(backend: Backend) {
    let app = TestApp::spawn_with(backend, |c| {
        c.public_url = Some("https://roster.example.com".into());
    })
    .await;
    let ada = app.register("ada").await;
    let console = Console::new(&app.base);
    let page = console.sign_in(&ada.email, PASSWORD).await;
    assert!(page.set_cookies.iter().all(|c| c.contains("; Secure")), "{:?}", page.set_cookies);
    app.stop().await;
}

async fn wrong_passwords_get_the_apis_answer_and_its_limits(backend: Backend) {
    let app = TestApp::spawn_with(backend, |c| c.login_max_failures = 3).await;
    let ada = app.register("ada").await;
    let console = Console::new(&app.base);
    let page = console.sign_in(&ada.email, "wrong password").await;
    page.assert_refused(StatusCode::UNAUTHORIZED, INVALID);
    assert_eq!(page.input("email").as_deref(), Some(ada.email.as_str()), "the email stays");
    let page = console.sign_in("nobody@example.com", PASSWORD).await;
    page.assert_refused(StatusCode::UNAUTHORIZED, INVALID);
    let page = console.sign_in("not an email", PASSWORD).await;
    page.assert_refused(StatusCode::BAD_REQUEST, "email must be an email");

    // Failures in the console and the API count together.
    let (status, _) =
        app.post("/api/auth/login", None, json!({"email": ada.email, "password": "nope"})).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    console.sign_in(&ada.email, "wrong again").await;
    let page = console.sign_in(&ada.email, PASSWORD).await;
    assert_eq!(page.status, StatusCode::TOO_MANY_REQUESTS, "{}", page.body);
    assert!(page.error().is_some_and(|e| e.starts_with("Too many attempts")), "{}", page.body);
    assert!(console.cookie("roster_console").is_none());
    app.stop().await;
}

async fn an_unverified_address_cannot_sign_in_when_the_server_requires_it(backend: Backend) {
    let app = TestApp::spawn_with(backend, |c| c.email.require_verified_email = true).await;
    let (status, _) = app
        .post(
            "/api/auth/register",
            None,
            json!({"email": "ada@example.com", "password": PASSWORD, "name": "Ada"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let (api_status, api_body) = app
        .post("/api/auth/login", None, json!({"email": "ada@example.com", "password": PASSWORD}))
        .await;
    let page = Console::new(&app.base).sign_in("ada@example.com", PASSWORD).await;
    super::assert_same_refusal((api_status, api_body), &page);
    assert_eq!(page.status, StatusCode::FORBIDDEN);
    app.stop().await;
}

async fn the_sign_in_form_needs_its_own_token(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let ada = app.register("ada").await;
    let console = Console::new(&app.base);
    let fields = [("email", ada.email.as_str()), ("password", PASSWORD)];
    // No form loaded: no token cookie.
    let page = console.post_exactly("/console/sign-in", &fields, &[]).await;
    assert_eq!(page.status, StatusCode::FORBIDDEN, "{}", page.body);
    // A token that is not the cookie's.
    console.get("/console/sign-in").await;
    let mut forged = fields.to_vec();
    forged.push(("csrf_token", "made-up"));
    let page = console.post_exactly("/console/sign-in", &forged, &[]).await;
    assert_eq!(page.status, StatusCode::FORBIDDEN);
    // A post the browser says came from another site.
    let page = console
        .post_exactly("/console/sign-in", &fields, &[("sec-fetch-site", "cross-site")])
        .await;
    assert_eq!(page.status, StatusCode::FORBIDDEN);
    let page = console
        .post_exactly("/console/sign-in", &fields, &[("origin", "http://evil.example")])
        .await;
    assert_eq!(page.status, StatusCode::FORBIDDEN);
    assert!(console.cookie("roster_console").is_none());
    app.stop().await;
}

async fn after_signing_in_only_console_pages_are_followed(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let ada = app.register("ada").await;
    for next in ["https://evil.example/", "//evil.example/", "/api/users/me"] {
        let console = Console::new(&app.base);
        console.get("/console/sign-in").await;
        let page = console
            .post(
                "/console/sign-in",
                &[("email", &ada.email), ("password", PASSWORD), ("next", next)],
            )
            .await;
        page.assert_redirect("/console");
    }
    // Signed in already: the sign-in page moves on.
    let console = Console::signed_in(&app, &ada).await;
    console.get("/console/sign-in").await.assert_redirect("/console");
    app.stop().await;
}

async fn a_sign_in_ends_when_idle_and_at_its_limit(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let ada = app.register("ada").await;
    let console = Console::signed_in(&app, &ada).await;
    // Used every 20 minutes, it outlives its 30-minute idle timeout...
    for _ in 0..3 {
        app.advance(Duration::from_secs(20 * 60));
        assert_eq!(console.get("/console").await.status, StatusCode::OK);
    }
    // ...until 30 minutes pass unused.
    app.advance(Duration::from_secs(31 * 60));
    console.get("/console").await.assert_redirect("/console/sign-in");

    // However busy, it ends 12 hours after it began.
    let console = Console::signed_in(&app, &ada).await;
    for _ in 0..(12 * 3) {
        app.advance(Duration::from_secs(20 * 60));
        let page = console.get("/console").await;
        if page.status != StatusCode::OK {
            page.assert_redirect("/console/sign-in");
            return app.stop().await;
        }
    }
    panic!("the sign-in outlived its 12 hours");
}

async fn the_cookie_is_no_bearer_token_and_api_tokens_are_no_cookie(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let ada = app.register("ada").await;
    let console = Console::signed_in(&app, &ada).await;
    let cookie = console.cookie("roster_console").expect("a cookie");
    let (status, _) = app.get("/api/users/me", Some(&cookie)).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);

    let stranger = Console::new(&app.base);
    stranger.set_cookie("roster_console", &ada.token);
    stranger.get("/console").await.assert_redirect("/console/sign-in");
    // Revoking the session from the API signs the console out.
    let (status, _) = app.delete("/api/users/me/sessions", Some(&ada.token)).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    console.get("/console").await.assert_redirect("/console/sign-in");
    app.stop().await;
}

on_both_backends!(
    signing_in_sets_a_session_cookie_and_signing_out_ends_it,
    the_cookie_is_secure_when_the_server_is_served_over_https,
    wrong_passwords_get_the_apis_answer_and_its_limits,
    an_unverified_address_cannot_sign_in_when_the_server_requires_it,
    the_sign_in_form_needs_its_own_token,
    after_signing_in_only_console_pages_are_followed,
    a_sign_in_ends_when_idle_and_at_its_limit,
    the_cookie_is_no_bearer_token_and_api_tokens_are_no_cookie,
);
