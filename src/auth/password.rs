//! Argon2id password hashing with the crate's recommended parameters (OWASP's minimum:
//! 19 MiB, 2 passes). Hashing runs on the blocking pool so it never stalls the reactor.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use rand::rngs::OsRng;
use tokio::sync::Semaphore;

/// Hashes and verifies passwords, a bounded number at a time: each Argon2 run holds 19 MiB,
/// so a flood of sign-ins queues here instead of exhausting memory and blocking threads. The
/// queue is bounded too; past it, callers are told to come back later.
#[derive(Clone)]
pub struct Passwords {
    permits: Arc<Semaphore>,
    queued: Arc<AtomicUsize>,
    max_queued: usize,
}

#[derive(Debug, thiserror::Error)]
pub enum PasswordError {
    #[error("too many password checks waiting")]
    Busy,
    #[error(transparent)]
    Failed(#[from] anyhow::Error),
}

impl From<tokio::task::JoinError> for PasswordError {
    fn from(err: tokio::task::JoinError) -> Self {
        Self::Failed(err.into())
    }
}

/// Holds a place in the queue; gives it back when dropped.
struct QueueSlot(Arc<AtomicUsize>);

impl Drop for QueueSlot {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

impl Passwords {
    pub fn new(concurrency: usize) -> Self {
        let concurrency = concurrency.max(1);
        Self {
            permits: Arc::new(Semaphore::new(concurrency)),
            queued: Arc::new(AtomicUsize::new(0)),
            // About a second of work at ~30 ms a check per core.
            max_queued: concurrency * 32,
        }
    }

    /// Waits for a turn, or refuses at once when the queue is full.
    async fn turn(&self) -> Result<(QueueSlot, tokio::sync::SemaphorePermit<'_>), PasswordError> {
        if self.queued.fetch_add(1, Ordering::SeqCst) >= self.max_queued {
            self.queued.fetch_sub(1, Ordering::SeqCst);
            return Err(PasswordError::Busy);
        }
        let slot = QueueSlot(self.queued.clone());
        let permit = self.permits.acquire().await.map_err(|e| PasswordError::Failed(e.into()))?;
        Ok((slot, permit))
    }

    /// One per core, so hashing cannot starve everything else.
    pub fn per_core() -> Self {
        Self::new(std::thread::available_parallelism().map(|n| n.get()).unwrap_or(2))
    }

    pub async fn hash(&self, password: String) -> Result<String, PasswordError> {
        let _turn = self.turn().await?;
        tokio::task::spawn_blocking(move || {
            let salt = SaltString::generate(&mut OsRng);
            Argon2::default()
                .hash_password(password.as_bytes(), &salt)
                .map(|h| h.to_string())
                .map_err(|e| PasswordError::Failed(anyhow::anyhow!("hashing password: {e}")))
        })
        .await?
    }

    /// Checks `password` against a stored hash. With `None` it checks against a fixed dummy
    /// hash so that an unknown email costs as much time as a wrong password.
    pub async fn verify(
        &self,
        password: String,
        stored: Option<String>,
    ) -> Result<bool, PasswordError> {
        let _turn = self.turn().await?;
        tokio::task::spawn_blocking(move || {
            let known = stored.is_some();
            let stored = stored.unwrap_or_else(|| DUMMY_HASH.to_owned());
            let parsed = PasswordHash::new(&stored).map_err(|e| {
                PasswordError::Failed(anyhow::anyhow!("stored hash unreadable: {e}"))
            })?;
            let matches = Argon2::default().verify_password(password.as_bytes(), &parsed).is_ok();
            Ok(known && matches)
        })
        .await?
    }
}

/// A well-formed Argon2id hash with the default parameters that no password matches in
/// practice; verifying against it costs what verifying a real hash costs.
const DUMMY_HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$9lWQ8uMvUxc9KIDrQ0Q0s0gq0hQ5c0eB0r6o8b4YF2A";

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn hashes_and_verifies() {
        let passwords = Passwords::new(1);
        let stored = passwords.hash("correct horse".into()).await.expect("hash");
        assert!(stored.starts_with("$argon2id$"));
        assert!(
            passwords.verify("correct horse".into(), Some(stored.clone())).await.expect("verify")
        );
        assert!(!passwords.verify("wrong horse".into(), Some(stored)).await.expect("verify"));
        assert!(!passwords.verify("anything".into(), None).await.expect("verify"));
    }

    #[tokio::test]
    async fn refuses_when_the_queue_is_full() {
        let passwords = Passwords { max_queued: 0, ..Passwords::new(1) };
        assert!(matches!(passwords.hash("x".into()).await, Err(PasswordError::Busy)));
    }
}
