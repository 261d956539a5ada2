//! What every handler can reach: the database, settings, metrics, the key that seals secrets,
//! the email outbox, the password hasher and the clock. The server builds it once at
//! start; cloning is cheap and shares everything.

use std::sync::Arc;

use crate::auth::password::Passwords;
use crate::auth::sign_in::{Limits, SignIn};
use crate::clock::Clock;
use crate::config::Config;
use crate::crypto::SecretBox;
use crate::delivery::metrics::DeliveryMetrics;
use crate::email::Outbox;
use crate::email::metrics::EmailMetrics;
use crate::http::org_writes::WriteTurns;
use crate::metrics::Metrics;
use crate::store::Db;

#[derive(Clone)]
pub struct AppState {
    pub db: Db,
    pub config: Arc<Config>,
    pub metrics: Arc<Metrics>,
    pub delivery_metrics: Arc<DeliveryMetrics>,
    pub email_metrics: Arc<EmailMetrics>,
    /// Where handlers queue email, in their own transaction.
    pub outbox: Outbox,
    pub secret_box: SecretBox,
    pub passwords: Passwords,
    /// The time every handler reads; tests move it instead of sleeping.
    pub clock: Clock,
    /// Where writes to one organization take their turns.
    pub org_writes: Arc<WriteTurns>,
    /// The application's event types' schemas, compiled.
    pub compiled_schemas: Arc<crate::http::publish::compiled::CompiledSchemas>,
    /// Work a handler leaves running after its answer; shutdown waits for it.
    pub background: tokio_util::task::TaskTracker,
}

impl AppState {
    /// Sign-in checks under the configured limits.
    pub fn sign_in(&self) -> SignIn<'_> {
        let limits = Limits {
            max_failures: self.config.login_max_failures,
            window: self.config.login_window,
        };
        SignIn { db: &self.db, passwords: &self.passwords, limits }
    }
}
