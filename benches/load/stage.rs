//! One workload's surroundings: a fresh database, server, receivers and signed-in owner, and
//! the server's memory and CPU over the measured window.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use crate::api::{Api, http_client};
use crate::receiver::{Receiver, Tarpit};
use crate::server::{self, Backend, Database, Launch, Server};

/// What the command line fixes for every workload.
pub struct Settings {
    pub binary: PathBuf,
    pub in_flight: usize,
    /// Servers on the one database, writes taking them in turn.
    pub instances: usize,
    pub drain: Duration,
    pub clock_ticks: f64,
}

pub struct Stage {
    pub api: Api,
    pub receiver: Receiver,
    pub tarpit: Tarpit,
    pub in_flight: usize,
    pub drain: Duration,
    clock_ticks: f64,
    binary: PathBuf,
    servers: Vec<Server>,
    database: Database,
}

impl Stage {
    pub async fn start(
        settings: &Settings,
        backend: Backend,
        webhooks_per_org: usize,
    ) -> anyhow::Result<Self> {
        let http = http_client(settings.in_flight.max(16))?;
        let database = Database::create(backend).await?;
        let mut servers = Vec::with_capacity(settings.instances);
        for instance in 0..settings.instances {
            let launch = Launch {
                binary: &settings.binary,
                database: &database,
                instance,
                webhooks_per_org,
                env: vec![],
            };
            match Server::start(launch, &http).await {
                Ok(server) => servers.push(server),
                Err(err) => {
                    // A server that never came up must not leave its schema behind.
                    drop(servers);
                    let _ = database.drop_schema().await;
                    return Err(err);
                }
            }
        }
        let bases = servers.iter().map(|s| s.base.clone()).collect();
        let api = Api::sign_up(&servers[0].base, http).await?.across(bases);
        Ok(Self {
            api,
            receiver: Receiver::start().await?,
            tarpit: Tarpit::start().await?,
            in_flight: settings.in_flight,
            drain: settings.drain,
            clock_ticks: settings.clock_ticks,
            binary: settings.binary.clone(),
            servers,
            database,
        })
    }

    pub fn instances(&self) -> usize {
        self.servers.len()
    }

    /// A server key with every scope, made as an operator makes one: `roster keys create`.
    pub fn server_key(&self) -> anyhow::Result<String> {
        let out = std::process::Command::new(&self.binary)
            .args(["keys", "create", "--name", "load"])
            .env("ROSTER_DATABASE_URL", &self.database.url)
            .env("ROSTER_SECRET_KEY", server::SECRET_KEY)
            .env("RUST_LOG", "warn")
            .output()?;
        anyhow::ensure!(
            out.status.success(),
            "roster keys create: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        Ok(String::from_utf8(out.stdout)?.trim().to_owned())
    }

    /// Starts measuring: call after set-up, right before the first write.
    pub async fn window(&self) -> Window {
        let pids: Vec<u32> = self.servers.iter().map(Server::pid).collect();
        let pid = pids[0];
        let idle_rss_mb = server::vm_mb(pid, "VmRSS:").unwrap_or(f64::NAN);
        let hwm_reset = server::reset_peak(pid);
        let peak_kb = Arc::new(AtomicU64::new(0));
        let sampled = peak_kb.clone();
        let sampler = tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_millis(50));
            loop {
                tick.tick().await;
                if let Some(mb) = server::vm_mb(pid, "VmRSS:") {
                    sampled.fetch_max((mb * 1024.0) as u64, Ordering::Relaxed);
                }
            }
        });
        let db_work = self.database.work().await;
        Window {
            started: Instant::now(),
            idle_rss_mb,
            hwm_reset,
            peak_kb,
            sampler,
            server_ticks: pids.iter().filter_map(|&p| server::cpu_ticks(p)).sum(),
            db_ticks: self.database.is_postgres().then(server::postgres_ticks),
            db_work,
            pids,
            clock_ticks: self.clock_ticks,
            database_url: self.database.url.clone(),
        }
    }

    pub async fn stop(self) -> anyhow::Result<()> {
        drop(self.tarpit);
        let mut stopped = Ok(());
        for server in self.servers {
            stopped = stopped.and(server.stop().await);
        }
        self.database.drop_schema().await?;
        stopped
    }
}

/// The measured window, from the first write to the end of the drain.
pub struct Window {
    /// Every instance's; the first's memory is measured.
    pids: Vec<u32>,
    pub started: Instant,
    idle_rss_mb: f64,
    hwm_reset: bool,
    peak_kb: Arc<AtomicU64>,
    sampler: tokio::task::JoinHandle<()>,
    server_ticks: u64,
    db_ticks: Option<u64>,
    db_work: Option<server::DbWork>,
    clock_ticks: f64,
    database_url: String,
}

/// The server's resources over a window.
#[derive(Debug, Clone, Copy)]
pub struct Usage {
    pub idle_rss_mb: f64,
    pub peak_rss_mb: f64,
    /// CPU time, in ms, of the servers and (on PostgreSQL) of every `postgres` process.
    pub server_cpu_ms: f64,
    pub db_cpu_ms: Option<f64>,
    /// On PostgreSQL: what the database did over the window.
    pub db_work: Option<server::DbWork>,
    pub seconds: f64,
}

impl Window {
    pub async fn close(self) -> Usage {
        self.sampler.abort();
        let seconds = self.started.elapsed().as_secs_f64();
        let server_ticks: u64 = self.pids.iter().filter_map(|&p| server::cpu_ticks(p)).sum();
        let pid = self.pids[0];
        let db_ticks = self.db_ticks.map(|before| server::postgres_ticks().saturating_sub(before));
        let sampled = self.peak_kb.load(Ordering::Relaxed) as f64 / 1024.0;
        // VmHWM catches a peak between samples, once cleared of the set-up's.
        let hwm = if self.hwm_reset { server::vm_mb(pid, "VmHWM:") } else { None };
        let to_ms = |ticks: u64| ticks as f64 * 1000.0 / self.clock_ticks;
        let db_work = match self.db_work {
            Some(before) => {
                // An idle backend reports its last counts within PostgreSQL 15's idle
                // interval (10 s).
                tokio::time::sleep(Duration::from_secs(11)).await;
                server::DbWork::read(&self.database_url).await.map(|after| after.since(before))
            }
            None => None,
        };
        Usage {
            idle_rss_mb: self.idle_rss_mb,
            peak_rss_mb: hwm.unwrap_or(0.0).max(sampled),
            server_cpu_ms: to_ms(server_ticks.saturating_sub(self.server_ticks)),
            db_cpu_ms: db_ticks.map(to_ms),
            db_work,
            seconds,
        }
    }
}
