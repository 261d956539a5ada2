//! `Retry-After` on a 429 or 503: the next attempt waits at least that long, capped, and it is
//! still an attempt of the schedule.

use std::time::Duration;

use serde_json::Value;

use super::{WAIT, add_someone, attempts, owner_and_org, time_of};
use crate::common::receiver::{Receiver, Reply};
use crate::common::{Backend, TestApp};

/// Waits until the webhook's only delivery has `n` attempts recorded; returns it.
async fn after_attempts(
    app: &TestApp,
    org: &str,
    hook: &str,
    owner: &crate::common::TestUser,
    n: usize,
) -> Value {
    let log = app
        .wait_for_deliveries(org, hook, owner, WAIT, |log| {
            log.len() == 1 && attempts(&log[0]).len() >= n
        })
        .await;
    log[0].clone()
}

fn gap(delivery: &Value, from: usize, to: usize) -> chrono::Duration {
    let a = attempts(delivery);
    time_of(&a[to]["attemptedAt"]) - time_of(&a[from]["attemptedAt"])
}

/// A 429 asking for 120 seconds: `nextAttemptAt` is 120 s on (the schedule said 1 s), the
/// retry comes then, and a later answer without the header goes back to the schedule.
async fn delta_seconds_are_honoured(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let receiver =
        Receiver::scripted(vec![Reply::status(429), Reply::status(500), Reply::status(200)]).await;
    receiver.answer_with_header("Retry-After", "120");
    let (owner, org) = owner_and_org(&app).await;
    let (hook, _) = app.create_webhook(&org, &owner, &receiver.url, &["member.added"]).await;
    add_someone(&app, &org, &owner, "bob").await;

    // The log may show the attempt a moment before the delivery's new due time (it reads
    // the two apart): wait for the time, which the schedule alone would make 1 s.
    let waits = |d: &Value| {
        let next = d["nextAttemptAt"].as_str().map(|_| time_of(&d["nextAttemptAt"]));
        next.zip(attempts(d).first()).map(|(next, a)| next - time_of(&a["attemptedAt"]))
    };
    let log = app
        .wait_for_deliveries(&org, &hook, &owner, WAIT, |log| {
            log.len() == 1 && waits(&log[0]).is_some_and(|w| w > chrono::Duration::seconds(60))
        })
        .await;
    let first = &log[0];
    assert_eq!(first["status"], "pending", "{first}");
    assert_eq!(attempts(first).len(), 1, "{first}");
    let waited = waits(first).unwrap_or_default();
    assert!(
        waited >= chrono::Duration::seconds(120) && waited < chrono::Duration::seconds(122),
        "nextAttemptAt {waited:?} after the 429"
    );

    app.drain().await;
    let done = after_attempts(&app, &org, &hook, &owner, 3).await;
    assert_eq!(done["status"], "succeeded", "{done}");
    assert!(gap(&done, 0, 1) >= chrono::Duration::seconds(120), "{done}");
    // The 500 carried the header too, but only 429 and 503 are heeded: the schedule's 5 s.
    assert!(gap(&done, 1, 2) < chrono::Duration::seconds(60), "{done}");
    assert_eq!(receiver.received().len(), 3);
    app.stop().await;
}

/// A 503 with an HTTP-date two hours on waits only the configured maximum (30 s here); the
/// attempts still count against the schedule, so the delivery fails after the fourth.
async fn http_dates_are_honoured_and_capped(backend: Backend) {
    let app = TestApp::spawn_with(backend, |c| {
        c.webhook_health.retry_after_max = Duration::from_secs(30);
    })
    .await;
    let receiver = Receiver::scripted(vec![Reply::status(503)]).await;
    let later = app.clock.now() + chrono::Duration::hours(2);
    receiver
        .answer_with_header("Retry-After", &later.format("%a, %d %b %Y %H:%M:%S GMT").to_string());
    let (owner, org) = owner_and_org(&app).await;
    let (hook, _) = app.create_webhook(&org, &owner, &receiver.url, &["member.added"]).await;
    add_someone(&app, &org, &owner, "bob").await;

    app.drain().await;
    let done = after_attempts(&app, &org, &hook, &owner, 4).await;
    assert_eq!(done["status"], "failed", "{done}");
    assert_eq!(attempts(&done).len(), 4, "{done}");
    for i in 0..3 {
        let waited = gap(&done, i, i + 1);
        assert!(
            waited >= chrono::Duration::seconds(30) && waited < chrono::Duration::seconds(32),
            "gap {i}: {waited:?}"
        );
    }
    app.stop().await;
}

on_both_backends!(delta_seconds_are_honoured, http_dates_are_honoured_and_capped);
