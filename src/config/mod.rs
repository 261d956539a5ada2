//! Every setting, layered flags → `ROSTER_*` environment → defaults by clap, and checked
//! at load. Secrets are redacted from `Debug`.

mod console;
mod delivery;
mod email;
mod health;
mod limits;
mod retention;
mod values;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, ValueEnum};

pub use console::ConsoleSessions;
pub use delivery::DeliveryLimits;
pub use email::{EmailArgs, EmailSettings, SmtpUrl};
pub use health::WebhookHealth;
pub use limits::{Quotas, ServerLimits};
pub use retention::Retention;
pub use values::{
    DatabaseUrl, RetrySchedule, SecretKey, parse_duration, parse_public_url, parse_schedule,
    read_secret,
};

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

/// The server's settings as given on the command line or in the environment.
#[derive(Debug, Clone, Args)]
pub struct ServeArgs {
    /// Address to listen on.
    #[arg(long, env = "ROSTER_ADDR", default_value = "127.0.0.1:3001", global = true)]
    pub addr: SocketAddr,

    /// `sqlite://FILE` or `postgres://…`. A password in it is better given through
    /// ROSTER_DATABASE_URL than on the command line, where the process list shows it.
    #[arg(
        long,
        env = "ROSTER_DATABASE_URL",
        default_value = "sqlite://roster.db",
        hide_env_values = true,
        global = true
    )]
    pub database_url: DatabaseUrl,

    /// PostgreSQL itself, when `database_url` is a connection pooler in transaction mode
    /// (PgBouncer): migrations, the delivery worker's sessions and LISTEN connect here, and
    /// every statement through the pooler runs in a transaction, with none kept prepared.
    #[arg(long, env = "ROSTER_DATABASE_DIRECT_URL", hide_env_values = true, global = true)]
    pub database_direct_url: Option<DatabaseUrl>,

    /// A file holding the key that encrypts webhook and OAuth secrets at rest (base64 of 32
    /// bytes). Or set ROSTER_SECRET_KEY to the key itself; it is never taken on the command
    /// line. Generated into `roster.key` beside the SQLite file when neither is given.
    #[arg(long, env = "ROSTER_SECRET_KEY_FILE", global = true)]
    pub secret_key_file: Option<PathBuf>,

    /// Refused with a pointer to the two safe ways; see `secret_key_file`.
    #[arg(long = "secret-key", hide = true, global = true)]
    pub secret_key_on_command_line: Option<String>,

    /// While rotating the secret key: a file holding one more key whose sealed values are
    /// read, never sealed with (see docs/operations.md). Or set ROSTER_SECRET_KEY_ACCEPT.
    #[arg(long, env = "ROSTER_SECRET_KEY_ACCEPT_FILE", global = true)]
    pub secret_key_accept_file: Option<PathBuf>,

    /// Allow webhook delivery to http:// and to private, loopback and link-local addresses.
    #[arg(long, env = "ROSTER_WEBHOOK_ALLOW_PRIVATE", global = true)]
    pub webhook_allow_private: bool,

    /// Delays before each retry of a failed delivery, e.g. `1s,5s,30s`.
    #[arg(long, env = "ROSTER_WEBHOOK_RETRY_SCHEDULE", default_value = "1s,5s,30s",
          value_parser = parse_schedule, global = true)]
    pub webhook_retry_schedule: RetrySchedule,

    /// Timeout of one delivery attempt.
    #[arg(long, env = "ROSTER_WEBHOOK_TIMEOUT", default_value = "10s",
          value_parser = parse_duration, global = true)]
    pub webhook_timeout: Duration,

    /// How much longer than the per-attempt timeout a worker's claim on a delivery lasts; a
    /// delivery claimed by an instance that died is attempted again once this has passed.
    #[arg(long, env = "ROSTER_WEBHOOK_LEASE_MARGIN", default_value = "30s",
          value_parser = parse_duration, global = true)]
    pub webhook_lease_margin: Duration,

    /// `text` for people, `json` for log pipelines.
    #[arg(long, env = "ROSTER_LOG_FORMAT", value_enum, default_value = "text", global = true)]
    pub log_format: LogFormat,

    /// How long an invite stays acceptable.
    #[arg(long, env = "ROSTER_INVITE_TTL", default_value = "7d", value_parser = parse_duration,
          global = true)]
    pub invite_ttl: Duration,

    /// Whether anyone may register an account.
    #[arg(long, env = "ROSTER_ALLOW_SIGNUP", default_value = "true", action = clap::ArgAction::Set,
          global = true)]
    pub allow_signup: bool,

    /// The public base URL of this server, e.g. `https://roster.example.com`: the OAuth
    /// issuer. When unset, it is `http://` plus the request's `Host`.
    #[arg(long, env = "ROSTER_PUBLIC_URL", value_parser = parse_public_url, global = true)]
    pub public_url: Option<String>,

    #[command(flatten)]
    pub server_limits: ServerLimits,

    #[command(flatten)]
    pub quotas: Quotas,

    #[command(flatten)]
    pub delivery_limits: DeliveryLimits,

    #[command(flatten)]
    pub retention: Retention,

    #[command(flatten)]
    pub webhook_health: WebhookHealth,

    #[command(flatten)]
    pub console: ConsoleSessions,

    #[command(flatten)]
    pub email: EmailArgs,
}

