//! The create route to the letter: bodies, validation wording, who may call it, URL policy.

use reqwest::StatusCode;
use serde_json::{Value, json};

use super::{
    BAD_EVENT, BAD_URL, EVENTS_EMPTY, NOT_ARRAY, assert_secret, assert_webhook_view, hook_path,
    hooks_path, strings,
};
use crate::common::messages::{BAD_UUID, ORG_NOT_FOUND};
use crate::common::{
    AUTH_REQUIRED, Backend, TestApp, assert_error, assert_timestamp, assert_validation, random_id,
};

const CREATE_DENIED: &str = "Access denied. Only owners and admins can create webhooks.";
const NOT_HTTPS: &str = "url must be a valid HTTPS URL";
const PRIVATE_URL: &str = "url must not point to a private, loopback or link-local address";
const URL_TOO_LONG: &str = "url must be shorter than or equal to 2048 characters";

async fn create_returns_the_webhook_with_its_secret_once(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let f = app.org_with_roles().await;

    for (who, url) in
        [(&f.owner, "https://example.com/webhooks"), (&f.admin, "https://hooks.example.org/a?b=c")]
    {
        let events = ["organization.created", "member.added"];
        let (status, body) = app
            .post(&hooks_path(&f.org), Some(&who.token), json!({"url": url, "events": events}))
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        assert_eq!(
            body,
            json!({
                "id": body["id"], "organizationId": f.org, "url": url, "events": events,
                "isActive": true, "secret": body["secret"],
                "createdAt": body["createdAt"], "updatedAt": body["updatedAt"],
            })
        );
        assert_secret(&body["secret"]);
        assert_timestamp(&body["createdAt"]);
        assert_eq!(body["createdAt"], body["updatedAt"], "{body}");

        // The secret is never shown again.
        let id = body["id"].as_str().expect("id");
        let (status, read) = app.get(&hook_path(&f.org, id), Some(&who.token)).await;
        assert_eq!(status, StatusCode::OK, "{read}");
        assert_webhook_view(&read, &f.org, url, &events, true);
        assert_eq!(read["createdAt"], body["createdAt"]);
    }

    // Duplicates collapse.
    let (status, body) = app
        .post(
            &hooks_path(&f.org),
            Some(&f.owner.token),
            json!({"url": "https://example.com/dup",
                   "events": ["member.added", "member.removed", "member.added", "member.added"]}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body["events"].as_array().expect("events").len(), 2, "{body}");
    assert_eq!(strings(&body["events"]), strings(&json!(["member.added", "member.removed"])));

    // Every event of the catalog can be subscribed to; a URL of exactly 2048 characters is fine.
    let long = format!("https://example.com/{}", "a".repeat(2048 - "https://example.com/".len()));
    let all: Vec<&str> = BAD_EVENT.split(": ").nth(1).expect("catalog").split(", ").collect();
    assert_eq!(all.len(), 12);
    let (status, body) = app
        .post(&hooks_path(&f.org), Some(&f.owner.token), json!({"url": long, "events": all}))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body["url"], long.as_str());
    assert_eq!(strings(&body["events"]), all.iter().map(|e| (*e).to_owned()).collect());

    // Two webhooks never share a secret.
    let (_, a) =
        app.create_webhook(&f.org, &f.owner, "https://example.com/1", &["member.added"]).await;
    let (_, b) =
        app.create_webhook(&f.org, &f.owner, "https://example.com/2", &["member.added"]).await;
    assert_ne!(a, b);
}

async fn create_validates_as_the_seed_words_it(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let f = app.org_with_roles().await;
    let path = hooks_path(&f.org);
    let token = Some(f.owner.token.as_str());

    // The seed's 400 body.
    let (status, body) =
        app.post(&path, token, json!({"url": "not a url", "events": "organization.created"})).await;
    assert_validation(status, &body, &[BAD_URL, NOT_ARRAY]);
    let (status, body) = app.post(&path, token, json!({})).await;
    assert_validation(status, &body, &[BAD_URL, NOT_ARRAY]);
    let (status, body) = app.post(&path, token, json!({"url": 42, "events": null})).await;
    assert_validation(status, &body, &[BAD_URL, NOT_ARRAY]);
    for url in ["", "example.com/hooks", "ftp://example.com/hooks", "https://", "mailto:a@b.co"] {
        let (status, body) =
            app.post(&path, token, json!({"url": url, "events": ["member.added"]})).await;
        assert_validation(status, &body, &[BAD_URL]);
    }

    // Control characters are not part of a URL; NUL, which PostgreSQL cannot store, is refused
    // wherever it is in a body.
    for url in ["https://example.com/a\nb", "https://exa\tmple.com/"] {
        let (status, body) =
            app.post(&path, token, json!({"url": url, "events": ["member.added"]})).await;
        assert_validation(status, &body, &[BAD_URL]);
    }
    let nul = json!({"url": "https://example.com/a\u{0}b", "events": ["member.added"]});
    let (status, body) = app.post(&path, token, nul).await;
    assert_validation(status, &body, &["url must not contain null characters"]);

    // Credentials would travel as Basic auth and read back in clear: refused, nothing stored.
    for url in [
        "https://user:pass@example.com/h",
        "https://user@example.com/h",
        "https://:pw@example.com/h",
    ] {
        let (status, body) =
            app.post(&path, token, json!({"url": url, "events": ["member.added"]})).await;
        assert_validation(status, &body, &["url must not contain credentials"]);
    }
    let (status, body) = app.get(&path, token).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(!body.to_string().contains("pass@"), "{body}");

    let (status, body) =
        app.post(&path, token, json!({"url": "https://example.com/h", "events": []})).await;
    assert_validation(status, &body, &[EVENTS_EMPTY]);

    for events in [json!(["member.added", "member.exploded"]), json!(["webhook.test"]), json!([7])]
    {
        let (status, body) =
            app.post(&path, token, json!({"url": "https://example.com/h", "events": events})).await;
        assert_validation(status, &body, &[BAD_EVENT]);
    }

    let (status, body) = app
        .post(
            &path,
            token,
            json!({"url": "https://example.com/h", "events": ["member.added"], "foo": 1}),
        )
        .await;
    assert_validation(status, &body, &["property foo should not exist"]);

    let too_long =
        format!("https://example.com/{}", "a".repeat(2049 - "https://example.com/".len()));
    assert_eq!(too_long.len(), 2049);
    let (status, body) =
        app.post(&path, token, json!({"url": too_long, "events": ["member.added"]})).await;
    assert_validation(status, &body, &[URL_TOO_LONG]);

    // Every violation at once.
    let (status, body) =
        app.post(&path, token, json!({"url": "nope", "events": [], "secret": "mine"})).await;
    assert_validation(status, &body, &["property secret should not exist", BAD_URL, EVENTS_EMPTY]);

    // A body that is not JSON.
    let res = app
        .client
        .post(format!("{}{path}", app.base))
        .bearer_auth(&f.owner.token)
        .header("content-type", "application/json")
        .body("{\"url\": ")
        .send()
        .await
        .expect("request sent");
    let status = res.status();
    let body: Value = res.json().await.expect("JSON error body");
    assert_error(status, &body, StatusCode::BAD_REQUEST, "Request body must be valid JSON");

    // Nothing was created by any of it.
    let (status, body) = app.get(&path, token).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body, json!({"data": [], "nextCursor": null}));
    assert!(!app.event_types(&f.org, &f.owner).await.contains(&"webhook.created".to_owned()));
}

