//! Webhook management over real HTTP, on SQLite and PostgreSQL: the original API page's create
//! route to the letter (bodies, validation wording, 401/403), listing and reading without
//! secrets, updates and deactivation, deletion, secret rotation with both signatures during
//! the overlap, test deliveries, the delivery log, redelivery and recovery after an outage,
//! and who may call each route.
mod common;

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use common::receiver::{Received, Receiver, Reply};
use common::{AUTH_REQUIRED, Backend, TestApp, TestUser, assert_error, assert_validation};
use reqwest::{Method, StatusCode};
use roster::delivery::signature::{verify_legacy, verify_standard};
use serde_json::{Value, json};

const ORG_NOT_FOUND: &str = "Organization not found";
const WEBHOOK_NOT_FOUND: &str = "Webhook not found";
const DELIVERY_NOT_FOUND: &str = "Delivery not found";
const BAD_UUID: &str = "Validation failed (uuid is expected)";
const CREATE_DENIED: &str = "Access denied. Only owners and admins can create webhooks.";
const BAD_URL: &str = "url must be a valid URL";
const NOT_HTTPS: &str = "url must be a valid HTTPS URL";
const PRIVATE_URL: &str = "url must not point to a private, loopback or link-local address";
const URL_TOO_LONG: &str = "url must be shorter than or equal to 2048 characters";
const NOT_ARRAY: &str = "events must be an array";
const EVENTS_EMPTY: &str = "events should not be empty";
const BAD_EVENT: &str = "each value in events must be one of the following values: \
     organization.created, organization.updated, organization.deleted, member.added, \
     member.removed, member.role_updated, invite.created, invite.accepted, invite.cancelled, \
     oauth_app.created, oauth_app.revoked, webhook.created";
const NOT_BOOLEAN: &str = "isActive must be a boolean value";
const BAD_SINCE: &str = "since must be a valid ISO 8601 date string";

/// How long a delivery may take to arrive or to show up in the log.
const WAIT: Duration = Duration::from_secs(5);
/// How long to watch for a delivery that must not come, once a sibling has arrived.
const QUIET: Duration = Duration::from_millis(700);

fn hooks_path(org: &str) -> String {
    format!("/api/organizations/{org}/webhooks")
}

fn hook_path(org: &str, hook: &str) -> String {
    format!("/api/organizations/{org}/webhooks/{hook}")
}

fn deliveries_path(org: &str, hook: &str) -> String {
    format!("{}/deliveries", hook_path(org, hook))
}

fn redeliver_path(org: &str, hook: &str, delivery: &str) -> String {
    format!("{}/deliveries/{delivery}/redeliver", hook_path(org, hook))
}

fn denied(action: &str) -> String {
    format!("Access denied. Only owners and admins can {action}.")
}

fn random_id() -> String {
    uuid::Uuid::new_v4().to_string()
}

fn assert_timestamp(value: &Value) {
    let text = value.as_str().unwrap_or_else(|| panic!("timestamp is a string: {value}"));
    assert!(text.ends_with('Z'), "UTC with a Z suffix: {text}");
    chrono::DateTime::parse_from_rfc3339(text)
        .unwrap_or_else(|e| panic!("RFC 3339 timestamp {text}: {e}"));
}

fn time_of(value: &Value) -> chrono::DateTime<chrono::Utc> {
    let text = value.as_str().unwrap_or_else(|| panic!("timestamp is a string: {value}"));
    chrono::DateTime::parse_from_rfc3339(text)
        .unwrap_or_else(|e| panic!("RFC 3339 timestamp {text}: {e}"))
        .with_timezone(&chrono::Utc)
}

/// `whsec_` followed by standard base64 of at least 24 bytes.
fn assert_secret(secret: &Value) {
    let text = secret.as_str().unwrap_or_else(|| panic!("secret is a string: {secret}"));
    let encoded =
        text.strip_prefix("whsec_").unwrap_or_else(|| panic!("secret starts with whsec_: {text}"));
    let bytes = STANDARD.decode(encoded).unwrap_or_else(|e| panic!("secret is base64 {text}: {e}"));
    assert!(bytes.len() >= 24, "secret has at least 24 random bytes: {text}");
}

fn strings(value: &Value) -> BTreeSet<String> {
    value
        .as_array()
        .unwrap_or_else(|| panic!("array: {value}"))
        .iter()
        .map(|v| v.as_str().expect("string").to_owned())
        .collect()
}

/// A Webhook without its secret, exactly `{id, organizationId, url, events, isActive,
/// createdAt, updatedAt}`.
fn assert_webhook_view(body: &Value, org: &str, url: &str, events: &[&str], active: bool) {
    assert_eq!(
        body,
        &json!({
            "id": body["id"], "organizationId": org, "url": url, "events": events,
            "isActive": active, "createdAt": body["createdAt"], "updatedAt": body["updatedAt"],
        })
    );
    uuid::Uuid::parse_str(body["id"].as_str().expect("id")).expect("id is a UUID");
    assert_timestamp(&body["createdAt"]);
    assert_timestamp(&body["updatedAt"]);
    assert!(time_of(&body["updatedAt"]) >= time_of(&body["createdAt"]), "{body}");
}

fn assert_no_secret(value: &Value) {
    match value {
        Value::Object(map) => {
            assert!(!map.contains_key("secret"), "secret leaked: {value}");
            map.values().for_each(assert_no_secret);
        }
        Value::Array(items) => items.iter().for_each(assert_no_secret),
        _ => {}
    }
}

/// Both signatures of a delivery verify with `secret`.
fn assert_signed_by(r: &Received, secret: &str) {
    assert!(
        verify_legacy(secret, &r.body, r.header("x-webhook-signature")),
        "X-Webhook-Signature verifies with the secret"
    );
    let ts: i64 = r.header("webhook-timestamp").parse().expect("webhook-timestamp is an integer");
    assert!(
        verify_standard(secret, r.header("webhook-id"), ts, &r.body, r.header("webhook-signature")),
        "webhook-signature verifies with the secret: {}",
        r.header("webhook-signature")
    );
}

