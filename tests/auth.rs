//! Registration, sign-in, refresh-token rotation, sign-out, the signed-in user and personal
//! access tokens, over real HTTP on both backends.

mod common;

use std::time::Duration;

use common::{AUTH_REQUIRED, Backend, TestApp, TestUser, assert_error, assert_validation};
use reqwest::StatusCode;
use reqwest::header::{AUTHORIZATION, CONTENT_TYPE, RETRY_AFTER};
use serde_json::{Value, json};

const PASSWORD: &str = "correct horse battery";
const BAD_LOGIN: &str = "Invalid email or password";
const BAD_REFRESH: &str = "Invalid or expired refresh token";
const RATE_LIMITED: &str = "Too many requests. Try again later.";

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

/// Sends `body` as-is with the given content type, for bodies `TestApp::post` cannot express.
async fn post_raw(
    app: &TestApp,
    path: &str,
    content_type: &str,
    body: &str,
) -> (StatusCode, Value) {
    let res = app
        .client
        .post(format!("{}{path}", app.base))
        .header(CONTENT_TYPE, content_type)
        .body(body.to_owned())
        .send()
        .await
        .expect("request sent");
    let status = res.status();
    (status, res.json().await.expect("JSON error body"))
}

/// GET /api/users/me with a raw `Authorization` header value, or none.
async fn me_with_header(app: &TestApp, authorization: Option<&str>) -> (StatusCode, Value) {
    let mut req = app.client.get(format!("{}/api/users/me", app.base));
    if let Some(value) = authorization {
        req = req.header(AUTHORIZATION, value);
    }
    let res = req.send().await.expect("request sent");
    let status = res.status();
    (status, res.json().await.expect("JSON body"))
}

async fn login(app: &TestApp, email: &str, password: &str) -> (StatusCode, Value) {
    app.post("/api/auth/login", None, json!({"email": email, "password": password})).await
}

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

async fn refresh(app: &TestApp, refresh_token: &str) -> (StatusCode, Value) {
    app.post("/api/auth/refresh", None, json!({"refreshToken": refresh_token})).await
}

async fn me(app: &TestApp, token: &str) -> (StatusCode, Value) {
    app.get("/api/users/me", Some(token)).await
}

/// Asserts that `token` is a working bearer token for `user`.
async fn assert_token_works(app: &TestApp, token: &str, user: &TestUser) {
    let (status, body) = me(app, token).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["id"], json!(user.id));
}

/// Asserts that `token` is refused as a bearer token with the one 401 answer.
async fn assert_token_refused(app: &TestApp, token: &str) {
    let (status, body) = me(app, token).await;
    assert_error(status, &body, StatusCode::UNAUTHORIZED, AUTH_REQUIRED);
}

fn assert_timestamp(value: &Value) {
    let s = value.as_str().unwrap_or_else(|| panic!("timestamp is a string: {value}"));
    assert!(s.ends_with('Z'), "UTC with Z suffix: {s}");
    chrono::DateTime::parse_from_rfc3339(s).unwrap_or_else(|e| panic!("RFC 3339 {s}: {e}"));
}

/// Asserts `value` is an object with exactly these keys.
fn assert_keys(value: &Value, keys: &[&str]) {
    let mut actual: Vec<&str> =
        value.as_object().expect("an object").keys().map(String::as_str).collect();
    let mut expected = keys.to_vec();
    actual.sort_unstable();
    expected.sort_unstable();
    assert_eq!(actual, expected, "{value}");
}

fn assert_user(user: &Value, email: &str, name: &str) {
    assert_keys(user, &["id", "email", "name", "createdAt", "updatedAt"]);
    uuid::Uuid::parse_str(user["id"].as_str().expect("id string")).expect("id is a UUID");
    assert_eq!(user["email"], json!(email));
    assert_eq!(user["name"], json!(name));
    assert_timestamp(&user["createdAt"]);
    assert_timestamp(&user["updatedAt"]);
}

/// Asserts the body of a successful register, login or refresh.
fn assert_session(body: &Value, email: &str, name: &str) {
    assert_keys(body, &["user", "accessToken", "refreshToken", "tokenType", "expiresIn"]);
    assert_user(&body["user"], email, name);
    assert!(access_token(body).starts_with("rst_at_"), "{body}");
    assert!(refresh_token(body).starts_with("rst_rt_"), "{body}");
    assert_eq!(body["tokenType"], json!("Bearer"));
    assert_eq!(body["expiresIn"], json!(3600));
}

