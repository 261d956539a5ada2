mod common;

// The webhook delivery engine over real HTTP, on SQLite and PostgreSQL: the exact body and
// headers of a delivery and both of its signatures (checked here, and by the seed page's own
// Node `verifySignature`), the retry schedule, how every kind of answer is classified and
// logged, SSRF refusal at delivery time, inactive and deleted webhooks, fan-out, the default
// schedule, and the delivery metrics.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use common::receiver::{Received, Receiver, Reply};
use common::{Api, Backend, TestApp, TestDb, TestUser, test_config};
use hmac::{Hmac, Mac};
use reqwest::StatusCode;
use roster::config::{Config, RetrySchedule};
use serde_json::{Value, json};
use sha2::Sha256;
use tokio::net::TcpListener;

/// How long any single expected delivery may take to show up.
const WAIT: Duration = Duration::from_secs(15);

/// The seed page's verification function, verbatim.
const SEED_VERIFY_SIGNATURE: &str = r#"const crypto = require('crypto')

function verifySignature(payload, signature, secret) {
  const hmac = crypto.createHmac('sha256', secret)
  const digest = hmac.update(payload).digest('hex')
  return digest === signature
}"#;

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

/// Retries 50 ms apart, so a failing delivery is `failed` well within a second.
fn fast_retries(c: &mut Config) {
    c.webhook_retry_schedule = RetrySchedule(vec![ms(50); 3]);
}

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

/// An owner and their organization "Acme Corp".
async fn owner_and_org(app: &TestApp) -> (TestUser, String) {
    let owner = app.register("owner").await;
    let org = app.create_org(&owner, "Acme Corp").await;
    (owner, org)
}

/// Registers `name` and adds them to `org` as MEMBER: one `member.added` event.
async fn add_someone(app: &TestApp, org: &str, owner: &TestUser, name: &str) -> TestUser {
    let user = app.register(name).await;
    app.add_member(org, owner, &user, "MEMBER").await;
    user
}

/// The webhook's delivery log, newest first.
async fn deliveries_at(api: &Api, org: &str, hook: &str, owner: &TestUser) -> Vec<Value> {
    let path = format!("/api/organizations/{org}/webhooks/{hook}/deliveries?limit=100");
    let (status, body) = api.get(&path, Some(&owner.token)).await;
    assert_eq!(status, StatusCode::OK, "deliveries: {body}");
    body["data"].as_array().expect("data").clone()
}

/// Waits until the webhook has exactly one delivery and it is no longer pending; returns it.
async fn finished(api: &Api, org: &str, hook: &str, owner: &TestUser) -> Value {
    let deadline = Instant::now() + WAIT;
    loop {
        let log = deliveries_at(api, org, hook, owner).await;
        if log.len() == 1 && log[0]["status"] != "pending" {
            return log[0].clone();
        }
        assert!(Instant::now() < deadline, "delivery still unfinished after {WAIT:?}: {log:?}");
        tokio::time::sleep(ms(25)).await;
    }
}

fn attempts(delivery: &Value) -> &Vec<Value> {
    delivery["attempts"].as_array().expect("attempts")
}

/// Asserts the attempts are numbered 1..=n.
fn assert_numbered(delivery: &Value, n: usize) {
    let numbers: Vec<i64> =
        attempts(delivery).iter().map(|a| a["number"].as_i64().expect("number")).collect();
    let expected: Vec<i64> = (1..=n as i64).collect();
    assert_eq!(numbers, expected, "{delivery}");
}

fn hmac_sha256(key: &[u8], message: &[u8]) -> Vec<u8> {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("any key length");
    mac.update(message);
    mac.finalize().into_bytes().to_vec()
}

/// All requests carry the same `webhook-id`, and `X-Webhook-Delivery` equals it.
fn single_webhook_id(got: &[Received]) -> String {
    let id = got[0].header("webhook-id").to_owned();
    assert!(!id.is_empty(), "webhook-id missing");
    for r in got {
        assert_eq!(r.header("webhook-id"), id, "webhook-id changed between retries");
        assert_eq!(r.header("x-webhook-delivery"), id);
    }
    id
}

/// A receiver that answers every request with the same status, headers and body, and only
/// counts what it gets.
struct FixedReceiver {
    url: String,
    hits: Arc<AtomicUsize>,
    task: tokio::task::JoinHandle<()>,
}

