//! The webhook delivery engine over real HTTP, on SQLite and PostgreSQL: the exact body and
//! headers of a delivery and both of its signatures (checked here, and by the seed page's own
//! Node `verifySignature`), the retry schedule, how every kind of answer is classified and
//! logged, SSRF refusal at delivery time, inactive and deleted webhooks, fan-out, the default
//! schedule, and the delivery metrics.

mod answers;
mod destinations;
mod fan_out;
mod isolation;
mod metrics;
mod request;
mod retries;

use std::time::{Duration, Instant};

use reqwest::StatusCode;
use roster::config::{Config, RetrySchedule};
use serde_json::Value;

use crate::common::receiver::Received;
use crate::common::{Api, TestApp, TestUser};

/// How long any single expected delivery may take to show up.
const WAIT: Duration = Duration::from_secs(15);

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

/// Retries 50 ms apart, so a failing delivery is `failed` well within a second.
fn fast_retries(c: &mut Config) {
    c.webhook_retry_schedule = RetrySchedule(vec![ms(50); 3]);
}

/// An owner and their organization "Acme Corp".
async fn owner_and_org(app: &TestApp) -> (TestUser, String) {
    let owner = app.register("owner").await;
    let org = app.create_org(&owner, "Acme Corp").await;
    (owner, org)
}

/// Registers `name` and adds them to `org` as MEMBER: one `member.added` event.
async fn add_someone(app: &TestApp, org: &str, owner: &TestUser, name: &str) -> TestUser {
    let user = app.register(name).await;
    app.add_member(org, owner, &user, "MEMBER").await;
    user
}

/// The webhook's delivery log, newest first.
async fn deliveries_at(api: &Api, org: &str, hook: &str, owner: &TestUser) -> Vec<Value> {
    let path = format!("/api/organizations/{org}/webhooks/{hook}/deliveries?limit=100");
    let (status, body) = api.get(&path, Some(&owner.token)).await;
    assert_eq!(status, StatusCode::OK, "deliveries: {body}");
    body["data"].as_array().expect("data").clone()
}

/// Waits until the webhook has exactly one delivery and it is no longer pending; returns it.
/// The server's clock runs as it does: this waits for retries rather than jumping to them.
async fn finished(app: &TestApp, org: &str, hook: &str, owner: &TestUser) -> Value {
    let recorded = app.state.db.wakeups();
    let deadline = Instant::now() + WAIT;
    loop {
        let next_record = recorded.next_record();
        let log = deliveries_at(app, org, hook, owner).await;
        if log.len() == 1 && log[0]["status"] != "pending" {
            return log[0].clone();
        }
        assert!(Instant::now() < deadline, "delivery still unfinished after {WAIT:?}: {log:?}");
        // The worker's next record is what can change the log; the timeout covers a record
        // that landed before this wait began.
        let _ = tokio::time::timeout(ms(100), next_record).await;
    }
}

fn attempts(delivery: &Value) -> &Vec<Value> {
    delivery["attempts"].as_array().expect("attempts")
}

/// Asserts the attempts are numbered 1..=n.
fn assert_numbered(delivery: &Value, n: usize) {
    let numbers: Vec<i64> =
        attempts(delivery).iter().map(|a| a["number"].as_i64().expect("number")).collect();
    let expected: Vec<i64> = (1..=n as i64).collect();
    assert_eq!(numbers, expected, "{delivery}");
}

/// All requests carry the same `webhook-id`, and `X-Webhook-Delivery` equals it.
fn single_webhook_id(got: &[Received]) -> String {
    let id = got[0].header("webhook-id").to_owned();
    assert!(!id.is_empty(), "webhook-id missing");
    for r in got {
        assert_eq!(r.header("webhook-id"), id, "webhook-id changed between retries");
        assert_eq!(r.header("x-webhook-delivery"), id);
    }
    id
}
