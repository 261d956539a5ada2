//! `POST /api/auth/login` and its limit on failed sign-ins.

use reqwest::StatusCode;
use reqwest::header::RETRY_AFTER;
use serde_json::{Value, json};

use super::{access_token, assert_session, assert_token_works, login};
use crate::common::messages::BAD_LOGIN;
use crate::common::{Backend, PASSWORD, TestApp, assert_error};

const RATE_LIMITED: &str = "Too many requests. Try again later.";

/// A login that must fail with the generic 401.
async fn fail_login(app: &TestApp, email: &str) {
    let (status, body) = login(app, email, "wrong password").await;
    assert_error(status, &body, StatusCode::UNAUTHORIZED, BAD_LOGIN);
}

/// A login attempt answered 429; returns its `Retry-After` in seconds.
async fn rate_limited_login(app: &TestApp, email: &str, password: &str) -> u64 {
    let res = app
        .client
        .post(format!("{}/api/auth/login", app.base))
        .json(&json!({"email": email, "password": password}))
        .send()
        .await
        .expect("request sent");
    let status = res.status();
    let retry_after = res
        .headers()
        .get(RETRY_AFTER)
        .expect("429 carries Retry-After")
        .to_str()
        .expect("Retry-After is ASCII")
        .parse::<u64>()
        .expect("Retry-After is whole seconds");
    let body: Value = res.json().await.expect("JSON body");
    assert_error(status, &body, StatusCode::TOO_MANY_REQUESTS, RATE_LIMITED);
    retry_after
}

async fn login_returns_working_session(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let ada = app.register("ada").await;
    let (status, body) = login(&app, "ADA@example.com", PASSWORD).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_session(&body, &ada.email, "ada");
    assert_eq!(body["user"]["id"], json!(ada.id));
    assert_ne!(access_token(&body), ada.token);
    assert_token_works(&app, access_token(&body), &ada).await;
    app.stop().await;
}

async fn login_wrong_password_and_unknown_email_answer_alike(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let ada = app.register("ada").await;
    let wrong_password = login(&app, &ada.email, "not the password").await;
    let unknown_email = login(&app, "nobody@example.com", PASSWORD).await;
    assert_error(wrong_password.0, &wrong_password.1, StatusCode::UNAUTHORIZED, BAD_LOGIN);
    assert_eq!(wrong_password, unknown_email);
    app.stop().await;
}

async fn login_rate_limited_after_max_failures(backend: Backend) {
    let app = TestApp::spawn_with(backend, |c| c.login_max_failures = 3).await;
    let ada = app.register("ada").await;
    for _ in 0..3 {
        fail_login(&app, &ada.email).await;
    }
    let retry_after = rate_limited_login(&app, &ada.email, PASSWORD).await;
    assert!((1..=15 * 60).contains(&retry_after), "Retry-After {retry_after}");
    // The limit is per email regardless of case.
    rate_limited_login(&app, "ADA@EXAMPLE.COM", PASSWORD).await;
    app.stop().await;
}

async fn login_failures_for_one_email_do_not_block_another(backend: Backend) {
    // The per-network limit is 10x the per-pair one, so six failures from one address are
    // well under it: only each email's own limit applies.
    let app = TestApp::spawn_with(backend, |c| c.login_max_failures = 3).await;
    let ada = app.register("ada").await;
    let bob = app.register("bob").await;
    for _ in 0..3 {
        fail_login(&app, &ada.email).await;
    }
    rate_limited_login(&app, &ada.email, PASSWORD).await;

    let (status, body) = login(&app, &bob.email, PASSWORD).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    for _ in 0..3 {
        fail_login(&app, &bob.email).await;
    }
    rate_limited_login(&app, &bob.email, PASSWORD).await;
    app.stop().await;
}

