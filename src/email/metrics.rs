//! Email metrics, beside the delivery family: sends by outcome, send latency, and the backlog
//! (read from the database at scrape time, so every instance reports the shared queue).

use prometheus::{Gauge, Histogram, HistogramOpts, IntCounterVec, IntGauge, Opts, Registry};

pub struct EmailMetrics {
    outcomes: IntCounterVec,
    latency: Histogram,
    pub pending: IntGauge,
    pub oldest_pending_age: Gauge,
}

/// How a send ended, as the metrics name it.
#[derive(Debug, Clone, Copy)]
pub enum SendOutcome {
    Sent,
    Retrying,
    Failed,
}

impl EmailMetrics {
    pub fn register(registry: &Registry) -> anyhow::Result<Self> {
        let outcomes = IntCounterVec::new(
            Opts::new(
                "roster_email_sends_total",
                "Email sends by outcome: sent, retrying, failed (rejected, or schedule spent)",
            ),
            &["outcome"],
        )?;
        let latency = Histogram::with_opts(
            HistogramOpts::new("roster_email_send_duration_seconds", "Email send latency")
                .buckets(vec![0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0]),
        )?;
        let pending = IntGauge::new("roster_email_pending", "Emails not yet sent or failed")?;
        let oldest_pending_age = Gauge::new(
            "roster_email_oldest_pending_age_seconds",
            "Age of the oldest email not yet sent or failed",
        )?;
        registry.register(Box::new(outcomes.clone()))?;
        registry.register(Box::new(latency.clone()))?;
        registry.register(Box::new(pending.clone()))?;
        registry.register(Box::new(oldest_pending_age.clone()))?;
        Ok(Self { outcomes, latency, pending, oldest_pending_age })
    }

    pub fn observe(&self, outcome: SendOutcome, seconds: f64) {
        let label = match outcome {
            SendOutcome::Sent => "sent",
            SendOutcome::Retrying => "retrying",
            SendOutcome::Failed => "failed",
        };
        self.outcomes.with_label_values(&[label]).inc();
        self.latency.observe(seconds);
    }
}
