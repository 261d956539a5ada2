//! The `roster` child process on a database of its own, and what `/proc` says about it.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::Context;

/// The key the server seals secrets with: base64 of 32 bytes of 7.
pub const SECRET_KEY: &str = "BwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwc=";

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// A database for one server: a SQLite file in a temporary directory, or a fresh schema on
/// `ROSTER_BENCH_POSTGRES_URL`, dropped again by [`Database::drop_schema`].
pub struct Database {
    pub url: String,
    /// The connection URL without the schema option, and the schema, on PostgreSQL.
    postgres: Option<(String, String)>,
    /// Holds the SQLite file and the server's log.
    pub dir: tempfile::TempDir,
}

impl Database {
    pub async fn create(backend: Backend) -> anyhow::Result<Self> {
        let dir = tempfile::tempdir().context("temporary directory")?;
        if backend == Backend::Sqlite {
            let url = format!("sqlite://{}", dir.path().join("load.db").display());
            return Ok(Self { url, postgres: None, dir });
        }
        let base = std::env::var("ROSTER_BENCH_POSTGRES_URL")
            .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into());
        let schema = format!("load_{}", uuid::Uuid::new_v4().simple());
        let admin =
            sqlx::PgPool::connect(&base).await.with_context(|| format!("connect {base}"))?;
        sqlx::query(&format!("CREATE SCHEMA {schema}")).execute(&admin).await?;
        admin.close().await;
        let sep = if base.contains('?') { '&' } else { '?' };
        let url = format!("{base}{sep}options=-c%20search_path%3D{schema}");
        Ok(Self { url, postgres: Some((base, schema)), dir })
    }

    pub fn is_postgres(&self) -> bool {
        self.postgres.is_some()
    }

    /// The database's work so far; `None` on SQLite (or if it cannot be read).
    pub async fn work(&self) -> Option<DbWork> {
        if self.is_postgres() { DbWork::read(&self.url).await } else { None }
    }

    pub async fn drop_schema(&self) -> anyhow::Result<()> {
        if let Some((base, schema)) = &self.postgres {
            let admin = sqlx::PgPool::connect(base).await?;
            sqlx::query(&format!("DROP SCHEMA {schema} CASCADE")).execute(&admin).await?;
            admin.close().await;
        }
        Ok(())
    }
}

/// What PostgreSQL has done, as counters that only grow: WAL written, and transactions ended
/// in the database (by anyone: the benchmark's servers are its only users).
#[derive(Debug, Clone, Copy)]
pub struct DbWork {
    pub wal_bytes: f64,
    pub transactions: f64,
}

impl DbWork {
    pub async fn read(url: &str) -> Option<Self> {
        let pool = sqlx::PgPool::connect(url).await.ok()?;
        let row: Result<(f64, f64), _> = sqlx::query_as(
            "SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), '0/0')::float8, \
                    (xact_commit + xact_rollback)::float8 \
             FROM pg_stat_database WHERE datname = current_database()",
        )
        .fetch_one(&pool)
        .await;
        pool.close().await;
        let (wal_bytes, transactions) = row.ok()?;
        Some(Self { wal_bytes, transactions })
    }

    pub fn since(self, before: Self) -> Self {
        Self {
            wal_bytes: self.wal_bytes - before.wal_bytes,
            transactions: self.transactions - before.transactions,
        }
    }
}

/// How the server is started.
pub struct Launch<'a> {
    pub binary: &'a Path,
    pub database: &'a Database,
    /// Which of several instances on the database this is (names its log).
    pub instance: usize,
    /// Raises the per-organization webhook quota when a workload needs more than the default.
    pub webhooks_per_org: usize,
    /// Further settings, e.g. `ROSTER_SMTP_URL`.
    pub env: Vec<(&'static str, String)>,
}

/// A running `roster serve`.
pub struct Server {
    pub base: String,
    child: Child,
    log: PathBuf,
}

