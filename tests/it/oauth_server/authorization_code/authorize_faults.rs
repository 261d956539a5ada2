//! Faults of the authorization request: an error page, or a redirect back with `state`.

use oauth2::PkceCodeChallenge;
use oauth2::url::Url;
use reqwest::StatusCode;
use serde_json::json;

use super::{assert_consent_page, code_from_redirect, consent_fields, submit};
use crate::common::oauth::{TestOAuthApp, authorize_url, browser, creds, query};
use crate::common::{Backend, PASSWORD, TestApp};
use crate::oauth_server::pages::{Page, assert_html_page, fetch};
use crate::oauth_server::{
    assert_redirects_to, code_params, exchange, grant_of, scope_set, set_of, token_error,
};

/// A redirect back to the app carrying `error` (with a description) and `state`, and no code.
fn assert_error_redirect(page: &Page, redirect_uri: &str, error: &str, state: &str) {
    assert!(
        page.status == StatusCode::FOUND || page.status == StatusCode::SEE_OTHER,
        "expected a redirect carrying {error}, got {}: {}",
        page.status,
        page.body
    );
    let location = page.location().expect("Location");
    assert_redirects_to(&location, redirect_uri);
    assert_eq!(query(&location, "error").as_deref(), Some(error), "{location}");
    assert!(query(&location, "error_description").is_some(), "error_description in {location}");
    assert_eq!(query(&location, "state").as_deref(), Some(state), "{location}");
    assert!(query(&location, "code").is_none(), "no code with an error: {location}");
}

/// RFC 6749 §4.1.2.1: a client or redirect URI that cannot be trusted gets a page, never a
/// redirect.
async fn authorize_bad_client_or_redirect_uri_gets_error_page(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let f = app.org_with_roles().await;
    let oauth_app = app.create_oauth_app(&f.org, &f.owner, &["members:read"]).await;
    let two = app
        .create_oauth_app_with(
            &f.org,
            &f.owner,
            "Two URIs",
            &["http://127.0.0.1:9/callback", "http://127.0.0.1:9/other"],
            &["members:read"],
        )
        .await;
    let http = browser();
    let (challenge, _verifier) = PkceCodeChallenge::new_random_sha256();
    let challenge = challenge.as_str();

    let unknown = TestOAuthApp { client_id: "rst_ci_unknown".to_owned(), ..oauth_app.clone() };
    let page =
        fetch(&http, &authorize_url(&app, &code_params(&unknown, "members:read", "s", challenge)))
            .await;
    assert_html_page(&page, StatusCode::BAD_REQUEST);

    let mut params = code_params(&oauth_app, "members:read", "s", challenge);
    params.retain(|(k, _)| *k != "client_id");
    assert_html_page(&fetch(&http, &authorize_url(&app, &params)).await, StatusCode::BAD_REQUEST);

    for wrong in [
        "http://127.0.0.1:9/other",
        "http://127.0.0.1:9/callback/",
        "http://127.0.0.1:9/callback?x=1",
        "http://localhost:9/callback",
        "https://evil.example/callback",
    ] {
        let moved = TestOAuthApp { redirect_uri: wrong.to_owned(), ..oauth_app.clone() };
        let page = fetch(
            &http,
            &authorize_url(&app, &code_params(&moved, "members:read", "s", challenge)),
        )
        .await;
        assert_html_page(&page, StatusCode::BAD_REQUEST);
    }

    // With two registered URIs, none can be assumed.
    let mut params = code_params(&two, "members:read", "s", challenge);
    params.retain(|(k, _)| *k != "redirect_uri");
    assert_html_page(&fetch(&http, &authorize_url(&app, &params)).await, StatusCode::BAD_REQUEST);
    app.stop().await;
}

/// Every other fault goes back to the app with `error`, `error_description` and `state`.
async fn authorize_faults_redirect_back_with_state(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let f = app.org_with_roles().await;
    let oauth_app =
        app.create_oauth_app(&f.org, &f.owner, &["members:read", "organization:read"]).await;
    let http = browser();
    let (challenge, _verifier) = PkceCodeChallenge::new_random_sha256();
    let challenge = challenge.as_str();
    let redirect = oauth_app.redirect_uri.as_str();

    let with = |key: &'static str, value: Option<&'static str>, state: &'static str| {
        let mut params = code_params(&oauth_app, "members:read", state, challenge);
        params.retain(|(k, _)| *k != key);
        if let Some(value) = value {
            params.push((key, value));
        }
        authorize_url(&app, &params)
    };

    let cases = [
        (with("response_type", Some("token"), "s1"), "unsupported_response_type", "s1"),
        (with("response_type", None, "s2"), "invalid_request", "s2"),
        (with("code_challenge", None, "s3"), "invalid_request", "s3"),
        (with("code_challenge_method", Some("plain"), "s4"), "invalid_request", "s4"),
        (with("code_challenge_method", None, "s5"), "invalid_request", "s5"),
        (with("scope", Some("members:read members:write"), "s6"), "invalid_scope", "s6"),
        (with("scope", Some("webhooks:read"), "s7"), "invalid_scope", "s7"),
        (with("scope", Some("nonsense"), "s8"), "invalid_scope", "s8"),
    ];
    for (url, error, state) in cases {
        let page = fetch(&http, &url).await;
        assert_error_redirect(&page, redirect, error, state);
    }

    // Without PKCE there is no code, even with both parameters gone.
    let mut params = code_params(&oauth_app, "members:read", "s9", challenge);
    params.retain(|(k, _)| !k.starts_with("code_challenge"));
    let page = fetch(&http, &authorize_url(&app, &params)).await;
    assert_error_redirect(&page, redirect, "invalid_request", "s9");
    app.stop().await;
}