impl FixedReceiver {
    async fn start(status: u16, location: Option<String>, body: String) -> Self {
        let hits = Arc::new(AtomicUsize::new(0));
        let counter = hits.clone();
        let app = axum::Router::new().fallback(move || {
            let counter = counter.clone();
            let location = location.clone();
            let body = body.clone();
            async move {
                counter.fetch_add(1, Ordering::SeqCst);
                let mut headers = axum::http::HeaderMap::new();
                if let Some(location) = location {
                    headers.insert(
                        axum::http::header::LOCATION,
                        location.parse().expect("location header"),
                    );
                }
                (axum::http::StatusCode::from_u16(status).expect("status"), headers, body)
            }
        });
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind receiver");
        let url = format!("http://{}/hook", listener.local_addr().expect("receiver addr"));
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Self { url, hits, task }
    }

    fn hits(&self) -> usize {
        self.hits.load(Ordering::SeqCst)
    }
}

impl Drop for FixedReceiver {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Runs the seed page's `verifySignature` in Node on the delivered body, signature and
/// secret, and on a wrong secret; expects `true false`.
fn seed_node_check(body: &[u8], signature: &str, secret: &str) {
    let node = std::process::Command::new("node").arg("--version").output();
    if !node.is_ok_and(|o| o.status.success()) {
        if std::env::var_os("CI").is_some() {
            panic!(
                "`node` is not on PATH but CI is set: the seed's verifySignature check must run \
                 in CI; install Node.js"
            );
        }
        eprintln!("notice: `node` is not on PATH; skipping the seed verifySignature check");
        return;
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let body_file = dir.path().join("body");
    let signature_file = dir.path().join("signature");
    let secret_file = dir.path().join("secret");
    std::fs::write(&body_file, body).expect("write body");
    std::fs::write(&signature_file, signature).expect("write signature");
    std::fs::write(&secret_file, secret).expect("write secret");
    let script = format!(
        "{SEED_VERIFY_SIGNATURE}\n\
         const fs = require('fs')\n\
         const payload = fs.readFileSync(process.env.ROSTER_BODY_FILE, 'utf8')\n\
         const signature = fs.readFileSync(process.env.ROSTER_SIGNATURE_FILE, 'utf8')\n\
         const secret = fs.readFileSync(process.env.ROSTER_SECRET_FILE, 'utf8')\n\
         console.log(verifySignature(payload, signature, secret), \
                     verifySignature(payload, signature, secret + 'x'))\n"
    );
    let out = std::process::Command::new("node")
        .arg("-e")
        .arg(&script)
        .env("ROSTER_BODY_FILE", &body_file)
        .env("ROSTER_SIGNATURE_FILE", &signature_file)
        .env("ROSTER_SECRET_FILE", &secret_file)
        .output()
        .expect("node runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "node failed: {}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(stdout.trim(), "true false", "the seed's verifySignature rejects the delivery");
}

// ---------------------------------------------------------------------------------------------
// Stories
// ---------------------------------------------------------------------------------------------

/// A member.added delivery: exact body, every header, both signatures, the seed's check.
async fn body_headers_and_signatures(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let receiver = Receiver::start().await;
    let (owner, org) = owner_and_org(&app).await;
    let (hook, secret) = app.create_webhook(&org, &owner, &receiver.url, &["member.added"]).await;
    let before = chrono::Utc::now();
    let bob = add_someone(&app, &org, &owner, "bob").await;

    let got = receiver.wait_for(1, WAIT).await;
    let request = &got[0];
    let body = request.json();

    let (status, org_body) =
        app.get(&format!("/api/organizations/{org}"), Some(&owner.token)).await;
    assert_eq!(status, StatusCode::OK, "{org_body}");
    let timestamp = body["timestamp"].as_str().expect("timestamp").to_owned();
    assert_eq!(
        body,
        json!({
            "event": "member.added",
            "organization": {"id": org, "slug": org_body["slug"], "name": "Acme Corp"},
            "data": {
                "userId": bob.id,
                "email": bob.email,
                "role": "MEMBER",
                "actor": {"type": "user", "id": owner.id},
            },
            "timestamp": timestamp,
        })
    );
    let keys: Vec<&str> = body.as_object().expect("object").keys().map(String::as_str).collect();
    assert_eq!(keys, ["event", "organization", "data", "timestamp"]);
    let at = chrono::DateTime::parse_from_rfc3339(&timestamp).expect("RFC 3339 timestamp");
    let skew = (at.with_timezone(&chrono::Utc) - before).num_seconds().abs();
    assert!(skew <= 30, "timestamp {timestamp} is not near now");

    assert_eq!(request.header("content-type"), "application/json");
    assert_eq!(
        request.header("user-agent"),
        format!("Roster-Webhooks/{}", env!("CARGO_PKG_VERSION"))
    );
    assert_eq!(request.header("x-webhook-event"), "member.added");
    let id = request.header("webhook-id");
    assert!(!id.is_empty());
    assert_eq!(request.header("x-webhook-delivery"), id);

    // The delivery ID is the one in the delivery log.
    let delivery = finished(&app, &org, &hook, &owner).await;
    assert_eq!(delivery["status"], "succeeded", "{delivery}");
    assert_eq!(delivery["id"], id);
    assert_eq!(delivery["event"], "member.added");

    let ts: i64 = request.header("webhook-timestamp").parse().expect("integer webhook-timestamp");
    assert!((ts - chrono::Utc::now().timestamp()).abs() <= 30, "webhook-timestamp {ts} not now");

    // X-Webhook-Signature: lowercase hex HMAC-SHA256 of the raw body keyed by the whole secret.
    assert!(secret.starts_with("whsec_"));
    let legacy = request.header("x-webhook-signature");
    assert_eq!(legacy, hex::encode(hmac_sha256(secret.as_bytes(), &request.body)));
    assert_eq!(legacy.len(), 64);
    assert!(legacy.chars().all(|c| c.is_ascii_digit() || ('a'..='f').contains(&c)));
    assert!(roster::delivery::signature::verify_legacy(&secret, &request.body, legacy));

    // webhook-signature: Standard Webhooks v1.
    let key = STANDARD.decode(secret.trim_start_matches("whsec_")).expect("base64 secret");
    let mut signed = format!("{id}.{ts}.").into_bytes();
    signed.extend_from_slice(&request.body);
    let expected = format!("v1,{}", STANDARD.encode(hmac_sha256(&key, &signed)));
    let standard = request.header("webhook-signature");
    assert!(
        standard.split_whitespace().any(|s| s == expected),
        "webhook-signature {standard:?} lacks {expected:?}"
    );
    assert!(roster::delivery::signature::verify_standard(&secret, id, ts, &request.body, standard));

    seed_node_check(&request.body, legacy, &secret);
    receiver.assert_stays_at(1, ms(300)).await;
    app.stop().await;
}

/// Four attempts spaced by the schedule, then `failed`, then silence.
async fn retry_schedule_is_followed(backend: Backend) {
    let schedule = vec![ms(200), ms(400), ms(800)];
    let configured = schedule.clone();
    let app =
        TestApp::spawn_with(backend, |c| c.webhook_retry_schedule = RetrySchedule(configured))
            .await;
    let receiver = Receiver::scripted(vec![Reply::status(500)]).await;
    let (owner, org) = owner_and_org(&app).await;
    let (hook, _) = app.create_webhook(&org, &owner, &receiver.url, &["member.added"]).await;
    add_someone(&app, &org, &owner, "bob").await;

    let got = receiver.wait_for(4, WAIT).await;
    for (i, delay) in schedule.iter().enumerate() {
        let gap = got[i + 1].at.duration_since(got[i].at);
        assert!(
            gap >= delay.mul_f64(0.9) && gap < *delay + Duration::from_secs(1),
            "gap before attempt {} was {gap:?}, expected about {delay:?}",
            i + 2
        );
    }
    let id = single_webhook_id(&got);

    let delivery = finished(&app, &org, &hook, &owner).await;
    assert_eq!(delivery["status"], "failed", "{delivery}");
    assert_eq!(delivery["id"], id);
    assert_eq!(delivery["nextAttemptAt"], Value::Null);
    assert_numbered(&delivery, 4);
    for attempt in attempts(&delivery) {
        assert_eq!(attempt["statusCode"], 500, "{attempt}");
        assert_eq!(attempt["error"], Value::Null, "{attempt}");
        assert_eq!(attempt["responseBody"], "receiver says hi", "{attempt}");
    }
    receiver.assert_stays_at(4, Duration::from_millis(1500)).await;
    app.stop().await;
}

/// 2xx succeeds at once; 3xx (not followed), 4xx and 5xx fail and are retried to the end.
async fn answers_are_classified(backend: Backend) {
    let app = TestApp::spawn_with(backend, fast_retries).await;
    let (owner, org) = owner_and_org(&app).await;

    let mut succeeding = Vec::new();
    for status in [200u16, 204] {
        let receiver = Receiver::scripted(vec![Reply::status(status)]).await;
        let (hook, _) = app.create_webhook(&org, &owner, &receiver.url, &["member.added"]).await;
        succeeding.push((status, receiver, hook));
    }
    let mut failing = Vec::new();
    for status in [400u16, 404, 500, 503] {
        let receiver = Receiver::scripted(vec![Reply::status(status)]).await;
        let (hook, _) = app.create_webhook(&org, &owner, &receiver.url, &["member.added"]).await;
        failing.push((status, receiver, hook));
    }
    // Redirects point at a receiver that must never be reached.
    let elsewhere = Receiver::start().await;
    let mut redirecting = Vec::new();
    for status in [301u16, 302] {
        let receiver =
            FixedReceiver::start(status, Some(elsewhere.url.clone()), "moved".into()).await;
        let (hook, _) = app.create_webhook(&org, &owner, &receiver.url, &["member.added"]).await;
        redirecting.push((status, receiver, hook));
    }
    // A 10 KiB answer is kept only up to 4 KiB.
    let big = FixedReceiver::start(200, None, "x".repeat(10 * 1024)).await;
    let (big_hook, _) = app.create_webhook(&org, &owner, &big.url, &["member.added"]).await;

    add_someone(&app, &org, &owner, "bob").await;

    for (status, receiver, hook) in &succeeding {
        let got = receiver.wait_for(1, WAIT).await;
        let delivery = finished(&app, &org, hook, &owner).await;
        assert_eq!(delivery["status"], "succeeded", "{status}: {delivery}");
        assert_numbered(&delivery, 1);
        assert_eq!(attempts(&delivery)[0]["statusCode"], *status, "{delivery}");
        assert_eq!(attempts(&delivery)[0]["error"], Value::Null, "{delivery}");
        assert_eq!(delivery["id"], got[0].header("webhook-id"));
    }
    for (status, receiver, hook) in &failing {
        let delivery = finished(&app, &org, hook, &owner).await;
        assert_eq!(delivery["status"], "failed", "{status}: {delivery}");
        assert_numbered(&delivery, 4);
        for attempt in attempts(&delivery) {
            assert_eq!(attempt["statusCode"], *status, "{attempt}");
        }
        let got = receiver.wait_for(4, WAIT).await;
        assert_eq!(got.len(), 4, "{status}");
        assert_eq!(delivery["id"], single_webhook_id(&got), "{status}");
    }
    for (status, receiver, hook) in &redirecting {
        let delivery = finished(&app, &org, hook, &owner).await;
        assert_eq!(delivery["status"], "failed", "{status}: {delivery}");
        assert_numbered(&delivery, 4);
        for attempt in attempts(&delivery) {
            assert_eq!(attempt["statusCode"], *status, "{attempt}");
            assert_eq!(attempt["responseBody"], "moved", "{attempt}");
        }
        assert_eq!(receiver.hits(), 4, "{status}");
    }
    elsewhere.assert_stays_at(0, ms(200)).await;

    let delivery = finished(&app, &org, &big_hook, &owner).await;
    assert_eq!(delivery["status"], "succeeded", "{delivery}");
    let excerpt = attempts(&delivery)[0]["responseBody"].as_str().expect("responseBody");
    assert_eq!(excerpt.len(), 4096);
    assert!(excerpt.chars().all(|c| c == 'x'));
    assert_eq!(big.hits(), 1);

    for (_, receiver, _) in &succeeding {
        receiver.assert_stays_at(1, ms(100)).await;
    }
    for (_, receiver, _) in &failing {
        receiver.assert_stays_at(4, ms(100)).await;
    }
    app.stop().await;
}

/// A receiver slower than the timeout, and a closed port, are logged as such.
async fn timeouts_and_refused_connections(backend: Backend) {
    let app = TestApp::spawn_with(backend, |c| {
        fast_retries(c);
        c.webhook_timeout = ms(300);
    })
    .await;
    let (owner, org) = owner_and_org(&app).await;
    let slow = Receiver::scripted(vec![Reply::slow(200, Duration::from_secs(2))]).await;
    let (slow_hook, _) = app.create_webhook(&org, &owner, &slow.url, &["member.added"]).await;
    let closed = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        listener.local_addr().expect("addr")
    };
    let closed_url = format!("http://{closed}/hook");
    let (closed_hook, _) = app.create_webhook(&org, &owner, &closed_url, &["member.added"]).await;

    add_someone(&app, &org, &owner, "bob").await;

    let delivery = finished(&app, &org, &slow_hook, &owner).await;
    assert_eq!(delivery["status"], "failed", "{delivery}");
    assert_numbered(&delivery, 4);
    for attempt in attempts(&delivery) {
        assert_eq!(attempt["error"], "timeout", "{attempt}");
        assert_eq!(attempt["statusCode"], Value::Null, "{attempt}");
        let took = attempt["durationMs"].as_i64().expect("durationMs");
        assert!((250..2000).contains(&took), "timed out after {took} ms: {attempt}");
    }
    let got = slow.wait_for(4, WAIT).await;
    assert_eq!(delivery["id"], single_webhook_id(&got));

    let delivery = finished(&app, &org, &closed_hook, &owner).await;
    assert_eq!(delivery["status"], "failed", "{delivery}");
    assert_numbered(&delivery, 4);
    for attempt in attempts(&delivery) {
        assert_eq!(attempt["error"], "connection_failed", "{attempt}");
        assert_eq!(attempt["statusCode"], Value::Null, "{attempt}");
    }
    app.stop().await;
}

/// 500, 500, then 200: the third attempt succeeds and nothing more is sent.
async fn recovers_after_failures(backend: Backend) {
    let app = TestApp::spawn_with(backend, fast_retries).await;
    let receiver =
        Receiver::scripted(vec![Reply::status(500), Reply::status(500), Reply::status(200)]).await;
    let (owner, org) = owner_and_org(&app).await;
    let (hook, _) = app.create_webhook(&org, &owner, &receiver.url, &["member.added"]).await;
    add_someone(&app, &org, &owner, "bob").await;

    let got = receiver.wait_for(3, WAIT).await;
    let id = single_webhook_id(&got);
    let delivery = finished(&app, &org, &hook, &owner).await;
    assert_eq!(delivery["status"], "succeeded", "{delivery}");
    assert_eq!(delivery["id"], id);
    assert_numbered(&delivery, 3);
    let codes: Vec<&Value> = attempts(&delivery).iter().map(|a| &a["statusCode"]).collect();
    assert_eq!(codes, [&json!(500), &json!(500), &json!(200)]);
    receiver.assert_stays_at(3, ms(400)).await;
    app.stop().await;
}

/// A receiver answering with a NUL byte (which PostgreSQL text cannot hold) is recorded once,
/// and later deliveries are recorded too: one odd answer never wedges the recorder.
async fn nul_bytes_in_answers_are_recorded(backend: Backend) {
    let app = TestApp::spawn_with(backend, fast_retries).await;
    let odd = FixedReceiver::start(200, None, "ok\0done".into()).await;
    let plain = Receiver::start().await;
    let (owner, org) = owner_and_org(&app).await;
    let (odd_hook, _) = app.create_webhook(&org, &owner, &odd.url, &["member.added"]).await;
    add_someone(&app, &org, &owner, "bob").await;
    let delivery = finished(&app, &org, &odd_hook, &owner).await;
    assert_eq!(delivery["status"], "succeeded", "{delivery}");
    assert_numbered(&delivery, 1);
    assert_eq!(attempts(&delivery)[0]["responseBody"], "ok\u{FFFD}done");

    let (plain_hook, _) = app.create_webhook(&org, &owner, &plain.url, &["member.added"]).await;
    add_someone(&app, &org, &owner, "carol").await;
    plain.wait_for(1, WAIT).await;
    let delivery = finished(&app, &org, &plain_hook, &owner).await;
    assert_eq!(delivery["status"], "succeeded", "{delivery}");
    assert_eq!(odd.hits.load(Ordering::SeqCst), 2, "one delivery per event, no repeats");
    app.stop().await;
}

/// Webhooks to private addresses, stored while private delivery was allowed, are refused at
/// delivery time once a server runs without it; the receiver gets nothing.
async fn private_destinations_refused_at_delivery(backend: Backend) {
    let db = TestDb::new(backend).await;
    let receiver = Receiver::start().await;
    let https_url = receiver.url.replacen("http://", "https://", 1);

    let first = TestApp::start(test_config(&db.url)).await;
    let (owner, org) = owner_and_org(&first).await;
    let (plain, _) = first.create_webhook(&org, &owner, &receiver.url, &["member.added"]).await;
    let (tls, _) = first.create_webhook(&org, &owner, &https_url, &["member.added"]).await;
    let bob = first.register("bob").await;
    first.stop().await;

    let mut config = test_config(&db.url);
    config.webhook_allow_private = false;
    fast_retries(&mut config);
    let second = TestApp::start(config).await;

    // The API refuses such URLs outright now.
    let (status, body) = second
        .post(
            &format!("/api/organizations/{org}/webhooks"),
            Some(&owner.token),
            json!({"url": receiver.url, "events": ["member.added"]}),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");

    let (status, body) = second
        .post(
            &format!("/api/organizations/{org}/members"),
            Some(&owner.token),
            json!({"email": bob.email, "role": "MEMBER"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");

    for (hook, error) in [(&plain, "insecure_url"), (&tls, "forbidden_address")] {
        let delivery = finished(&second, &org, hook, &owner).await;
        assert_eq!(delivery["status"], "failed", "{delivery}");
        assert_numbered(&delivery, 4);
        for attempt in attempts(&delivery) {
            assert_eq!(attempt["error"], error, "{attempt}");
            assert_eq!(attempt["statusCode"], Value::Null, "{attempt}");
        }
    }
    receiver.assert_stays_at(0, ms(200)).await;
    second.stop().await;
    drop(db);
}

/// Deactivating or deleting a webhook while a delivery awaits its retry stops the retries.
async fn inactive_and_deleted_webhooks_get_no_more_attempts(backend: Backend) {
    let app = TestApp::spawn_with(backend, |c| {
        c.webhook_retry_schedule = RetrySchedule(vec![Duration::from_secs(1); 3]);
    })
    .await;
    let (owner, org) = owner_and_org(&app).await;
    let paused = Receiver::scripted(vec![Reply::status(500)]).await;
    let deleted = Receiver::scripted(vec![Reply::status(500)]).await;
    let (paused_hook, _) = app.create_webhook(&org, &owner, &paused.url, &["member.added"]).await;
    let (deleted_hook, _) = app.create_webhook(&org, &owner, &deleted.url, &["member.added"]).await;
    add_someone(&app, &org, &owner, "bob").await;
    paused.wait_for(1, WAIT).await;
    deleted.wait_for(1, WAIT).await;

    let hooks = format!("/api/organizations/{org}/webhooks");
    let (status, body) = app
        .patch(&format!("{hooks}/{paused_hook}"), Some(&owner.token), json!({"isActive": false}))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["isActive"], false);
    let (status, body) = app.delete(&format!("{hooks}/{deleted_hook}"), Some(&owner.token)).await;
    assert!(status.is_success(), "delete webhook: {status} {body}");

    // New events are not queued for them either.
    add_someone(&app, &org, &owner, "carol").await;

    // The retries were due 1 s after the first attempts; wait well past three of them.
    tokio::join!(
        paused.assert_stays_at(1, Duration::from_millis(2500)),
        deleted.assert_stays_at(1, Duration::from_millis(2500)),
    );

    let log = deliveries_at(&app, &org, &paused_hook, &owner).await;
    assert_eq!(log.len(), 1, "{log:?}");
    assert_eq!(attempts(&log[0]).len(), 1, "{log:?}");
    assert_ne!(log[0]["status"], "succeeded", "{log:?}");
    app.stop().await;
}

/// One event reaches each of 20 subscribed webhooks exactly once, and no unsubscribed one.
async fn fan_out_to_every_subscriber(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (owner, org) = owner_and_org(&app).await;
    let mut receivers = Vec::new();
    for _ in 0..20 {
        let receiver = Receiver::start().await;
        app.create_webhook(&org, &owner, &receiver.url, &["member.added", "member.removed"]).await;
        receivers.push(receiver);
    }
    let unsubscribed = Receiver::start().await;
    app.create_webhook(&org, &owner, &unsubscribed.url, &["member.removed"]).await;

    add_someone(&app, &org, &owner, "bob").await;

    let mut ids = std::collections::HashSet::new();
    for receiver in &receivers {
        let got = receiver.wait_for(1, WAIT).await;
        assert_eq!(got[0].json()["event"], "member.added");
        ids.insert(got[0].header("webhook-id").to_owned());
    }
    assert_eq!(ids.len(), 20, "each webhook has its own delivery");
    futures::future::join_all(receivers.iter().map(|r| r.assert_stays_at(1, ms(500)))).await;
    unsubscribed.assert_stays_at(0, ms(100)).await;
    app.stop().await;
}

/// The metrics count attempts by outcome and report the pending backlog.
async fn metrics_report_deliveries(backend: Backend) {
    let app = TestApp::spawn_with(backend, |c| {
        c.webhook_retry_schedule = RetrySchedule(vec![Duration::from_secs(60)]);
    })
    .await;
    let (owner, org) = owner_and_org(&app).await;
    let ok = Receiver::start().await;
    let failing = Receiver::scripted(vec![Reply::status(500)]).await;
    let (ok_hook, _) = app.create_webhook(&org, &owner, &ok.url, &["member.added"]).await;
    app.create_webhook(&org, &owner, &failing.url, &["member.added"]).await;
    add_someone(&app, &org, &owner, "bob").await;
    ok.wait_for(1, WAIT).await;
    failing.wait_for(1, WAIT).await;
    finished(&app, &org, &ok_hook, &owner).await;

    // The failed attempt is recorded (and counted) shortly after the receiver answered.
    let deadline = Instant::now() + WAIT;
    let text = loop {
        let res = app.client.get(format!("{}/metrics", app.base)).send().await.expect("metrics");
        assert_eq!(res.status(), StatusCode::OK);
        let text = res.text().await.expect("metrics text");
        if text.contains("roster_webhook_attempts_total{outcome=\"retrying\"} 1") {
            break text;
        }
        assert!(Instant::now() < deadline, "retrying attempt never counted:\n{text}");
        tokio::time::sleep(ms(25)).await;
    };
    assert!(
        text.lines().any(|l| l == "roster_webhook_attempts_total{outcome=\"succeeded\"} 1"),
        "{text}"
    );
    assert!(text.lines().any(|l| l == "roster_webhook_pending_deliveries 1"), "{text}");
    app.stop().await;
}

on_both_backends!(
    body_headers_and_signatures,
    retry_schedule_is_followed,
    answers_are_classified,
    timeouts_and_refused_connections,
    recovers_after_failures,
    private_destinations_refused_at_delivery,
    inactive_and_deleted_webhooks_get_no_more_attempts,
    fan_out_to_every_subscriber,
    metrics_report_deliveries,
    nul_bytes_in_answers_are_recorded,
);

#[test]
fn default_schedule_and_timeout() {
    let config = Config::new("sqlite::memory:");
    assert_eq!(
        config.webhook_retry_schedule,
        RetrySchedule(vec![
            Duration::from_secs(1),
            Duration::from_secs(5),
            Duration::from_secs(30)
        ])
    );
    assert_eq!(config.webhook_timeout, Duration::from_secs(10));
    assert!(!config.webhook_allow_private);
}

#[test]
fn private_addresses_are_forbidden() {
    use roster::delivery::ssrf::is_forbidden;
    for ip in ["127.0.0.1", "10.0.0.1", "169.254.169.254", "::1", "::ffff:127.0.0.1"] {
        assert!(is_forbidden(ip.parse().expect("ip")), "{ip} must be forbidden");
    }
    assert!(!is_forbidden("93.184.216.34".parse().expect("ip")));
}
