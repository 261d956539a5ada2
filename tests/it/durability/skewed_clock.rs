//! PostgreSQL: an instance whose own clock runs 45 s ahead (libfaketime) works on the
//! database's time, so it neither takes over the other instance's live leases (delivering
//! twice) nor stamps what it stores in its own future.

use std::path::Path;
use std::time::Duration;

use chrono::{DateTime, Utc};
use reqwest::StatusCode;

use super::crash::ChildServer;
use super::{
    MEMBER_EVENTS, all_succeeded, assert_one_delivery_per_event, event_ids_of, received_counts,
};
use crate::common::receiver::{Receiver, Reply};
use crate::common::{Backend, TestDb};

const LIBFAKETIME: &str = "/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1";
const SKEW: &str = "+45s";

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgres_an_instance_with_a_clock_45s_ahead_delivers_nothing_twice() {
    if crate::common::postgres_disabled() {
        eprintln!("ROSTER_TEST_POSTGRES=off: not running on PostgreSQL");
        return;
    }
    assert!(Path::new(LIBFAKETIME).exists(), "{LIBFAKETIME} is missing: apt-get install faketime");
    const EVENTS: usize = 60;
    let db = TestDb::new(Backend::Postgres).await;
    let dir = tempfile::tempdir().expect("temp dir");
    let on_time = ChildServer::start_with(&db.url, dir.path(), "on-time", &[]).await;
    let ahead = ChildServer::start_with(
        &db.url,
        dir.path(),
        "ahead",
        &[
            ("LD_PRELOAD", LIBFAKETIME),
            ("FAKETIME", SKEW),
            // Only the wall clock is off, as on a machine whose NTP has failed.
            ("FAKETIME_DONT_FAKE_MONOTONIC", "1"),
        ],
    )
    .await;
    assert!(
        ahead.log_text().contains("differs from the database's"),
        "the skewed instance did not notice its clock:\n{}",
        ahead.log_text()
    );

    // Each attempt takes a while, so that many are under a lease (3 s here) when the other
    // instance claims: one that read its own clock would find them all expired.
    let receiver =
        Receiver::scripted(vec![Reply::slow(200, Duration::from_millis(400)); EVENTS]).await;
    let owner = on_time.api.register("owner").await;
    let users = ahead.api.register_many("joiner", EVENTS).await;
    let org = ahead.api.create_org(&owner, "Skewed").await;
    let (webhook, _) =
        on_time.api.create_webhook(&org, &owner, &receiver.url, &MEMBER_EVENTS).await;

    let instances = [on_time.api.clone(), ahead.api.clone()];
    futures::future::join_all(users.iter().enumerate().map(|(i, user)| {
        let (api, org, owner) = (instances[i % 2].clone(), org.clone(), owner.clone());
        async move { api.add_member(&org, &owner, user, "MEMBER").await }
    }))
    .await;

    receiver.wait_for(EVENTS, Duration::from_secs(60)).await;
    // Longer than a lease: a delivery taken over early would arrive a second time by now.
    receiver.assert_stays_at(EVENTS, Duration::from_secs(4)).await;
    let counts = received_counts([&receiver]);
    let twice: Vec<_> = counts.iter().filter(|(_, c)| **c > 1).collect();
    assert!(twice.is_empty(), "deliveries made more than once: {twice:?}");

    let events = on_time.api.events(&org, &owner).await;
    let subscribed = event_ids_of(&events, &MEMBER_EVENTS);
    assert_eq!(subscribed.len(), EVENTS);
    let log = ahead
        .api
        .wait_for_deliveries(&org, &webhook, &owner, Duration::from_secs(10), all_succeeded)
        .await;
    assert_one_delivery_per_event(&log, &subscribed);
    for d in &log {
        assert_eq!(d["attempts"].as_array().expect("attempts").len(), 1, "one attempt each: {d}");
    }

    // What the skewed instance stores carries the database's time, not its own.
    let (status, body) =
        ahead.api.get(&format!("/api/organizations/{org}"), Some(&owner.token)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let created: DateTime<Utc> =
        body["createdAt"].as_str().expect("createdAt").parse().expect("a time");
    let off = (created - Utc::now()).num_seconds().abs();
    assert!(off < 10, "createdAt {created} is {off}s off the real time");
}
