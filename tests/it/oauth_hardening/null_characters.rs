//! A NUL in an OAuth parameter or credential is refused at the edge with a 4xx on both
//! backends: PostgreSQL's text cannot hold it, so it must never reach the database.

use reqwest::StatusCode;
use reqwest::header::{CONTENT_TYPE, COOKIE};
use serde_json::{Value, json};

use crate::common::oauth::{authorize_url, browser, pkce};
use crate::common::{Backend, TestApp};

const NUL_ID: &str = "rst_ci_\u{0}x";

fn assert_oauth_error(status: StatusCode, body: &Value, expected: (StatusCode, &str), what: &str) {
    assert_eq!((status, &body["error"]), (expected.0, &json!(expected.1)), "{what}: {body}");
}

async fn nul_in_client_credentials_is_refused(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let f = app.org_with_roles().await;
    let oauth = app.create_oauth_app(&f.org, &f.owner, &["members:read"]).await;
    for path in ["/api/oauth/token", "/api/oauth/introspect", "/api/oauth/revoke"] {
        // client_secret_post with a NUL in client_id.
        let form = [
            ("grant_type", "client_credentials"),
            ("token", "rst_oat_x"),
            ("client_id", NUL_ID),
            ("client_secret", "rst_cs_x"),
        ];
        let (status, _, body) = app.oauth_form(path, None, &form).await;
        let expected = (StatusCode::BAD_REQUEST, "invalid_request");
        assert_oauth_error(status, &body, expected, &format!("{path} posted"));
        assert_eq!(body["error_description"], json!("client_id must not contain null characters"));
        // client_secret_basic with a NUL in the user part.
        let form = [("grant_type", "client_credentials"), ("token", "rst_oat_x")];
        let (status, headers, body) = app.oauth_form(path, Some((NUL_ID, "s")), &form).await;
        let expected = (StatusCode::UNAUTHORIZED, "invalid_client");
        assert_oauth_error(status, &body, expected, &format!("{path} Basic"));
        assert!(headers.contains_key("www-authenticate"), "{path}: a Basic challenge");
        // A NUL in any other parameter, from a real client.
        let form = [("grant_type", "client_credentials"), ("token", "rst_oat_\u{0}")];
        let creds = Some((oauth.client_id.as_str(), oauth.client_secret.as_str()));
        let (status, _, body) = app.oauth_form(path, creds, &form).await;
        let expected = (StatusCode::BAD_REQUEST, "invalid_request");
        assert_oauth_error(status, &body, expected, &format!("{path} token"));
    }
    // The app still gets tokens.
    app.client_credentials_token(&oauth, None).await;
    app.stop().await;
}

async fn nul_in_authorization_requests_is_refused(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let f = app.org_with_roles().await;
    let oauth = app.create_oauth_app(&f.org, &f.owner, &["members:read"]).await;
    let (_, challenge) = pkce();
    let params = [
        ("response_type", "code"),
        ("client_id", NUL_ID),
        ("redirect_uri", oauth.redirect_uri.as_str()),
        ("code_challenge", challenge.as_str()),
        ("code_challenge_method", "S256"),
    ];
    let http = browser();

    // The page: a problem page, never a redirect.
    let res = http.get(authorize_url(&app, &params)).send().await.expect("page answered");
    let status = res.status();
    let page = res.text().await.expect("page");
    assert_eq!(status, StatusCode::BAD_REQUEST, "{page}");
    assert!(page.contains("client_id must not contain null characters"), "{page}");

    // The page's form, with a matching CSRF cookie.
    let mut form = params.to_vec();
    form.extend([("csrf_token", "t"), ("decision", "approve")]);
    form.extend([("email", f.member.email.as_str()), ("password", crate::common::PASSWORD)]);
    let res = http
        .post(format!("{}/api/oauth/authorize/consent", app.base))
        .header(COOKIE, "roster_oauth_csrf=t")
        .form(&form)
        .send()
        .await
        .expect("consent answered");
    let status = res.status();
    let is_html =
        res.headers().get(CONTENT_TYPE).is_some_and(|v| v.as_bytes().starts_with(b"text/html"));
    let page = res.text().await.expect("page");
    assert_eq!(status, StatusCode::BAD_REQUEST, "{page}");
    assert!(is_html && page.contains("client_id must not contain null characters"), "{page}");

    // The JSON variant, with the user's own token.
    let body: serde_json::Map<String, Value> =
        params.iter().map(|(k, v)| (k.to_string(), json!(v))).collect();
    let (status, body) =
        app.post("/api/oauth/authorize", Some(&f.member.token), Value::Object(body)).await;
    assert_oauth_error(status, &body, (StatusCode::BAD_REQUEST, "invalid_request"), "JSON");
    assert_eq!(body["error_description"], json!("client_id must not contain null characters"));

    // The real client still authorizes.
    app.authorize_code(&oauth, &f.member, None).await;
    app.stop().await;
}

on_both_backends!(nul_in_client_credentials_is_refused, nul_in_authorization_requests_is_refused);