/// `{id, slug, name}` of the organization, as deliveries describe it.
async fn org_ref(app: &TestApp, org: &str, viewer: &TestUser) -> Value {
    let (status, body) = app.get(&format!("/api/organizations/{org}"), Some(&viewer.token)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    json!({"id": body["id"], "slug": body["slug"], "name": body["name"]})
}

/// Renames the organization, which emits `organization.updated`.
async fn rename(app: &TestApp, org: &str, by: &TestUser, name: &str) {
    let (status, body) = app
        .patch(&format!("/api/organizations/{org}"), Some(&by.token), json!({"name": name}))
        .await;
    assert_eq!(status, StatusCode::OK, "rename: {body}");
}

/// The webhook's delivery log, newest first, once `done` holds for it (within [`WAIT`]).
async fn deliveries_when(
    app: &TestApp,
    org: &str,
    hook: &str,
    viewer: &TestUser,
    what: &str,
    done: impl Fn(&[Value]) -> bool,
) -> Vec<Value> {
    let deadline = Instant::now() + WAIT;
    loop {
        let (status, body) = app
            .get(&format!("{}?limit=100", deliveries_path(org, hook)), Some(&viewer.token))
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let data = body["data"].as_array().expect("data").clone();
        if done(&data) {
            return data;
        }
        assert!(Instant::now() < deadline, "the delivery log never showed {what}: {body}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn all_have(data: &[Value], n: usize, status: &str, attempts: usize) -> bool {
    data.len() == n
        && data.iter().all(|d| {
            d["status"] == status && d["attempts"].as_array().is_some_and(|a| a.len() == attempts)
        })
}

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

    // Control characters (PostgreSQL text cannot even hold NUL) are not part of a URL.
    for url in ["https://example.com/a\u{0}b", "https://example.com/a\nb", "https://exa\tmple.com/"]
    {
        let (status, body) =
            app.post(&path, token, json!({"url": url, "events": ["member.added"]})).await;
        assert_validation(status, &body, &[BAD_URL]);
    }

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

async fn webhook_created_is_recorded_and_delivered(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let f = app.org_with_roles().await;
    let own = Receiver::start().await;
    let other = Receiver::start().await;

    let events = ["member.added", "webhook.created"];
    let (hook, secret) = app.create_webhook(&f.org, &f.admin, &own.url, &events).await;

    // The event log records it with the webhook and its actor.
    let (status, body) = app
        .get(
            &format!("/api/organizations/{}/events?event=webhook.created", f.org),
            Some(&f.owner.token),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let logged = body["data"].as_array().expect("data");
    assert_eq!(logged.len(), 1, "{body}");
    assert_eq!(
        logged[0]["data"],
        json!({"webhookId": hook, "url": own.url, "events": events,
               "actor": {"type": "user", "id": f.admin.id}})
    );
    assert_no_secret(&body);

    // The new webhook receives its own creation.
    let got = own.wait_for(1, WAIT).await;
    let r = &got[0];
    assert_eq!(r.header("x-webhook-event"), "webhook.created");
    assert_eq!(r.header("content-type"), "application/json");
    assert!(r.header("user-agent").starts_with("Roster-Webhooks/"), "{}", r.header("user-agent"));
    assert_signed_by(r, &secret);
    let payload = r.json();
    assert_eq!(
        payload,
        json!({
            "event": "webhook.created",
            "organization": org_ref(&app, &f.org, &f.owner).await,
            "data": {"webhookId": hook, "url": own.url, "events": events,
                     "actor": {"type": "user", "id": f.admin.id}},
            "timestamp": payload["timestamp"],
        })
    );
    assert_timestamp(&payload["timestamp"]);
    // The event log holds exactly what was delivered.
    let mut stored = logged[0].clone();
    stored.as_object_mut().expect("event").remove("id");
    assert_eq!(stored, payload);

    // A webhook not subscribed to webhook.created gets nothing for its creation; the first
    // one hears about the second.
    let (second, _) = app.create_webhook(&f.org, &f.owner, &other.url, &["member.added"]).await;
    let got = own.wait_for(2, WAIT).await;
    assert_eq!(got[1].json()["data"]["webhookId"], second.as_str());
    assert_eq!(got[1].json()["data"]["actor"], json!({"type": "user", "id": f.owner.id}));
    other.assert_stays_at(0, QUIET).await;
    own.assert_stays_at(2, Duration::from_millis(200)).await;
}

async fn list_and_get_never_show_secrets(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let f = app.org_with_roles().await;
    let mut ids = Vec::new();
    for i in 0..3 {
        let (id, _) = app
            .create_webhook(
                &f.org,
                &f.owner,
                &format!("https://example.com/{i}"),
                &["member.added"],
            )
            .await;
        ids.push(id);
    }
    let newest_first: Vec<String> = ids.iter().rev().cloned().collect();

    for viewer in [&f.owner, &f.admin] {
        let (status, body) = app.get(&hooks_path(&f.org), Some(&viewer.token)).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_no_secret(&body);
        assert_eq!(body["nextCursor"], Value::Null);
        let data = body["data"].as_array().expect("data");
        let listed: Vec<String> =
            data.iter().map(|w| w["id"].as_str().expect("id").to_owned()).collect();
        assert_eq!(listed, newest_first);
        for (i, w) in data.iter().enumerate() {
            assert_webhook_view(
                w,
                &f.org,
                &format!("https://example.com/{}", 2 - i),
                &["member.added"],
                true,
            );
        }

        // Paginated.
        let (status, page1) =
            app.get(&format!("{}?limit=2", hooks_path(&f.org)), Some(&viewer.token)).await;
        assert_eq!(status, StatusCode::OK, "{page1}");
        let first: Vec<&str> = page1["data"]
            .as_array()
            .expect("data")
            .iter()
            .map(|w| w["id"].as_str().expect("id"))
            .collect();
        assert_eq!(first, [newest_first[0].as_str(), newest_first[1].as_str()]);
        let cursor = page1["nextCursor"].as_str().expect("a next page");
        let (status, page2) = app
            .get(&format!("{}?limit=2&cursor={cursor}", hooks_path(&f.org)), Some(&viewer.token))
            .await;
        assert_eq!(status, StatusCode::OK, "{page2}");
        assert_eq!(page2["data"].as_array().expect("data").len(), 1);
        assert_eq!(page2["data"][0]["id"], newest_first[2].as_str());
        assert_eq!(page2["nextCursor"], Value::Null);
        assert_no_secret(&page2);

        let (status, body) = app.get(&hook_path(&f.org, &ids[1]), Some(&viewer.token)).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_webhook_view(&body, &f.org, "https://example.com/1", &["member.added"], true);
        assert_eq!(body["id"], ids[1].as_str());
    }

    let (status, body) =
        app.get(&format!("{}?limit=0", hooks_path(&f.org)), Some(&f.owner.token)).await;
    assert_validation(status, &body, &["limit must not be less than 1"]);

    let (status, body) = app.get(&hooks_path(&f.org), Some(&f.member.token)).await;
    assert_error(status, &body, StatusCode::FORBIDDEN, &denied("view webhooks"));
    let (status, body) = app.get(&hook_path(&f.org, &ids[0]), Some(&f.member.token)).await;
    assert_error(status, &body, StatusCode::FORBIDDEN, &denied("view webhooks"));
    let (status, body) = app.get(&hooks_path(&f.org), Some(&f.outsider.token)).await;
    assert_error(status, &body, StatusCode::NOT_FOUND, ORG_NOT_FOUND);
    let (status, body) = app.get(&hook_path(&f.org, &ids[0]), Some(&f.outsider.token)).await;
    assert_error(status, &body, StatusCode::NOT_FOUND, ORG_NOT_FOUND);

    let (status, body) = app.get(&hook_path(&f.org, &random_id()), Some(&f.owner.token)).await;
    assert_error(status, &body, StatusCode::NOT_FOUND, WEBHOOK_NOT_FOUND);
    let (status, body) = app.get(&hook_path(&f.org, "nope"), Some(&f.owner.token)).await;
    assert_error(status, &body, StatusCode::BAD_REQUEST, BAD_UUID);

    // Another organization's webhook is not found through one's own organization.
    let other_org = app.create_org(&f.outsider, "Other Corp").await;
    let (status, body) = app.get(&hook_path(&other_org, &ids[0]), Some(&f.outsider.token)).await;
    assert_error(status, &body, StatusCode::NOT_FOUND, WEBHOOK_NOT_FOUND);
    let (status, body) = app.get(&hooks_path(&other_org), Some(&f.outsider.token)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["data"], json!([]));

    // A deleted webhook is gone from both.
    let (status, _) = app.delete(&hook_path(&f.org, &ids[1]), Some(&f.owner.token)).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, body) = app.get(&hook_path(&f.org, &ids[1]), Some(&f.owner.token)).await;
    assert_error(status, &body, StatusCode::NOT_FOUND, WEBHOOK_NOT_FOUND);
    let (status, body) = app.get(&hooks_path(&f.org), Some(&f.owner.token)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let listed: Vec<&str> = body["data"]
        .as_array()
        .expect("data")
        .iter()
        .map(|w| w["id"].as_str().expect("id"))
        .collect();
    assert_eq!(listed, [ids[2].as_str(), ids[0].as_str()]);
}

async fn update_changes_url_events_and_activity(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let f = app.org_with_roles().await;
    let (hook, _) =
        app.create_webhook(&f.org, &f.owner, "https://example.com/a", &["member.added"]).await;
    let path = hook_path(&f.org, &hook);
    let (_, before) = app.get(&path, Some(&f.owner.token)).await;

    let (status, body) =
        app.patch(&path, Some(&f.admin.token), json!({"url": "https://example.com/b"})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_webhook_view(&body, &f.org, "https://example.com/b", &["member.added"], true);
    assert_eq!(body["createdAt"], before["createdAt"]);
    assert!(time_of(&body["updatedAt"]) >= time_of(&before["updatedAt"]));

    let (status, body) = app
        .patch(
            &path,
            Some(&f.owner.token),
            json!({"events": ["organization.updated", "invite.created", "invite.created"]}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["events"].as_array().expect("events").len(), 2, "{body}");
    assert_eq!(
        strings(&body["events"]),
        strings(&json!(["organization.updated", "invite.created"]))
    );
    assert_eq!(body["url"], "https://example.com/b");

    let (status, body) = app.patch(&path, Some(&f.owner.token), json!({"isActive": false})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["isActive"], false);
    assert_eq!(body["url"], "https://example.com/b");

    let (status, body) = app
        .patch(
            &path,
            Some(&f.owner.token),
            json!({"url": "https://example.com/c", "events": ["member.removed"], "isActive": true}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_webhook_view(&body, &f.org, "https://example.com/c", &["member.removed"], true);
    assert_no_secret(&body);

    // An empty patch changes nothing.
    let (status, body) = app.patch(&path, Some(&f.owner.token), json!({})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_webhook_view(&body, &f.org, "https://example.com/c", &["member.removed"], true);

    // What GET reads is what PATCH answered.
    let (status, read) = app.get(&path, Some(&f.owner.token)).await;
    assert_eq!(status, StatusCode::OK, "{read}");
    assert_webhook_view(&read, &f.org, "https://example.com/c", &["member.removed"], true);

    // Validation, all at once, and nothing changes.
    let token = Some(f.owner.token.as_str());
    let (status, body) = app.patch(&path, token, json!({"isActive": "yes"})).await;
    assert_validation(status, &body, &[NOT_BOOLEAN]);
    let (status, body) = app.patch(&path, token, json!({"isActive": 1})).await;
    assert_validation(status, &body, &[NOT_BOOLEAN]);
    let (status, body) = app.patch(&path, token, json!({"url": "nope"})).await;
    assert_validation(status, &body, &[BAD_URL]);
    let (status, body) = app.patch(&path, token, json!({"events": []})).await;
    assert_validation(status, &body, &[EVENTS_EMPTY]);
    let (status, body) = app.patch(&path, token, json!({"events": "member.added"})).await;
    assert_validation(status, &body, &[NOT_ARRAY]);
    let (status, body) = app.patch(&path, token, json!({"events": ["nope"]})).await;
    assert_validation(status, &body, &[BAD_EVENT]);
    let (status, body) = app.patch(&path, token, json!({"secret": "whsec_mine"})).await;
    assert_validation(status, &body, &["property secret should not exist"]);
    let (status, body) =
        app.patch(&path, token, json!({"url": 5, "events": [], "isActive": "no"})).await;
    assert_validation(status, &body, &[BAD_URL, EVENTS_EMPTY, NOT_BOOLEAN]);
    let (_, after) = app.get(&path, token).await;
    assert_eq!(after, read);

    // Who may.
    let (status, body) = app.patch(&path, Some(&f.member.token), json!({"isActive": false})).await;
    assert_error(status, &body, StatusCode::FORBIDDEN, &denied("update webhooks"));
    let (status, body) =
        app.patch(&path, Some(&f.outsider.token), json!({"isActive": false})).await;
    assert_error(status, &body, StatusCode::NOT_FOUND, ORG_NOT_FOUND);
    let (status, body) = app.patch(&path, None, json!({"isActive": false})).await;
    assert_error(status, &body, StatusCode::UNAUTHORIZED, AUTH_REQUIRED);
    let (status, body) =
        app.patch(&hook_path(&f.org, &random_id()), token, json!({"isActive": false})).await;
    assert_error(status, &body, StatusCode::NOT_FOUND, WEBHOOK_NOT_FOUND);
    let (_, after) = app.get(&path, token).await;
    assert_eq!(after, read);
}

async fn an_inactive_webhook_receives_nothing_until_reactivated(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let f = app.org_with_roles().await;
    let paused = Receiver::start().await;
    let control = Receiver::start().await;
    let (hook, secret) =
        app.create_webhook(&f.org, &f.owner, &paused.url, &["organization.updated"]).await;
    app.create_webhook(&f.org, &f.owner, &control.url, &["organization.updated"]).await;

    let (status, body) = app
        .patch(&hook_path(&f.org, &hook), Some(&f.owner.token), json!({"isActive": false}))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["isActive"], false);

    rename(&app, &f.org, &f.owner, "Acme While Paused").await;
    control.wait_for(1, WAIT).await;
    paused.assert_stays_at(0, QUIET).await;

    let (status, body) =
        app.patch(&hook_path(&f.org, &hook), Some(&f.admin.token), json!({"isActive": true})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["isActive"], true);

    rename(&app, &f.org, &f.owner, "Acme Again").await;
    let got = paused.wait_for(1, WAIT).await;
    control.wait_for(2, WAIT).await;
    let payload = got[0].json();
    assert_eq!(payload["event"], "organization.updated");
    assert_eq!(payload["data"]["changes"]["name"]["current"], "Acme Again", "{payload}");
    assert_signed_by(&got[0], &secret);
    paused.assert_stays_at(1, Duration::from_millis(300)).await;
}

async fn delete_removes_the_webhook_and_its_deliveries_stop(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let f = app.org_with_roles().await;
    let doomed = Receiver::start().await;
    let control = Receiver::start().await;
    let (hook, _) =
        app.create_webhook(&f.org, &f.owner, &doomed.url, &["organization.updated"]).await;
    app.create_webhook(&f.org, &f.owner, &control.url, &["organization.updated"]).await;
    let path = hook_path(&f.org, &hook);

    rename(&app, &f.org, &f.owner, "Acme Before").await;
    doomed.wait_for(1, WAIT).await;
    control.wait_for(1, WAIT).await;

    let (status, body) = app.delete(&path, Some(&f.member.token)).await;
    assert_error(status, &body, StatusCode::FORBIDDEN, &denied("delete webhooks"));
    let (status, body) = app.delete(&path, Some(&f.outsider.token)).await;
    assert_error(status, &body, StatusCode::NOT_FOUND, ORG_NOT_FOUND);
    let (status, body) = app.delete(&path, None).await;
    assert_error(status, &body, StatusCode::UNAUTHORIZED, AUTH_REQUIRED);

    let (status, body) = app.delete(&path, Some(&f.admin.token)).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_eq!(body, Value::Null, "204 has no body");

    let token = Some(f.owner.token.as_str());
    let (status, body) = app.get(&path, token).await;
    assert_error(status, &body, StatusCode::NOT_FOUND, WEBHOOK_NOT_FOUND);
    let (status, body) = app.delete(&path, token).await;
    assert_error(status, &body, StatusCode::NOT_FOUND, WEBHOOK_NOT_FOUND);
    let (status, body) = app.patch(&path, token, json!({"isActive": true})).await;
    assert_error(status, &body, StatusCode::NOT_FOUND, WEBHOOK_NOT_FOUND);
    let (status, body) = app.post(&format!("{path}/rotate-secret"), token, json!({})).await;
    assert_error(status, &body, StatusCode::NOT_FOUND, WEBHOOK_NOT_FOUND);
    let (status, body) = app.post(&format!("{path}/test"), token, json!({})).await;
    assert_error(status, &body, StatusCode::NOT_FOUND, WEBHOOK_NOT_FOUND);
    let (status, body) = app.get(&deliveries_path(&f.org, &hook), token).await;
    assert_error(status, &body, StatusCode::NOT_FOUND, WEBHOOK_NOT_FOUND);

    rename(&app, &f.org, &f.owner, "Acme After").await;
    control.wait_for(2, WAIT).await;
    doomed.assert_stays_at(1, QUIET).await;

    let (status, body) = app.delete(&hook_path(&f.org, &random_id()), token).await;
    assert_error(status, &body, StatusCode::NOT_FOUND, WEBHOOK_NOT_FOUND);
    let (status, body) = app.delete(&hook_path(&f.org, "nope"), token).await;
    assert_error(status, &body, StatusCode::BAD_REQUEST, BAD_UUID);
}

async fn rotating_the_secret_signs_with_both_during_the_overlap(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let f = app.org_with_roles().await;
    let receiver = Receiver::start().await;
    let (hook, old) =
        app.create_webhook(&f.org, &f.owner, &receiver.url, &["organization.updated"]).await;
    let path = hook_path(&f.org, &hook);

    rename(&app, &f.org, &f.owner, "Acme One").await;
    let got = receiver.wait_for(1, WAIT).await;
    assert_signed_by(&got[0], &old);
    assert_eq!(got[0].header("webhook-signature").split_whitespace().count(), 1);

    let (_, before) = app.get(&path, Some(&f.owner.token)).await;
    let (status, body) =
        app.post(&format!("{path}/rotate-secret"), Some(&f.admin.token), json!({})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        body,
        json!({
            "id": hook, "organizationId": f.org, "url": receiver.url,
            "events": ["organization.updated"], "isActive": true, "secret": body["secret"],
            "createdAt": before["createdAt"], "updatedAt": body["updatedAt"],
        })
    );
    assert_secret(&body["secret"]);
    assert_timestamp(&body["updatedAt"]);
    let new = body["secret"].as_str().expect("secret").to_owned();
    assert_ne!(new, old);

    // Not shown again.
    let (status, read) = app.get(&path, Some(&f.owner.token)).await;
    assert_eq!(status, StatusCode::OK, "{read}");
    assert_no_secret(&read);

    rename(&app, &f.org, &f.owner, "Acme Two").await;
    let got = receiver.wait_for(2, WAIT).await;
    let r = &got[1];
    assert_eq!(r.json()["data"]["changes"]["name"]["current"], "Acme Two");
    let legacy = r.header("x-webhook-signature");
    assert!(verify_legacy(&new, &r.body, legacy), "X-Webhook-Signature uses the new secret");
    assert!(!verify_legacy(&old, &r.body, legacy), "X-Webhook-Signature is not the old one");

    let id = r.header("webhook-id");
    let ts: i64 = r.header("webhook-timestamp").parse().expect("webhook-timestamp");
    let header = r.header("webhook-signature");
    let entries: Vec<&str> = header.split(' ').collect();
    assert_eq!(entries.len(), 2, "two space-separated signatures: {header}");
    assert!(entries.iter().all(|e| e.starts_with("v1,")), "{header}");
    let by_new: Vec<bool> =
        entries.iter().map(|e| verify_standard(&new, id, ts, &r.body, e)).collect();
    let by_old: Vec<bool> =
        entries.iter().map(|e| verify_standard(&old, id, ts, &r.body, e)).collect();
    assert_eq!(by_new.iter().filter(|b| **b).count(), 1, "one entry by the new secret: {header}");
    assert_eq!(by_old.iter().filter(|b| **b).count(), 1, "one entry by the old secret: {header}");
    assert_ne!(by_new, by_old, "the two entries are by different secrets");
    assert!(verify_standard(&new, id, ts, &r.body, header));
    assert!(verify_standard(&old, id, ts, &r.body, header));

    // Who may.
    let rotate = format!("{path}/rotate-secret");
    let (status, body) = app.post(&rotate, Some(&f.member.token), json!({})).await;
    assert_error(status, &body, StatusCode::FORBIDDEN, &denied("rotate webhook secrets"));
    let (status, body) = app.post(&rotate, Some(&f.outsider.token), json!({})).await;
    assert_error(status, &body, StatusCode::NOT_FOUND, ORG_NOT_FOUND);
    let (status, body) = app.post(&rotate, None, json!({})).await;
    assert_error(status, &body, StatusCode::UNAUTHORIZED, AUTH_REQUIRED);
    let (status, body) = app
        .post(
            &format!("{}/rotate-secret", hook_path(&f.org, &random_id())),
            Some(&f.owner.token),
            json!({}),
        )
        .await;
    assert_error(status, &body, StatusCode::NOT_FOUND, WEBHOOK_NOT_FOUND);

    // The refused calls rotated nothing: deliveries still verify with `new`.
    rename(&app, &f.org, &f.owner, "Acme Three").await;
    let got = receiver.wait_for(3, WAIT).await;
    assert!(verify_legacy(&new, &got[2].body, got[2].header("x-webhook-signature")));
}

async fn test_sends_webhook_test_whatever_the_subscription(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let f = app.org_with_roles().await;
    let receiver = Receiver::start().await;
    let bystander = Receiver::start().await;
    app.create_webhook(&f.org, &f.owner, &bystander.url, &["member.added"]).await;
    let (hook, secret) =
        app.create_webhook(&f.org, &f.owner, &receiver.url, &["member.added"]).await;

    let (status, body) = app
        .post(&format!("{}/test", hook_path(&f.org, &hook)), Some(&f.admin.token), json!({}))
        .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");

    let got = receiver.wait_for(1, WAIT).await;
    let r = &got[0];
    assert_eq!(r.header("x-webhook-event"), "webhook.test");
    assert_eq!(r.header("content-type"), "application/json");
    assert_signed_by(r, &secret);
    let payload = r.json();
    assert_eq!(payload["event"], "webhook.test");
    assert_eq!(payload["organization"], org_ref(&app, &f.org, &f.owner).await);
    assert_eq!(payload["data"]["actor"], json!({"type": "user", "id": f.admin.id}));
    assert_timestamp(&payload["timestamp"]);
    let keys: BTreeSet<&str> =
        payload.as_object().expect("object").keys().map(String::as_str).collect();
    assert_eq!(keys, BTreeSet::from(["event", "organization", "data", "timestamp"]));

    let log = deliveries_when(&app, &f.org, &hook, &f.owner, "the test delivery succeeded", |d| {
        all_have(d, 1, "succeeded", 1)
    })
    .await;
    assert_eq!(log[0]["event"], "webhook.test");
    assert_eq!(log[0]["id"], r.header("x-webhook-delivery"));

    bystander.assert_stays_at(0, QUIET).await;
    receiver.assert_stays_at(1, Duration::from_millis(100)).await;

    let test = format!("{}/test", hook_path(&f.org, &hook));
    let (status, body) = app.post(&test, Some(&f.member.token), json!({})).await;
    assert_error(status, &body, StatusCode::FORBIDDEN, &denied("test webhooks"));
    let (status, body) = app.post(&test, Some(&f.outsider.token), json!({})).await;
    assert_error(status, &body, StatusCode::NOT_FOUND, ORG_NOT_FOUND);
    let (status, body) = app.post(&test, None, json!({})).await;
    assert_error(status, &body, StatusCode::UNAUTHORIZED, AUTH_REQUIRED);
    let (status, body) = app
        .post(&format!("{}/test", hook_path(&f.org, &random_id())), Some(&f.owner.token), json!({}))
        .await;
    assert_error(status, &body, StatusCode::NOT_FOUND, WEBHOOK_NOT_FOUND);

    // The test event is in the event log, and can be picked out of it.
    let (status, body) = app
        .get(
            &format!("/api/organizations/{}/events?event=webhook.test", f.org),
            Some(&f.owner.token),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let logged = body["data"].as_array().expect("data");
    assert_eq!(logged.len(), 1, "{body}");
    assert_eq!(logged[0]["event"], "webhook.test");

    // An inactive webhook cannot be tested: the delivery would never be attempted.
    let (status, body) = app
        .patch(&hook_path(&f.org, &hook), Some(&f.owner.token), json!({"isActive": false}))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, body) = app.post(&test, Some(&f.owner.token), json!({})).await;
    assert_error(status, &body, StatusCode::CONFLICT, "Webhook is inactive");
    receiver.assert_stays_at(1, Duration::from_millis(300)).await;
}

async fn the_delivery_log_records_every_attempt(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let f = app.org_with_roles().await;
    let receiver = Receiver::start().await;
    let (hook, _) = app.create_webhook(&f.org, &f.owner, &receiver.url, &["webhook.created"]).await;
    let got = receiver.wait_for(1, WAIT).await;

    let log = deliveries_when(&app, &f.org, &hook, &f.admin, "one succeeded delivery", |d| {
        all_have(d, 1, "succeeded", 1)
    })
    .await;
    let d = &log[0];
    let (status, events) = app
        .get(
            &format!("/api/organizations/{}/events?event=webhook.created", f.org),
            Some(&f.owner.token),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{events}");
    let event_id = &events["data"][0]["id"];
    assert_eq!(
        d,
        &json!({
            "id": d["id"], "webhookId": hook, "eventId": event_id, "event": "webhook.created",
            "status": "succeeded", "nextAttemptAt": null,
            "createdAt": d["createdAt"], "updatedAt": d["updatedAt"],
            "attempts": [{
                "number": 1, "attemptedAt": d["attempts"][0]["attemptedAt"],
                "durationMs": d["attempts"][0]["durationMs"], "statusCode": 200, "error": null,
                "responseBody": "receiver says hi",
            }],
        })
    );
    assert_eq!(d["id"], got[0].header("x-webhook-delivery"));
    assert_timestamp(&d["createdAt"]);
    assert_timestamp(&d["updatedAt"]);
    assert_timestamp(&d["attempts"][0]["attemptedAt"]);
    assert!(d["attempts"][0]["durationMs"].as_i64().is_some_and(|ms| ms >= 0), "{d}");
    assert!(time_of(&d["attempts"][0]["attemptedAt"]) >= time_of(&d["createdAt"]));

    // A second delivery; the log is newest first and paginated.
    let (status, _) = app
        .post(&format!("{}/test", hook_path(&f.org, &hook)), Some(&f.owner.token), json!({}))
        .await;
    assert_eq!(status, StatusCode::ACCEPTED);
    receiver.wait_for(2, WAIT).await;
    deliveries_when(&app, &f.org, &hook, &f.owner, "two succeeded deliveries", |d| {
        all_have(d, 2, "succeeded", 1)
    })
    .await;
    let (status, page1) =
        app.get(&format!("{}?limit=1", deliveries_path(&f.org, &hook)), Some(&f.owner.token)).await;
    assert_eq!(status, StatusCode::OK, "{page1}");
    assert_eq!(page1["data"].as_array().expect("data").len(), 1);
    assert_eq!(page1["data"][0]["event"], "webhook.test");
    let cursor = page1["nextCursor"].as_str().expect("a next page");
    let (status, page2) = app
        .get(
            &format!("{}?limit=1&cursor={cursor}", deliveries_path(&f.org, &hook)),
            Some(&f.owner.token),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{page2}");
    assert_eq!(page2["data"][0]["id"], d["id"]);
    assert_eq!(page2["nextCursor"], Value::Null);

    // Another webhook's log is its own.
    let (other, _) =
        app.create_webhook(&f.org, &f.owner, "https://example.com/x", &["member.added"]).await;
    let (status, body) = app.get(&deliveries_path(&f.org, &other), Some(&f.owner.token)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body, json!({"data": [], "nextCursor": null}));

    let path = deliveries_path(&f.org, &hook);
    let (status, body) = app.get(&path, Some(&f.member.token)).await;
    assert_error(status, &body, StatusCode::FORBIDDEN, &denied("view webhook deliveries"));
    let (status, body) = app.get(&path, Some(&f.outsider.token)).await;
    assert_error(status, &body, StatusCode::NOT_FOUND, ORG_NOT_FOUND);
    let (status, body) = app.get(&path, None).await;
    assert_error(status, &body, StatusCode::UNAUTHORIZED, AUTH_REQUIRED);
    let (status, body) =
        app.get(&deliveries_path(&f.org, &random_id()), Some(&f.owner.token)).await;
    assert_error(status, &body, StatusCode::NOT_FOUND, WEBHOOK_NOT_FOUND);
}

async fn redeliver_starts_a_fresh_attempt_with_the_same_id(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let f = app.org_with_roles().await;
    let receiver = Receiver::start().await;
    let (hook, secret) =
        app.create_webhook(&f.org, &f.owner, &receiver.url, &["webhook.created"]).await;
    let first = receiver.wait_for(1, WAIT).await;
    let log = deliveries_when(&app, &f.org, &hook, &f.owner, "a succeeded delivery", |d| {
        all_have(d, 1, "succeeded", 1)
    })
    .await;
    let delivery = log[0]["id"].as_str().expect("id").to_owned();

    let (status, body) =
        app.post(&redeliver_path(&f.org, &hook, &delivery), Some(&f.admin.token), json!({})).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");

    let got = receiver.wait_for(2, WAIT).await;
    assert_eq!(got[1].header("webhook-id"), first[0].header("webhook-id"));
    assert_eq!(got[1].header("x-webhook-delivery"), delivery);
    assert_eq!(got[1].body, first[0].body, "the same event");
    assert_signed_by(&got[1], &secret);

    let log = deliveries_when(&app, &f.org, &hook, &f.owner, "two attempts", |d| {
        all_have(d, 1, "succeeded", 2)
    })
    .await;
    let numbers: Vec<i64> = log[0]["attempts"]
        .as_array()
        .expect("attempts")
        .iter()
        .map(|a| a["number"].as_i64().expect("number"))
        .collect();
    assert_eq!(numbers, [1, 2]);
    assert_eq!(log[0]["attempts"][1]["statusCode"], 200);

    let token = Some(f.owner.token.as_str());
    let (status, body) =
        app.post(&redeliver_path(&f.org, &hook, &random_id()), token, json!({})).await;
    assert_error(status, &body, StatusCode::NOT_FOUND, DELIVERY_NOT_FOUND);
    let (status, body) = app.post(&redeliver_path(&f.org, &hook, "nope"), token, json!({})).await;
    assert_error(status, &body, StatusCode::BAD_REQUEST, BAD_UUID);
    // A delivery is found only under its own webhook.
    let (other, _) =
        app.create_webhook(&f.org, &f.owner, "https://example.com/x", &["member.added"]).await;
    let (status, body) =
        app.post(&redeliver_path(&f.org, &other, &delivery), token, json!({})).await;
    assert_error(status, &body, StatusCode::NOT_FOUND, DELIVERY_NOT_FOUND);
    let (status, body) =
        app.post(&redeliver_path(&f.org, &random_id(), &delivery), token, json!({})).await;
    assert_error(status, &body, StatusCode::NOT_FOUND, WEBHOOK_NOT_FOUND);

    let path = redeliver_path(&f.org, &hook, &delivery);
    let (status, body) = app.post(&path, Some(&f.member.token), json!({})).await;
    assert_error(status, &body, StatusCode::FORBIDDEN, &denied("redeliver webhooks"));
    let (status, body) = app.post(&path, Some(&f.outsider.token), json!({})).await;
    assert_error(status, &body, StatusCode::NOT_FOUND, ORG_NOT_FOUND);
    let (status, body) = app.post(&path, None, json!({})).await;
    assert_error(status, &body, StatusCode::UNAUTHORIZED, AUTH_REQUIRED);
    // Creating `other` was one more webhook.created event; the refused calls sent nothing.
    let got = receiver.wait_for(3, WAIT).await;
    assert_eq!(got[2].json()["data"]["webhookId"], other.as_str());
    assert_ne!(got[2].header("webhook-id"), first[0].header("webhook-id"));
    receiver.assert_stays_at(3, QUIET).await;
}

async fn recover_replays_what_failed_while_the_receiver_was_down(backend: Backend) {
    let app = TestApp::spawn_with(backend, |c| {
        c.webhook_retry_schedule = roster::config::RetrySchedule(vec![]);
    })
    .await;
    let f = app.org_with_roles().await;
    let receiver = Receiver::scripted(vec![Reply::status(500)]).await;
    let (hook, _) =
        app.create_webhook(&f.org, &f.owner, &receiver.url, &["organization.updated"]).await;
    let path = format!("{}/recover", hook_path(&f.org, &hook));
    let before = (chrono::Utc::now() - chrono::Duration::seconds(2))
        .to_rfc3339_opts(chrono::SecondsFormat::Millis, true);

    rename(&app, &f.org, &f.owner, "Acme Down 1").await;
    rename(&app, &f.org, &f.owner, "Acme Down 2").await;
    receiver.wait_for(2, WAIT).await;
    let log = deliveries_when(&app, &f.org, &hook, &f.owner, "two failed deliveries", |d| {
        all_have(d, 2, "failed", 1)
    })
    .await;
    for d in &log {
        assert_eq!(d["nextAttemptAt"], Value::Null, "{d}");
        assert_eq!(d["attempts"][0]["statusCode"], 500, "{d}");
        assert_eq!(d["attempts"][0]["responseBody"], "receiver says hi", "{d}");
    }
    receiver.assert_stays_at(2, Duration::from_millis(300)).await;

    receiver.set_script(vec![Reply::status(200)]);

    // Nothing failed after a time in the future.
    let later = (chrono::Utc::now() + chrono::Duration::hours(1))
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let (status, body) = app.post(&path, Some(&f.owner.token), json!({"since": later})).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    assert_eq!(body, json!({"requeued": 0}));

    let (status, body) = app.post(&path, Some(&f.admin.token), json!({"since": before})).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    assert_eq!(body, json!({"requeued": 2}));

    let got = receiver.wait_for(4, WAIT).await;
    let renamed: BTreeSet<String> = got[2..]
        .iter()
        .map(|r| r.json()["data"]["changes"]["name"]["current"].as_str().expect("name").to_owned())
        .collect();
    assert_eq!(renamed, BTreeSet::from(["Acme Down 1".to_owned(), "Acme Down 2".to_owned()]));
    let log = deliveries_when(&app, &f.org, &hook, &f.owner, "two recovered deliveries", |d| {
        all_have(d, 2, "succeeded", 2)
    })
    .await;
    for d in &log {
        assert_eq!(d["attempts"][1]["statusCode"], 200, "{d}");
        assert_eq!(d["attempts"][1]["number"], 2, "{d}");
    }

    // Nothing is left to recover.
    let (status, body) = app.post(&path, Some(&f.owner.token), json!({"since": before})).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    assert_eq!(body, json!({"requeued": 0}));
    receiver.assert_stays_at(4, QUIET).await;

    let token = Some(f.owner.token.as_str());
    let (status, body) = app.post(&path, token, json!({"since": "yesterday"})).await;
    assert_validation(status, &body, &[BAD_SINCE]);
    let (status, body) = app.post(&path, token, json!({})).await;
    assert_validation(status, &body, &[BAD_SINCE]);
    let (status, body) = app.post(&path, token, json!({"since": before, "foo": 1})).await;
    assert_validation(status, &body, &["property foo should not exist"]);

    let (status, body) = app.post(&path, Some(&f.member.token), json!({"since": before})).await;
    assert_error(status, &body, StatusCode::FORBIDDEN, &denied("recover webhook deliveries"));
    let (status, body) = app.post(&path, Some(&f.outsider.token), json!({"since": before})).await;
    assert_error(status, &body, StatusCode::NOT_FOUND, ORG_NOT_FOUND);
    let (status, body) = app.post(&path, None, json!({"since": before})).await;
    assert_error(status, &body, StatusCode::UNAUTHORIZED, AUTH_REQUIRED);
    let (status, body) = app
        .post(
            &format!("{}/recover", hook_path(&f.org, &random_id())),
            token,
            json!({"since": before}),
        )
        .await;
    assert_error(status, &body, StatusCode::NOT_FOUND, WEBHOOK_NOT_FOUND);
}

async fn every_route_is_for_owners_and_admins_of_the_organization(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let f = app.org_with_roles().await;
    let receiver = Receiver::start().await;
    let (hook, _) = app.create_webhook(&f.org, &f.owner, &receiver.url, &["webhook.created"]).await;
    receiver.wait_for(1, WAIT).await;
    let log = deliveries_when(&app, &f.org, &hook, &f.owner, "a succeeded delivery", |d| {
        all_have(d, 1, "succeeded", 1)
    })
    .await;
    let delivery = log[0]["id"].as_str().expect("id").to_owned();
    let hp = hook_path(&f.org, &hook);
    let since = json!({"since": "2000-01-01T00:00:00Z"});

    // (method, path, body, action, what an ADMIN gets); DELETE last.
    let routes: Vec<(Method, String, Option<Value>, &str, StatusCode)> = vec![
        (
            Method::POST,
            hooks_path(&f.org),
            Some(json!({"url": "https://example.com/new", "events": ["member.added"]})),
            "create webhooks",
            StatusCode::CREATED,
        ),
        (Method::GET, hooks_path(&f.org), None, "view webhooks", StatusCode::OK),
        (Method::GET, hp.clone(), None, "view webhooks", StatusCode::OK),
        (
            Method::PATCH,
            hp.clone(),
            Some(json!({"isActive": true})),
            "update webhooks",
            StatusCode::OK,
        ),
        (
            Method::POST,
            format!("{hp}/rotate-secret"),
            Some(json!({})),
            "rotate webhook secrets",
            StatusCode::OK,
        ),
        (
            Method::POST,
            format!("{hp}/test"),
            Some(json!({})),
            "test webhooks",
            StatusCode::ACCEPTED,
        ),
        (
            Method::GET,
            deliveries_path(&f.org, &hook),
            None,
            "view webhook deliveries",
            StatusCode::OK,
        ),
        (
            Method::POST,
            redeliver_path(&f.org, &hook, &delivery),
            Some(json!({})),
            "redeliver webhooks",
            StatusCode::ACCEPTED,
        ),
        (
            Method::POST,
            format!("{hp}/recover"),
            Some(since.clone()),
            "recover webhook deliveries",
            StatusCode::ACCEPTED,
        ),
        (Method::DELETE, hp.clone(), None, "delete webhooks", StatusCode::NO_CONTENT),
    ];

    let other_org = app.create_org(&f.outsider, "Other Corp").await;
    for (method, path, body, action, ok) in &routes {
        let what = format!("{method} {path}");
        let (status, res) = app.call(method.clone(), path, None, body.clone()).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{what}: {res}");
        assert_error(status, &res, StatusCode::UNAUTHORIZED, AUTH_REQUIRED);
        let (status, res) = app.call(method.clone(), path, Some("garbage"), body.clone()).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{what}: {res}");
        assert_error(status, &res, StatusCode::UNAUTHORIZED, AUTH_REQUIRED);

        let (status, res) =
            app.call(method.clone(), path, Some(&f.member.token), body.clone()).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{what}: {res}");
        assert_error(status, &res, StatusCode::FORBIDDEN, &denied(action));

        let (status, res) =
            app.call(method.clone(), path, Some(&f.outsider.token), body.clone()).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{what}: {res}");
        assert_error(status, &res, StatusCode::NOT_FOUND, ORG_NOT_FOUND);

        // Through an organization the caller does manage, another's webhook is not found.
        if path.starts_with(&hp) {
            let foreign = path.replacen(&f.org, &other_org, 1);
            let (status, res) =
                app.call(method.clone(), &foreign, Some(&f.outsider.token), body.clone()).await;
            assert_eq!(status, StatusCode::NOT_FOUND, "{what} via another org: {res}");
            assert_error(status, &res, StatusCode::NOT_FOUND, WEBHOOK_NOT_FOUND);
        }

        if *ok == StatusCode::ACCEPTED && path.ends_with("/redeliver") {
            // The delivery must have finished its previous chain to be redelivered.
            deliveries_when(&app, &f.org, &hook, &f.owner, "no pending delivery", |d| {
                d.iter().all(|d| d["status"] != "pending")
            })
            .await;
        }
        let (status, res) =
            app.call(method.clone(), path, Some(&f.admin.token), body.clone()).await;
        assert_eq!(status, *ok, "{what} as ADMIN: {res}");
    }

    // An OWNER of another organization sees none of it either.
    let (status, res) = app.get(&hooks_path(&f.org), Some(&f.outsider.token)).await;
    assert_error(status, &res, StatusCode::NOT_FOUND, ORG_NOT_FOUND);
}

on_both_backends!(
    create_returns_the_webhook_with_its_secret_once,
    create_validates_as_the_seed_words_it,
    create_checks_who_may_call_it,
    only_public_https_urls_unless_private_delivery_is_allowed,
    webhook_created_is_recorded_and_delivered,
    list_and_get_never_show_secrets,
    update_changes_url_events_and_activity,
    an_inactive_webhook_receives_nothing_until_reactivated,
    delete_removes_the_webhook_and_its_deliveries_stop,
    rotating_the_secret_signs_with_both_during_the_overlap,
    test_sends_webhook_test_whatever_the_subscription,
    the_delivery_log_records_every_attempt,
    redeliver_starts_a_fresh_attempt_with_the_same_id,
    recover_replays_what_failed_while_the_receiver_was_down,
    every_route_is_for_owners_and_admins_of_the_organization,
);
