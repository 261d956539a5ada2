//! A SIGKILLed server, restarted on the same database, loses no delivery.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use reqwest::{Method, StatusCode};
use serde_json::json;

use super::{
    MEMBER_EVENTS, all_succeeded, assert_one_delivery_per_event, event_ids_of, received_counts,
    str_field,
};
use crate::common::receiver::{Receiver, Reply};
use crate::common::{Api, Backend, TestDb};

fn secret_key_base64() -> String {
    roster::config::SecretKey([42; 32]).to_base64()
}

pub(crate) struct ChildServer {
    child: Child,
    pub api: Api,
    log: PathBuf,
}

impl ChildServer {
    /// Starts `roster serve` on `database_url` and waits (bounded) until it answers ready.
    async fn start(database_url: &str, dir: &Path, name: &str) -> Self {
        Self::start_with(database_url, dir, name, &[]).await
    }

    /// Like [`Self::start`], with more environment settings.
    pub(crate) async fn start_with(
        database_url: &str,
        dir: &Path,
        name: &str,
        env: &[(&str, &str)],
    ) -> Self {
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
            // Members are added right after registering, with no inbox to verify from.
            .env("ROSTER_REQUIRE_VERIFIED_EMAIL", "false")
            .envs(env.iter().copied())
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

    pub(crate) fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// SIGKILL: no shutdown, no cleanup.
    pub(crate) fn kill(&mut self) {
        self.child.kill().expect("SIGKILL");
        self.child.wait().expect("reaped");
    }
}

impl Drop for ChildServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        // A failing test shows what the server said went wrong.
        if std::thread::panicking() {
            let log = self.log_text();
            let problems: Vec<&str> =
                log.lines().filter(|l| l.contains("ERROR") || l.contains("WARN")).collect();
            let tail = &problems[problems.len().saturating_sub(30)..];
            eprintln!("--- {}: its last errors and warnings\n{}", self.api.base, tail.join("\n"));
        }
    }
}

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

on_both_backends!(sigkill_mid_delivery_then_restart_loses_nothing);
