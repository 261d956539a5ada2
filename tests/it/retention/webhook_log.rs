//! The webhook log is pruned past its retention periods: attempts of finished deliveries,
//! then finished deliveries, then events no delivery needs, in batches; a pending delivery,
//! its attempts and its event stay. Several instances pruning at once share the work.

use std::time::Duration;

use chrono::Utc;
use roster::config::{Config, RetrySchedule};
use roster::store::Db;
use roster::store::log_retention::{self, Cutoffs};
use serde_json::Value;

use super::{counts, until_counts};
use crate::common::receiver::{Receiver, Reply};
use crate::common::{Backend, TestApp, TestUser};

const HOUR: u64 = 3600;
const LOG: [&str; 3] = ["delivery_attempts", "deliveries", "events"];

fn short_periods(c: &mut Config) {
    c.prune_interval = Duration::from_millis(200);
    c.retention.attempts = Duration::from_secs(2 * HOUR);
    c.retention.deliveries = Duration::from_secs(4 * HOUR);
    c.retention.events = Duration::from_secs(8 * HOUR);
    // Fewer rows than each table holds: every table takes several batches.
    c.retention_batch = 2;
    // A failed attempt waits long for its retry: the delivery stays pending.
    c.webhook_retry_schedule = RetrySchedule(vec![Duration::from_secs(1000 * HOUR)]);
    c.access_token_ttl = Duration::from_secs(1000 * HOUR);
}

async fn invite(app: &TestApp, org: &str, owner: &TestUser, n: usize) {
    for i in 0..n {
        app.invite(org, owner, &format!("person{i}@example.com"), "MEMBER").await;
    }
}

fn settled(log: &[Value], n: usize, status: &str) -> bool {
    log.len() == n
        && log
            .iter()
            .all(|d| d["status"] == status && d["attempts"].as_array().map(Vec::len) == Some(1))
}

async fn old_finished_log_goes_and_what_is_pending_stays(backend: Backend) {
    let app = TestApp::spawn_with(backend, short_periods).await;
    let owner = app.register("owner").await;
    let org = app.create_org(&owner, "Acme").await;
    let (ok, down) = (Receiver::start().await, Receiver::scripted(vec![Reply::status(500)]).await);
    let (delivered, _) = app.create_webhook(&org, &owner, &ok.url, &["invite.created"]).await;
    let (failing, _) = app.create_webhook(&org, &owner, &down.url, &["invite.cancelled"]).await;
    invite(&app, &org, &owner, 3).await;
    let wait = Duration::from_secs(10);
    app.wait_for_deliveries(&org, &delivered, &owner, wait, |d| settled(d, 3, "succeeded")).await;
    let pending = app.invite(&org, &owner, "pending@example.com", "MEMBER").await;
    let path = format!("/api/organizations/{org}/invites/{}", pending["id"].as_str().expect("id"));
    let (status, body) = app.delete(&path, Some(&owner.token)).await;
    assert!(status.is_success(), "{body}");
    app.wait_for_deliveries(&org, &delivered, &owner, wait, |d| settled(d, 4, "succeeded")).await;
    app.wait_for_deliveries(&org, &failing, &owner, wait, |d| settled(d, 1, "pending")).await;
    let db = &app.state.db;
    let before = counts(db, &LOG).await;
    assert_eq!(&before[..2], &[("delivery_attempts", 5), ("deliveries", 5)], "{before:?}");
    let events = before[2].1;

    // Past the attempts' period: the finished deliveries' attempts go, the pending one's stay.
    app.advance(Duration::from_secs(3 * HOUR));
    until_counts(db, &[("delivery_attempts", 1), ("deliveries", 5), ("events", events)]).await;
    // Past the deliveries' period: the finished ones go.
    app.advance(Duration::from_secs(2 * HOUR));
    until_counts(db, &[("delivery_attempts", 1), ("deliveries", 1), ("events", events)]).await;
    // Past the events' period: all go but the one the pending delivery still needs.
    app.advance(Duration::from_secs(4 * HOUR));
    until_counts(db, &[("delivery_attempts", 1), ("deliveries", 1), ("events", 1)]).await;
    let (status, page) =
        app.get(&format!("/api/organizations/{org}/events"), Some(&owner.token)).await;
    assert_eq!(status, reqwest::StatusCode::OK, "{page}");
    let left: Vec<&Value> = page["data"].as_array().expect("data").iter().collect();
    assert_eq!(left.len(), 1, "{page}");
    assert_eq!(left[0]["event"], "invite.cancelled");
    let since =
        chrono::DateTime::parse_from_rfc3339(page["retainedSince"].as_str().expect("since"))
            .expect("RFC 3339");
    let reach = app.clock.now() - since.to_utc() - chrono::Duration::hours(8);
    assert!((0..5000).contains(&reach.num_milliseconds()), "{page}");
    app.stop().await;
}

async fn instances_pruning_at_once_share_the_work(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let owner = app.register("owner").await;
    let org = app.create_org(&owner, "Acme").await;
    let ok = Receiver::start().await;
    let (hook, _) = app.create_webhook(&org, &owner, &ok.url, &["invite.created"]).await;
    invite(&app, &org, &owner, 12).await;
    let wait = Duration::from_secs(10);
    app.wait_for_deliveries(&org, &hook, &owner, wait, |d| settled(d, 12, "succeeded")).await;

    let url = app.db.as_ref().expect("own database").url.clone();
    let everything = Utc::now() + chrono::Duration::days(1);
    let cutoffs = Cutoffs {
        attempts: everything,
        deliveries: everything,
        events: everything,
        idempotency_keys: everything,
    };
    let instances = [Db::connect(&url).await.expect("db"), Db::connect(&url).await.expect("db")];
    let passes = instances.iter().flat_map(|db| [db, db]).map(|db| {
        let cutoffs = &cutoffs;
        async move { log_retention::prune(db, cutoffs, 2, || false).await }
    });
    for pass in futures::future::join_all(passes).await {
        pass.expect("a pass alongside others succeeds");
    }
    until_counts(&app.state.db, &[("delivery_attempts", 0), ("deliveries", 0), ("events", 0)])
        .await;
    app.stop().await;
}

on_both_backends!(
    old_finished_log_goes_and_what_is_pending_stays,
    instances_pruning_at_once_share_the_work
);
