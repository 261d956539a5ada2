//! An overlong `state` is not echoed; oversized OAuth form bodies are refused in RFC 6749's shape.

use reqwest::StatusCode;
use reqwest::header::{CONTENT_TYPE, LOCATION};
use serde_json::{Value, json};

use crate::common::oauth::{authorize_url, browser, header, pkce, query};
use crate::common::{Backend, TestApp};

async fn overlong_state_is_not_echoed(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let f = app.org_with_roles().await;
    let oauth = app.create_oauth_app(&f.org, &f.owner, &["members:read"]).await;
    let http = browser();
    let (_verifier, challenge) = pkce();

    let params = |state: &str, response_type: &str| -> String {
        authorize_url(
            &app,
            &[
                ("response_type", response_type),
                ("client_id", &oauth.client_id),
                ("redirect_uri", &oauth.redirect_uri),
                ("scope", "members:read"),
                ("state", state),
                ("code_challenge", &challenge),
                ("code_challenge_method", "S256"),
            ],
        )
    };

    for len in [2000, 1025] {
        let state: String = "S".repeat(len);
        let res = http.get(params(&state, "code")).send().await.expect("authorize answered");
        let status = res.status();
        let location = header(res.headers(), LOCATION);
        let body = res.text().await.expect("body");
        assert_eq!(status, StatusCode::FOUND, "state of {len}: {body}");
        let location = location.expect("Location");
        assert!(!location.contains(&state), "state of {len} echoed: {location}");
        let url = url::Url::parse(&location).expect("absolute Location");
        let mut bare = url.clone();
        bare.set_query(None);
        assert_eq!(bare.as_str(), oauth.redirect_uri, "redirect target of {location}");
        assert_eq!(query(&url, "error").as_deref(), Some("invalid_request"), "{location}");
        assert!(query(&url, "state").is_none(), "no state parameter: {location}");
        assert!(query(&url, "code").is_none(), "no code: {location}");
    }

    // At the limit it is still carried back unchanged (here with an error of another kind).
    let state: String = "s".repeat(1024);
    let res = http.get(params(&state, "token")).send().await.expect("authorize answered");
    assert_eq!(res.status(), StatusCode::FOUND);
    let location = header(res.headers(), LOCATION).expect("Location");
    let url = url::Url::parse(&location).expect("absolute Location");
    assert_eq!(query(&url, "error").as_deref(), Some("unsupported_response_type"), "{location}");
    assert_eq!(query(&url, "state").as_deref(), Some(state.as_str()), "state of 1024 echoed");
    app.stop().await;
}

async fn oversized_oauth_form_is_413(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let f = app.org_with_roles().await;
    let oauth = app.create_oauth_app(&f.org, &f.owner, &["members:read"]).await;
    let body = format!("grant_type=client_credentials&padding={}", "a".repeat(1024 * 1024 + 512));
    for client in [Some((&oauth.client_id, &oauth.client_secret)), None] {
        let mut req = app
            .client
            .post(format!("{}/api/oauth/token", app.base))
            .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(body.clone());
        if let Some((id, secret)) = client {
            req = req.basic_auth(id, Some(secret));
        }
        let res = req.send().await.expect("an answer to an oversized form");
        let status = res.status();
        let text = res.text().await.expect("body");
        assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{text}");
        let json: Value = serde_json::from_str(&text)
            .unwrap_or_else(|e| panic!("RFC 6749 JSON error body ({e}): {text}"));
        assert_eq!(json["error"], json!("invalid_request"), "{json}");
        assert!(json["error_description"].is_string(), "error_description: {json}");
    }
    // The endpoint still works afterwards.
    app.client_credentials_token(&oauth, None).await;
    app.stop().await;
}

on_both_backends!(overlong_state_is_not_echoed, oversized_oauth_form_is_413);
