//! Webhook benchmark: a real server on a temporary database and a real receiver on loopback,
//! in one process. Prints, for SQLite and PostgreSQL:
//! - `POST …/webhooks` throughput and p50/p99 latency at 64 concurrent clients;
//! - delivery throughput from commit to receiver for 10,000 deliveries, beside the raw rate
//!   at which the same kind of HTTP client reaches the same receiver;
//! - commit-to-arrival latency p50/p99 at a steady 1,000 deliveries/s;
//! - fan-out: one event to 1,000 webhooks, time until the last arrives;
//! - the process's peak RSS.
//!
//! Run: `cargo bench --bench delivery` (both backends), or `-- sqlite` / `-- postgres`.
//! PostgreSQL: `ROSTER_BENCH_POSTGRES_URL` (default `postgres://postgres@127.0.0.1:5432/test`).

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

mod common;

use anyhow::Context;
use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use futures::StreamExt;
use roster::app::AppState;
use roster::domain::event::{Actor, EventType, NewEvent, OrgRef};
use roster::store::events;
use serde_json::{Value, json};
use tokio::sync::Notify;

use common::{ms, percentile};

const CLIENTS: usize = 64;
const CREATE_REQUESTS: usize = 3_200;
const THROUGHPUT_WEBHOOKS: usize = 100;
const THROUGHPUT_EVENTS: usize = 100;
const STEADY_RATE: u64 = 1_000;
const STEADY_SECONDS: u64 = 5;
const FANOUT: usize = 1_000;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    println!("Roster webhook benchmark ({} cores)", std::thread::available_parallelism()?.get());
    for backend in common::backends() {
        reset_peak_rss();
        run(backend).await.with_context(|| format!("{backend} benchmark"))?;
        println!(
            "peak RSS of the whole process (server, receiver and load generator): {:.1} MB",
            peak_rss_mb()
        );
    }
    Ok(())
}

struct Ctx {
    base: String,
    client: reqwest::Client,
    state: AppState,
    token: String,
    user_id: uuid::Uuid,
    receiver: Receiver,
}

async fn run(backend: &str) -> anyhow::Result<()> {
    println!("\n== {backend} ==");
    let server = common::Server::start(backend).await?;
    let (base, state) = (server.base.clone(), server.state.clone());
    let client = reqwest::Client::builder().pool_max_idle_per_host(CLIENTS).build()?;
    let registered: Value = client
        .post(format!("{base}/api/auth/register"))
        .json(&json!({"email": "bench@example.com", "password": "benchmark password", "name": "Bench"}))
        .send()
        .await?
        .json()
        .await?;
    let token = registered["accessToken"].as_str().context("token")?.to_owned();
    let user_id = registered["user"]["id"].as_str().context("user id")?.parse()?;
    let receiver = Receiver::start().await?;
    let ctx = Ctx { base, client, state, token, user_id, receiver };

    create_webhooks(&ctx).await?;
    delivery_throughput(&ctx).await?;
    steady_latency(&ctx).await?;
    fan_out(&ctx).await?;

    server.stop().await
}

impl Ctx {
    async fn org(&self, name: &str) -> anyhow::Result<OrgRef> {
        let body: Value = self
            .client
            .post(format!("{}/api/organizations", self.base))
            .bearer_auth(&self.token)
            .json(&json!({"name": name}))
            .send()
            .await?
            .json()
            .await?;
        Ok(OrgRef {
            id: body["id"].as_str().context("org id")?.parse()?,
            slug: body["slug"].as_str().context("slug")?.to_owned(),
            name: name.to_owned(),
        })
    }

    async fn webhook(&self, org: uuid::Uuid, path: &str, event: &str) -> anyhow::Result<Duration> {
        let started = Instant::now();
        let res = self
            .client
            .post(format!("{}/api/organizations/{org}/webhooks", self.base))
            .bearer_auth(&self.token)
            .json(&json!({"url": format!("{}{path}", self.receiver.url), "events": [event]}))
            .send()
            .await?;
        anyhow::ensure!(res.status() == 201, "webhook create answered {}", res.status());
        Ok(started.elapsed())
    }

