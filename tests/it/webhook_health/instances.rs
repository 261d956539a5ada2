//! PostgreSQL: two instances recording results at once count every failure and disable a
//! webhook exactly once.

use std::time::Duration;

use super::{WAIT, fast_retries, logged, ms, view, view_until};
use crate::common::receiver::{Receiver, Reply};
use crate::common::{Backend, TestApp, TestDb, test_config};

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgres_two_instances_count_failures_and_disable_once() {
    if crate::common::postgres_disabled() {
        eprintln!("ROSTER_TEST_POSTGRES=off: not running on PostgreSQL");
        return;
    }
    const EVENTS: usize = 12;
    let db = TestDb::new(Backend::Postgres).await;
    let config = || {
        let mut config = test_config(&db.url);
        fast_retries(&mut config);
        config.webhook_health.disable_after_deliveries = 1000;
        config
    };
    let a = TestApp::start(config()).await;
    let b = TestApp::start(config()).await;
    let failing = Receiver::scripted(vec![Reply::status(500)]).await;
    let watcher = Receiver::start().await;
    let owner = a.api.register("owner").await;
    let users = b.api.register_many("member", EVENTS * 2).await;
    let org = a.api.create_org(&owner, "Two Instances").await;
    let (hook, _) = a.api.create_webhook(&org, &owner, &failing.url, &["member.added"]).await;
    b.api.create_webhook(&org, &owner, &watcher.url, &["webhook.disabled"]).await;
    let instances = [a.api.clone(), b.api.clone()];
    let add = |from: usize| {
        futures::future::join_all(users[from..from + EVENTS].iter().enumerate().map(|(i, user)| {
            let (api, org, owner) = (instances[i % 2].clone(), org.clone(), owner.clone());
            async move { api.add_member(&org, &owner, user, "MEMBER").await }
        }))
    };

    // Every delivery fails its four attempts, recorded by either instance: each one counts.
    add(0).await;
    failing.wait_for(EVENTS * 4, WAIT).await;
    let body = view_until(&a, &org, &hook, &owner, |v| v["failingDeliveries"] == EVENTS).await;
    assert_eq!(body["isActive"], true, "{body}");

    // Then the endpoint is gone, slowly: many 410s are in flight at once, on either
    // instance, and each is recorded; the first to be disables the webhook and says so.
    failing.set_script(vec![Reply::slow(410, ms(300))]);
    add(EVENTS).await;
    view_until(&b, &org, &hook, &owner, |v| v["disabledReason"] == "gone").await;
    a.drain().await;
    watcher.wait_for(1, WAIT).await;
    watcher.assert_stays_at(1, Duration::from_millis(500)).await;
    assert_eq!(logged(&a, &org, &owner, "webhook.disabled").await.len(), 1);
    assert_eq!(view(&b, &org, &hook, &owner).await["isActive"], false);
    a.stop().await;
    b.stop().await;
}

/// A rate limit is per webhook, not per instance: two instances claiming at once still send
/// at most `rateLimit` a second.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgres_two_instances_share_one_rate_limit() {
    if crate::common::postgres_disabled() {
        eprintln!("ROSTER_TEST_POSTGRES=off: not running on PostgreSQL");
        return;
    }
    let db = TestDb::new(Backend::Postgres).await;
    let a = TestApp::start(test_config(&db.url)).await;
    let b = TestApp::start(test_config(&db.url)).await;
    let receiver = Receiver::start().await;
    let owner = a.api.register("owner").await;
    let org = a.api.create_org(&owner, "Two Instances").await;
    let (status, body) = a
        .api
        .post(
            &super::hooks_path(&org),
            Some(&owner.token),
            serde_json::json!({"url": receiver.url, "events": ["member.added"], "rateLimit": 1}),
        )
        .await;
    assert_eq!(status, reqwest::StatusCode::CREATED, "{body}");
    let hook = body["id"].as_str().expect("id").to_owned();
    let test_path = format!("{}/test", super::hook_path(&org, &hook));
    for api in [&a.api, &b.api, &a.api, &b.api] {
        let (status, body) = api.post(&test_path, Some(&owner.token), serde_json::json!({})).await;
        assert!(status.is_success(), "{body}");
    }
    let got = receiver.wait_for(4, WAIT).await;
    receiver.assert_stays_at(4, ms(200)).await;
    let span = got[3].at - got[0].at;
    assert!(span >= Duration::from_millis(2400), "four deliveries at one a second within {span:?}");
    a.stop().await;
    b.stop().await;
}
