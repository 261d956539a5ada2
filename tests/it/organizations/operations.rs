//! The operations endpoints.

use std::collections::BTreeSet;

use reqwest::{Method, StatusCode};
use serde_json::json;

use super::{org_path, raw, unknown_id};
use crate::common::{Backend, TestApp};

async fn operations_endpoints(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (status, body) = app.get("/api/health", None).await;
    assert_eq!((status, body), (StatusCode::OK, json!({"status": "ok"})));
    let (status, body) = app.get("/api/ready", None).await;
    assert_eq!((status, body), (StatusCode::OK, json!({"status": "ok"})));

    // Metrics label requests by route template, not by raw path.
    let owner = app.register("owner").await;
    let org = app.create_org(&owner, "Metered").await;
    let (status, _) = app.get(&org_path(&org), Some(&owner.token)).await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = app.get("/api/no-such-route", None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, headers, text) = raw(&app, Method::GET, "/metrics", None, None, None).await;
    assert_eq!(status, StatusCode::OK);
    let content_type = headers[reqwest::header::CONTENT_TYPE].to_str().expect("content type");
    assert!(content_type.starts_with("text/plain"), "{content_type}");
    assert!(text.contains("# TYPE roster_http_requests_total counter"), "{text}");
    let line = text
        .lines()
        .find(|l| {
            l.starts_with("roster_http_requests_total{")
                && l.contains(r#"route="/api/organizations/{organizationId}""#)
                && l.contains(r#"method="GET""#)
                && l.contains(r#"status="200""#)
        })
        .unwrap_or_else(|| panic!("a GET /api/organizations/{{organizationId}} 200 line: {text}"));
    assert!(line.ends_with(" 1"), "{line}");
    assert!(
        text.lines().any(|l| l.starts_with("roster_http_requests_total{")
            && l.contains(r#"route="/api/organizations""#)
            && l.contains(r#"method="POST""#)
            && l.contains(r#"status="201""#)),
        "{text}"
    );
    assert!(!text.contains(&org), "no raw IDs in labels");
    assert!(!text.contains("no-such-route"), "no raw unmatched paths in labels");
    assert!(text.contains("roster_http_request_duration_seconds_bucket"), "{text}");

    // The OpenAPI document.
    let (status, doc) = app.get("/api/openapi.json", None).await;
    assert_eq!(status, StatusCode::OK, "{doc}");
    let version = doc["openapi"].as_str().expect("openapi version");
    assert!(version.starts_with("3.1"), "{version}");
    let paths = doc["paths"].as_object().expect("paths");
    let expected: &[(&str, &[&str])] = &[
        ("/api/health", &["get"]),
        ("/api/ready", &["get"]),
        ("/api/auth/register", &["post"]),
        ("/api/auth/login", &["post"]),
        ("/api/users/me", &["delete", "get", "patch"]),
        ("/api/users/me/password", &["post"]),
        ("/api/users/me/sessions", &["delete", "get"]),
        ("/api/users/me/sessions/{sessionId}", &["delete"]),
        ("/api/users/me/tokens", &["get", "post"]),
        ("/api/users/me/tokens/{tokenId}", &["delete"]),
        ("/api/organizations", &["get", "post"]),
        ("/api/organizations/{organizationId}", &["delete", "get", "patch"]),
        ("/api/organizations/{organizationId}/events", &["get"]),
        ("/api/organizations/{organizationId}/members", &["get", "post"]),
        ("/api/organizations/{organizationId}/members/{userId}", &["delete", "patch"]),
        ("/api/organizations/{organizationId}/oauth-apps", &["get", "post"]),
        ("/api/oauth/authorize", &["get", "post"]),
        ("/api/oauth/token", &["post"]),
        ("/api/oauth/revoke", &["post"]),
        ("/api/oauth/introspect", &["post"]),
        ("/.well-known/oauth-authorization-server", &["get"]),
    ];
    for (path, methods) in expected {
        let item = paths.get(*path).unwrap_or_else(|| panic!("{path} is documented"));
        let documented: BTreeSet<&str> =
            item.as_object().expect("path item").keys().map(String::as_str).collect();
        for method in *methods {
            assert!(documented.contains(method), "{method} {path}: {documented:?}");
        }
    }
    assert!(doc["components"]["securitySchemes"]["bearer"].is_object(), "bearer scheme");
    // The OAuth2 scheme lists every scope, and each organization route names the one it needs.
    let oauth2 = &doc["components"]["securitySchemes"]["oauth2"];
    let scopes = oauth2["flows"]["clientCredentials"]["scopes"].as_object().expect("scopes");
    assert_eq!(scopes.len(), 9, "{oauth2}");
    assert!(oauth2["flows"]["authorizationCode"]["authorizationUrl"].is_string(), "{oauth2}");
    assert_eq!(
        paths["/api/organizations/{organizationId}/members"]["post"]["security"],
        json!([{"bearer": []}, {"oauth2": ["members:write"]}])
    );
    assert_eq!(paths["/api/users/me"]["get"]["security"], json!([{"bearer": []}]));
    // Every documented operation is served: none answers the router's 404 or 405 fallback.
    for (path, item) in paths {
        let concrete = path
            .split('/')
            .map(|seg| if seg.starts_with('{') { unknown_id() } else { seg.to_owned() })
            .collect::<Vec<_>>()
            .join("/");
        for method in item.as_object().expect("path item").keys() {
            let Ok(method) = Method::from_bytes(method.to_ascii_uppercase().as_bytes()) else {
                continue;
            };
            if !["GET", "POST", "PATCH", "PUT", "DELETE"].contains(&method.as_str()) {
                continue;
            }
            let body = (method != Method::GET && method != Method::DELETE).then(|| b"{}".to_vec());
            let ct = body.as_ref().map(|_| "application/json");
            let (status, _, text) = raw(&app, method.clone(), &concrete, None, ct, body).await;
            assert!(
                !(status == StatusCode::METHOD_NOT_ALLOWED
                    || (status == StatusCode::NOT_FOUND && text.contains("Cannot "))),
                "{method} {path} is documented but not served: {status} {text}"
            );
            assert!(!status.is_server_error(), "{method} {path}: {status} {text}");
        }
    }

    // The docs page, with its assets served by the binary.
    let (status, headers, html) = raw(&app, Method::GET, "/api/docs/", None, None, None).await;
    assert_eq!(status, StatusCode::OK, "{html}");
    let content_type = headers[reqwest::header::CONTENT_TYPE].to_str().expect("content type");
    assert!(content_type.starts_with("text/html"), "{content_type}");
    assert!(!html.contains("http://") && !html.contains("https://"), "no CDN URLs: {html}");
    let mut assets = Vec::new();
    for attr in ["src=\"", "href=\""] {
        for part in html.split(attr).skip(1) {
            let url = part.split('"').next().expect("attribute value");
            assets.push(url.to_owned());
        }
    }
    assert!(assets.iter().any(|a| a.ends_with(".js")), "scripts: {assets:?}");
    assert!(assets.iter().any(|a| a.ends_with(".css")), "styles: {assets:?}");
    for asset in &assets {
        assert!(!asset.starts_with("//"), "protocol-relative URL {asset}");
        let path = match asset.strip_prefix("./") {
            Some(rest) => format!("/api/docs/{rest}"),
            None if asset.starts_with('/') => asset.clone(),
            None => format!("/api/docs/{asset}"),
        };
        let (status, _, text) = raw(&app, Method::GET, &path, None, None, None).await;
        assert_eq!(status, StatusCode::OK, "{path}");
        assert!(!text.is_empty(), "{path} is empty");
    }
    // The page is found at the address without the trailing slash too.
    let (status, _, _) = raw(&app, Method::GET, "/api/docs", None, None, None).await;
    assert_eq!(status, StatusCode::OK);
    app.stop().await;
}

/// Made-up request methods share one label: they cannot grow the metrics without bound.
async fn metrics_labels_stay_bounded(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    for n in 0..5 {
        let method = Method::from_bytes(format!("ZZ{n}").as_bytes()).expect("method");
        let (status, _, _) = raw(&app, method, "/api/health", None, None, None).await;
        assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED);
    }
    let (_, _, text) = raw(&app, Method::GET, "/metrics", None, None, None).await;
    assert!(!text.contains("method=\"ZZ"), "made-up methods as labels: {text}");
    let line = text
        .lines()
        .find(|l| {
            l.starts_with("roster_http_requests_total{")
                && l.contains(r#"method="OTHER""#)
                && l.contains(r#"route="/api/health""#)
        })
        .unwrap_or_else(|| panic!("one OTHER line for the made-up methods: {text}"));
    assert!(line.ends_with(" 5"), "{line}");
    app.stop().await;
}

on_both_backends!(operations_endpoints, metrics_labels_stay_bounded);