    /// Commits one event the way a handler does: appended in a transaction, then committed.
    async fn commit_event(
        &self,
        org: &OrgRef,
        event: EventType,
        data: Value,
    ) -> anyhow::Result<()> {
        let mut tx = self.state.db.begin_write().await?;
        let event = NewEvent::new(
            event,
            org.clone(),
            Actor::User(self.user_id),
            data,
            self.state.clock.now(),
        );
        events::append(&mut tx, &event).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Creates `n` webhooks subscribed to `event` with `concurrency` requests at a time.
    async fn webhooks(&self, org: uuid::Uuid, n: usize, event: &str) -> anyhow::Result<()> {
        let ctx = self;
        let mut pending = futures::stream::iter(0..n)
            .map(|i| async move { ctx.webhook(org, &format!("/w/{i}"), event).await })
            .buffer_unordered(16);
        while let Some(result) = pending.next().await {
            result?;
        }
        Ok(())
    }
}

async fn create_webhooks(ctx: &Ctx) -> anyhow::Result<()> {
    let org = ctx.org("Create bench").await?;
    let per_client = CREATE_REQUESTS / CLIENTS;
    let started = Instant::now();
    let tasks = (0..CLIENTS).map(|c| {
        let org = org.id;
        async move {
            let mut latencies = Vec::with_capacity(per_client);
            for i in 0..per_client {
                latencies
                    .push(ctx.webhook(org, &format!("/c/{c}/{i}"), "oauth_app.revoked").await?);
            }
            Ok::<_, anyhow::Error>(latencies)
        }
    });
    let mut latencies: Vec<Duration> = futures::future::try_join_all(tasks).await?.concat();
    let elapsed = started.elapsed();
    latencies.sort();
    println!(
        "POST /webhooks, {CLIENTS} clients: {:.0} req/s, p50 {:.1} ms, p99 {:.1} ms ({} requests)",
        latencies.len() as f64 / elapsed.as_secs_f64(),
        ms(percentile(&latencies, 0.50)),
        ms(percentile(&latencies, 0.99)),
        latencies.len()
    );
    Ok(())
}

async fn delivery_throughput(ctx: &Ctx) -> anyhow::Result<()> {
    let org = ctx.org("Throughput bench").await?;
    ctx.webhooks(org.id, THROUGHPUT_WEBHOOKS, "member.added").await?;
    let total = THROUGHPUT_WEBHOOKS * THROUGHPUT_EVENTS;
    let before = ctx.receiver.count();
    let started = Instant::now();
    for i in 0..THROUGHPUT_EVENTS {
        ctx.commit_event(&org, EventType::MemberAdded, json!({"n": i})).await?;
    }
    ctx.receiver.wait_for(before + total, Duration::from_secs(120)).await?;
    let rate = total as f64 / started.elapsed().as_secs_f64();

    // The same kind of client (pooled, rustls-capable, no redirects) straight at the receiver.
    let raw_client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .pool_max_idle_per_host(256)
        .tcp_nodelay(true)
        .build()?;
    let body = Bytes::from(vec![b'x'; 300]);
    let raw_started = Instant::now();
    let url = format!("{}/raw", ctx.receiver.url);
    futures::stream::iter(0..total)
        .map(|_| raw_client.post(&url).body(body.clone()).send())
        .buffer_unordered(128)
        .for_each(|r| async move {
            if let Err(err) = r {
                eprintln!("raw request failed: {err}");
            }
        })
        .await;
    let raw_rate = total as f64 / raw_started.elapsed().as_secs_f64();
    println!(
        "delivery throughput, {total} deliveries commit-to-receiver: {rate:.0}/s; raw client to the same receiver: {raw_rate:.0}/s; ratio {:.2}",
        rate / raw_rate
    );
    Ok(())
}

async fn steady_latency(ctx: &Ctx) -> anyhow::Result<()> {
    let org = ctx.org("Latency bench").await?;
    ctx.webhook(org.id, "/steady", "member.role_updated").await?;
    let total = (STEADY_RATE * STEADY_SECONDS) as usize;
    let before = ctx.receiver.count();
    ctx.receiver.track_sequences();
    let mut committed = HashMap::with_capacity(total);
    let mut ticker = tokio::time::interval(Duration::from_micros(1_000_000 / STEADY_RATE));
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
    for seq in 0..total as u64 {
        ticker.tick().await;
        ctx.commit_event(&org, EventType::MemberRoleUpdated, json!({"seq": seq})).await?;
        committed.insert(seq, Instant::now());
    }
    ctx.receiver.wait_for(before + total, Duration::from_secs(60)).await?;
    let arrivals = ctx.receiver.sequences();
    let mut latencies: Vec<Duration> = arrivals
        .iter()
        .filter_map(|(seq, at)| committed.get(seq).map(|c| at.saturating_duration_since(*c)))
        .collect();
    latencies.sort();
    println!(
        "commit-to-arrival at {STEADY_RATE}/s for {STEADY_SECONDS}s: p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms ({} deliveries)",
        ms(percentile(&latencies, 0.50)),
        ms(percentile(&latencies, 0.99)),
        ms(latencies.last().copied().unwrap_or_default()),
        latencies.len()
    );
    Ok(())
}

async fn fan_out(ctx: &Ctx) -> anyhow::Result<()> {
    let org = ctx.org("Fan-out bench").await?;
    ctx.webhooks(org.id, FANOUT, "member.removed").await?;
    let before = ctx.receiver.count();
    let started = Instant::now();
    ctx.commit_event(&org, EventType::MemberRemoved, json!({})).await?;
    ctx.receiver.wait_for(before + FANOUT, Duration::from_secs(60)).await?;
    println!(
        "fan-out: one event to {FANOUT} webhooks, last arrival after {:.0} ms",
        ms(started.elapsed())
    );
    Ok(())
}

/// Lets each backend's run report its own peak (Linux: writing 5 to clear_refs resets VmHWM).
fn reset_peak_rss() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

fn peak_rss_mb() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<f64>().ok())
        })
        .map(|kb| kb / 1024.0)
        .unwrap_or(f64::NAN)
}