impl Server {
    /// Starts the server on a free loopback port and waits until `GET /api/ready` answers 200.
    pub async fn start(launch: Launch<'_>, http: &reqwest::Client) -> anyhow::Result<Self> {
        // Bound and released at once: another process could take the port in between, which
        // would show as the child failing to start, not as wrong figures.
        let port = std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
        let addr = format!("127.0.0.1:{port}");
        let log = launch.database.dir.path().join(format!("server{}.log", launch.instance));
        let log_file = std::fs::File::create(&log)?;
        let mut command = Command::new(launch.binary);
        command
            .args(["serve", "--addr", &addr])
            // Given in the environment, where the process list does not show it.
            .env("ROSTER_DATABASE_URL", &launch.database.url)
            .env("ROSTER_SECRET_KEY", SECRET_KEY)
            .env("ROSTER_WEBHOOK_ALLOW_PRIVATE", "true")
            .env("ROSTER_WEBHOOK_TIMEOUT", "10s")
            .env("RUST_LOG", "warn")
            .stdin(Stdio::null())
            .stdout(log_file.try_clone()?)
            .stderr(log_file);
        if launch.webhooks_per_org > 100 {
            command.env("ROSTER_MAX_WEBHOOKS_PER_ORG", launch.webhooks_per_org.to_string());
        }
        command.envs(launch.env.iter().map(|(k, v)| (k, v)));
        let child =
            command.spawn().with_context(|| format!("start {}", launch.binary.display()))?;
        let mut server = Self { base: format!("http://{addr}"), child, log };
        server.wait_ready(http).await?;
        Ok(server)
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    async fn wait_ready(&mut self, http: &reqwest::Client) -> anyhow::Result<()> {
        let deadline = Instant::now() + Duration::from_secs(30);
        let url = format!("{}/api/ready", self.base);
        while Instant::now() < deadline {
            if let Some(status) = self.child.try_wait()? {
                anyhow::bail!("the server exited with {status}: {}", self.log_tail());
            }
            if let Ok(res) = http.get(&url).send().await
                && res.status().is_success()
            {
                return Ok(());
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        anyhow::bail!("the server was not ready within 30 s: {}", self.log_tail())
    }

    fn log_tail(&self) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(10)..].join("\n")
    }

    /// SIGTERM, then the graceful stop's own bound (in-flight attempts end within the 10 s
    /// timeout) plus a margin, then SIGKILL.
    pub async fn stop(mut self) -> anyhow::Result<()> {
        let pid = self.child.id().to_string();
        let _ = Command::new("kill").args(["-TERM", &pid]).status();
        let deadline = Instant::now() + Duration::from_secs(40);
        while Instant::now() < deadline {
            if let Some(status) = self.child.try_wait()? {
                if !status.success() {
                    eprintln!("  server exited with {status}: {}", self.log_tail());
                }
                return Ok(());
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        eprintln!("  server did not stop within 40 s of SIGTERM; killing it");
        self.child.kill()?;
        self.child.wait()?;
        Ok(())
    }
}

impl Drop for Server {
    /// A benchmark that fails half-way must not leave a server behind.
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// Kernel clock ticks per second, the unit of `utime` and `stime`.
pub fn clock_ticks() -> f64 {
    Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|out| String::from_utf8(out.stdout).ok())
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(100.0)
}

/// A `Vm*` line of `/proc/<pid>/status`, in MB.
pub fn vm_mb(pid: u32, field: &str) -> Option<f64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with(field))?;
    let kb: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024.0)
}

/// Starts a fresh peak (VmHWM), so that it covers the workload and not the set-up.
pub fn reset_peak(pid: u32) -> bool {
    std::fs::write(format!("/proc/{pid}/clear_refs"), "5").is_ok()
}

/// `utime + stime` of one process, in clock ticks.
pub fn cpu_ticks(pid: u32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name, in parentheses, may itself hold spaces and parentheses.
    let fields: Vec<&str> = stat.get(stat.rfind(')')? + 2..)?.split_whitespace().collect();
    // After the name: state is field 3 of the whole line, utime 14 and stime 15.
    let utime: u64 = fields.get(11)?.parse().ok()?;
    let stime: u64 = fields.get(12)?.parse().ok()?;
    Some(utime + stime)
}

/// `utime + stime` summed over every process named `postgres`: backends, WAL writer,
/// checkpointer and the rest. Whatever else uses the same cluster is counted too.
pub fn postgres_ticks() -> u64 {
    let Ok(entries) = std::fs::read_dir("/proc") else { return 0 };
    entries
        .filter_map(Result::ok)
        .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| {
            std::fs::read_to_string(format!("/proc/{pid}/comm"))
                .is_ok_and(|comm| comm.trim_end() == "postgres")
        })
        .filter_map(cpu_ticks)
        .sum()
}
