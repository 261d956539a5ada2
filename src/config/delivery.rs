//! How many delivery attempts one instance makes at once, and how many of them one webhook and
//! one organization may hold: a slow or dead endpoint then slows only itself, and a busy
//! organization leaves room for the others.

use clap::Args;

#[derive(Debug, Clone, PartialEq, Eq, Args)]
pub struct DeliveryLimits {
    /// Delivery attempts in flight at once, per instance. An attempt waiting on a receiver
    /// costs a socket and a few kilobytes, so this can be generous.
    #[arg(long = "webhook-concurrency", env = "ROSTER_WEBHOOK_CONCURRENCY",
          default_value = "256", value_parser = parse_count, global = true)]
    pub concurrency: usize,

    /// Attempts in flight to one webhook at once, per instance. Further deliveries to it wait
    /// their turn in the queue, so one that never answers holds this many slots at most.
    #[arg(long = "webhook-concurrency-per-webhook", env = "ROSTER_WEBHOOK_CONCURRENCY_PER_WEBHOOK",
          default_value = "16", value_parser = parse_count, global = true)]
    pub per_webhook: usize,

    /// Attempts in flight to the webhooks of one organization at once, per instance.
    #[arg(long = "webhook-concurrency-per-organization",
          env = "ROSTER_WEBHOOK_CONCURRENCY_PER_ORGANIZATION",
          default_value = "128", value_parser = parse_count, global = true)]
    pub per_organization: usize,
}

impl Default for DeliveryLimits {
    fn default() -> Self {
        Self { concurrency: 256, per_webhook: 16, per_organization: 128 }
    }
}

fn parse_count(s: &str) -> Result<usize, String> {
    match s.trim().parse::<usize>() {
        Ok(n) if (1..=100_000).contains(&n) => Ok(n),
        _ => Err(format!("a concurrency must be a whole number from 1 to 100000, not {s:?}")),
    }
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;

    #[derive(Parser)]
    struct Flags {
        #[command(flatten)]
        limits: DeliveryLimits,
    }

    #[test]
    fn the_flags_default_to_the_defaults() {
        let parsed = Flags::try_parse_from(["roster"]).expect("defaults parse");
        assert_eq!(parsed.limits, DeliveryLimits::default());
    }

    #[test]
    fn every_limit_leaves_at_least_one_slot() {
        assert!(
            Flags::try_parse_from(["roster", "--webhook-concurrency-per-webhook", "0"]).is_err()
        );
        let parsed =
            Flags::try_parse_from(["roster", "--webhook-concurrency-per-organization", "8"])
                .expect("parses");
        assert_eq!(parsed.limits.per_organization, 8);
    }
}