/// A loopback receiver that counts arrivals and, when asked, records when each `data.seq`
/// arrived.
#[derive(Clone)]
struct Receiver {
    url: String,
    shared: Arc<ReceiverShared>,
}

#[derive(Default)]
struct ReceiverShared {
    count: AtomicUsize,
    track: std::sync::atomic::AtomicBool,
    sequences: Mutex<Vec<(u64, Instant)>>,
    arrived: Notify,
}

impl Receiver {
    async fn start() -> anyhow::Result<Self> {
        let shared = Arc::new(ReceiverShared::default());
        let app = Router::new().fallback(receive).with_state(shared.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let url = format!("http://{}", listener.local_addr()?);
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Ok(Self { url, shared })
    }

    fn count(&self) -> usize {
        self.shared.count.load(Ordering::SeqCst)
    }

    fn track_sequences(&self) {
        self.shared.track.store(true, Ordering::SeqCst);
    }

    fn sequences(&self) -> Vec<(u64, Instant)> {
        self.shared.sequences.lock().map(|s| s.clone()).unwrap_or_default()
    }

    async fn wait_for(&self, n: usize, timeout: Duration) -> anyhow::Result<()> {
        let deadline = Instant::now() + timeout;
        while self.count() < n {
            let notified = self.shared.arrived.notified();
            if self.count() >= n {
                break;
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if tokio::time::timeout(left.min(Duration::from_millis(100)), notified).await.is_err()
                && Instant::now() >= deadline
            {
                anyhow::bail!("only {} of {n} deliveries arrived within {timeout:?}", self.count());
            }
        }
        Ok(())
    }
}

async fn receive(State(shared): State<Arc<ReceiverShared>>, body: Bytes) -> &'static str {
    let at = Instant::now();
    if shared.track.load(Ordering::Relaxed)
        && let Ok(json) = serde_json::from_slice::<Value>(&body)
        && let Some(seq) = json["data"]["seq"].as_u64()
        && let Ok(mut seqs) = shared.sequences.lock()
    {
        seqs.push((seq, at));
    }
    shared.count.fetch_add(1, Ordering::SeqCst);
    shared.arrived.notify_waiters();
    "ok"
}
