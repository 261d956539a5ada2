//! Delivery metrics: outcomes, attempt latency, and the backlog (read from the database at
//! scrape time, so every instance reports the shared queue).

use prometheus::{Gauge, Histogram, HistogramOpts, IntCounterVec, IntGauge, Opts, Registry};

use crate::config::RetrySchedule;
use crate::domain::retry::{Next, Outcome};
use crate::store::deliveries::AttemptRecord;

pub struct DeliveryMetrics {
    outcomes: IntCounterVec,
    latency: Histogram,
    pub pending: IntGauge,
    pub oldest_pending_age: Gauge,
}

impl DeliveryMetrics {
    pub fn register(registry: &Registry) -> anyhow::Result<Self> {
        let outcomes = IntCounterVec::new(
            Opts::new(
                "roster_webhook_attempts_total",
                "Delivery attempts by outcome: succeeded, retrying, failed (schedule spent), abandoned (webhook disabled)",
            ),
            &["outcome"],
        )?;
        let latency = Histogram::with_opts(
            HistogramOpts::new(
                "roster_webhook_attempt_duration_seconds",
                "Delivery attempt latency",
            )
            .buckets(vec![0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0]),
        )?;
        let pending =
            IntGauge::new("roster_webhook_pending_deliveries", "Deliveries not yet finished")?;
        let oldest_pending_age = Gauge::new(
            "roster_webhook_oldest_pending_age_seconds",
            "Age of the oldest unfinished delivery",
        )?;
        registry.register(Box::new(outcomes.clone()))?;
        registry.register(Box::new(latency.clone()))?;
        registry.register(Box::new(pending.clone()))?;
        registry.register(Box::new(oldest_pending_age.clone()))?;
        Ok(Self { outcomes, latency, pending, oldest_pending_age })
    }

    pub fn observe(&self, record: &AttemptRecord, schedule: &RetrySchedule) {
        let outcome = match (record.outcome(), record.next(&schedule.0)) {
            (Outcome::Abandoned, _) => "abandoned",
            (_, Next::Succeeded) => "succeeded",
            (_, Next::RetryAfter(_)) => "retrying",
            (_, Next::Failed) => "failed",
        };
        self.outcomes.with_label_values(&[outcome]).inc();
        if !record.abandon {
            self.latency.observe(record.duration_ms as f64 / 1000.0);
        }
    }
}
