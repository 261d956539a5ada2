//! The `email` workload: whether queueing an email slows the request that causes it. On each
//! server, rounds of invites that queue no email (`"sendEmail": false`, before) alternate
//! with rounds that queue one (`true`, after), each to a fresh address; then rounds of
//! password resets for addresses with an account alternate with rounds for unknown ones,
//! whose answers should take as long. Three servers in turn, each on a database of its own:
//!
//! - the worker sends to an SMTP sink in this process while the requests run, and the outbox
//!   is drained (bounded) after every round, so a round without email has an idle worker;
//! - the worker's sends hang on a relay that never answers, so it writes nothing while the
//!   rounds run: what is left is the cost of queueing alone;
//! - the worker writes email to its log, under `RUST_LOG=warn` so that each email's INFO line
//!   is filtered out (invites only).

mod server;
mod sink;
mod tally;

use std::net::{IpAddr, Ipv4Addr};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::Context;
use futures::StreamExt;
use serde_json::json;

use crate::server::Backend;
use crate::stage::Settings;
use server::EmailServer;
use sink::SmtpSink;
pub use tally::print_table;
use tally::{Row, Tally, compare};

/// Invites in flight: a few, so that a latency is mostly the request's own.
const CLIENTS: usize = 4;
/// Resets in flight: one, so that a difference in timing is the request's own, not a queue's
/// (on SQLite, every client waits for the single writer behind the others).
const RESET_CLIENTS: usize = 1;
/// Rounds of each variant, in the order ABBA ABBA, so both sit as early and as late on average.
/// Each reset address is asked for once a round: 4 stays under the 5 allowed per address.
const ROUNDS: usize = 4;
const INVITES_PER_ROUND: usize = 500;
/// Link requests one client network may make within the window (5 per address, × 4).
const PER_NETWORK: usize = 20;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Relay {
    Sink,
    Silent,
    Log,
}

impl Relay {
    fn label(self) -> &'static str {
        match self {
            Relay::Sink => "SMTP sink",
            Relay::Silent => "SMTP relay that never answers",
            Relay::Log => "log, RUST_LOG=warn",
        }
    }
}

pub async fn run(
    backend: Backend,
    settings: &Settings,
    writes: Option<usize>,
) -> anyhow::Result<Vec<Row>> {
    let per_round = writes.unwrap_or(INVITES_PER_ROUND);
    // One organization a round, under the default quota of 1,000 pending invites each.
    anyhow::ensure!((20..=1000).contains(&per_round), "email: --writes must be 20 to 1,000");
    let resets_per_round = (per_round / 5).clamp(PER_NETWORK, 500);
    let name = match backend {
        Backend::Sqlite => "sqlite",
        Backend::Postgres => "postgres",
    };
    println!("== email on {name} ==");
    let mut rows = Vec::new();
    for relay in [Relay::Sink, Relay::Silent, Relay::Log] {
        let measured = measure(relay, backend, settings, per_round, resets_per_round).await?;
        rows.extend(measured.into_iter().map(|(request, variant, tally)| Row {
            backend: name,
            relay: relay.label(),
            request,
            variant,
            tally,
        }));
    }
    Ok(rows)
}

