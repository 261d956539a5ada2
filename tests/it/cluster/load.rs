//! The cluster tests' load: organizations renamed in a steady stream, each with a webhook for
//! `organization.updated` to a real receiver of its own; and what is checked once it stops.

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::json;
use tokio::task::JoinHandle;

use crate::common::Api;
use crate::common::api::TestUser;
use crate::common::receiver::{Receiver, Reply};
use crate::durability::received_counts;

/// Longer than any request should take, even mid-failover: a request past it is a failure.
const ANSWER_WITHIN: Duration = Duration::from_secs(20);
/// Retries run at 1 s, 5 s and 30 s, and a dead instance's claims fall due again within
/// seconds: every event has arrived well within this.
const DELIVERED_WITHIN: Duration = Duration::from_secs(90);

/// The organizations under load, all owned by one user.
pub(super) struct Tenants {
    owner: TestUser,
    orgs: Vec<Tenant>,
}

struct Tenant {
    id: String,
    receiver: Receiver,
}

impl Tenants {
    /// `count` organizations, each with a webhook to a receiver answering with `reply`.
    pub(super) async fn set_up(api: &Api, count: usize, reply: Reply) -> Self {
        let owner = api.register("owner").await;
        let mut orgs = Vec::with_capacity(count);
        for i in 0..count {
            let id = api.create_org(&owner, &format!("tenant {i}")).await;
            let receiver = Receiver::scripted(vec![reply]).await;
            api.create_webhook(&id, &owner, &receiver.url, &["organization.updated"]).await;
            orgs.push(Tenant { id, receiver });
        }
        Self { owner, orgs }
    }
}

