//! Durability of webhook delivery over real HTTP, on SQLite and PostgreSQL: a SIGKILLed
//! server loses no delivery, clients hanging up mid-request lose none and duplicate none,
//! graceful shutdown finishes and records in-flight attempts, and (PostgreSQL) several
//! instances on one database deliver each delivery exactly once and wake each other.
mod common;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::receiver::{Received, Receiver, Reply};
use common::{Api, Backend, TestApp, TestDb, TestUser, test_config};
use reqwest::{Method, StatusCode};
use roster::config::Config;
use serde_json::{Value, json};

const MEMBER_EVENTS: [&str; 2] = ["member.added", "member.removed"];

/// IDs of the logged events whose type is one of `types`.
fn event_ids_of(events: &[Value], types: &[&str]) -> BTreeSet<String> {
    events
        .iter()
        .filter(|e| types.contains(&e["event"].as_str().expect("event type")))
        .map(|e| e["id"].as_str().expect("event id").to_owned())
        .collect()
}

fn str_field(value: &Value, field: &str) -> String {
    value[field].as_str().unwrap_or_else(|| panic!("{field} in {value}")).to_owned()
}

/// Checks that the delivery log holds exactly one delivery per event in `expected_events`
/// and nothing else; returns the delivery IDs.
fn assert_one_delivery_per_event(
    log: &[Value],
    expected_events: &BTreeSet<String>,
) -> BTreeSet<String> {
    let mut per_event: BTreeMap<String, usize> = BTreeMap::new();
    for d in log {
        *per_event.entry(str_field(d, "eventId")).or_default() += 1;
    }
    let duplicated: Vec<_> = per_event.iter().filter(|(_, n)| **n > 1).collect();
    assert!(duplicated.is_empty(), "events with more than one delivery: {duplicated:?}");
    let logged: BTreeSet<String> = per_event.into_keys().collect();
    let missing: Vec<_> = expected_events.difference(&logged).collect();
    assert!(missing.is_empty(), "subscribed events without a delivery: {missing:?}");
    let extra: Vec<_> = logged.difference(expected_events).collect();
    assert!(extra.is_empty(), "deliveries of unexpected events: {extra:?}");
    log.iter().map(|d| str_field(d, "id")).collect()
}

/// How many times each delivery ID reached the receivers, checking that both ID headers agree.
fn received_counts<'a>(
    receivers: impl IntoIterator<Item = &'a Receiver>,
) -> HashMap<String, usize> {
    let mut counts = HashMap::new();
    for receiver in receivers {
        for r in receiver.received() {
            let id = r.header("x-webhook-delivery").to_owned();
            assert!(!id.is_empty(), "a delivery without X-Webhook-Delivery: {:?}", r.headers);
            assert_eq!(r.header("webhook-id"), id, "webhook-id and X-Webhook-Delivery differ");
            *counts.entry(id).or_default() += 1;
        }
    }
    counts
}