/// One server sending email through `relay`: its invite and (but for the log) reset figures.
async fn measure(
    relay: Relay,
    backend: Backend,
    settings: &Settings,
    per_round: usize,
    resets_per_round: usize,
) -> anyhow::Result<Vec<(&'static str, &'static str, Tally)>> {
    let sink = match relay {
        Relay::Sink => Some(SmtpSink::start().await?),
        Relay::Silent => Some(SmtpSink::silent().await?),
        Relay::Log => None,
    };
    let url = sink.as_ref().map(|sink| sink.url.clone());
    let mut env: Vec<_> = url.iter().map(|url| ("ROSTER_SMTP_URL", url.clone())).collect();
    match relay {
        Relay::Sink => println!(
            "  The server sends to an SMTP sink in this process ({}) while the requests run; \
             RUST_LOG=warn",
            url.as_deref().unwrap_or("-")
        ),
        Relay::Silent => {
            // Longer than the run: no send times out, so the worker records nothing.
            env.push(("ROSTER_EMAIL_TIMEOUT", "10m".into()));
            println!(
                "  The server's sends hang on an SMTP relay that never answers: its worker \
                 writes nothing while the rounds run, and the outbox only grows"
            );
        }
        Relay::Log => println!(
            "  The server writes email to its log (no ROSTER_SMTP_URL) with RUST_LOG=warn: the \
             INFO line of each email is filtered out"
        ),
    }
    // Waiting for the outbox to empty is for a worker that can empty it.
    let drain = (relay != Relay::Silent).then_some(settings.drain);
    let server = EmailServer::start(settings, backend, env, CLIENTS * 2).await?;
    let measured = async {
        let [before, after] = invites(&server, per_round, sink.as_ref(), drain).await?;
        let mut rows = vec![
            ("POST …/invites", "sendEmail false", before),
            ("POST …/invites", "sendEmail true", after),
        ];
        if relay != Relay::Log {
            let [account, nobody] = resets(&server, resets_per_round, drain).await?;
            rows.push(("POST …/password-reset", "account", account));
            rows.push(("POST …/password-reset", "no account", nobody));
        }
        anyhow::Ok(rows)
    };
    let measured = measured.await;
    if let (Relay::Silent, Some(sink)) = (relay, &sink) {
        println!("    connections held open by the relay: {}", sink.connections());
    }
    // Closes a silent relay's connections: the sends in flight end, and the server can stop.
    drop(sink);
    let stopped = server.stop().await;
    let rows = measured?;
    stopped?;
    Ok(rows)
}

/// Rounds of invites without and with an email; the figures of each variant.
async fn invites(
    s: &EmailServer,
    per_round: usize,
    sink: Option<&SmtpSink>,
    drain: Option<Duration>,
) -> anyhow::Result<[Tally; 2]> {
    let owner = s.register(&unique("owner")).await?;
    let mut orgs = Vec::new();
    for i in 0..=2 * ROUNDS {
        let body = json!({"name": format!("Email load {i}")});
        let org = s.call("/api/organizations", Some(&owner), body, 201).await?;
        orgs.push(org["id"].as_str().context("organization without id")?.to_owned());
    }
    let invite = |org: &str, send: bool| {
        let body = json!({"email": unique("invitee"), "role": "MEMBER", "sendEmail": send});
        let url = s.url(&format!("/api/organizations/{org}/invites"));
        s.http.post(url).bearer_auth(&owner).json(&body)
    };
    // Not measured: warms connections, caches and both paths.
    for send in [false, true] {
        round(s, CLIENTS, per_round / 5, |_| invite(&orgs[0], send)).await;
    }
    if let Some(bound) = drain {
        s.drain(bound).await?;
    }
    let (sent_before, _) = s.email_metrics().await?;
    let received_before = sink.map(SmtpSink::received);
    let mut tallies = [Tally::default(), Tally::default()];
    let (mut waited, mut undrained) = (Duration::ZERO, 0);
    for (r, org) in orgs[1..].iter().enumerate() {
        let send = matches!(r % 4, 1 | 2);
        tallies[usize::from(send)].add(round(s, CLIENTS, per_round, |_| invite(org, send)).await);
        if let Some(bound) = drain {
            match s.drain(bound).await? {
                Some(took) => waited += took,
                None => undrained += 1,
            }
        }
    }
    let (sent_after, pending) = s.email_metrics().await?;
    println!(
        "  {ROUNDS} rounds × {per_round} invites per variant, alternating, {CLIENTS} clients:"
    );
    tallies[0].print("sendEmail false:");
    tallies[1].print("sendEmail true:");
    println!("    {}", compare(&tallies[0], &tallies[1]));
    let received = match (sink, received_before) {
        (Some(sink), Some(before)) => format!("; taken by the relay: {}", sink.received() - before),
        _ => String::new(),
    };
    let drained = match drain {
        None => "not drained".to_owned(),
        Some(_) if undrained > 0 => format!("{undrained} rounds not drained in time"),
        Some(_) => {
            format!("outbox drained after each round, {:.1} s all told", waited.as_secs_f64())
        }
    };
    println!(
        "    emails queued by the measured requests: {} (one per sendEmail true); sent by the \
         server meanwhile: {}; pending at the end: {pending}{received}; {drained}",
        tallies[1].ms.len(),
        sent_after - sent_before,
    );
    Ok(tallies)
}

