//! What the benchmarks share: a real server on a temporary database, and latency arithmetic.
#![allow(dead_code)]

use std::time::Duration;

use roster::app::{App, AppState};
use roster::config::{Config, SecretKey};

/// A database of its own for one run: a SQLite file in a temporary directory, or a fresh
/// schema on `ROSTER_BENCH_POSTGRES_URL` (default `postgres://postgres@127.0.0.1:5432/test`).
pub async fn database_url(backend: &str) -> anyhow::Result<(String, Option<tempfile::TempDir>)> {
    if backend == "sqlite" {
        let dir = tempfile::tempdir()?;
        let url = format!("sqlite://{}", dir.path().join("bench.db").display());
        return Ok((url, Some(dir)));
    }
    let base = std::env::var("ROSTER_BENCH_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into());
    let schema = format!("bench_{}", uuid::Uuid::new_v4().simple());
    let admin = sqlx::PgPool::connect(&base).await?;
    sqlx::query(&format!("CREATE SCHEMA {schema}")).execute(&admin).await?;
    admin.close().await;
    let sep = if base.contains('?') { '&' } else { '?' };
    Ok((format!("{base}{sep}options=-c%20search_path%3D{schema}"), None))
}

/// A running server and what stops it.
pub struct Server {
    pub base: String,
    pub state: AppState,
    stop: tokio::sync::oneshot::Sender<()>,
    task: tokio::task::JoinHandle<anyhow::Result<()>>,
    _dir: Option<tempfile::TempDir>,
}

impl Server {
    pub async fn start(backend: &str) -> anyhow::Result<Self> {
        let (url, dir) = database_url(backend).await?;
        let mut config = Config::new(url);
        config.secret_key = Some(SecretKey([7; 32]));
        config.webhook_allow_private = true;
        let app = App::build(config).await?;
        let state = app.state().clone();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let base = format!("http://{}", listener.local_addr()?);
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let task = tokio::spawn(app.serve(listener, async {
            let _ = stopped.await;
        }));
        Ok(Self { base, state, stop, task, _dir: dir })
    }

    pub async fn stop(self) -> anyhow::Result<()> {
        let _ = self.stop.send(());
        self.task.await??;
        Ok(())
    }
}

/// The backends named on the command line (`sqlite`, `postgres`), or both.
pub fn backends() -> Vec<&'static str> {
    let which = std::env::args().skip(1).find(|a| !a.starts_with('-')).unwrap_or_default();
    ["sqlite", "postgres"].into_iter().filter(|b| which.is_empty() || which == *b).collect()
}

pub fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

pub fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}