fn access_token(session: &Value) -> &str {
    session["accessToken"].as_str().expect("accessToken")
}

fn refresh_token(session: &Value) -> &str {
    session["refreshToken"].as_str().expect("refreshToken")
}

/// Creates a personal access token and returns the creation body.
async fn create_pat(app: &TestApp, user: &TestUser, name: &str) -> Value {
    let (status, body) =
        app.post("/api/users/me/tokens", Some(&user.token), json!({"name": name})).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    body
}

fn str_field<'a>(value: &'a Value, field: &str) -> &'a str {
    value[field].as_str().unwrap_or_else(|| panic!("{field} is a string: {value}"))
}

async fn list_pats(app: &TestApp, user: &TestUser, query: &str) -> (StatusCode, Value) {
    app.get(&format!("/api/users/me/tokens{query}"), Some(&user.token)).await
}

/// Names of one page of the user's tokens, and its next cursor.
async fn pat_page(app: &TestApp, user: &TestUser, query: &str) -> (Vec<String>, Option<String>) {
    let (status, body) = list_pats(app, user, query).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_keys(&body, &["data", "nextCursor"]);
    let names = body["data"]
        .as_array()
        .expect("data array")
        .iter()
        .map(|t| {
            assert_keys(t, &["id", "name", "createdAt", "expiresAt", "lastUsedAt"]);
            str_field(t, "name").to_owned()
        })
        .collect();
    (names, body["nextCursor"].as_str().map(str::to_owned))
}

async fn delete_pat(app: &TestApp, user: &TestUser, id: &str) -> (StatusCode, Value) {
    app.delete(&format!("/api/users/me/tokens/{id}"), Some(&user.token)).await
}

// ---------------------------------------------------------------------------------------------
// POST /api/auth/register
// ---------------------------------------------------------------------------------------------

