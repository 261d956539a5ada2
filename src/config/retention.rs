//! How long the webhook log is kept. The event log is also the audit trail, so it is kept
//! far longer than the deliveries, which only say how each event reached each receiver.

use std::time::Duration;

use clap::Args;

use super::parse_duration;

const DAY: u64 = 24 * 3600;

#[derive(Debug, Clone, PartialEq, Eq, Args)]
pub struct Retention {
    /// How long a delivery attempt's record (status, error, the start of the receiver's
    /// answer) is kept after the attempt.
    #[arg(long = "keep-delivery-attempts-for", env = "ROSTER_KEEP_DELIVERY_ATTEMPTS_FOR",
          default_value = "14d", value_parser = parse_period, global = true)]
    pub attempts: Duration,

    /// How long a finished (succeeded or failed) delivery is kept after it finished; also
    /// how far back `recover` can reach. Pending deliveries are never pruned.
    #[arg(long = "keep-deliveries-for", env = "ROSTER_KEEP_DELIVERIES_FOR",
          default_value = "30d", value_parser = parse_period, global = true)]
    pub deliveries: Duration,

    /// How long an event of the log is kept; longer while a delivery of it is.
    #[arg(long = "keep-events-for", env = "ROSTER_KEEP_EVENTS_FOR", default_value = "365d",
          value_parser = parse_period, global = true)]
    pub events: Duration,
}

impl Default for Retention {
    fn default() -> Self {
        Self {
            attempts: Duration::from_secs(14 * DAY),
            deliveries: Duration::from_secs(30 * DAY),
            events: Duration::from_secs(365 * DAY),
        }
    }
}

/// At least an hour: a shorter period would prune what a receiver is still being sent.
fn parse_period(s: &str) -> Result<Duration, String> {
    let period = parse_duration(s)?;
    if period < Duration::from_secs(3600) {
        return Err("a retention period must be at least 1h".into());
    }
    Ok(period)
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;

    #[derive(Parser)]
    struct Flags {
        #[command(flatten)]
        retention: Retention,
    }

    #[test]
    fn the_flags_default_to_the_defaults_and_refuse_short_periods() {
        let parsed = Flags::try_parse_from(["roster"]).expect("defaults parse");
        assert_eq!(parsed.retention, Retention::default());
        assert!(Flags::try_parse_from(["roster", "--keep-events-for", "10m"]).is_err());
        let parsed = Flags::try_parse_from(["roster", "--keep-deliveries-for", "90d"]);
        assert_eq!(parsed.expect("parses").retention.deliveries, Duration::from_secs(90 * DAY));
    }
}
