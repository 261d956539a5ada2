//! The delivery queue and its attempt log, in the database: nothing about a delivery lives
//! only in memory. A worker claims due rows by stamping them with a lease ID and pushing
//! `next_attempt_at` to the lease's end, so a worker that dies simply lets the rows fall due
//! again. Results are recorded only under the lease that claimed them.
//!
//! - `queue`: enqueueing, in the event's transaction;
//! - `claim`: leasing due deliveries, a fair share per webhook and per organization;
//! - `record`: writing attempt results and moving each delivery on;
//! - `outcomes`: what those results do to their webhooks' health;
//! - `log`: the read model of a webhook's deliveries and their attempts;
//! - `hourly`: how its recent deliveries turned out, hour by hour;
//! - `recovery`: restarting finished deliveries;
//! - `backlog`: what the queue holds, for the worker's sleep and for metrics.

mod backlog;
mod claim;
mod hourly;
mod log;
mod outcomes;
mod queue;
mod record;
mod recovery;

pub use backlog::{backlog, next_due, queue_state};
pub use claim::{
    CLAIM_WINDOW, ClaimRules, DueDelivery, Exclusions, claim_postgres, lease_due, load_leased,
};
pub use hourly::{HourCounts, by_hour};
pub use log::{Attempt, Delivery, LATEST_ATTEMPTS, attempts, find_status, list};
pub use outcomes::HealthRules;
pub use queue::enqueue;
pub use record::{AttemptRecord, all_quiet, record, record_postgres};
pub use recovery::{RECOVER_BATCH, recover, restart};

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum DeliveryStatus {
    Pending,
    Succeeded,
    Failed,
}

impl DeliveryStatus {
    pub const CHOICES: [(&'static str, DeliveryStatus); 3] =
        [("pending", Self::Pending), ("succeeded", Self::Succeeded), ("failed", Self::Failed)];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Succeeded => "succeeded",
            Self::Failed => "failed",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [Self::Pending, Self::Succeeded, Self::Failed].into_iter().find(|d| d.as_str() == s)
    }
}