async fn register_returns_user_and_token_pair(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (status, body) = app
        .post(
            "/api/auth/register",
            None,
            json!({"email": "ada@example.com", "password": PASSWORD, "name": "Ada Lovelace"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_session(&body, "ada@example.com", "Ada Lovelace");
    assert_eq!(body["user"]["createdAt"], body["user"]["updatedAt"]);
    let (status, me_body) = me(&app, access_token(&body)).await;
    assert_eq!(status, StatusCode::OK, "{me_body}");
    assert_eq!(me_body, body["user"]);
    app.stop().await;
}

async fn register_rejects_email_taken_in_other_case(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.register("ada").await;
    let (status, body) = app
        .post(
            "/api/auth/register",
            None,
            json!({"email": "ADA@Example.COM", "password": PASSWORD, "name": "Other Ada"}),
        )
        .await;
    assert_error(status, &body, StatusCode::CONFLICT, "Email already registered");
    app.stop().await;
}

async fn register_reports_every_violation_at_once(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (status, body) = app
        .post(
            "/api/auth/register",
            None,
            json!({"email": "not-an-email", "password": "short", "foo": 1}),
        )
        .await;
    assert_validation(
        status,
        &body,
        &[
            "property foo should not exist",
            "email must be an email",
            "password must be longer than or equal to 8 characters",
            "name should not be empty",
            "name must be a string",
        ],
    );
    app.stop().await;
}

async fn register_rejects_broken_json(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (status, body) =
        post_raw(&app, "/api/auth/register", "application/json", r#"{"email": "a@b.co","#).await;
    assert_error(status, &body, StatusCode::BAD_REQUEST, "Request body must be valid JSON");
    app.stop().await;
}

async fn register_rejects_non_json_content_type(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let body = json!({"email": "ada@example.com", "password": PASSWORD, "name": "Ada"});
    let (status, body) =
        post_raw(&app, "/api/auth/register", "text/plain", &body.to_string()).await;
    assert_error(
        status,
        &body,
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "Content-Type must be application/json",
    );
    app.stop().await;
}

async fn register_refused_when_signup_disabled(backend: Backend) {
    let app = TestApp::spawn_with(backend, |c| c.allow_signup = false).await;
    let (status, body) = app
        .post(
            "/api/auth/register",
            None,
            json!({"email": "ada@example.com", "password": PASSWORD, "name": "Ada"}),
        )
        .await;
    assert_error(status, &body, StatusCode::FORBIDDEN, "Sign-up is disabled");
    let (status, body) = login(&app, "ada@example.com", PASSWORD).await;
    assert_error(status, &body, StatusCode::UNAUTHORIZED, BAD_LOGIN);
    app.stop().await;
}

// ---------------------------------------------------------------------------------------------
// POST /api/auth/login
// ---------------------------------------------------------------------------------------------

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

// ---------------------------------------------------------------------------------------------
// POST /api/auth/refresh
// ---------------------------------------------------------------------------------------------

async fn refresh_rotates_the_pair(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let ada = app.register("ada").await;
    let (status, first) = refresh(&app, &ada.refresh).await;
    assert_eq!(status, StatusCode::OK, "{first}");
    assert_session(&first, &ada.email, "ada");
    assert_ne!(access_token(&first), ada.token);
    assert_ne!(refresh_token(&first), ada.refresh);
    assert_token_works(&app, access_token(&first), &ada).await;

    let (status, second) = refresh(&app, refresh_token(&first)).await;
    assert_eq!(status, StatusCode::OK, "{second}");
    assert_ne!(refresh_token(&second), refresh_token(&first));
    assert_token_works(&app, access_token(&second), &ada).await;
    app.stop().await;
}

async fn refresh_reuse_revokes_the_family(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let ada = app.register("ada").await;
    let (status, rotated) = refresh(&app, &ada.refresh).await;
    assert_eq!(status, StatusCode::OK, "{rotated}");

    let (status, body) = refresh(&app, &ada.refresh).await;
    assert_error(status, &body, StatusCode::UNAUTHORIZED, BAD_REFRESH);

    assert_token_refused(&app, access_token(&rotated)).await;
    assert_token_refused(&app, &ada.token).await;
    let (status, body) = refresh(&app, refresh_token(&rotated)).await;
    assert_error(status, &body, StatusCode::UNAUTHORIZED, BAD_REFRESH);
    app.stop().await;
}

/// Concurrent uses of one refresh token: at most one rotates, the rest are refused as reuse,
/// and none fails on the server (their revocations of the family take turns).
async fn parallel_refreshes_rotate_once(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let ada = app.register("ada").await;
    let answers = futures::future::join_all((0..8).map(|_| refresh(&app, &ada.refresh))).await;
    let statuses: Vec<StatusCode> = answers.iter().map(|(status, _)| *status).collect();
    assert!(
        statuses.iter().all(|s| *s == StatusCode::OK || *s == StatusCode::UNAUTHORIZED),
        "{statuses:?}"
    );
    assert!(statuses.iter().filter(|s| **s == StatusCode::OK).count() <= 1, "{statuses:?}");
    // Reuse happened, so the family is gone, including any pair the winner got.
    for (status, body) in &answers {
        if *status == StatusCode::OK {
            let token = body["accessToken"].as_str().expect("access token");
            let (status, _) = app.get("/api/users/me", Some(token)).await;
            assert_eq!(status, StatusCode::UNAUTHORIZED);
        }
    }
    app.stop().await;
}

async fn refresh_reuse_leaves_other_sessions_alone(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let ada = app.register("ada").await;
    let (status, other) = login(&app, &ada.email, PASSWORD).await;
    assert_eq!(status, StatusCode::OK, "{other}");
    assert_eq!(refresh(&app, &ada.refresh).await.0, StatusCode::OK);
    assert_eq!(refresh(&app, &ada.refresh).await.0, StatusCode::UNAUTHORIZED);
    assert_token_works(&app, access_token(&other), &ada).await;
    app.stop().await;
}

async fn refresh_rejects_garbage_and_access_tokens(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let ada = app.register("ada").await;
    for bad in ["rst_rt_garbage", "nonsense", ada.token.as_str()] {
        let (status, body) = refresh(&app, bad).await;
        assert_error(status, &body, StatusCode::UNAUTHORIZED, BAD_REFRESH);
    }
    app.stop().await;
}

async fn refresh_requires_the_field(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (status, body) = app.post("/api/auth/refresh", None, json!({})).await;
    assert_validation(status, &body, &["refreshToken must be a string"]);
    let (status, body) = app.post("/api/auth/refresh", None, json!({"refreshToken": 5})).await;
    assert_validation(status, &body, &["refreshToken must be a string"]);
    app.stop().await;
}

// ---------------------------------------------------------------------------------------------
// POST /api/auth/logout
// ---------------------------------------------------------------------------------------------

async fn logout_revokes_access_and_refresh_tokens(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let ada = app.register("ada").await;
    let (status, body) = app.post("/api/auth/logout", Some(&ada.token), json!({})).await;
    assert_eq!((status, body), (StatusCode::NO_CONTENT, Value::Null));
    assert_token_refused(&app, &ada.token).await;
    let (status, body) = refresh(&app, &ada.refresh).await;
    assert_error(status, &body, StatusCode::UNAUTHORIZED, BAD_REFRESH);
    app.stop().await;
}

async fn logout_requires_a_token(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (status, body) = app.post("/api/auth/logout", None, json!({})).await;
    assert_error(status, &body, StatusCode::UNAUTHORIZED, AUTH_REQUIRED);
    app.stop().await;
}

// ---------------------------------------------------------------------------------------------
// GET /api/users/me
// ---------------------------------------------------------------------------------------------

async fn me_returns_the_user(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let ada = app.register("ada").await;
    let (status, body) = me(&app, &ada.token).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_user(&body, &ada.email, "ada");
    assert_eq!(body["id"], json!(ada.id));
    // The scheme is case-insensitive.
    let (status, lower) = me_with_header(&app, Some(&format!("bearer {}", ada.token))).await;
    assert_eq!((status, lower), (StatusCode::OK, body));
    app.stop().await;
}

async fn me_refuses_missing_or_malformed_credentials(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let ada = app.register("ada").await;
    let unknown = format!("Bearer rst_at_{}", "A".repeat(43));
    let too_long = format!("Bearer rst_at_{}", "A".repeat(200));
    let cases: [Option<&str>; 6] =
        [None, Some("Bearer"), Some("Bearer "), Some("Basic xyz"), Some(&unknown), Some(&too_long)];
    for authorization in cases {
        let (status, body) = me_with_header(&app, authorization).await;
        assert_error(status, &body, StatusCode::UNAUTHORIZED, AUTH_REQUIRED);
    }
    // A refresh token is not a bearer token.
    assert_token_refused(&app, &ada.refresh).await;
    app.stop().await;
}

async fn me_refuses_an_expired_token(backend: Backend) {
    let app = TestApp::spawn_with(backend, |c| c.access_token_ttl = Duration::from_millis(1)).await;
    let ada = app.register("ada").await;
    tokio::time::sleep(Duration::from_millis(20)).await;
    assert_token_refused(&app, &ada.token).await;
    app.stop().await;
}

// ---------------------------------------------------------------------------------------------
// Personal access tokens
// ---------------------------------------------------------------------------------------------

async fn pat_is_created_and_works_as_bearer(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let ada = app.register("ada").await;
    let (status, body) = app
        .post(
            "/api/users/me/tokens",
            Some(&ada.token),
            json!({"name": "CI deploys", "expiresInDays": 30}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_keys(&body, &["id", "name", "createdAt", "expiresAt", "lastUsedAt", "token"]);
    assert_eq!(body["name"], json!("CI deploys"));
    assert_eq!(body["lastUsedAt"], Value::Null);
    assert_timestamp(&body["createdAt"]);
    assert_timestamp(&body["expiresAt"]);
    let token = str_field(&body, "token");
    assert!(token.starts_with("rst_pat_"), "{body}");
    assert_token_works(&app, token, &ada).await;
    let (status, listed) = list_pats(&app, &ada, "").await;
    assert_eq!(status, StatusCode::OK, "{listed}");
    assert_timestamp(&listed["data"][0]["lastUsedAt"]);

    let forever = create_pat(&app, &ada, "forever").await;
    assert_eq!(forever["expiresAt"], Value::Null);
    app.stop().await;
}

async fn pat_list_is_newest_first_paginated_and_hides_tokens(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let ada = app.register("ada").await;
    let bob = app.register("bob").await;
    for name in ["first", "second", "third"] {
        create_pat(&app, &ada, name).await;
    }
    create_pat(&app, &bob, "bob's").await;

    let (names, cursor) = pat_page(&app, &ada, "").await;
    assert_eq!((names, cursor), (vec!["third".into(), "second".into(), "first".into()], None));

    let mut seen = Vec::new();
    let mut query = "?limit=1".to_owned();
    loop {
        let (names, cursor) = pat_page(&app, &ada, &query).await;
        assert_eq!(names.len(), 1, "{names:?}");
        seen.extend(names);
        match cursor {
            Some(c) => query = format!("?limit=1&cursor={c}"),
            None => break,
        }
    }
    assert_eq!(seen, ["third", "second", "first"]);
    app.stop().await;
}

async fn pat_list_rejects_bad_limits_and_cursors(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let ada = app.register("ada").await;
    let cases = [
        ("?limit=0", "limit must not be less than 1"),
        ("?limit=101", "limit must not be greater than 100"),
        ("?limit=abc", "limit must be an integer number"),
        ("?cursor=!!!", "cursor must be a cursor returned by a previous page"),
        // Valid base64url, but not of a UUID.
        ("?cursor=bm90LWEtdXVpZA", "cursor must be a cursor returned by a previous page"),
    ];
    for (query, message) in cases {
        let (status, body) = list_pats(&app, &ada, query).await;
        assert_validation(status, &body, &[message]);
    }
    app.stop().await;
}

async fn pat_delete_revokes_it(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let ada = app.register("ada").await;
    let created = create_pat(&app, &ada, "script").await;
    let id = str_field(&created, "id");
    let (status, body) = delete_pat(&app, &ada, id).await;
    assert_eq!((status, body), (StatusCode::NO_CONTENT, Value::Null));
    assert_token_refused(&app, str_field(&created, "token")).await;
    assert_eq!(pat_page(&app, &ada, "").await, (vec![], None));

    let (status, body) = delete_pat(&app, &ada, id).await;
    assert_error(status, &body, StatusCode::NOT_FOUND, "Token not found");
    app.stop().await;
}

async fn pat_delete_of_another_users_token_is_not_found(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let ada = app.register("ada").await;
    let bob = app.register("bob").await;
    let created = create_pat(&app, &ada, "ada's").await;
    let (status, body) = delete_pat(&app, &bob, str_field(&created, "id")).await;
    assert_error(status, &body, StatusCode::NOT_FOUND, "Token not found");
    assert_token_works(&app, str_field(&created, "token"), &ada).await;
    app.stop().await;
}

async fn pat_delete_rejects_non_uuid_id(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let ada = app.register("ada").await;
    let (status, body) = delete_pat(&app, &ada, "not-a-uuid").await;
    assert_error(status, &body, StatusCode::BAD_REQUEST, "Validation failed (uuid is expected)");
    app.stop().await;
}

async fn pat_create_validates_input(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let ada = app.register("ada").await;
    let cases = [
        (json!({"name": "ci", "expiresInDays": 0}), vec!["expiresInDays must not be less than 1"]),
        (
            json!({"name": "ci", "expiresInDays": 3651}),
            vec!["expiresInDays must not be greater than 3650"],
        ),
        (
            json!({"expiresInDays": "soon"}),
            vec![
                "name should not be empty",
                "name must be a string",
                "expiresInDays must be an integer number",
            ],
        ),
    ];
    for (request, messages) in cases {
        let (status, body) = app.post("/api/users/me/tokens", Some(&ada.token), request).await;
        assert_validation(status, &body, &messages);
    }
    app.stop().await;
}

async fn pat_routes_require_authentication(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (status, body) = app.post("/api/users/me/tokens", None, json!({"name": "ci"})).await;
    assert_error(status, &body, StatusCode::UNAUTHORIZED, AUTH_REQUIRED);
    let (status, body) = app.get("/api/users/me/tokens", None).await;
    assert_error(status, &body, StatusCode::UNAUTHORIZED, AUTH_REQUIRED);
    app.stop().await;
}

on_both_backends!(
    login_limit_holds_under_parallel_guesses,
    guesses_from_elsewhere_do_not_lock_the_owner_out,
    register_returns_user_and_token_pair,
    register_rejects_email_taken_in_other_case,
    register_reports_every_violation_at_once,
    register_rejects_broken_json,
    register_rejects_non_json_content_type,
    register_refused_when_signup_disabled,
    login_returns_working_session,
    login_wrong_password_and_unknown_email_answer_alike,
    login_rate_limited_after_max_failures,
    login_failures_for_one_email_do_not_block_another,
    refresh_rotates_the_pair,
    refresh_reuse_revokes_the_family,
    refresh_reuse_leaves_other_sessions_alone,
    parallel_refreshes_rotate_once,
    refresh_rejects_garbage_and_access_tokens,
    refresh_requires_the_field,
    logout_revokes_access_and_refresh_tokens,
    logout_requires_a_token,
    me_returns_the_user,
    me_refuses_missing_or_malformed_credentials,
    me_refuses_an_expired_token,
    pat_is_created_and_works_as_bearer,
    pat_list_is_newest_first_paginated_and_hides_tokens,
    pat_list_rejects_bad_limits_and_cursors,
    pat_delete_revokes_it,
    pat_delete_of_another_users_token_is_not_found,
    pat_delete_rejects_non_uuid_id,
    pat_create_validates_input,
    pat_routes_require_authentication,
);
