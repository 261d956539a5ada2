//! PostgreSQL: two instances on one database act as one.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use roster::config::Config;

use super::{
    MEMBER_EVENTS, all_succeeded, assert_one_delivery_per_event, event_ids_of, received_counts,
};
use crate::common::receiver::{Received, Receiver};
use crate::common::{Api, Backend, TestApp, TestDb, TestUser, test_config};

/// Far below the 30 s poll interval, so a delivery within it was woken, and far above what a
/// loaded CI machine takes to deliver one.
const WOKEN_WITHIN: Duration = Duration::from_secs(5);

fn slow_poll_config(url: &str) -> Config {
    let mut config = test_config(url);
    // Only a wake-up (local or NOTIFY) can explain a delivery well within the poll interval.
    config.webhook_poll_interval = Duration::from_secs(30);
    config
}

/// Adds `user` through `api` and returns how long until `receiver` had `n` requests.
async fn add_and_time_arrival(
    api: &Api,
    org: &str,
    owner: &TestUser,
    user: &TestUser,
    receiver: &Receiver,
    n: usize,
) -> Duration {
    let started = Instant::now();
    api.add_member(org, owner, user, "MEMBER").await;
    let got: Vec<Received> = receiver.wait_for(n, Duration::from_secs(5)).await;
    got[n - 1].at.saturating_duration_since(started)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgres_two_instances_deliver_each_delivery_exactly_once() {
    if crate::common::postgres_disabled() {
        eprintln!("ROSTER_TEST_POSTGRES=off: not running on PostgreSQL");
        return;
    }
    const USERS: usize = 10;
    const ROUNDS: usize = 30;
    let db = TestDb::new(Backend::Postgres).await;
    let a = TestApp::start(slow_poll_config(&db.url)).await;
    let b = TestApp::start(slow_poll_config(&db.url)).await;
    let receiver = Receiver::start().await;
    let owner = a.api.register("owner").await;
    let users = b.api.register_many("member", USERS).await;
    let org = a.api.create_org(&owner, "Scale Out").await;
    let (webhook, _) = b.api.create_webhook(&org, &owner, &receiver.url, &MEMBER_EVENTS).await;

    // 300 events: each user joins and leaves 15 times, through A and B in turn, all users at
    // once.
    let instances = [a.api.clone(), b.api.clone()];
    futures::future::join_all(users.iter().enumerate().map(|(u, user)| {
        let (instances, org, owner) = (instances.clone(), org.clone(), owner.clone());
        async move {
            for k in 0..ROUNDS {
                let api = &instances[(u + k) % 2];
                if k % 2 == 0 {
                    api.add_member(&org, &owner, user, "MEMBER").await;
                } else {
                    api.remove_member(&org, &owner, user).await;
                }
            }
        }
    }))
    .await;
    let total = USERS * ROUNDS;

    receiver.wait_for(total, Duration::from_secs(30)).await;
    receiver.assert_stays_at(total, Duration::from_secs(2)).await;
    let counts = received_counts([&receiver]);
    let twice: Vec<_> = counts.iter().filter(|(_, c)| **c > 1).collect();
    assert!(twice.is_empty(), "deliveries made more than once: {twice:?}");
    assert_eq!(counts.len(), total);

    let events = a.api.events(&org, &owner).await;
    let subscribed = event_ids_of(&events, &MEMBER_EVENTS);
    assert_eq!(subscribed.len(), total);
    let log = b
        .api
        .wait_for_deliveries(&org, &webhook, &owner, Duration::from_secs(10), all_succeeded)
        .await;
    let delivery_ids = assert_one_delivery_per_event(&log, &subscribed);
    let received: BTreeSet<String> = counts.into_keys().collect();
    assert_eq!(received, delivery_ids, "received deliveries differ from the delivery log");
    for d in &log {
        assert_eq!(d["attempts"].as_array().expect("attempts").len(), 1, "one attempt each: {d}");
    }

    // A commit wakes the workers at once even though their poll is 30s.
    let latecomers = a.api.register_many("latecomer", 6).await;
    let mut n = total;
    for (i, user) in latecomers.iter().take(4).enumerate() {
        n += 1;
        let api = if i % 2 == 0 { &a.api } else { &b.api };
        let took = add_and_time_arrival(api, &org, &owner, user, &receiver, n).await;
        assert!(took < WOKEN_WITHIN, "delivery {i} took {took:?}");
    }

    // A third instance whose worker never claims anything (no delivery slots): a commit made
    // there can only reach A's or B's worker through PostgreSQL's NOTIFY.
    let mut mute = slow_poll_config(&db.url);
    mute.delivery_limits.concurrency = 0;
    let c = TestApp::start(mute).await;
    for (i, user) in latecomers.iter().skip(4).enumerate() {
        n += 1;
        let took = add_and_time_arrival(&c.api, &org, &owner, user, &receiver, n).await;
        assert!(took < WOKEN_WITHIN, "delivery {i} via NOTIFY took {took:?}");
    }
    receiver.assert_stays_at(n, Duration::from_millis(500)).await;

    c.stop().await;
    a.stop().await;
    b.stop().await;
}
