//! The connection pool of either backend, and how transactions begin on each.

use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use sqlx::Connection;
use sqlx::migrate::Migrator;
use sqlx::postgres::{PgConnectOptions, PgConnection, PgPool, PgPoolOptions};
use sqlx::sqlite::SqliteSynchronous;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions};
use tokio::sync::Mutex;

use super::conn::{Inner, Pooled, Tx};
use super::wakeup::Wakeups;

/// How long a request waits for a PostgreSQL connection, pooled or direct.
const CONNECTION_WAIT: Duration = Duration::from_secs(10);

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

#[derive(Clone)]
enum Pool {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

/// The connection pool, the backend it talks to, and the wake-ups its commits send.
#[derive(Clone)]
pub struct Db {
    pool: Pool,
    sqlite_writer: Arc<Mutex<()>>,
    wakeups: Arc<Wakeups>,
    /// Set when the pool's connections go through a pooler in transaction mode (PgBouncer):
    /// PostgreSQL itself, for the work that needs a session of its own.
    direct: Option<Arc<PgConnectOptions>>,
}

impl Db {
    pub async fn connect(url: &str) -> anyhow::Result<Self> {
        Self::connect_with(url, None).await
    }

    /// With `direct`, `url` is a connection pooler in transaction mode and `direct` the
    /// PostgreSQL behind it. A pooled connection then belongs to one server connection only
    /// for the length of a transaction, so: every statement runs in a transaction (reads in a
    /// read-only one), none is kept prepared, and migrations, the worker's sessions and
    /// `LISTEN` connect to `direct`.
    pub async fn connect_with(url: &str, direct: Option<&str>) -> anyhow::Result<Self> {
        let backend = Backend::from_url(url)?;
        let direct = match direct {
            None => None,
            Some(direct)
                if backend == Backend::Postgres
                    && Backend::from_url(direct)? == Backend::Postgres =>
            {
                Some(Arc::new(PgConnectOptions::from_str(direct)?))
            }
            Some(_) => anyhow::bail!(
                "a direct database URL is for PostgreSQL behind a connection pooler: both URLs \
                 must start with postgres://"
            ),
        };
        let pool = match backend {
            Backend::Sqlite => {
                // WAL lets readers run beside the single writer; the busy timeout makes a
                // writer of another process queue instead of failing. FULL syncs the WAL at
                // every commit, so a write acknowledged to a client survives a power loss
                // (NORMAL could lose the last ones).
                let options = SqliteConnectOptions::from_str(url)?
                    .create_if_missing(true)
                    .journal_mode(SqliteJournalMode::Wal)
                    .synchronous(SqliteSynchronous::Full)
                    .foreign_keys(true)
                    .busy_timeout(Duration::from_secs(10));
                Pool::Sqlite(
                    SqlitePoolOptions::new().max_connections(8).connect_with(options).await?,
                )
            }
            Backend::Postgres => {
                let mut options = PgConnectOptions::from_str(url)?;
                if direct.is_some() {
                    // Each transaction may get another server connection: a statement prepared
                    // on one is missing from the next.
                    options = options.statement_cache_capacity(0);
                }
                Pool::Postgres(
                    PgPoolOptions::new()
                        .max_connections(16)
                        .acquire_timeout(CONNECTION_WAIT)
                        .connect_with(options)
                        .await?,
                )
            }
        };
        Ok(Self { pool, sqlite_writer: Arc::new(Mutex::new(())), wakeups: Arc::default(), direct })
    }

    /// Applies the migrations this build has and the database lacks. On PostgreSQL,
    /// concurrent starts take turns on sqlx's advisory lock.
    pub async fn migrate(&self) -> anyhow::Result<()> {
        match (&self.pool, &self.direct) {
            (Pool::Sqlite(pool), _) => SQLITE_MIGRATIONS.run(pool).await?,
            // sqlx's migration lock is a session's advisory lock.
            (Pool::Postgres(_), Some(direct)) => {
                let mut conn = connect_direct(direct).await?;
                POSTGRES_MIGRATIONS.run(&mut conn).await?;
                conn.close().await?;
            }
            (Pool::Postgres(pool), None) => POSTGRES_MIGRATIONS.run(pool).await?,
        }
        Ok(())
    }

    pub fn backend(&self) -> Backend {
        match self.pool {
            Pool::Sqlite(_) => Backend::Sqlite,
            Pool::Postgres(_) => Backend::Postgres,
        }
    }

    /// The signal this instance's commits of queued work raise.
    pub fn wakeups(&self) -> Arc<Wakeups> {
        self.wakeups.clone()
    }

    /// A pooled connection for reads. Through a pooler in transaction mode it is a read-only
    /// transaction, rolled back when dropped.
    pub async fn acquire(&self) -> Result<Pooled, sqlx::Error> {
        Ok(match &self.pool {
            Pool::Sqlite(pool) => Pooled::Sqlite(pool.acquire().await?),
            Pool::Postgres(pool) if self.direct.is_some() => {
                let pool = pool.clone();
                let begun = spawn_to_end(async move { pool.begin_with("BEGIN READ ONLY").await });
                Pooled::PostgresRead(begun.await?)
            }
            Pool::Postgres(pool) => Pooled::Postgres(pool.acquire().await?),
        })
    }

