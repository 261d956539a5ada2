//! Limits that keep slow or many clients from exhausting the server.

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
}

impl Default for ServerLimits {
    fn default() -> Self {
        Self {
            max_connections: 512,
            header_timeout: Duration::from_secs(10),
            body_timeout: Duration::from_secs(30),
            idle_timeout: Duration::from_secs(60),
        }
    }
}

fn parse_connection_cap(s: &str) -> Result<usize, String> {
    match s.trim().parse::<usize>() {
        Ok(n) if n > 0 => Ok(n),
        _ => Err(format!("max connections must be a whole number above zero, not {s:?}")),
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
    }

    #[test]
    fn the_flags_default_to_the_defaults() {
        let parsed = Flags::try_parse_from(["roster"]).expect("defaults parse");
        assert_eq!(parsed.limits, ServerLimits::default());
    }

    #[test]
    fn limits_must_leave_room_to_serve() {
        assert!(Flags::try_parse_from(["roster", "--header-timeout", "0s"]).is_err());
        assert!(Flags::try_parse_from(["roster", "--max-connections", "0"]).is_err());
        let parsed = Flags::try_parse_from(["roster", "--idle-timeout", "5m"]).expect("parses");
        assert_eq!(parsed.limits.idle_timeout, Duration::from_secs(300));
    }
}
