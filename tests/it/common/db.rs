//! The database of one test.
//!
//! On SQLite, a file in a temporary directory. On PostgreSQL, a database of its own,
//! `t_<uuid>`, copied from a template that this process migrates once: `roster_tpl_<hash>`,
//! named after the contents of `migrations/postgres/*.sql`, so a changed migration gets a new
//! template and an unchanged one is reused by every later run. Test processes sharing one
//! server take an advisory lock to build the template, so none sees it half-made; a test's
//! database is dropped with its [`TestDb`]. Databases left behind by runs that were killed
//! are dropped once they are [`STALE_AFTER`] old.

use std::path::Path;
use std::str::FromStr;
use std::time::{Duration, SystemTime};

use anyhow::Context;
use sha2::{Digest, Sha256};
use sqlx::postgres::PgConnectOptions;
use sqlx::{Connection, Executor, PgConnection};
use tokio::sync::OnceCell;
use uuid::Uuid;

use super::Backend;

/// Held while a process builds the template or drops stale test databases.
const TEMPLATE_LOCK: i64 = 0x726f_7374_6572_7462; // "rostertb"

/// How old a test database must be before a later run takes it for one a killed run left.
const STALE_AFTER: Duration = Duration::from_secs(6 * 60 * 60);

/// A fresh database for one test, dropped with it: empty on SQLite (the server migrates it on
/// start), a copy of the migrated template on PostgreSQL.
pub struct TestDb {
    pub url: String,
    kind: Kind,
}

enum Kind {
    /// The directory goes with the test.
    Sqlite {
        _dir: tempfile::TempDir,
    },
    Postgres {
        admin: Box<PgConnectOptions>,
        name: String,
    },
}

impl TestDb {
    pub async fn new(backend: Backend) -> Self {
        match backend {
            Backend::Sqlite => {
                let dir = tempfile::tempdir().expect("temp dir");
                let url = format!("sqlite://{}", dir.path().join("roster.db").display());
                Self { url, kind: Kind::Sqlite { _dir: dir } }
            }
            Backend::Postgres => {
                let base = postgres_url();
                Self::postgres(&base).await.unwrap_or_else(|e| {
                    panic!(
                        "PostgreSQL at {base}: {e:#}; set ROSTER_TEST_POSTGRES=off to skip the \
                         PostgreSQL tests"
                    )
                })
            }
        }
    }

