//! All SQL lives here. One dialect serves both backends through sqlx's `Any` driver:
//! IDs are UUID text, timestamps are epoch milliseconds, and placeholders are `$N`, which
//! SQLite and PostgreSQL both accept. What genuinely differs per backend (migrations, how a
//! write transaction begins) is chosen from [`Backend`].

pub mod deliveries;
pub mod events;
pub mod invites;
pub mod login_failures;
pub mod members;
pub mod oauth_apps;
pub mod oauth_grants;
pub mod organizations;
pub mod retention;
pub mod tokens;
pub mod users;
pub mod webhooks;

use std::str::FromStr;
use std::time::Duration;

use chrono::{DateTime, TimeZone, Utc};
use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::migrate::Migrator;
use std::ops::{Deref, DerefMut};
use std::sync::Arc;

use sqlx::{Any, AnyPool, Executor, Transaction};
use tokio::sync::{Mutex, OwnedMutexGuard};

/// A write transaction. On SQLite it also holds this process's writer slot, so writers
/// queue in order here instead of in SQLite's busy handler, whose sleeps (up to 100 ms a
/// turn) would otherwise add their length to every contended write.
pub struct Tx {
    tx: Transaction<'static, Any>,
    _writer: Option<OwnedMutexGuard<()>>,
}

impl Tx {
    pub async fn commit(self) -> Result<(), sqlx::Error> {
        self.tx.commit().await
    }
}

impl Deref for Tx {
    type Target = Transaction<'static, Any>;

    fn deref(&self) -> &Self::Target {
        &self.tx
    }
}

impl DerefMut for Tx {
    fn deref_mut(&mut self) -> &mut Self::Target {
        &mut self.tx
    }
}

static SQLITE_MIGRATIONS: Migrator = sqlx::migrate!("migrations/sqlite");
static POSTGRES_MIGRATIONS: Migrator = sqlx::migrate!("migrations/postgres");

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    pub fn from_url(url: &str) -> anyhow::Result<Self> {
        if url.starts_with("sqlite:") {
            Ok(Self::Sqlite)
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            Ok(Self::Postgres)
        } else {
            anyhow::bail!("database URL must start with sqlite:// or postgres://")
        }
    }
}

/// The connection pool and the backend it talks to.
#[derive(Clone)]
pub struct Db {
    pool: AnyPool,
    backend: Backend,
    sqlite_writer: Arc<Mutex<()>>,
}

impl Db {
    pub async fn connect(url: &str) -> anyhow::Result<Self> {
        sqlx::any::install_default_drivers();
        let backend = Backend::from_url(url)?;
        let options = AnyConnectOptions::from_str(&with_sqlite_create(url, backend))?;
        let pool = match backend {
            Backend::Sqlite => {
                AnyPoolOptions::new()
                    .max_connections(8)
                    .after_connect(|conn, _| {
                        Box::pin(async move {
                            // WAL lets readers run beside the single writer; the busy timeout
                            // makes writers queue instead of failing.
                            conn.execute(
                                "PRAGMA journal_mode = WAL; PRAGMA busy_timeout = 10000; \
                                 PRAGMA foreign_keys = ON; PRAGMA synchronous = NORMAL;",
                            )
                            .await?;
                            Ok(())
                        })
                    })
                    .connect_with(options)
                    .await?
            }
            Backend::Postgres => {
                AnyPoolOptions::new()
                    .max_connections(16)
                    .acquire_timeout(Duration::from_secs(10))
                    .connect_with(options)
                    .await?
            }
        };
        Ok(Self { pool, backend, sqlite_writer: Arc::new(Mutex::new(())) })
    }

    pub async fn migrate(&self) -> anyhow::Result<()> {
        let migrator = match self.backend {
            Backend::Sqlite => &SQLITE_MIGRATIONS,
            Backend::Postgres => &POSTGRES_MIGRATIONS,
        };
        migrator.run(&self.pool).await?;
        Ok(())
    }