/// Parallel guesses count against each other: they cannot slip past the limit together.
async fn login_limit_holds_under_parallel_guesses(backend: Backend) {
    let app = TestApp::spawn_with(backend, |c| c.login_max_failures = 3).await;
    let ada = app.register("ada").await;
    let guesses = (0..30).map(|_| login(&app, &ada.email, "wrong password"));
    let answers = futures::future::join_all(guesses).await;
    let refused = answers.iter().filter(|(s, _)| *s == StatusCode::TOO_MANY_REQUESTS).count();
    let checked = answers.iter().filter(|(s, _)| *s == StatusCode::UNAUTHORIZED).count();
    assert_eq!(refused + checked, 30, "{answers:?}");
    // A burst may even be refused whole: each guess counts the others in flight.
    assert!(checked <= 3, "at most 3 guesses may be checked, {checked} were");
    // Refused guesses do not count; the checked ones do, up to the limit.
    for _ in checked..3 {
        fail_login(&app, &ada.email).await;
    }
    rate_limited_login(&app, &ada.email, PASSWORD).await;
    app.stop().await;
}

/// Someone guessing from elsewhere cannot lock the owner out from their own address.
async fn guesses_from_elsewhere_do_not_lock_the_owner_out(backend: Backend) {
    let app = TestApp::spawn_with(backend, |c| c.login_max_failures = 3).await;
    let ada = app.register("ada").await;
    let stranger = reqwest::Client::builder()
        .local_address(std::net::IpAddr::from([127, 0, 0, 2]))
        .build()
        .expect("client");
    let stranger_guesses = || async {
        stranger
            .post(format!("{}/api/auth/login", app.base))
            .json(&json!({"email": ada.email, "password": "wrong password"}))
            .send()
            .await
            .expect("stranger's request")
            .status()
    };
    for _ in 0..3 {
        assert_eq!(stranger_guesses().await, StatusCode::UNAUTHORIZED);
    }
    assert_eq!(stranger_guesses().await, StatusCode::TOO_MANY_REQUESTS, "the stranger is stopped");
    let (status, body) = login(&app, &ada.email, PASSWORD).await;
    assert_eq!(status, StatusCode::OK, "the owner still signs in: {body}");
    app.stop().await;
}

/// Sign-ins turned away unchecked (`503`, the password queue full) are no failures: a flood of
/// them from one network does not lock that network's real users out.
async fn unchecked_sign_ins_do_not_count(backend: Backend) {
    // One network may fail 300 times. A flood of 260 at once overflows the password queue (32
    // a core); 50 more, checked one by one, would pass the limit if the refused ones counted.
    let app = TestApp::spawn_with(backend, |c| c.login_max_failures = 30).await;
    let ada = app.register("ada").await;
    let crowd = reqwest::Client::builder()
        .local_address(std::net::IpAddr::from([127, 0, 0, 3]))
        .build()
        .expect("client");
    let guess = |n: usize| {
        let crowd = crowd.clone();
        let url = format!("{}/api/auth/login", app.base);
        async move {
            let body = json!({"email": format!("nobody{n}@example.com"), "password": "wrong"});
            crowd.post(url).json(&body).send().await.expect("guess sent").status()
        }
    };
    let answers = futures::future::join_all((0..260).map(guess)).await;
    let busy = answers.iter().filter(|s| **s == StatusCode::SERVICE_UNAVAILABLE).count();
    let checked = answers.iter().filter(|s| **s == StatusCode::UNAUTHORIZED).count();
    assert_eq!(busy + checked, 260, "only 401s and 503s: {answers:?}");
    assert!(busy >= 10, "the flood overflowed the password queue: {answers:?}");
    for n in 260..310 {
        assert_eq!(guess(n).await, StatusCode::UNAUTHORIZED, "guess {n}");
    }
    let res = crowd
        .post(format!("{}/api/auth/login", app.base))
        .json(&json!({"email": ada.email, "password": PASSWORD}))
        .send()
        .await
        .expect("ada's sign-in");
    assert_eq!(res.status(), StatusCode::OK, "ada signs in from the flooded network");
    app.stop().await;
}

on_both_backends!(
    unchecked_sign_ins_do_not_count,
    login_returns_working_session,
    login_wrong_password_and_unknown_email_answer_alike,
    login_rate_limited_after_max_failures,
    login_failures_for_one_email_do_not_block_another,
    login_limit_holds_under_parallel_guesses,
    guesses_from_elsewhere_do_not_lock_the_owner_out
);
