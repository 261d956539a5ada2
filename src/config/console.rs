//! How long a console sign-in and a portal session last. A browser left open on a shared
//! machine is the risk a console has that an API token does not, so a sign-in ends both after
//! a quiet spell and after a fixed time however busy it is. A portal link is a credential in
//! a URL, so it works once and only for minutes.

use std::time::Duration;

use clap::Args;

use super::parse_duration;

#[derive(Debug, Clone, PartialEq, Eq, Args)]
pub struct ConsoleSessions {
    /// A console sign-in ends after this long without a request.
    #[arg(long = "console-idle-timeout", env = "ROSTER_CONSOLE_IDLE_TIMEOUT",
          default_value = "30m", value_parser = parse_positive, global = true)]
    pub idle: Duration,

    /// A console sign-in ends this long after it began, however active.
    #[arg(long = "console-session-max", env = "ROSTER_CONSOLE_SESSION_MAX",
          default_value = "12h", value_parser = parse_positive, global = true)]
    pub absolute: Duration,

    /// How long a portal link may wait to be opened; it opens once.
    #[arg(long = "portal-link-ttl", env = "ROSTER_PORTAL_LINK_TTL", default_value = "5m",
          value_parser = parse_positive, global = true)]
    pub portal_link: Duration,

    /// How long a portal session lasts from when its link was made.
    #[arg(long = "portal-session-ttl", env = "ROSTER_PORTAL_SESSION_TTL", default_value = "1h",
          value_parser = parse_positive, global = true)]
    pub portal_session: Duration,
}

impl Default for ConsoleSessions {
    fn default() -> Self {
        Self {
            idle: Duration::from_secs(30 * 60),
            absolute: Duration::from_secs(12 * 3600),
            portal_link: Duration::from_secs(5 * 60),
            portal_session: Duration::from_secs(3600),
        }
    }
}

/// At least a minute: a sign-in records its use once a minute, so a shorter idle timeout
/// would end sessions that are in use.
fn parse_positive(s: &str) -> Result<Duration, String> {
    let period = parse_duration(s)?;
    if period < Duration::from_secs(60) {
        return Err("a console or portal session period must be at least 1m".into());
    }
    Ok(period)
}