impl Tenants {
    /// Renames the first organization once more through `api`; answers how long its
    /// delivery took to arrive from the moment the rename was acknowledged.
    pub(super) async fn time_one_rename(&self, api: &Api) -> Duration {
        let tenant = &self.orgs[0];
        let name = "tenant 0 timed";
        let path = format!("/api/organizations/{}", tenant.id);
        let (status, body) =
            api.patch(&path, Some(&self.owner.token), json!({ "name": name })).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let acknowledged = Instant::now();
        let deadline = acknowledged + DELIVERED_WITHIN;
        loop {
            let arrived = tenant
                .receiver
                .received()
                .into_iter()
                .find(|r| r.json()["data"]["changes"]["name"]["current"] == name);
            if let Some(r) = arrived {
                return r.at.saturating_duration_since(acknowledged);
            }
            assert!(Instant::now() < deadline, "the rename's delivery never arrived");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

enum Answer {
    Acknowledged,
    /// `503` with `Retry-After`: not done, try again.
    Unavailable,
    Unexpected(String),
}

struct Rename {
    org: usize,
    name: String,
    sent: Instant,
    answered: Instant,
    answer: Answer,
}

/// A running load: one writer per organization, and a probe of the first instance's readiness.
pub(super) struct Load {
    stop: Arc<AtomicBool>,
    renames: Arc<Mutex<Vec<Rename>>>,
    not_ready: Arc<AtomicUsize>,
    tasks: Vec<JoinHandle<()>>,
}

impl Load {
    /// Renames each organization every `pause`, through `apis` in turn.
    pub(super) fn start(apis: &[Api], tenants: &Tenants, pause: Duration) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let renames = Arc::new(Mutex::new(Vec::new()));
        let not_ready = Arc::new(AtomicUsize::new(0));
        let mut tasks: Vec<JoinHandle<()>> = tenants
            .orgs
            .iter()
            .enumerate()
            .map(|(org, tenant)| {
                let (apis, stop, renames) = (apis.to_vec(), stop.clone(), renames.clone());
                let (path, token) =
                    (format!("/api/organizations/{}", tenant.id), tenants.owner.token.clone());
                tokio::spawn(async move {
                    let mut k = 0;
                    while !stop.load(Ordering::Relaxed) {
                        let name = format!("tenant {org} rename {k}");
                        let sent = Instant::now();
                        let answer = rename(&apis[k % apis.len()], &path, &token, &name).await;
                        let answered = Instant::now();
                        let done = Rename { org, name, sent, answered, answer };
                        renames.lock().expect("renames").push(done);
                        k += 1;
                        tokio::time::sleep(pause).await;
                    }
                })
            })
            .collect();
        let (api, stop_probe, count) = (apis[0].clone(), stop.clone(), not_ready.clone());
        tasks.push(tokio::spawn(async move {
            while !stop_probe.load(Ordering::Relaxed) {
                let ready = api.client.get(format!("{}/api/ready", api.base)).send().await;
                if !ready.is_ok_and(|r| r.status() == StatusCode::OK) {
                    count.fetch_add(1, Ordering::Relaxed);
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }));
        Self { stop, renames, not_ready, tasks }
    }

    /// Waits until a rename sent after `since` was acknowledged; returns when. (One sent before
    /// may have committed before the disruption and been answered just after it.)
    pub(super) async fn wait_for_write_after(&self, since: Instant, timeout: Duration) -> Instant {
        let deadline = since + timeout;
        loop {
            let first = self
                .renames
                .lock()
                .expect("renames")
                .iter()
                .filter(|r| r.sent > since && matches!(r.answer, Answer::Acknowledged))
                .map(|r| r.answered)
                .min();
            if let Some(at) = first {
                return at;
            }
            assert!(Instant::now() < deadline, "no write succeeded within {timeout:?}");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Stops the writers (letting each finish its request) and checks everything they did: see
    /// [`Figures`]. `api` reads the result.
    pub(super) async fn stop_and_check(self, api: &Api, tenants: &Tenants) -> Figures {
        self.stop.store(true, Ordering::Relaxed);
        for task in self.tasks {
            task.await.expect("load task");
        }
        let renames = std::mem::take(&mut *self.renames.lock().expect("renames"));
        let not_ready_answers = self.not_ready.load(Ordering::Relaxed);
        check(api, tenants, renames, not_ready_answers).await
    }
}

async fn rename(api: &Api, path: &str, token: &str, name: &str) -> Answer {
    let sent = api
        .client
        .patch(format!("{}{path}", api.base))
        .bearer_auth(token)
        .json(&json!({ "name": name }))
        .timeout(ANSWER_WITHIN)
        .send()
        .await;
    let res = match sent {
        Ok(res) => res,
        Err(e) => return Answer::Unexpected(format!("no answer: {e}")),
    };
    let status = res.status();
    let retry_after = res.headers().get("retry-after").cloned();
    let body = res.text().await.unwrap_or_default();
    match status {
        StatusCode::OK => Answer::Acknowledged,
        StatusCode::SERVICE_UNAVAILABLE if retry_after.is_some() => Answer::Unavailable,
        _ => Answer::Unexpected(format!("{status} {retry_after:?} {body}")),
    }
}

/// What a load did, checked. `writes_lost` and `events_undelivered` are always 0 (checked);
/// the rest are figures.
pub(super) struct Figures {
    acknowledged: usize,
    unavailable: usize,
    /// Answered `503` yet committed (the connection was cut after the commit reached the
    /// standby): these have their event, as any committed write does.
    committed_unacknowledged: usize,
    writes_lost: usize,
    events: usize,
    events_undelivered: usize,
    /// The first two arrivals of each delivery that arrived more than once.
    delivered_twice: Vec<(Instant, Instant)>,
    pub(super) longest_without_writes: Duration,
    pub(super) not_ready_answers: usize,
}

impl Figures {
    /// Checks that every delivery made twice was first made by `to` and again after `from`:
    /// its first attempt's outcome was lost in the disruption between the two.
    pub(super) fn assert_repeats_straddle(&self, from: Instant, to: Instant) {
        for (first, second) in &self.delivered_twice {
            assert!(
                *first <= to && *second >= from,
                "a delivery made twice outside the disruption: first {:?} and again {:?} after \
                 it began",
                first.checked_duration_since(from),
                second.checked_duration_since(from)
            );
        }
    }
}

impl fmt::Display for Figures {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} writes acknowledged, {} answered 503 (of which {} committed), {} lost; {} events, \
             {} undelivered, {} delivered twice; longest time without writes {:.1} s; /api/ready \
             answered not ready {} times",
            self.acknowledged,
            self.unavailable,
            self.committed_unacknowledged,
            self.writes_lost,
            self.events,
            self.events_undelivered,
            self.delivered_twice.len(),
            self.longest_without_writes.as_secs_f64(),
            self.not_ready_answers
        )
    }
}

async fn check(api: &Api, tenants: &Tenants, renames: Vec<Rename>, not_ready: usize) -> Figures {
    let unexpected: Vec<String> = renames
        .iter()
        .filter_map(|r| match &r.answer {
            Answer::Unexpected(what) => Some(format!("{}: {what}", r.name)),
            _ => None,
        })
        .collect();
    assert!(
        unexpected.is_empty(),
        "answers other than 200, or 503 with Retry-After: {unexpected:#?}"
    );
    let acknowledged: Vec<&Rename> =
        renames.iter().filter(|r| matches!(r.answer, Answer::Acknowledged)).collect();
    let sent: HashSet<&str> = renames.iter().map(|r| r.name.as_str()).collect();

    let (mut writes_lost, mut events, mut undelivered, mut twice) = (0, 0, 0, Vec::new());
    let mut committed_unacknowledged = 0;
    for (i, tenant) in tenants.orgs.iter().enumerate() {
        // Every committed rename, newest first, by the name it set.
        let renamed: Vec<String> = api
            .events(&tenant.id, &tenants.owner)
            .await
            .into_iter()
            .filter(|e| e["event"] == "organization.updated")
            .map(|e| e["data"]["changes"]["name"]["current"].as_str().expect("name").to_owned())
            .collect();
        let logged: HashSet<&str> = renamed.iter().map(String::as_str).collect();
        assert!(logged.is_subset(&sent), "events for renames never sent");
        let ours: HashSet<&str> =
            acknowledged.iter().filter(|r| r.org == i).map(|r| r.name.as_str()).collect();
        writes_lost += ours.difference(&logged).count();
        committed_unacknowledged += logged.difference(&ours).count();
        events += logged.len();
        // No half-done change: the name stored is the one the newest event set.
        let (status, org) =
            api.get(&format!("/api/organizations/{}", tenant.id), Some(&tenants.owner.token)).await;
        assert_eq!(status, StatusCode::OK, "{org}");
        if let Some(newest) = renamed.first() {
            assert_eq!(org["name"], newest.as_str(), "the stored name is not the last event's");
        }
        let arrived = wait_for_names(&tenant.receiver, &logged).await;
        undelivered += logged.iter().filter(|name| !arrived.contains(**name)).count();
        received_counts([&tenant.receiver]); // checks the ID headers
        twice.extend(repeated_arrivals(&tenant.receiver));
    }
    let figures = Figures {
        acknowledged: acknowledged.len(),
        unavailable: renames.len() - acknowledged.len(),
        committed_unacknowledged,
        writes_lost,
        events,
        events_undelivered: undelivered,
        delivered_twice: twice,
        longest_without_writes: longest_gap(&acknowledged),
        not_ready_answers: not_ready,
    };
    assert_eq!(figures.writes_lost, 0, "acknowledged writes lost: {figures}");
    assert_eq!(figures.events_undelivered, 0, "events not delivered: {figures}");
    figures
}

/// The names the receiver's deliveries carry, once all of `expected` arrived (or the wait is
/// over).
async fn wait_for_names(receiver: &Receiver, expected: &HashSet<&str>) -> HashSet<String> {
    let deadline = Instant::now() + DELIVERED_WITHIN;
    loop {
        let arrived: HashSet<String> = receiver
            .received()
            .iter()
            .filter_map(|r| {
                r.json()["data"]["changes"]["name"]["current"].as_str().map(str::to_owned)
            })
            .collect();
        if expected.iter().all(|name| arrived.contains(*name)) || Instant::now() > deadline {
            return arrived;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

fn repeated_arrivals(receiver: &Receiver) -> Vec<(Instant, Instant)> {
    let mut arrivals: HashMap<String, Vec<Instant>> = HashMap::new();
    for r in receiver.received() {
        arrivals.entry(r.header("x-webhook-delivery").to_owned()).or_default().push(r.at);
    }
    arrivals.into_values().filter(|at| at.len() > 1).map(|at| (at[0], at[1])).collect()
}

fn longest_gap(acknowledged: &[&Rename]) -> Duration {
    let mut times: Vec<Instant> = acknowledged.iter().map(|r| r.answered).collect();
    times.sort();
    times.windows(2).map(|w| w[1] - w[0]).max().unwrap_or_default()
}
