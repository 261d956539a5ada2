//! `roster backup`: an online, consistent copy of a SQLite database while Roster runs.
//!
//! `VACUUM INTO` reads the whole database inside one read transaction, so the copy is the
//! database as of one moment, and in WAL mode writers carry on meanwhile. The copy is written
//! beside its destination under a temporary name, checked, synced and only then linked into
//! place: a file at the destination is always a whole, checked backup, never a torn one, and
//! an existing file is never overwritten.

use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

use anyhow::{Context, bail};
use sqlx::sqlite::SqliteConnectOptions;
use sqlx::{ConnectOptions, Connection, SqliteConnection};

use super::Backend;

/// What a backup copied.
#[derive(Debug)]
pub struct Copied {
    pub bytes: u64,
    /// The newest migration the copy holds: a server at least this new can run on it.
    pub schema_version: i64,
}

pub async fn sqlite(database_url: &str, to: &Path) -> anyhow::Result<Copied> {
    if Backend::from_url(database_url)? == Backend::Postgres {
        bail!(
            "roster backup copies SQLite databases; back up PostgreSQL with its own tools \
             (pg_dump, or pg_basebackup with WAL archiving): see docs/operations.md"
        );
    }
    if to.exists() {
        bail!("{} exists already: a backup never overwrites a file", to.display());
    }
    let options = SqliteConnectOptions::from_str(database_url)?
        .create_if_missing(false)
        .busy_timeout(Duration::from_secs(10));
    let mut source = options.connect().await.context("opening the database to back up")?;
    let (migrations,): (i64,) = sqlx::query_as(
        "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = '_sqlx_migrations'",
    )
    .fetch_one(&mut source)
    .await?;
    if migrations == 0 {
        bail!("{database_url} holds no Roster database (no migrations have run on it)");
    }

    let partial = partial_path(to)?;
    let copied = copy(&mut source, &partial).await;
    source.close().await?;
    let schema_version = match copied {
        Ok(version) => version,
        Err(err) => {
            let _ = std::fs::remove_file(&partial);
            return Err(err);
        }
    };
    // A hard link refuses to replace a file that appeared meanwhile, where a rename would not.
    let linked = std::fs::hard_link(&partial, to)
        .with_context(|| format!("putting the backup at {}", to.display()));
    std::fs::remove_file(&partial)?;
    linked?;
    if let Some(dir) = to.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::File::open(dir)?.sync_all()?;
    }
    Ok(Copied { bytes: std::fs::metadata(to)?.len(), schema_version })
}

/// Writes the copy to `partial`, checks it, and syncs it to disk: its schema version.
async fn copy(source: &mut SqliteConnection, partial: &Path) -> anyhow::Result<i64> {
    let target = partial.to_str().context("the backup's path must be valid UTF-8")?;
    sqlx::query("VACUUM INTO $1").bind(target).execute(&mut *source).await?;

    let mut copy = SqliteConnectOptions::new().filename(partial).read_only(true).connect().await?;
    let check: Vec<(String,)> =
        sqlx::query_as("PRAGMA integrity_check").fetch_all(&mut copy).await?;
    let (version,): (i64,) =
        sqlx::query_as("SELECT COALESCE(MAX(version), 0) FROM _sqlx_migrations")
            .fetch_one(&mut copy)
            .await?;
    copy.close().await?;
    if check.len() != 1 || check[0].0 != "ok" {
        let problems: Vec<String> = check.into_iter().map(|(line,)| line).collect();
        bail!("the copy failed its integrity check: {}", problems.join("; "));
    }
    std::fs::File::open(partial)?.sync_all()?;
    Ok(version)
}

/// A name beside `to` for the copy while it is written, one per process.
fn partial_path(to: &Path) -> anyhow::Result<PathBuf> {
    let name = to.file_name().context("the backup needs a file name")?.to_string_lossy();
    Ok(to.with_file_name(format!(".{name}.partial-{}", std::process::id())))
}
