//! What every handler can reach: the database, settings, metrics, the key that seals secrets,
//! the password hasher, the clock and the worker's wake-up. The server builds it once at
//! start; cloning is cheap and shares everything.

use std::sync::Arc;

use tokio::sync::Notify;

use crate::auth::password::Passwords;
use crate::auth::sign_in::{Limits, SignIn};
use crate::clock::Clock;
use crate::config::Config;
use crate::crypto::SecretBox;
use crate::delivery::metrics::DeliveryMetrics;
use crate::metrics::Metrics;
use crate::store::{Db, Tx};

#[derive(Clone)]
pub struct AppState {
    pub db: Db,
    pub config: Arc<Config>,
    pub metrics: Arc<Metrics>,
    pub delivery_metrics: Arc<DeliveryMetrics>,
    pub secret_box: SecretBox,
    /// Wakes this instance's delivery worker.
    pub deliveries_queued: Arc<Notify>,
    pub passwords: Passwords,
    /// The time every handler reads; tests move it instead of sleeping.
    pub clock: Clock,
}

impl AppState {
    /// Commits a transaction that may have queued deliveries, then wakes the worker. Nothing
    /// depends on the wake-up: if this future is dropped right after the commit, the worker's
    /// fallback poll (and on PostgreSQL the commit's NOTIFY) still finds the deliveries.
    pub async fn commit(&self, tx: Tx) -> Result<(), sqlx::Error> {
        tx.commit().await?;
        self.deliveries_queued.notify_one();
        Ok(())
    }

    /// Sign-in checks under the configured limits.
    pub fn sign_in(&self) -> SignIn<'_> {
        let limits = Limits {
            max_failures: self.config.login_max_failures,
            window: self.config.login_window,
        };
        SignIn { db: &self.db, passwords: &self.passwords, limits }
    }
}