async fn create_checks_who_may_call_it(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let f = app.org_with_roles().await;
    let path = hooks_path(&f.org);
    let good = json!({"url": "https://example.com/webhooks", "events": ["member.added"]});

    let (status, body) = app.post(&path, None, good.clone()).await;
    assert_error(status, &body, StatusCode::UNAUTHORIZED, AUTH_REQUIRED);
    let (status, body) = app.post(&path, Some("not-a-token"), good.clone()).await;
    assert_error(status, &body, StatusCode::UNAUTHORIZED, AUTH_REQUIRED);

    let (status, body) = app.post(&path, Some(&f.member.token), good.clone()).await;
    assert_error(status, &body, StatusCode::FORBIDDEN, CREATE_DENIED);

    let (status, body) = app.post(&path, Some(&f.outsider.token), good.clone()).await;
    assert_error(status, &body, StatusCode::NOT_FOUND, ORG_NOT_FOUND);
    let (status, body) =
        app.post(&hooks_path(&random_id()), Some(&f.owner.token), good.clone()).await;
    assert_error(status, &body, StatusCode::NOT_FOUND, ORG_NOT_FOUND);

    let (status, body) =
        app.post("/api/organizations/not-a-uuid/webhooks", Some(&f.owner.token), good).await;
    assert_error(status, &body, StatusCode::BAD_REQUEST, BAD_UUID);

    let (status, body) = app.get(&path, Some(&f.owner.token)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["data"], json!([]));
}

async fn only_public_https_urls_unless_private_delivery_is_allowed(backend: Backend) {
    let app = TestApp::spawn_with(backend, |c| c.webhook_allow_private = false).await;
    let f = app.org_with_roles().await;
    let path = hooks_path(&f.org);
    let token = Some(f.owner.token.as_str());

    let (status, body) = app
        .post(&path, token, json!({"url": "http://example.com/hooks", "events": ["member.added"]}))
        .await;
    assert_validation(status, &body, &[NOT_HTTPS]);

    for url in [
        "https://127.0.0.1/x",
        "https://localhost/x",
        "https://LOCALHOST:8443/x",
        "https://[::1]/x",
        "https://10.0.0.1/x",
        "https://192.168.1.20/x",
        "https://169.254.169.254/latest/meta-data",
        "https://0.0.0.0/x",
        "https://[::ffff:127.0.0.1]/x",
    ] {
        let (status, body) =
            app.post(&path, token, json!({"url": url, "events": ["member.added"]})).await;
        assert_validation(status, &body, &[PRIVATE_URL]);
    }

    // A public https URL is fine, and PATCH applies the same rules.
    let (hook, _) =
        app.create_webhook(&f.org, &f.owner, "https://example.com/hooks", &["member.added"]).await;
    let (status, body) =
        app.patch(&hook_path(&f.org, &hook), token, json!({"url": "http://example.com/x"})).await;
    assert_validation(status, &body, &[NOT_HTTPS]);
    let (status, body) =
        app.patch(&hook_path(&f.org, &hook), token, json!({"url": "https://10.0.0.1/x"})).await;
    assert_validation(status, &body, &[PRIVATE_URL]);
    let (status, body) = app.get(&hook_path(&f.org, &hook), token).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["url"], "https://example.com/hooks");
}

on_both_backends!(
    create_returns_the_webhook_with_its_secret_once,
    create_validates_as_the_seed_words_it,
    create_checks_who_may_call_it,
    only_public_https_urls_unless_private_delivery_is_allowed
);