    /// A pooled connection for reads.
    pub async fn acquire(&self) -> Result<sqlx::pool::PoolConnection<Any>, sqlx::Error> {
        self.pool.acquire().await
    }

    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Begins a transaction that is going to write. On SQLite it takes the write lock up
    /// front: a deferred transaction that reads first cannot upgrade once another writer has
    /// committed, and would fail instead of waiting.
    pub async fn begin_write(&self) -> Result<Tx, sqlx::Error> {
        let writer = match self.backend {
            Backend::Sqlite => Some(self.sqlite_writer.clone().lock_owned().await),
            Backend::Postgres => None,
        };
        // sqlx's `begin` is not cancellation-safe: dropped midway, it can hand the connection
        // back to the pool inside an open transaction (on SQLite, holding the write lock).
        // Run it to completion in its own task; if our caller is gone by then, the finished
        // transaction is simply dropped, which rolls it back.
        let pool = self.pool.clone();
        let backend = self.backend;
        let tx = tokio::spawn(async move {
            match backend {
                Backend::Sqlite => pool.begin_with("BEGIN IMMEDIATE").await,
                Backend::Postgres => pool.begin().await,
            }
        })
        .await
        .map_err(|e| sqlx::Error::Io(std::io::Error::other(e)))??;
        Ok(Tx { tx, _writer: writer })
    }

    /// Like [`Self::begin_write`], for bookkeeping whose loss in a crash is harmless because
    /// it is redone (delivery leases and attempt records: a lost one means the delivery is
    /// attempted again). On PostgreSQL its commit does not wait for the WAL flush.
    pub async fn begin_bookkeeping(&self) -> Result<Tx, sqlx::Error> {
        let mut tx = self.begin_write().await?;
        if self.backend == Backend::Postgres {
            sqlx::query("SET LOCAL synchronous_commit = off").execute(&mut **tx).await?;
        }
        Ok(tx)
    }

    pub async fn ping(&self) -> Result<(), sqlx::Error> {
        sqlx::query("SELECT 1").execute(&self.pool).await.map(|_| ())
    }

    pub async fn close(&self) {
        self.pool.close().await;
    }
}

/// A plain `sqlite://roster.db` should create the file rather than fail on first run.
fn with_sqlite_create(url: &str, backend: Backend) -> String {
    if backend == Backend::Sqlite && !url.contains("mode=") && !url.contains(":memory:") {
        let sep = if url.contains('?') { '&' } else { '?' };
        format!("{url}{sep}mode=rwc")
    } else {
        url.to_owned()
    }
}

/// The errors a store function reports: a named unique constraint the caller may turn into a
/// 409, or anything else, which is internal.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("unique constraint violated")]
    Conflict,
    #[error(transparent)]
    Database(#[from] sqlx::Error),
}

impl StoreError {
    pub fn from_unique(err: sqlx::Error) -> Self {
        match &err {
            sqlx::Error::Database(db) if db.is_unique_violation() => Self::Conflict,
            _ => Self::Database(err),
        }
    }
}

pub fn to_millis(at: DateTime<Utc>) -> i64 {
    at.timestamp_millis()
}

pub fn from_millis(ms: i64) -> DateTime<Utc> {
    Utc.timestamp_millis_opt(ms).single().unwrap_or_default()
}

/// Current time truncated to the millisecond, so what is returned equals what is stored.
pub fn now() -> DateTime<Utc> {
    from_millis(Utc::now().timestamp_millis())
}

/// Reads a UUID stored as text.
pub fn get_uuid(row: &sqlx::any::AnyRow, column: &str) -> Result<uuid::Uuid, sqlx::Error> {
    use sqlx::Row;
    let text: String = row.try_get(column)?;
    uuid::Uuid::parse_str(&text)
        .map_err(|e| sqlx::Error::ColumnDecode { index: column.to_owned(), source: Box::new(e) })
}

/// Reads a timestamp stored as epoch milliseconds.
pub fn get_time(row: &sqlx::any::AnyRow, column: &str) -> Result<DateTime<Utc>, sqlx::Error> {
    use sqlx::Row;
    row.try_get::<i64, _>(column).map(from_millis)
}

/// Reads a nullable timestamp stored as epoch milliseconds.
pub fn get_opt_time(
    row: &sqlx::any::AnyRow,
    column: &str,
) -> Result<Option<DateTime<Utc>>, sqlx::Error> {
    use sqlx::Row;
    row.try_get::<Option<i64>, _>(column).map(|v| v.map(from_millis))
}
