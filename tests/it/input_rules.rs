//! Input that breaks a rule the OpenAPI document states is refused, and input within every
//! rule is taken: URLs in URI syntax on real host names, limits counted on the text as sent,
//! values taken exactly as given, query parameters never repeated.

use reqwest::StatusCode;
use serde_json::json;

use crate::common::{Backend, TestApp, assert_validation};

const BAD_URL: &str = "url must be a valid URL";
const BAD_REDIRECT: &str =
    "each value in redirectUris must be an https URL, or an http URL on localhost or 127.0.0.1";

async fn urls_must_be_uris_on_real_hosts(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let f = app.org_with_roles().await;
    let token = Some(f.owner.token.as_str());
    let hooks = format!("/api/organizations/{}/webhooks", f.org);
    for url in [
        "https://example.com/a%zz",
        "https://example.com/?q=%",
        "https://example.com/ü",
        "https://example.com/a<b",
        "https://example.com/a{b}",
        "https://8iq.org*",
        "https://a..example.com/",
    ] {
        let (status, body) =
            app.post(&hooks, token, json!({"url": url, "events": ["member.added"]})).await;
        assert_validation(status, &body, &[BAD_URL]);
    }
    let (status, body) = app
        .post(
            &hooks,
            token,
            json!({"url": "https://Hooks.example.com/a%20b?c=d", "events": ["member.added"]}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");

    let apps = format!("/api/organizations/{}/oauth-apps", f.org);
    for uri in ["http://localhost:1665/hL:%", "https://app.example.com/ä", "https://x.org*/cb"] {
        let app_body = json!({"name": "A", "redirectUris": [uri], "scopes": ["members:read"]});
        let (status, body) = app.post(&apps, token, app_body).await;
        assert_validation(status, &body, &[BAD_REDIRECT]);
    }
    app.stop().await;
}

async fn values_are_checked_as_sent(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let f = app.org_with_roles().await;
    let token = Some(f.owner.token.as_str());

    // Limits count the text as sent, white space included.
    let padded = format!(" {} ", "a".repeat(100));
    let (status, body) = app.post("/api/organizations", token, json!({"name": padded})).await;
    assert_validation(status, &body, &["name must be shorter than or equal to 100 characters"]);
    // Slugs, emails and times are taken exactly as given.
    let (status, body) =
        app.post("/api/organizations", token, json!({"name": "A", "slug": " acme-x "})).await;
    let slug_rule =
        "slug must be 3-48 characters of a-z, 0-9 and -, and must not start or end with -";
    assert_validation(status, &body, &[slug_rule]);
    let members = format!("/api/organizations/{}/members", f.org);
    let email = format!(" {}", f.outsider.email);
    let (status, body) = app.post(&members, token, json!({"email": email, "role": "MEMBER"})).await;
    assert_validation(status, &body, &["email must be an email"]);
    let hooks = format!("/api/organizations/{}/webhooks", f.org);
    let (hook, _) =
        app.create_webhook(&f.org, &f.owner, "https://example.com/h", &["member.added"]).await;
    let recover = format!("{hooks}/{hook}/recover");
    let (status, body) = app.post(&recover, token, json!({"since": " 2026-01-01T00:00:00Z"})).await;
    assert_validation(status, &body, &["since must be a valid ISO 8601 date string"]);
    app.stop().await;
}

async fn query_parameters_are_not_repeated(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let f = app.org_with_roles().await;
    let token = Some(f.owner.token.as_str());
    let members = format!("/api/organizations/{}/members", f.org);
    for query in ["limit=100&limit=1", "limit=1&limit="] {
        let (status, body) = app.get(&format!("{members}?{query}"), token).await;
        assert_validation(status, &body, &["limit must not be repeated"]);
    }
    let (status, body) = app.get(&format!("{members}?limit=1&cursor="), token).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["data"].as_array().map(Vec::len), Some(1), "{body}");
    app.stop().await;
}

on_both_backends!(
    urls_must_be_uris_on_real_hosts,
    values_are_checked_as_sent,
    query_parameters_are_not_repeated
);