/// Rounds of password resets for addresses with an account and without; the figures of each.
/// Every 20 requests come from a loopback address of their own, the per-network share.
async fn resets(
    s: &EmailServer,
    per_round: usize,
    drain: Option<Duration>,
) -> anyhow::Result<[Tally; 2]> {
    let known: Vec<String> = (0..per_round).map(|_| unique("reset")).collect();
    let unknown: Vec<String> = (0..per_round).map(|_| unique("nobody")).collect();
    let mut registering = futures::stream::iter(&known).map(|e| s.register(e)).buffer_unordered(8);
    while let Some(registered) = registering.next().await {
        registered?;
    }
    if let Some(bound) = drain {
        s.drain(bound).await?;
    }
    let networks = per_round.div_ceil(PER_NETWORK);
    let mut tallies = [Tally::default(), Tally::default()];
    for r in 0..2 * ROUNDS {
        let account = matches!(r % 4, 0 | 3);
        let addresses = if account { &known } else { &unknown };
        let clients = (0..networks)
            .map(|k| from_address(r * networks + k))
            .collect::<anyhow::Result<Vec<_>>>()?;
        // Opens each client's connection before the round.
        let ready = clients.iter().map(|c| c.get(s.url("/api/ready")));
        futures::future::join_all(ready.map(reqwest::RequestBuilder::send)).await;
        let url = s.url("/api/auth/password-reset");
        let tally = round(s, RESET_CLIENTS, per_round, |i| {
            clients[i / PER_NETWORK].post(&url).json(&json!({"email": addresses[i]}))
        })
        .await;
        tallies[usize::from(!account)].add(tally);
        if let Some(bound) = drain {
            s.drain(bound).await?;
        }
    }
    println!(
        "  {ROUNDS} rounds × {per_round} password resets per variant, alternating, one at a \
         time, each {PER_NETWORK} from a loopback address of their own:"
    );
    tallies[0].print("account:");
    tallies[1].print("no account:");
    println!("    {}", compare(&tallies[1], &tallies[0]));
    Ok(tallies)
}

/// `count` requests to `s`, `clients` at a time; `make(i)` builds the `i`th.
async fn round(
    s: &EmailServer,
    clients: usize,
    count: usize,
    make: impl Fn(usize) -> reqwest::RequestBuilder,
) -> Tally {
    let next = AtomicUsize::new(0);
    let cpu_before = s.cpu_ms();
    let started = Instant::now();
    let slots = (0..clients).map(|_| async {
        let mut done = Vec::new();
        loop {
            let i = next.fetch_add(1, Ordering::Relaxed);
            if i >= count {
                return done;
            }
            let sent = Instant::now();
            let status = match make(i).send().await {
                // The response counts as received once its body is in.
                Ok(res) => {
                    let status = res.status().as_u16();
                    res.bytes().await.ok().map(|_| status)
                }
                Err(_) => None,
            };
            done.push((status, sent.elapsed().as_secs_f64() * 1000.0));
        }
    });
    let done = futures::future::join_all(slots).await.concat();
    let cpu_after = s.cpu_ms();
    let db = cpu_after.1.zip(cpu_before.1).map(|(after, before)| after - before);
    Tally::of(started, done, (cpu_after.0 - cpu_before.0, db))
}

/// A client whose connections come from `127.0.1.1` onwards (all of 127/8 is loopback), so
/// that the server counts its requests to a network of their own.
fn from_address(k: usize) -> anyhow::Result<reqwest::Client> {
    let hi = u8::try_from(1 + k / 250).context("too many client addresses")?;
    let lo = u8::try_from(1 + k % 250)?;
    reqwest::Client::builder()
        .local_address(IpAddr::V4(Ipv4Addr::new(127, 0, hi, lo)))
        .pool_max_idle_per_host(RESET_CLIENTS)
        .tcp_nodelay(true)
        .timeout(Duration::from_secs(60))
        .build()
        .context("HTTP client")
}

fn unique(what: &str) -> String {
    format!("{what}-{}@example.com", uuid::Uuid::new_v4().simple())
}
