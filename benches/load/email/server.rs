//! A server of the email workload on a database of its own, its set-up calls, and what its
//! `/metrics` says of the outbox.

use std::time::{Duration, Instant};

use anyhow::Context;
use serde_json::{Value, json};

use crate::api::http_client;
use crate::server::{self, Backend, Database, Launch, Server};
use crate::stage::Settings;

pub struct EmailServer {
    server: Server,
    database: Database,
    pub http: reqwest::Client,
    clock_ticks: f64,
}

impl EmailServer {
    pub async fn start(
        settings: &Settings,
        backend: Backend,
        env: Vec<(&'static str, String)>,
        pool: usize,
    ) -> anyhow::Result<Self> {
        let http = http_client(pool)?;
        let database = Database::create(backend).await?;
        let launch = Launch {
            binary: &settings.binary,
            database: &database,
            instance: 0,
            webhooks_per_org: 1,
            env,
        };
        match Server::start(launch, &http).await {
            Ok(server) => Ok(Self { server, database, http, clock_ticks: settings.clock_ticks }),
            Err(err) => {
                // A server that never came up must not leave its schema behind.
                let _ = database.drop_schema().await;
                Err(err)
            }
        }
    }

    pub async fn stop(self) -> anyhow::Result<()> {
        let stopped = self.server.stop().await;
        self.database.drop_schema().await?;
        stopped
    }

    /// CPU time so far, in ms, of the server and (on PostgreSQL) of every `postgres` process,
    /// whatever else uses the cluster included.
    pub fn cpu_ms(&self) -> (f64, Option<f64>) {
        let to_ms = |ticks: u64| ticks as f64 * 1000.0 / self.clock_ticks;
        let server = server::cpu_ticks(self.server.pid()).unwrap_or(0);
        (to_ms(server), self.database.is_postgres().then(|| to_ms(server::postgres_ticks())))
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.server.base)
    }

    /// A set-up `POST` that must answer `status`; its JSON body.
    pub async fn call(
        &self,
        path: &str,
        token: Option<&str>,
        body: Value,
        status: u16,
    ) -> anyhow::Result<Value> {
        let mut req = self.http.post(self.url(path)).json(&body);
        if let Some(token) = token {
            req = req.bearer_auth(token);
        }
        let res = req.send().await.with_context(|| format!("POST {path}"))?;
        let got = res.status().as_u16();
        let text = res.text().await.with_context(|| format!("POST {path}: reading the body"))?;
        anyhow::ensure!(got == status, "POST {path} answered {got}: {text}");
        serde_json::from_str(&text).with_context(|| format!("POST {path}: body is not JSON"))
    }

    /// Registers an account (which queues its verification email); its access token.
    pub async fn register(&self, email: &str) -> anyhow::Result<String> {
        let body = json!({"email": email, "password": "load benchmark password", "name": "Load"});
        let registered = self.call("/api/auth/register", None, body, 201).await?;
        let token = registered["accessToken"].as_str().context("register: no accessToken")?;
        Ok(token.to_owned())
    }

    /// Emails sent and pending, from `/metrics`; a series not yet observed reads as 0.
    pub async fn email_metrics(&self) -> anyhow::Result<(f64, f64)> {
        let res = self.http.get(self.url("/metrics")).send().await.context("GET /metrics")?;
        let text = res.error_for_status()?.text().await.context("GET /metrics: the body")?;
        let value = |series: &str| {
            text.lines()
                .find_map(|l| l.strip_prefix(series)?.strip_prefix(' ')?.trim().parse().ok())
                .unwrap_or(0.0)
        };
        Ok((value("roster_email_sends_total{outcome=\"sent\"}"), value("roster_email_pending")))
    }

    /// Waits until no email is pending, up to `bound`: how long that took, `None` if longer.
    pub async fn drain(&self, bound: Duration) -> anyhow::Result<Option<Duration>> {
        let started = Instant::now();
        loop {
            if self.email_metrics().await?.1 == 0.0 {
                return Ok(Some(started.elapsed()));
            }
            if started.elapsed() >= bound {
                return Ok(None);
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}
