//! Limits that keep slow or many clients from exhausting the server, and quotas that keep one
//! organization from taking more than its share.

use std::time::Duration;

use clap::Args;

use super::parse_duration;

/// How many connections the server holds open and how long it waits on each.
#[derive(Debug, Clone, PartialEq, Eq, Args)]
pub struct ServerLimits {
    /// Open connections at most; further clients wait in the kernel's accept queue. Keep it
    /// below the process's file-descriptor limit (`ulimit -n`), less the database pool's.
    #[arg(long = "max-connections", env = "ROSTER_MAX_CONNECTIONS", default_value = "512",
          value_parser = parse_connection_cap, global = true)]
    pub max_connections: usize,

    /// How long a client has to send a request's headers.
    #[arg(long = "header-timeout", env = "ROSTER_HEADER_TIMEOUT", default_value = "10s",
          value_parser = parse_positive_duration, global = true)]
    pub header_timeout: Duration,

    /// How long a client has to send a request's body, once its headers are in.
    #[arg(long = "body-timeout", env = "ROSTER_BODY_TIMEOUT", default_value = "30s",
          value_parser = parse_positive_duration, global = true)]
    pub body_timeout: Duration,

    /// How long a keep-alive connection may sit idle between requests.
    #[arg(long = "idle-timeout", env = "ROSTER_IDLE_TIMEOUT", default_value = "60s",
          value_parser = parse_positive_duration, global = true)]
    pub idle_timeout: Duration,

    /// Writes to one organization run at once, per instance; the rest wait their turn
    /// without holding a database connection.
    #[arg(long = "org-write-concurrency", env = "ROSTER_ORG_WRITE_CONCURRENCY",
          default_value = "4", value_parser = parse_connection_cap, global = true)]
    pub org_writes_at_once: usize,

    /// Writes to one organization that may wait for their turn, per instance; further ones
    /// are answered 429 with `Retry-After: 1`.
    #[arg(
        long = "org-write-queue",
        env = "ROSTER_ORG_WRITE_QUEUE",
        default_value = "256",
        global = true
    )]
    pub org_writes_queued: usize,
}

impl Default for ServerLimits {
    fn default() -> Self {
        Self {
            max_connections: 512,
            header_timeout: Duration::from_secs(10),
            body_timeout: Duration::from_secs(30),
            idle_timeout: Duration::from_secs(60),
            org_writes_at_once: 4,
            org_writes_queued: 256,
        }
    }
}

fn parse_connection_cap(s: &str) -> Result<usize, String> {
    match s.trim().parse::<usize>() {
        Ok(n) if n > 0 => Ok(n),
        _ => Err(format!("a connection count must be a whole number above zero, not {s:?}")),
    }
}

/// How much each organization, user and app may hold at once. Creating one more past a
/// quota is refused with a 409 (a 400 `invalid_request` at the OAuth token endpoint).
#[derive(Debug, Clone, PartialEq, Eq, Args)]
pub struct Quotas {
    /// Webhooks per organization (not deleted). Every event fans out to each subscribed
    /// webhook in the event's transaction, so this also bounds that work.
    #[arg(long = "max-webhooks-per-org", env = "ROSTER_MAX_WEBHOOKS_PER_ORG",
          default_value = "100", value_parser = parse_quota, global = true)]
    pub webhooks_per_org: i64,

    /// Pending invites per organization.
    #[arg(long = "max-pending-invites-per-org", env = "ROSTER_MAX_PENDING_INVITES_PER_ORG",
          default_value = "1000", value_parser = parse_quota, global = true)]
    pub pending_invites_per_org: i64,

    /// OAuth apps per organization (not revoked).
    #[arg(long = "max-oauth-apps-per-org", env = "ROSTER_MAX_OAUTH_APPS_PER_ORG",
          default_value = "50", value_parser = parse_quota, global = true)]
    pub oauth_apps_per_org: i64,

    /// Personal access tokens per user (not revoked or expired).
    #[arg(long = "max-personal-tokens-per-user", env = "ROSTER_MAX_PERSONAL_TOKENS_PER_USER",
          default_value = "100", value_parser = parse_quota, global = true)]
    pub personal_tokens_per_user: i64,

    /// Access tokens per OAuth app that have not expired or been revoked. An app should reuse
    /// a token until it expires rather than ask for one per call.
    #[arg(long = "max-oauth-tokens-per-app", env = "ROSTER_MAX_OAUTH_TOKENS_PER_APP",
          default_value = "10000", value_parser = parse_quota, global = true)]
    pub oauth_tokens_per_app: i64,
}

impl Default for Quotas {
    fn default() -> Self {
        Self {
            webhooks_per_org: 100,
            pending_invites_per_org: 1000,
            oauth_apps_per_org: 50,
            personal_tokens_per_user: 100,
            oauth_tokens_per_app: 10_000,
        }
    }
}

fn parse_quota(s: &str) -> Result<i64, String> {
    match s.trim().parse::<i64>() {
        Ok(n) if (1..=1_000_000_000).contains(&n) => Ok(n),
        _ => Err(format!("a quota must be a whole number from 1 to 1000000000, not {s:?}")),
    }
}

/// A timeout of zero would refuse every client.
fn parse_positive_duration(s: &str) -> Result<Duration, String> {
    let duration = parse_duration(s)?;
    if duration.is_zero() {
        return Err("a timeout must be longer than zero".into());
    }
    Ok(duration)
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;

    #[derive(Parser)]
    struct Flags {
        #[command(flatten)]
        limits: ServerLimits,
        #[command(flatten)]
        quotas: Quotas,
    }

    #[test]
    fn the_flags_default_to_the_defaults() {
        let parsed = Flags::try_parse_from(["roster"]).expect("defaults parse");
        assert_eq!(parsed.limits, ServerLimits::default());
        assert_eq!(parsed.quotas, Quotas::default());
    }

    #[test]
    fn limits_must_leave_room_to_serve() {
        assert!(Flags::try_parse_from(["roster", "--header-timeout", "0s"]).is_err());
        assert!(Flags::try_parse_from(["roster", "--max-connections", "0"]).is_err());
        assert!(Flags::try_parse_from(["roster", "--max-webhooks-per-org", "0"]).is_err());
        let parsed = Flags::try_parse_from(["roster", "--idle-timeout", "5m"]).expect("parses");
        assert_eq!(parsed.limits.idle_timeout, Duration::from_secs(300));
    }
}