/// The checked configuration the server runs with.
#[derive(Debug, Clone)]
pub struct Config {
    pub database_url: DatabaseUrl,
    /// PostgreSQL itself, when `database_url` is a connection pooler in transaction mode.
    pub database_direct_url: Option<DatabaseUrl>,
    pub secret_key: Option<SecretKey>,
    /// One more key sealed values may be under, while the key is rotated.
    pub accepted_secret_key: Option<SecretKey>,
    pub webhook_allow_private: bool,
    pub webhook_retry_schedule: RetrySchedule,
    pub webhook_timeout: Duration,
    /// A delivery's lease is `webhook_timeout + webhook_lease_margin`.
    pub webhook_lease_margin: Duration,
    pub allow_signup: bool,
    pub invite_ttl: Duration,
    pub delivery_limits: DeliveryLimits,
    pub webhook_health: WebhookHealth,
    /// Longest wait between looks at the delivery queue when nothing wakes the worker.
    pub webhook_poll_interval: Duration,
    pub access_token_ttl: Duration,
    pub refresh_token_ttl: Duration,
    /// Failed sign-ins allowed per email and per client address within `login_window`.
    pub login_max_failures: i64,
    pub login_window: Duration,
    /// How long graceful shutdown waits for in-flight work.
    pub shutdown_grace: Duration,
    /// The OAuth issuer, without a trailing slash; see [`ServeArgs::public_url`].
    pub public_url: Option<String>,
    /// How long an OAuth authorization code can be exchanged.
    pub oauth_code_ttl: Duration,
    /// How long a rotated-out secret keeps working, so that every instance can switch over:
    /// an OAuth app's client secret and a webhook's signing secret alike (24 hours, as the
    /// API promises; tests shorten it).
    pub oauth_secret_overlap: Duration,
    /// How often expired tokens and codes are pruned.
    pub prune_interval: Duration,
    /// How long after expiry a token or code is kept (a replay within it is still recognised).
    pub keep_expired_for: Duration,
    /// How long an `Idempotency-Key` replays its first answer (24 hours, as the API promises).
    pub idempotency_ttl: Duration,
    /// How long a request holds its key before a retry may take it over, should the instance
    /// running it have died: far longer than any request runs (bodies must arrive within
    /// `body_timeout`, and a write waits its turn in a bounded queue).
    pub idempotency_lease: Duration,
    /// How long the webhook log is kept.
    pub retention: Retention,
    /// Rows each statement of the webhook log's pruning deletes at most.
    pub retention_batch: i64,
    pub server_limits: ServerLimits,
    pub quotas: Quotas,
    pub email: EmailSettings,
    pub console: ConsoleSessions,
}

impl Config {
    /// Connects to the database this configuration names (through its pooler, if any).
    pub async fn connect_db(&self) -> anyhow::Result<crate::store::Db> {
        crate::store::Db::connect_with(&self.database_url, self.database_direct_url.as_deref())
            .await
    }

