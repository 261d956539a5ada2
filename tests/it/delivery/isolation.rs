//! A dead endpoint slows only itself, and a busy organization leaves room for the others:
//! each webhook and each organization holds at most its share of the attempt slots.

use std::time::{Duration, Instant};

use roster::config::{Config, DeliveryLimits};
use serde_json::json;

use super::{WAIT, ms};
use crate::common::receiver::Receiver;
use crate::common::tarpit::Tarpit;
use crate::common::{Backend, TestApp, TestUser};

/// Few slots, so that without shares a hung endpoint would take them all; attempts that
/// outlast the test; and a shutdown that does not wait for them.
fn few_slots(c: &mut Config) {
    c.delivery_limits = DeliveryLimits { concurrency: 8, per_webhook: 2, per_organization: 4 };
    c.webhook_timeout = Duration::from_secs(60);
    c.shutdown_grace = ms(200);
}

/// Renames `org` `n` times: each rename is one `organization.updated` delivery per webhook.
async fn rename(app: &TestApp, org: &str, owner: &TestUser, n: usize, tag: &str) {
    for i in 0..n {
        let path = format!("/api/organizations/{org}");
        let (status, body) =
            app.patch(&path, Some(&owner.token), json!({"name": format!("{tag} {i}")})).await;
        assert_eq!(status, 200, "rename: {body}");
    }
}

async fn org_of(app: &TestApp, name: &str) -> (TestUser, String) {
    let owner = app.register(name).await;
    let org = app.create_org(&owner, name).await;
    (owner, org)
}

/// An organization whose six webhooks all hang holds four slots (its share) and no more;
/// another organization's deliveries arrive at once.
async fn a_hung_organization_leaves_the_others_their_slots(backend: Backend) {
    let app = TestApp::spawn_with(backend, few_slots).await;
    let tarpit = Tarpit::start().await;
    let (noisy_owner, noisy) = org_of(&app, "noisy").await;
    for _ in 0..6 {
        app.create_webhook(&noisy, &noisy_owner, &tarpit.url, &["organization.updated"]).await;
    }
    rename(&app, &noisy, &noisy_owner, 5, "noisy").await;
    tarpit.wait_for(4, WAIT).await;

    let (quiet_owner, quiet) = org_of(&app, "quiet").await;
    let receiver = Receiver::start().await;
    app.create_webhook(&quiet, &quiet_owner, &receiver.url, &["organization.updated"]).await;
    let started = Instant::now();
    rename(&app, &quiet, &quiet_owner, 5, "quiet").await;
    receiver.wait_for(5, Duration::from_secs(5)).await;
    assert!(started.elapsed() < Duration::from_secs(5));
    assert_eq!(tarpit.accepted(), 4, "the hung organization holds its share, no more");
    app.stop().await;
}

/// Inside one organization, a hung webhook holds two slots (its share); the organization's
/// healthy webhook keeps receiving.
async fn a_hung_webhook_leaves_its_organization_the_rest(backend: Backend) {
    let app = TestApp::spawn_with(backend, few_slots).await;
    let tarpit = Tarpit::start().await;
    let receiver = Receiver::start().await;
    let (owner, org) = org_of(&app, "acme").await;
    app.create_webhook(&org, &owner, &tarpit.url, &["organization.updated"]).await;
    app.create_webhook(&org, &owner, &receiver.url, &["organization.updated"]).await;

    rename(&app, &org, &owner, 6, "acme").await;
    receiver.wait_for(6, Duration::from_secs(5)).await;
    tarpit.wait_for(2, WAIT).await;
    receiver.assert_stays_at(6, ms(200)).await;
    assert_eq!(tarpit.accepted(), 2, "the hung webhook holds its share, no more");
    app.stop().await;
}

on_both_backends!(
    a_hung_organization_leaves_the_others_their_slots,
    a_hung_webhook_leaves_its_organization_the_rest
);
