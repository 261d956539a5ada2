//! The load generator's side of the API: set-up calls, and writes driven closed-loop (a fixed
//! number in flight) or open-loop (a fixed offered rate).

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::Context;
use futures::StreamExt;
use serde_json::{Value, json};

/// Keep-alive HTTP/1.1 connections, as many idle ones kept as requests are ever in flight.
pub fn http_client(pool: usize) -> anyhow::Result<reqwest::Client> {
    reqwest::Client::builder()
        .pool_max_idle_per_host(pool)
        .tcp_nodelay(true)
        .timeout(Duration::from_secs(60))
        .build()
        .context("HTTP client")
}

/// A signed-in owner of the organizations it creates.
#[derive(Clone)]
pub struct Api {
    /// Set-up goes to the first; writes take them in turn, by their number.
    bases: Arc<[String]>,
    http: reqwest::Client,
    token: Arc<str>,
    /// With a server key, writes publish the application's `load.tick` instead of renaming.
    publisher: Option<Arc<str>>,
}

/// The application's event type the `publish` workload publishes.
pub const TICK: &str = "load.tick";

/// One write named `w-<n>`: `PATCH /api/organizations/{id}` renaming the organization to it,
/// or (publishing) `POST /api/organizations/{id}/events` of a `load.tick` with it as its name.
#[derive(Debug, Clone, Copy)]
pub struct Write {
    pub n: usize,
    pub sent: Instant,
    /// When the whole response had been read.
    pub responded: Instant,
    /// `None` when the request failed below HTTP (refused, reset, timed out).
    pub status: Option<u16>,
}

impl Write {
    pub fn ok(&self) -> bool {
        self.status.is_some_and(|s| (200..300).contains(&s))
    }
}

impl Api {
    pub async fn sign_up(base: &str, http: reqwest::Client) -> anyhow::Result<Self> {
        let email = format!("load-{}@example.com", uuid::Uuid::new_v4().simple());
        let res = http
            .post(format!("{base}/api/auth/register"))
            .json(&json!({"email": email, "password": "load benchmark password", "name": "Load"}))
            .send()
            .await
            .context("register")?;
        let body = expect(res, 201, "register").await?;
        let token = body["accessToken"].as_str().context("register: no accessToken")?;
        Ok(Self { bases: [base.to_owned()].into(), http, token: token.into(), publisher: None })
    }

    /// The same owner, writing through every one of `bases` (instances on one database).
    pub fn across(&self, bases: Vec<String>) -> Self {
        Self { bases: bases.into(), ..self.clone() }
    }

    fn base(&self) -> &str {
        &self.bases[0]
    }

    /// The same owner, whose writes publish `load.tick` with `key`; registers the type.
    pub async fn publishing(&self, key: &str) -> anyhow::Result<Self> {
        let schema = json!({"type": "object", "required": ["name"],
                            "properties": {"name": {"type": "string", "pattern": "^w-[0-9]+$"}}});
        let res = self
            .http
            .put(format!("{}/api/event-types/{TICK}", self.base()))
            .bearer_auth(key)
            .json(&json!({"description": "A tick of the load benchmark", "schema": schema}))
            .send()
            .await
            .context("register load.tick")?;
        expect(res, 201, "register load.tick").await?;
        Ok(Self { publisher: Some(key.into()), ..self.clone() })
    }