    async fn postgres(base: &str) -> anyhow::Result<Self> {
        let admin = PgConnectOptions::from_str(base).context("ROSTER_TEST_POSTGRES_URL")?;
        let template = template(base, &admin).await?;
        let name = format!("t_{}", Uuid::now_v7().simple());
        let mut conn = PgConnection::connect_with(&admin).await.context("unreachable")?;
        conn.execute(format!(r#"CREATE DATABASE "{name}" TEMPLATE "{template}""#).as_str())
            .await
            .with_context(|| format!("copying {template}"))?;
        conn.close().await?;
        Ok(Self {
            url: database_url(base, &name)?,
            kind: Kind::Postgres { admin: Box::new(admin), name },
        })
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let Kind::Postgres { admin, name } = &self.kind else { return };
        let (admin, name) = (admin.as_ref().clone(), name.clone());
        // Drop cannot await, and may run inside the test's runtime: the statement runs on a
        // thread of its own with a runtime of its own, and the test waits for it.
        let dropped = std::thread::spawn(move || -> anyhow::Result<()> {
            let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
            runtime.block_on(async {
                let mut conn = PgConnection::connect_with(&admin).await?;
                drop_database(&mut conn, &name).await?;
                conn.close().await?;
                Ok(())
            })
        })
        .join();
        match dropped {
            Ok(Ok(())) => {}
            Ok(Err(e)) => eprintln!("test database {} not dropped: {e:#}", self.url),
            Err(_) => {
                eprintln!("test database {} not dropped: the dropping thread panicked", self.url)
            }
        }
    }
}

pub(crate) fn postgres_url() -> String {
    std::env::var("ROSTER_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".to_owned())
}

/// `base` with its database name replaced by `name`.
fn database_url(base: &str, name: &str) -> anyhow::Result<String> {
    let mut url = url::Url::parse(base).context("ROSTER_TEST_POSTGRES_URL")?;
    url.set_path(&format!("/{name}"));
    Ok(url.into())
}

async fn drop_database(conn: &mut PgConnection, name: &str) -> sqlx::Result<()> {
    conn.execute(format!(r#"DROP DATABASE IF EXISTS "{name}" WITH (FORCE)"#).as_str()).await?;
    Ok(())
}

/// The name of the migrated template, made on first use in this process.
async fn template(base: &str, admin: &PgConnectOptions) -> anyhow::Result<String> {
    static TEMPLATE: OnceCell<String> = OnceCell::const_new();
    TEMPLATE.get_or_try_init(|| prepare_template(base, admin)).await.cloned()
}

async fn prepare_template(base: &str, admin: &PgConnectOptions) -> anyhow::Result<String> {
    let migrations = Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations/postgres");
    let name = format!("roster_tpl_{}", &migrations_digest(&migrations)?[..16]);
    let mut conn = PgConnection::connect_with(admin).await.context("unreachable")?;
    sqlx::query("SELECT pg_advisory_lock($1)").bind(TEMPLATE_LOCK).execute(&mut conn).await?;
    let prepared = async {
        drop_stale_databases(&mut conn).await.context("dropping stale test databases")?;
        ensure_template(&mut conn, base, &name).await.with_context(|| format!("building {name}"))
    }
    .await;
    // Closing the session releases the lock, whatever happened above.
    conn.close().await?;
    prepared.map(|()| name)
}

/// SHA-256 over the names and contents of the `*.sql` files in `dir`, in name order, as hex.
fn migrations_digest(dir: &Path) -> anyhow::Result<String> {
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .with_context(|| format!("reading {}", dir.display()))?
        .map(|entry| entry.map(|e| e.path()))
        .collect::<Result<_, _>>()?;
    files.retain(|path| path.extension().is_some_and(|ext| ext == "sql"));
    files.sort();
    let mut digest = Sha256::new();
    for path in files {
        let file_name = path.file_name().expect("a file name").to_string_lossy().into_owned();
        digest.update(file_name.as_bytes());
        digest.update([0]);
        digest.update(std::fs::read(&path).with_context(|| format!("reading {}", path.display()))?);
        digest.update([0]);
    }
    Ok(hex::encode(digest.finalize()))
}

/// Makes `name` a migrated template unless a finished one is there. The caller holds
/// [`TEMPLATE_LOCK`]; a template counts as finished once it is marked as a template, its last
/// step, so one left half-built by a killed run is made again.
async fn ensure_template(conn: &mut PgConnection, base: &str, name: &str) -> anyhow::Result<()> {
    let finished: Option<bool> =
        sqlx::query_scalar("SELECT datistemplate FROM pg_database WHERE datname = $1")
            .bind(name)
            .fetch_optional(&mut *conn)
            .await?;
    match finished {
        Some(true) => return Ok(()),
        Some(false) => drop_database(conn, name).await?,
        None => {}
    }
    conn.execute(format!(r#"CREATE DATABASE "{name}""#).as_str()).await?;
    let db = roster::store::Db::connect(&database_url(base, name)?).await?;
    db.migrate().await?;
    drop(db);
    // A database cannot be copied while anyone is connected to it. The pool's connections
    // end once it is dropped, but not at once: end them now, waiting up to 10 s for each.
    sqlx::query(
        "SELECT pg_terminate_backend(pid, 10000) FROM pg_stat_activity \
         WHERE datname = $1 AND pid <> pg_backend_pid()",
    )
    .bind(name)
    .execute(&mut *conn)
    .await?;
    conn.execute(
        format!(r#"ALTER DATABASE "{name}" WITH IS_TEMPLATE true ALLOW_CONNECTIONS false"#)
            .as_str(),
    )
    .await?;
    Ok(())
}

/// Drops the test databases of runs killed before their tests could drop them. Their names
/// carry their creation time (UUIDv7); a test that runs for hours is not expected.
async fn drop_stale_databases(conn: &mut PgConnection) -> anyhow::Result<()> {
    let names: Vec<String> =
        sqlx::query_scalar("SELECT datname FROM pg_database WHERE datname ~ '^t_[0-9a-f]{32}$'")
            .fetch_all(&mut *conn)
            .await?;
    for name in names {
        let created = Uuid::parse_str(&name[2..])
            .ok()
            .filter(|id| id.get_version_num() == 7)
            .and_then(|id| id.get_timestamp());
        let Some(created) = created else { continue };
        let (secs, nanos) = created.to_unix();
        let created = SystemTime::UNIX_EPOCH + Duration::new(secs, nanos);
        if created.elapsed().is_ok_and(|age| age > STALE_AFTER) {
            drop_database(conn, &name).await?;
        }
    }
    Ok(())
}
