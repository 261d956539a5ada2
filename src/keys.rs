//! Where the at-rest encryption key comes from: the configuration, or for SQLite a
//! `roster.key` file beside the database, generated on first run.

use std::path::{Path, PathBuf};

use rand::RngCore;

use crate::config::{Config, SecretKey};
use crate::store::Backend;

pub fn resolve(config: &Config, backend: Backend) -> anyhow::Result<SecretKey> {
    if let Some(key) = &config.secret_key {
        return Ok(key.clone());
    }
    if backend == Backend::Postgres {
        anyhow::bail!(
            "ROSTER_SECRET_KEY (or --secret-key-file) is required with PostgreSQL: every instance \
             must share one key \
             (generate one with `head -c 32 /dev/urandom | base64`)"
        );
    }
    match sqlite_key_path(&config.database_url) {
        Some(path) => load_or_create(&path),
        None => {
            tracing::warn!("in-memory database: using a throwaway secret key");
            Ok(random_key())
        }
    }
}

fn random_key() -> SecretKey {
    let mut key = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut key);
    SecretKey(key)
}

/// `roster.key` in the SQLite file's directory; `None` for an in-memory database.
fn sqlite_key_path(url: &str) -> Option<PathBuf> {
    let path = url.trim_start_matches("sqlite:").trim_start_matches("//");
    let path = path.split('?').next().unwrap_or(path);
    if path.is_empty() || path.contains(":memory:") {
        return None;
    }
    let dir = Path::new(path).parent().unwrap_or(Path::new(""));
    Some(dir.join("roster.key"))
}

fn load_or_create(path: &Path) -> anyhow::Result<SecretKey> {
    match std::fs::read_to_string(path) {
        Ok(text) => text.parse().map_err(|e| anyhow::anyhow!("{}: {e}", path.display())),
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => {
            let key = random_key();
            if publish(path, &key.to_base64())? {
                tracing::info!(path = %path.display(), "generated a new secret key; back it up with the database");
                Ok(key)
            } else {
                // Another process starting at the same moment published its key first.
                load_or_create(path)
            }
        }
        Err(err) => Err(anyhow::anyhow!("reading {}: {err}", path.display())),
    }
}

/// Writes `contents` to a private temporary file, flushes it to disk, then links it into
/// place only if nothing is there yet: readers never see a partial key, and two processes
/// cannot both win. Returns false if another key was already in place.
fn publish(path: &Path, contents: &str) -> anyhow::Result<bool> {
    let dir = path.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let temp = dir.join(format!(".roster.key.{}", uuid::Uuid::new_v4().simple()));
    write_private(&temp, contents)?;
    let linked = std::fs::hard_link(&temp, path);
    let _ = std::fs::remove_file(&temp);
    match linked {
        Ok(()) => Ok(true),
        Err(err) if err.kind() == std::io::ErrorKind::AlreadyExists => Ok(false),
        Err(err) => Err(anyhow::anyhow!("writing {}: {err}", path.display())),
    }
}

#[cfg(unix)]
fn write_private(path: &Path, contents: &str) -> anyhow::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut file =
        std::fs::OpenOptions::new().write(true).create_new(true).mode(0o600).open(path)?;
    file.write_all(contents.as_bytes())?;
    file.sync_all()?;
    Ok(())
}

#[cfg(not(unix))]
fn write_private(path: &Path, contents: &str) -> anyhow::Result<()> {
    use std::io::Write;
    let mut file = std::fs::OpenOptions::new().write(true).create_new(true).open(path)?;
    file.write_all(contents.as_bytes())?;
    file.sync_all()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_file_sits_beside_the_database() {
        assert_eq!(sqlite_key_path("sqlite://roster.db"), Some(PathBuf::from("roster.key")));
        assert_eq!(
            sqlite_key_path("sqlite:///var/lib/roster/r.db?mode=rwc"),
            Some(PathBuf::from("/var/lib/roster/roster.key"))
        );
        assert_eq!(sqlite_key_path("sqlite::memory:"), None);
    }

    #[test]
    fn concurrent_first_starts_agree_on_one_key() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("roster.key");
        let keys: Vec<SecretKey> = std::thread::scope(|s| {
            let handles: Vec<_> = (0..8).map(|_| s.spawn(|| load_or_create(&path))).collect();
            handles.into_iter().map(|h| h.join().expect("thread").expect("key")).collect()
        });
        assert!(keys.windows(2).all(|w| w[0] == w[1]));
        let leftovers = std::fs::read_dir(dir.path()).expect("dir").count();
        assert_eq!(leftovers, 1, "only roster.key remains");
    }

    #[test]
    fn generates_once_then_reuses() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("roster.key");
        let first = load_or_create(&path).expect("create");
        let second = load_or_create(&path).expect("load");
        assert_eq!(first, second);
    }
}
