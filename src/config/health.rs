//! When Roster gives up on a webhook endpoint by itself, and how long it lets a receiver ask
//! it to wait.

use std::time::Duration;

use clap::Args;

use super::values::parse_duration;

#[derive(Debug, Clone, PartialEq, Eq, Args)]
pub struct WebhookHealth {
    /// Deliveries in a row that must fail every attempt before a webhook is disabled, together
    /// with `--webhook-disable-after`. Several, so that one odd event never disables it.
    #[arg(long = "webhook-disable-after-deliveries",
          env = "ROSTER_WEBHOOK_DISABLE_AFTER_DELIVERIES", default_value = "10",
          value_parser = parse_streak, global = true)]
    pub disable_after_deliveries: u32,

    /// How long a webhook's failures must have gone on (from the first failed attempt since
    /// its last success) before it is disabled; long enough to outlast a weekend's outage.
    #[arg(long = "webhook-disable-after", env = "ROSTER_WEBHOOK_DISABLE_AFTER",
          default_value = "5d", value_parser = parse_duration, global = true)]
    pub disable_after: Duration,

    /// The longest wait a receiver's `Retry-After` (on a 429 or 503) can impose before the next
    /// attempt; a longer one is cut to this.
    #[arg(long = "webhook-retry-after-max", env = "ROSTER_WEBHOOK_RETRY_AFTER_MAX",
          default_value = "1h", value_parser = parse_duration, global = true)]
    pub retry_after_max: Duration,
}

impl Default for WebhookHealth {
    fn default() -> Self {
        Self {
            disable_after_deliveries: 10,
            disable_after: Duration::from_secs(5 * 24 * 3600),
            retry_after_max: Duration::from_secs(3600),
        }
    }
}

fn parse_streak(s: &str) -> Result<u32, String> {
    match s.trim().parse::<u32>() {
        Ok(n) if (1..=1_000_000).contains(&n) => Ok(n),
        _ => Err(format!(
            "a number of deliveries must be a whole number from 1 to 1000000, not {s:?}"
        )),
    }
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;

    #[derive(Parser)]
    struct Flags {
        #[command(flatten)]
        health: WebhookHealth,
    }

    #[test]
    fn the_flags_default_to_the_defaults() {
        let parsed = Flags::try_parse_from(["roster"]).expect("defaults parse");
        assert_eq!(parsed.health, WebhookHealth::default());
        assert!(
            Flags::try_parse_from(["roster", "--webhook-disable-after-deliveries", "0"]).is_err()
        );
        let parsed =
            Flags::try_parse_from(["roster", "--webhook-disable-after", "2h"]).expect("parses");
        assert_eq!(parsed.health.disable_after, Duration::from_secs(7200));
    }
}
