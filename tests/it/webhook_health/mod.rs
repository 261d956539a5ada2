//! Endpoint health over real HTTP, on SQLite and PostgreSQL: `Retry-After`, `410 Gone`,
//! auto-disabling a webhook whose deliveries keep failing and re-enabling it, the
//! operational events `webhook.disabled` and `delivery.exhausted`, custom headers, and the
//! per-webhook rate limit.

mod failing;
mod gone;
mod headers;
mod instances;
mod rate_limit;
mod retry_after;

use std::time::{Duration, Instant};

use reqwest::StatusCode;
use roster::config::{Config, RetrySchedule};
use serde_json::Value;

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

fn hooks_path(org: &str) -> String {
    format!("/api/organizations/{org}/webhooks")
}

fn hook_path(org: &str, hook: &str) -> String {
    format!("/api/organizations/{org}/webhooks/{hook}")
}

/// An owner and their organization "Acme Corp".
async fn owner_and_org(app: &TestApp) -> (TestUser, String) {
    let owner = app.register("owner").await;
    let org = app.create_org(&owner, "Acme Corp").await;
    (owner, org)
}

/// Registers `name` and adds them to `org` as MEMBER: one `member.added` event.
async fn add_someone(app: &TestApp, org: &str, owner: &TestUser, name: &str) {
    let user = app.register(name).await;
    app.add_member(org, owner, &user, "MEMBER").await;
}

/// The webhook as its owner reads it.
async fn view(api: &Api, org: &str, hook: &str, owner: &TestUser) -> Value {
    let (status, body) = api.get(&hook_path(org, hook), Some(&owner.token)).await;
    assert_eq!(status, StatusCode::OK, "webhook: {body}");
    body
}

/// Polls the webhook until `done` holds for it; panics with it after [`WAIT`].
async fn view_until(
    api: &Api,
    org: &str,
    hook: &str,
    owner: &TestUser,
    done: impl Fn(&Value) -> bool,
) -> Value {
    let deadline = Instant::now() + WAIT;
    loop {
        let body = view(api, org, hook, owner).await;
        if done(&body) {
            return body;
        }
        assert!(Instant::now() < deadline, "webhook never settled: {body}");
        tokio::time::sleep(ms(50)).await;
    }
}

/// The events of the organization's log of type `name`, newest first.
async fn logged(app: &TestApp, org: &str, owner: &TestUser, name: &str) -> Vec<Value> {
    app.events(org, owner).await.into_iter().filter(|e| e["event"] == name).collect()
}

fn time_of(value: &Value) -> chrono::DateTime<chrono::Utc> {
    value.as_str().and_then(|s| s.parse().ok()).unwrap_or_else(|| panic!("a time: {value}"))
}

fn attempts(delivery: &Value) -> &Vec<Value> {
    delivery["attempts"].as_array().expect("attempts")
}