    /// The event its writes cause, which its webhooks subscribe to.
    fn event(&self) -> &'static str {
        if self.publisher.is_some() { TICK } else { "organization.updated" }
    }

    /// Creates an organization and returns its ID.
    pub async fn organization(&self, name: &str) -> anyhow::Result<String> {
        let res = self
            .http
            .post(format!("{}/api/organizations", self.base()))
            .bearer_auth(&*self.token)
            .json(&json!({"name": name}))
            .send()
            .await
            .context("create organization")?;
        let body = expect(res, 201, "create organization").await?;
        Ok(body["id"].as_str().context("organization without id")?.to_owned())
    }

    /// Creates `count` webhooks on `org` subscribed to what its writes cause, at
    /// `{url}/{i}`, 16 requests at a time.
    pub async fn webhooks(&self, org: &str, url: &str, count: usize) -> anyhow::Result<()> {
        let mut pending = futures::stream::iter(0..count)
            .map(|i| async move {
                let res = self
                    .http
                    .post(format!("{}/api/organizations/{org}/webhooks", self.base()))
                    .bearer_auth(&*self.token)
                    .json(&json!({"url": format!("{url}/{i}"), "events": [self.event()]}))
                    .send()
                    .await
                    .context("create webhook")?;
                expect(res, 201, "create webhook").await.map(drop)
            })
            .buffer_unordered(16);
        while let Some(result) = pending.next().await {
            result?;
        }
        Ok(())
    }

    /// One write, named `w-<n>`: a rename, or a published `load.tick`. Never an error, so
    /// that a failed request is counted rather than fatal.
    pub async fn write(&self, org: &str, n: usize) -> Write {
        let sent = Instant::now();
        let name = format!("w-{n}");
        let base = &self.bases[n % self.bases.len()];
        let request = match &self.publisher {
            None => self
                .http
                .patch(format!("{base}/api/organizations/{org}"))
                .bearer_auth(&*self.token)
                .json(&json!({"name": name})),
            Some(key) => self
                .http
                .post(format!("{base}/api/organizations/{org}/events"))
                .bearer_auth(&**key)
                .json(&json!({"type": TICK, "data": {"name": name}})),
        };
        let result = request.send().await;
        let status = match result {
            Ok(res) => {
                let status = res.status().as_u16();
                // The response counts as received once its body is in.
                res.bytes().await.ok().map(|_| status)
            }
            Err(_) => None,
        };
        Write { n, sent, responded: Instant::now(), status }
    }

    /// `count` writes numbered from `first`, `in_flight` at a time, each slot taking the next
    /// number and the organization after the previous slot's, round-robin.
    pub async fn closed_loop(
        &self,
        orgs: &[String],
        first: usize,
        count: usize,
        in_flight: usize,
    ) -> Vec<Write> {
        let next = AtomicUsize::new(0);
        let slots = (0..in_flight.max(1)).map(|_| async {
            let mut done = Vec::new();
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= count {
                    return done;
                }
                done.push(self.write(&orgs[i % orgs.len()], first + i).await);
            }
        });
        let mut writes = futures::future::join_all(slots).await.concat();
        writes.sort_by_key(|w| w.n);
        writes
    }

    /// `count` writes numbered from `first` at `rate` a second, round-robin over `orgs`.
    /// With `overlap`, each write starts on its tick whether or not the previous one has
    /// answered (the offered rate holds however slow the server gets); without, one at a
    /// time, a late answer delaying the next.
    pub async fn open_loop(
        &self,
        orgs: &[String],
        first: usize,
        count: usize,
        rate: f64,
        overlap: bool,
    ) -> Vec<Write> {
        let mut ticker = tokio::time::interval(Duration::from_secs_f64(1.0 / rate.max(0.001)));
        ticker.set_missed_tick_behavior(if overlap {
            tokio::time::MissedTickBehavior::Burst
        } else {
            tokio::time::MissedTickBehavior::Delay
        });
        let mut writes = Vec::with_capacity(count);
        let mut running = Vec::new();
        for i in 0..count {
            ticker.tick().await;
            let org = orgs[i % orgs.len()].clone();
            if overlap {
                let api = self.clone();
                running.push(tokio::spawn(async move { api.write(&org, first + i).await }));
            } else {
                writes.push(self.write(&org, first + i).await);
            }
        }
        for task in running {
            if let Ok(write) = task.await {
                writes.push(write);
            }
        }
        writes.sort_by_key(|w| w.n);
        writes
    }
}

/// The body of a response that must have `status`, or an error carrying what came instead.
async fn expect(res: reqwest::Response, status: u16, what: &str) -> anyhow::Result<Value> {
    let got = res.status();
    let text = res.text().await.with_context(|| format!("{what}: reading the body"))?;
    anyhow::ensure!(got.as_u16() == status, "{what} answered {got}: {text}");
    serde_json::from_str(&text).with_context(|| format!("{what}: body is not JSON"))
}
