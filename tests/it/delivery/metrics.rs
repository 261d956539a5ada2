//! The delivery metrics.

use std::time::{Duration, Instant};

use reqwest::StatusCode;
use roster::config::RetrySchedule;

use super::{WAIT, add_someone, finished, ms, owner_and_org};
use crate::common::receiver::{Receiver, Reply};
use crate::common::{Backend, TestApp};

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

on_both_backends!(metrics_report_deliveries);
