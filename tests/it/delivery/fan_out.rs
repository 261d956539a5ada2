//! One event reaches every subscribed webhook, once.

use super::{WAIT, add_someone, ms, owner_and_org};
use crate::common::receiver::Receiver;
use crate::common::{Backend, TestApp};

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

on_both_backends!(fan_out_to_every_subscriber);