/// Waits until `receiver` has had at least `n` requests; false after `timeout`.
async fn wait_received(receiver: &Receiver, n: usize, timeout: Duration) -> bool {
    let deadline = Instant::now() + timeout;
    while receiver.received().len() < n {
        if Instant::now() > deadline {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    true
}

fn all_succeeded(log: &[Value]) -> bool {
    log.iter().all(|d| d["status"] == "succeeded")
}

fn secret_key_base64() -> String {
    roster::config::SecretKey([42; 32]).to_base64()
}

// --------------------------------------------------------------------------------------------
// The real binary as a child process.

struct ChildServer {
    child: Child,
    api: Api,
    log: PathBuf,
}

impl ChildServer {
    /// Starts `roster serve` on `database_url` and waits (bounded) until it answers ready.
    async fn start(database_url: &str, dir: &Path, name: &str) -> Self {
        let port = {
            let probe = std::net::TcpListener::bind("127.0.0.1:0").expect("bind probe");
            probe.local_addr().expect("probe addr").port()
        };
        let log = dir.join(format!("{name}.log"));
        let out = std::fs::File::create(&log).expect("log file");
        let err = out.try_clone().expect("log file");
        let child = Command::new(env!("CARGO_BIN_EXE_roster"))
            .arg("serve")
            .current_dir(dir)
            .env("ROSTER_DATABASE_URL", database_url)
            .env("ROSTER_ADDR", format!("127.0.0.1:{port}"))
            .env("ROSTER_SECRET_KEY", secret_key_base64())
            .env("ROSTER_WEBHOOK_ALLOW_PRIVATE", "true")
            .env("ROSTER_WEBHOOK_TIMEOUT", "2s")
            // A killed instance's claims fall due again 2s + 1s after they were made.
            .env("ROSTER_WEBHOOK_LEASE_MARGIN", "1s")
            .env("RUST_LOG", "info")
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .spawn()
            .expect("roster binary starts");
        let mut server = Self { child, api: Api::new(format!("http://127.0.0.1:{port}")), log };
        let probe = reqwest::Client::builder()
            .timeout(Duration::from_millis(500))
            .build()
            .expect("probe client");
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if let Ok(Some(status)) = server.child.try_wait() {
                panic!("roster exited early ({status}):\n{}", server.log_text());
            }
            let ready = probe.get(format!("{}/api/ready", server.api.base)).send().await;
            if ready.is_ok_and(|r| r.status() == StatusCode::OK) {
                return server;
            }
            if Instant::now() > deadline {
                panic!("roster not ready within 10s:\n{}", server.log_text());
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// SIGKILL: no shutdown, no cleanup.
    fn kill(&mut self) {
        self.child.kill().expect("SIGKILL");
        self.child.wait().expect("reaped");
    }
}

impl Drop for ChildServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

// --------------------------------------------------------------------------------------------
// 1. SIGKILL mid-delivery, restart on the same database: nothing lost.

async fn sigkill_mid_delivery_then_restart_loses_nothing(backend: Backend) {
    const EVENTS: usize = 30;
    let db = TestDb::new(backend).await;
    let dir = tempfile::tempdir().expect("temp dir");
    // A few quick answers, so some deliveries are finished and recorded before the kill, then
    // slow ones, so others are in flight when it comes.
    let mut script = vec![Reply::status(200); 3];
    script.push(Reply::slow(200, Duration::from_millis(1500)));
    let slow = Receiver::scripted(script).await;

    let mut first = ChildServer::start(&db.url, dir.path(), "first").await;
    let api = first.api.clone();
    let owner = api.register("owner").await;
    let users = api.register_many("joiner", EVENTS).await;
    let org = api.create_org(&owner, "Crash Test").await;
    let (webhook, _) = api.create_webhook(&org, &owner, &slow.url, &MEMBER_EVENTS).await;

    // Events keep coming while deliveries are made; the kill lands in the middle of both.
    let generator = tokio::spawn({
        let (api, org, owner, users) = (api.clone(), org.clone(), owner.clone(), users.clone());
        async move {
            for (i, user) in users.iter().enumerate() {
                match api.add_member_request(&org, &owner, user, "MEMBER").send().await {
                    Ok(res) => assert_eq!(res.status(), StatusCode::CREATED, "add member {i}"),
                    Err(_) => return i,
                }
                tokio::time::sleep(Duration::from_millis(15)).await;
            }
            users.len()
        }
    });
    slow.wait_for(8, Duration::from_secs(15)).await;
    first.kill();
    let seen_before_kill = slow.received().len();
    let reached = generator.await.expect("generator");

    let fast = Receiver::start().await;
    let second = ChildServer::start(&db.url, dir.path(), "second").await;
    let api = second.api.clone();
    let (status, body) = api
        .call(
            Method::PATCH,
            &format!("/api/organizations/{org}/webhooks/{webhook}"),
            Some(&owner.token),
            Some(json!({"url": fast.url})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "point the webhook at the new receiver: {body}");
    // The rest of the events, on the new instance. The request the kill cut short may or may
    // not have committed.
    for (i, user) in users.iter().enumerate().skip(reached) {
        let res =
            api.add_member_request(&org, &owner, user, "MEMBER").send().await.expect("answer");
        let ok = res.status() == StatusCode::CREATED
            || (i == reached && res.status() == StatusCode::CONFLICT);
        assert!(ok, "add member {i} after restart: {}", res.status());
    }

    let events = api.events(&org, &owner).await;
    let subscribed = event_ids_of(&events, &MEMBER_EVENTS);
    let added: BTreeSet<String> = events
        .iter()
        .filter(|e| e["event"] == "member.added")
        .map(|e| str_field(&e["data"], "userId"))
        .collect();
    for user in &users {
        assert!(added.contains(&user.id), "no member.added event for {}", user.email);
    }
    let log = api
        .wait_for_deliveries(&org, &webhook, &owner, Duration::from_secs(30), |log| {
            log.len() == subscribed.len() && all_succeeded(log)
        })
        .await;
    let delivery_ids = assert_one_delivery_per_event(&log, &subscribed);

    let counts = received_counts([&slow, &fast]);
    let missing: Vec<_> = delivery_ids.iter().filter(|id| !counts.contains_key(*id)).collect();
    assert!(missing.is_empty(), "deliveries never received: {missing:?}");
    let unknown: Vec<_> = counts.keys().filter(|id| !delivery_ids.contains(*id)).collect();
    assert!(unknown.is_empty(), "received deliveries missing from the log: {unknown:?}");
    // The kill interrupted attempts already at the receiver; they were made again.
    let repeated = counts.values().filter(|n| **n > 1).count();
    assert!(
        repeated >= 1,
        "no interrupted attempt was repeated ({seen_before_kill} seen before the kill, \
         counts {counts:?})"
    );
    for d in &log {
        let attempts = d["attempts"].as_array().expect("attempts");
        let last = attempts.last().unwrap_or_else(|| panic!("no attempt recorded: {d}"));
        assert_eq!(last["statusCode"], 200, "{d}");
    }
    // Nothing more arrives once everything succeeded.
    let total = slow.received().len() + fast.received().len();
    fast.assert_stays_at(fast.received().len(), Duration::from_millis(1500)).await;
    assert_eq!(slow.received().len() + fast.received().len(), total);
    eprintln!(
        "{backend:?}: {} events before the kill, {seen_before_kill} requests seen before it, \
         {} deliveries, {repeated} repeated after restart",
        reached,
        log.len()
    );
    drop(second);
}

// --------------------------------------------------------------------------------------------
// 2. Clients hanging up mid-request: every committed event gets exactly one delivery.

async fn abandoned_requests_lose_and_duplicate_no_delivery(backend: Backend) {
    const TYPES: [&str; 3] = ["member.added", "member.removed", "member.role_updated"];
    let app = TestApp::spawn(backend).await;
    let api = app.api.clone();
    let receiver = Receiver::start().await;
    let owner = api.register("owner").await;
    let users = api.register_many("member", 10).await;
    let org = api.create_org(&owner, "Hangups").await;
    let (webhook, _) = api.create_webhook(&org, &owner, &receiver.url, &TYPES).await;
    for user in &users {
        api.add_member(&org, &owner, user, "MEMBER").await;
    }

    // Clients that give up after 1 to 233 ms, most within 5 ms: requests are abandoned at every
    // stage, before the transaction, inside it, and between its commit and the response.
    let impatient: Vec<reqwest::Client> =
        [1, 2, 3, 4, 5, 1, 2, 3, 4, 5, 8, 13, 21, 34, 55, 89, 144, 233]
            .into_iter()
            .map(|ms| {
                reqwest::Client::builder()
                    .timeout(Duration::from_millis(ms))
                    .build()
                    .expect("impatient client")
            })
            .collect();
    let requests = (0..200).map(|i| {
        let client = impatient[i % impatient.len()].clone();
        let user = &users[i % users.len()];
        let member = format!("{}/api/organizations/{org}/members/{}", app.base, user.id);
        let req = match (i / users.len()) % 4 {
            0 => client.patch(&member).json(&json!({"role": "ADMIN"})),
            1 => client.patch(&member).json(&json!({"role": "MEMBER"})),
            2 => client.delete(&member),
            _ => client
                .post(format!("{}/api/organizations/{org}/members", app.base))
                .json(&json!({"email": user.email, "role": "MEMBER"})),
        };
        req.bearer_auth(&owner.token).send()
    });
    let results = futures::future::join_all(requests).await;
    let abandoned = results.iter().filter(|r| r.is_err()).count();
    let answered = results.len() - abandoned;
    assert!(abandoned > 0, "no request was abandoned; the test proves nothing");

    // Handlers of abandoned requests may still be finishing: wait for the log to settle.
    let mut events = api.events(&org, &owner).await;
    for _ in 0..20 {
        tokio::time::sleep(Duration::from_millis(300)).await;
        let again = api.events(&org, &owner).await;
        if again.len() == events.len() {
            break;
        }
        events = again;
    }
    let subscribed = event_ids_of(&events, &TYPES);
    let n = subscribed.len();
    assert!(n > users.len(), "no change of the burst committed; the test proves nothing");

    if !wait_received(&receiver, n, Duration::from_secs(20)).await {
        let log = api.deliveries(&org, &webhook, &owner).await;
        let counts = received_counts([&receiver]);
        let summary: Vec<String> = log
            .iter()
            .map(|d| {
                let times = counts.get(&str_field(d, "id")).copied().unwrap_or(0);
                format!(
                    "{} {} {} received={times} {}",
                    d["eventId"], d["event"], d["status"], d["attempts"]
                )
            })
            .collect();
        let delivered: BTreeSet<String> = log.iter().map(|d| str_field(d, "eventId")).collect();
        let orphans: Vec<&Value> = events
            .iter()
            .filter(|e| {
                subscribed.contains(&str_field(e, "id")) && !delivered.contains(&str_field(e, "id"))
            })
            .collect();
        panic!(
            "expected {n} deliveries, received {}; events without a delivery: {orphans:?}\nlog:\n{}",
            receiver.received().len(),
            summary.join("\n")
        );
    }
    // Longer than the fallback poll, so a delivery queued twice would show.
    receiver.assert_stays_at(n, Duration::from_millis(1500)).await;

    let events = api.events(&org, &owner).await;
    assert_eq!(event_ids_of(&events, &TYPES), subscribed, "the event log changed after settling");
    let log = api
        .wait_for_deliveries(&org, &webhook, &owner, Duration::from_secs(10), all_succeeded)
        .await;
    let delivery_ids = assert_one_delivery_per_event(&log, &subscribed);
    let counts = received_counts([&receiver]);
    let twice: Vec<_> = counts.iter().filter(|(_, c)| **c > 1).collect();
    assert!(twice.is_empty(), "deliveries received more than once: {twice:?}");
    let received: BTreeSet<String> = counts.into_keys().collect();
    assert_eq!(received, delivery_ids, "received deliveries differ from the delivery log");
    eprintln!(
        "{backend:?}: {abandoned} requests abandoned, {answered} answered, {} events from the burst",
        n - users.len()
    );
    app.stop().await;
}

// --------------------------------------------------------------------------------------------
// 3. Graceful shutdown finishes and records the attempt in flight.

async fn graceful_shutdown_finishes_in_flight_attempts(backend: Backend) {
    let receiver = Receiver::scripted(vec![Reply::slow(200, Duration::from_secs(1))]).await;
    let mut app = TestApp::spawn(backend).await;
    let api = app.api.clone();
    let owner = api.register("owner").await;
    let joiner = api.register("joiner").await;
    let org = api.create_org(&owner, "Shutdown").await;
    let (webhook, _) = api.create_webhook(&org, &owner, &receiver.url, &["member.added"]).await;
    api.add_member(&org, &owner, &joiner, "MEMBER").await;
    receiver.wait_for(1, Duration::from_secs(5)).await;

    // Keep the database past the first server's end (TestApp::stop drops the TestDb it owns).
    let db = app.db.take().expect("the app owns its database");
    let stopping = Instant::now();
    app.stop().await;
    let took = stopping.elapsed();
    assert!(took < Duration::from_secs(10), "shutdown took {took:?}");

    let second = TestApp::start(test_config(&db.url)).await;
    let log = second.api.deliveries(&org, &webhook, &owner).await;
    assert_eq!(log.len(), 1, "{log:?}");
    let delivery = &log[0];
    assert_eq!(delivery["status"], "succeeded", "{delivery}");
    assert_eq!(delivery["nextAttemptAt"], Value::Null, "{delivery}");
    let attempts = delivery["attempts"].as_array().expect("attempts");
    assert_eq!(attempts.len(), 1, "{delivery}");
    assert_eq!(attempts[0]["number"], 1, "{delivery}");
    assert_eq!(attempts[0]["statusCode"], 200, "{delivery}");
    let received = receiver.received();
    assert_eq!(received[0].header("x-webhook-delivery"), delivery["id"].as_str().expect("id"));

    // The new instance has nothing to do: the attempt is not made again.
    receiver.assert_stays_at(1, Duration::from_secs(2)).await;
    let log = second.api.deliveries(&org, &webhook, &owner).await;
    assert_eq!(log[0]["attempts"].as_array().expect("attempts").len(), 1, "{log:?}");
    second.stop().await;
}

on_both_backends!(
    sigkill_mid_delivery_then_restart_loses_nothing,
    abandoned_requests_lose_and_duplicate_no_delivery,
    graceful_shutdown_finishes_in_flight_attempts,
);

// --------------------------------------------------------------------------------------------
// 4. PostgreSQL: two instances on one database act as one.

fn slow_poll_config(url: &str) -> Config {
    let mut config = test_config(url);
    // Only a wake-up (local or NOTIFY) can explain a delivery within milliseconds.
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
    if common::postgres_disabled() {
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
        assert!(took < Duration::from_millis(500), "delivery {i} took {took:?}");
    }

    // A third instance whose worker never claims anything (no delivery slots): a commit made
    // there can only reach A's or B's worker through PostgreSQL's NOTIFY.
    let mut mute = slow_poll_config(&db.url);
    mute.webhook_concurrency = 0;
    let c = TestApp::start(mute).await;
    for (i, user) in latecomers.iter().skip(4).enumerate() {
        n += 1;
        let took = add_and_time_arrival(&c.api, &org, &owner, user, &receiver, n).await;
        assert!(took < Duration::from_millis(500), "delivery {i} via NOTIFY took {took:?}");
    }
    receiver.assert_stays_at(n, Duration::from_millis(500)).await;

    c.stop().await;
    a.stop().await;
    b.stop().await;
}