    /// Defaults for everything but the database.
    pub fn new(database_url: impl Into<String>) -> Self {
        Self {
            database_url: DatabaseUrl::new(database_url),
            database_direct_url: None,
            secret_key: None,
            accepted_secret_key: None,
            webhook_allow_private: false,
            webhook_retry_schedule: RetrySchedule(vec![
                Duration::from_secs(1),
                Duration::from_secs(5),
                Duration::from_secs(30),
            ]),
            webhook_timeout: Duration::from_secs(10),
            webhook_lease_margin: Duration::from_secs(30),
            allow_signup: true,
            invite_ttl: Duration::from_secs(7 * 24 * 3600),
            delivery_limits: DeliveryLimits::default(),
            webhook_health: WebhookHealth::default(),
            webhook_poll_interval: Duration::from_secs(1),
            access_token_ttl: Duration::from_secs(3600),
            refresh_token_ttl: Duration::from_secs(30 * 24 * 3600),
            login_max_failures: 10,
            login_window: Duration::from_secs(15 * 60),
            shutdown_grace: Duration::from_secs(30),
            public_url: None,
            oauth_code_ttl: Duration::from_secs(60),
            oauth_secret_overlap: Duration::from_secs(24 * 3600),
            prune_interval: Duration::from_secs(10 * 60),
            keep_expired_for: Duration::from_secs(24 * 3600),
            idempotency_ttl: Duration::from_secs(24 * 3600),
            idempotency_lease: Duration::from_secs(5 * 60),
            retention: Retention::default(),
            retention_batch: 200,
            server_limits: ServerLimits::default(),
            quotas: Quotas::default(),
            email: EmailSettings::default(),
            console: ConsoleSessions::default(),
        }
    }
}

impl ServeArgs {
    /// The configuration these settings give, with the secret key read from where it may come
    /// from: the environment or a file.
    pub fn into_config(self) -> anyhow::Result<Config> {
        let secret_key = self.secret_key()?;
        let accepted_secret_key =
            key_from("ROSTER_SECRET_KEY_ACCEPT", self.secret_key_accept_file.as_deref())?;
        let email =
            self.email.into_settings(self.public_url.as_deref(), format!("http://{}", self.addr));
        Ok(Config {
            email,
            secret_key,
            accepted_secret_key,
            webhook_allow_private: self.webhook_allow_private,
            webhook_retry_schedule: self.webhook_retry_schedule,
            webhook_timeout: self.webhook_timeout,
            webhook_lease_margin: self.webhook_lease_margin,
            allow_signup: self.allow_signup,
            invite_ttl: self.invite_ttl,
            public_url: self.public_url,
            server_limits: self.server_limits,
            quotas: self.quotas,
            delivery_limits: self.delivery_limits,
            retention: self.retention,
            webhook_health: self.webhook_health,
            console: self.console,
            database_url: self.database_url,
            database_direct_url: self.database_direct_url,
            ..Config::new("")
        })
    }

    fn secret_key(&self) -> anyhow::Result<Option<SecretKey>> {
        if self.secret_key_on_command_line.is_some() {
            anyhow::bail!(
                "--secret-key is not accepted: the process list would show the key to every \
                 user of the machine. Set ROSTER_SECRET_KEY, or pass --secret-key-file"
            );
        }
        key_from("ROSTER_SECRET_KEY", self.secret_key_file.as_deref())
    }
}

/// A key from the environment variable `env` or from `file`, if either is given.
fn key_from(env: &str, file: Option<&std::path::Path>) -> anyhow::Result<Option<SecretKey>> {
    let from_env = std::env::var(env).ok().filter(|v| !v.trim().is_empty());
    values::read_secret(env, from_env, file)?
        .map(|text| text.parse().map_err(|e: String| anyhow::anyhow!("{env}: {e}")))
        .transpose()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_match_the_spec() {
        let c = Config::new("sqlite://roster.db");
        assert_eq!(c.webhook_timeout, Duration::from_secs(10));
        assert_eq!(c.webhook_retry_schedule.0.len(), 3);
        assert!(!c.webhook_allow_private);
        assert!(c.allow_signup);
    }
}