    /// How to open a PostgreSQL session of its own (past any pooler: PostgreSQL itself);
    /// `None` on SQLite.
    pub fn session_options(&self) -> Option<PgConnectOptions> {
        match (&self.pool, &self.direct) {
            (Pool::Postgres(_), Some(direct)) => Some((**direct).clone()),
            (Pool::Postgres(pool), None) => Some((*pool.connect_options()).clone()),
            (Pool::Sqlite(_), _) => None,
        }
    }

    /// A PostgreSQL connection of its own, outside the pool (and outside any pooler): for a
    /// session whose settings must never reach a pooled connection. `None` on SQLite.
    pub async fn detached_postgres(&self) -> Result<Option<PgConnection>, sqlx::Error> {
        match (&self.pool, &self.direct) {
            (Pool::Postgres(_), Some(direct)) => Ok(Some(connect_direct(direct).await?)),
            (Pool::Postgres(pool), None) => Ok(Some(pool.acquire().await?.detach())),
            (Pool::Sqlite(_), _) => Ok(None),
        }
    }

    /// Begins a transaction that is going to write. On SQLite it takes the write lock up
    /// front: a deferred transaction that reads first cannot upgrade once another writer has
    /// committed, and would fail instead of waiting.
    pub async fn begin_write(&self) -> Result<Tx, sqlx::Error> {
        // sqlx's `begin` is not cancellation-safe: dropped midway, it can hand the connection
        // back to the pool inside an open transaction (on SQLite, holding the write lock).
        // Run it to completion in its own task; if our caller is gone by then, the finished
        // transaction is simply dropped, which rolls it back.
        let inner = match self.pool.clone() {
            Pool::Sqlite(pool) => {
                let writer = self.sqlite_writer.clone().lock_owned().await;
                let tx =
                    spawn_to_end(async move { pool.begin_with("BEGIN IMMEDIATE").await }).await?;
                Inner::Sqlite(tx, writer)
            }
            Pool::Postgres(pool) => {
                Inner::Postgres(spawn_to_end(async move { pool.begin().await }).await?)
            }
        };
        Ok(Tx { inner, wakeups: self.wakeups.clone(), queued: false, queued_email: false })
    }

    /// Like [`Self::begin_write`], for bookkeeping whose loss in a crash is harmless because
    /// it is redone (delivery leases and attempt records: a lost one means the delivery is
    /// attempted again). On PostgreSQL its commit does not wait for the WAL flush.
    pub async fn begin_bookkeeping(&self) -> Result<Tx, sqlx::Error> {
        let mut tx = self.begin_write().await?;
        if let Inner::Postgres(pg) = &mut tx.inner {
            sqlx::query("SET LOCAL synchronous_commit = off").execute(&mut **pg).await?;
        }
        Ok(tx)
    }

    pub async fn ping(&self) -> Result<(), sqlx::Error> {
        let mut conn = self.acquire().await?;
        crate::run!(&mut conn, execute, sqlx::query("SELECT 1")).map(|_| ())
    }

    /// Whether the database answers and takes writes. On PostgreSQL a node may answer but
    /// refuse them: a replica, or a primary being demoted during a failover.
    pub async fn writable(&self) -> Result<bool, sqlx::Error> {
        match self.backend() {
            Backend::Sqlite => self.ping().await.map(|()| true),
            Backend::Postgres => {
                let mut conn = self.acquire().await?;
                let (read_only,): (bool,) = crate::run!(
                    &mut conn,
                    fetch_one,
                    sqlx::query_as(
                        "SELECT pg_is_in_recovery() \
                         OR current_setting('default_transaction_read_only') = 'on'"
                    )
                )?;
                Ok(!read_only)
            }
        }
    }

    pub async fn close(&self) {
        match &self.pool {
            Pool::Sqlite(pool) => pool.close().await,
            Pool::Postgres(pool) => pool.close().await,
        }
    }
}

/// A session straight to PostgreSQL, past the pooler; given up after the pool's wait, so that
/// an unreachable host stalls nothing for the kernel's connect timeout.
async fn connect_direct(direct: &PgConnectOptions) -> Result<PgConnection, sqlx::Error> {
    tokio::time::timeout(CONNECTION_WAIT, PgConnection::connect_with(direct))
        .await
        .map_err(|_| sqlx::Error::PoolTimedOut)?
}

async fn spawn_to_end<T: Send + 'static>(
    work: impl Future<Output = Result<T, sqlx::Error>> + Send + 'static,
) -> Result<T, sqlx::Error> {
    tokio::spawn(work).await.map_err(|e| sqlx::Error::Io(std::io::Error::other(e)))?
}
