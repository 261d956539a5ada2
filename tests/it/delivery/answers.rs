//! How every kind of answer (or no answer) is classified and logged.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use serde_json::Value;
use tokio::net::TcpListener;

use super::{
    WAIT, add_someone, assert_numbered, attempts, fast_retries, finished, ms, owner_and_org,
    single_webhook_id,
};
use crate::common::receiver::{Receiver, Reply};
use crate::common::{Backend, TestApp};

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

on_both_backends!(
    answers_are_classified,
    timeouts_and_refused_connections,
    nul_bytes_in_answers_are_recorded
);