/// `redirect_uri` is required even when the app has only one (no redirect without it);
/// `scope` left out means all of the app's scopes.
async fn authorize_requires_redirect_uri_and_defaults_to_all_scopes(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let f = app.org_with_roles().await;
    let oauth_app = app.create_oauth_app(&f.org, &f.owner, &["members:read", "invites:read"]).await;
    let http = browser();
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let mut params = vec![
        ("response_type", "code"),
        ("client_id", oauth_app.client_id.as_str()),
        ("state", "defaults"),
        ("code_challenge", challenge.as_str()),
        ("code_challenge_method", "S256"),
    ];
    let page = fetch(&http, &authorize_url(&app, &params)).await;
    assert_html_page(&page, StatusCode::BAD_REQUEST);
    assert!(page.body.contains("redirect_uri is required"), "{}", page.body);

    params.push(("redirect_uri", oauth_app.redirect_uri.as_str()));
    let page = fetch(&http, &authorize_url(&app, &params)).await;
    assert_consent_page(&app, &page);
    assert!(page.body.contains("members:read") && page.body.contains("invites:read"));
    let cookie = page.cookie_header().expect("CSRF cookie");
    let fields = consent_fields(&page, &f.admin.email, PASSWORD, "approve");
    let answer = submit(&app, &http, &page, &fields, Some(&cookie)).await;
    let code = code_from_redirect(&answer, &oauth_app.redirect_uri, "defaults");

    // The token endpoint needs the same redirect_uri; a request without it spends nothing.
    let without = [
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("code_verifier", verifier.secret().as_str()),
    ];
    token_error(&app, creds(&oauth_app), &without, StatusCode::BAD_REQUEST, "invalid_request")
        .await;
    let grant = grant_of(&exchange(&app, &oauth_app, &code, verifier.secret()).await);
    assert_eq!(scope_set(&grant.scope), set_of(["members:read", "invites:read"]));
    let (status, body) =
        app.get(&format!("/api/organizations/{}/invites", f.org), Some(&grant.access)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    app.stop().await;
}

/// The JSON shortcut has the same rules: `redirect_uri` required, all the app's scopes by
/// default.
async fn json_authorize_requires_redirect_uri_and_defaults_scopes(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let f = app.org_with_roles().await;
    let oauth_app = app.create_oauth_app(&f.org, &f.owner, &["members:read", "invites:read"]).await;
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let mut request = json!({
        "response_type": "code",
        "client_id": oauth_app.client_id,
        "state": "defaults",
        "code_challenge": challenge.as_str(),
        "code_challenge_method": "S256",
    });
    let (status, body) =
        app.post("/api/oauth/authorize", Some(&f.admin.token), request.clone()).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(body["error"], json!("invalid_request"), "{body}");

    request["redirect_uri"] = json!(oauth_app.redirect_uri);
    let (status, body) = app.post("/api/oauth/authorize", Some(&f.admin.token), request).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let to = Url::parse(body["redirect_to"].as_str().expect("redirect_to")).expect("absolute");
    assert_redirects_to(&to, &oauth_app.redirect_uri);
    assert_eq!(query(&to, "state").as_deref(), Some("defaults"));
    let code = query(&to, "code").expect("code");
    let body = exchange(&app, &oauth_app, &code, verifier.secret()).await;
    assert_eq!(
        scope_set(body["scope"].as_str().expect("scope")),
        set_of(["members:read", "invites:read"])
    );
    app.stop().await;
}

on_both_backends!(
    authorize_bad_client_or_redirect_uri_gets_error_page,
    authorize_faults_redirect_back_with_state,
    authorize_requires_redirect_uri_and_defaults_to_all_scopes,
    json_authorize_requires_redirect_uri_and_defaults_scopes
);
