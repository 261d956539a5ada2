//! PostgreSQL: two instances on one database act as one.

use std::time::{Duration, Instant};

use roster::config::Config;

use super::{SharedOrg, deliver_each_once_through};
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
    // 300 events: each user joins and leaves 15 times, through A and B in turn, all users at
    // once.
    let SharedOrg { org, owner, receiver, events: total } =
        deliver_each_once_through(&a.api, &b.api, USERS, ROUNDS).await;

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
