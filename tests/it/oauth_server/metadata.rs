//! The server metadata (RFC 8414).

use std::collections::BTreeSet;

use reqwest::StatusCode;
use reqwest::header::{CONTENT_TYPE, HOST};
use serde_json::{Value, json};

use super::{introspect, set_of};
use crate::common::oauth::{ALL_SCOPES, header};
use crate::common::{Backend, TestApp};

fn assert_metadata(body: &Value, issuer: &str) {
    assert_eq!(body["issuer"], json!(issuer), "{body}");
    assert_eq!(body["authorization_endpoint"], json!(format!("{issuer}/api/oauth/authorize")));
    assert_eq!(body["token_endpoint"], json!(format!("{issuer}/api/oauth/token")));
    assert_eq!(body["revocation_endpoint"], json!(format!("{issuer}/api/oauth/revoke")));
    assert_eq!(body["introspection_endpoint"], json!(format!("{issuer}/api/oauth/introspect")));
    assert_eq!(body["response_types_supported"], json!(["code"]), "{body}");
    assert_eq!(body["code_challenge_methods_supported"], json!(["S256"]), "{body}");
    let strings = |key: &str| -> BTreeSet<String> {
        body[key]
            .as_array()
            .unwrap_or_else(|| panic!("{key} is an array: {body}"))
            .iter()
            .map(|v| v.as_str().expect("string").to_owned())
            .collect()
    };
    let grants = strings("grant_types_supported");
    for grant in ["authorization_code", "client_credentials", "refresh_token"] {
        assert!(grants.contains(grant), "{grant} in {grants:?}");
    }
    let methods = strings("token_endpoint_auth_methods_supported");
    for method in ["client_secret_basic", "client_secret_post"] {
        assert!(methods.contains(method), "{method} in {methods:?}");
    }
    assert_eq!(strings("scopes_supported"), set_of(ALL_SCOPES));
}

async fn metadata_derives_issuer_from_host(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let res = app
        .client
        .get(format!("{}/.well-known/oauth-authorization-server", app.base))
        .send()
        .await
        .expect("answered");
    assert_eq!(res.status(), StatusCode::OK);
    let content_type = header(res.headers(), CONTENT_TYPE).unwrap_or_default();
    assert!(content_type.starts_with("application/json"), "Content-Type {content_type}");
    let body: Value = res.json().await.expect("JSON");
    assert_metadata(&body, &app.base);

    let res = app
        .client
        .get(format!("{}/.well-known/oauth-authorization-server", app.base))
        .header(HOST, "roster.test:8080")
        .send()
        .await
        .expect("answered");
    assert_eq!(res.status(), StatusCode::OK);
    let body: Value = res.json().await.expect("JSON");
    assert_metadata(&body, "http://roster.test:8080");
    app.stop().await;
}

async fn metadata_uses_configured_public_url(backend: Backend) {
    let issuer = "https://roster.example.com";
    let app = TestApp::spawn_with(backend, |c| c.public_url = Some(issuer.to_owned())).await;
    let (status, body) = app.get("/.well-known/oauth-authorization-server", None).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_metadata(&body, issuer);

    // Introspection names the same issuer.
    let f = app.org_with_roles().await;
    let oauth_app = app.create_oauth_app(&f.org, &f.owner, &["members:read"]).await;
    let token = app.client_credentials_token(&oauth_app, None).await;
    let info = introspect(&app, &oauth_app, &token).await;
    assert_eq!(info["iss"], json!(issuer), "{info}");
    app.stop().await;
}

on_both_backends!(metadata_derives_issuer_from_host, metadata_uses_configured_public_url);
