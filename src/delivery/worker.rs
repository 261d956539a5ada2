//! The delivery worker. It reads only the database: claim due deliveries under a lease,
//! attempt each with bounded concurrency (a share per webhook and per organization, see
//! `slots`), and record results in batches. It wakes when a commit enqueues work
//! (in-process, and on PostgreSQL through LISTEN/NOTIFY from any instance), when a webhook or
//! organization it had to leave out has room again, and otherwise when the next retry falls
//! due or a fallback poll comes round.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{OwnedSemaphorePermit, Semaphore, mpsc};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use super::metrics::DeliveryMetrics;
use super::recorder::record_results;
use super::sender::Sender;
use super::slots::{Claimed, Shares, Slots};
use crate::clock::Clock;
use crate::config::RetrySchedule;
use crate::store::deliveries::{self, AttemptRecord, ClaimRules, Exclusions, HealthRules};
use crate::store::{Backend, Db};

#[derive(Clone, Debug)]
pub struct WorkerSettings {
    /// Attempts in flight at once.
    pub concurrency: usize,
    /// Attempts in flight at once to one webhook, and to one organization's webhooks.
    pub per_webhook: usize,
    pub per_organization: usize,
    /// Deliveries claimed per round trip.
    pub batch: i64,
    /// How long a claim stays ours; after that another worker may take the delivery.
    pub lease: Duration,
    /// The longest an attempt takes; a delivery is started only with this much lease left.
    pub attempt_timeout: Duration,
    /// Longest sleep without a wake-up, in case a notification was missed.
    pub poll: Duration,
    pub schedule: RetrySchedule,
    /// When a failing webhook is disabled.
    pub health: HealthRules,
}

pub struct Worker {
    pub db: Db,
    pub sender: Arc<Sender>,
    pub clock: Clock,
    pub settings: WorkerSettings,
    pub metrics: Arc<DeliveryMetrics>,
}

/// What every attempt task shares.
struct Attempts {
    sender: Arc<Sender>,
    slots: Arc<Slots>,
    results: mpsc::UnboundedSender<AttemptRecord>,
    stop: CancellationToken,
}

impl Worker {
    /// Runs until `stop` is cancelled, then lets in-flight attempts finish and records them.
    pub async fn run(self, stop: CancellationToken) {
        let (results_tx, results_rx) = mpsc::unbounded_channel();
        let wakeups = self.db.wakeups();
        let recorder = tokio::spawn(record_results(
            self.db.clone(),
            self.clock.clone(),
            results_rx,
            self.settings.schedule.clone(),
            self.settings.health,
            wakeups.clone(),
            self.metrics.clone(),
        ));
        let slots = Arc::new(Slots::new(Shares {
            per_webhook: self.settings.per_webhook.max(1),
            per_organization: self.settings.per_organization.max(1),
            lease_needed: self.settings.attempt_timeout + Duration::from_secs(1),
        }));
        let attempts = Arc::new(Attempts {
            sender: self.sender.clone(),
            slots: slots.clone(),
            results: results_tx,
            stop: stop.clone(),
        });
        let in_flight = TaskTracker::new();
        let permits = Arc::new(Semaphore::new(self.settings.concurrency));
        let mut claim_session = None;

        while !stop.is_cancelled() {
            // Claim in batches: with few slots free, wait a moment for more rather than
            // paying a claim round trip per delivery.
            let low_water = (self.settings.concurrency / 4).max(1);
            if permits.available_permits() < low_water {
                tokio::select! {
                    enough = permits.clone().acquire_many_owned(low_water as u32) => drop(enough),
                    () = tokio::time::sleep(Duration::from_millis(5)) => {}
                    () = stop.cancelled() => break,
                }
            }
            let free = permits.available_permits();
            if free == 0 {
                continue;
            }
            let leaving_out = slots.full();
            // On SQLite a read comes first: waking to find nothing due then costs no turn at
            // the single writer. On PostgreSQL a claim that finds nothing costs no more than
            // the read, so the worker claims at once and reads only when it came back empty;
            // unless some are left out, when a wake-up is often for their work and the read
            // alone tells.
            let read_first = self.db.backend() == Backend::Sqlite || !leaving_out.is_empty();
            if read_first && self.wait_until_due(&leaving_out, &slots, &stop).await {
                continue;
            }
            let rules = ClaimRules {
                limit: self.settings.batch.min(free as i64),
                per_webhook: self.settings.per_webhook as i64,
                per_organization: self.settings.per_organization as i64,
                leaving_out,
            };
            let claimed = self.claim(&mut claim_session, &rules).await;
            if claimed.is_empty() {
                if read_first || !self.wait_until_due(&rules.leaving_out, &slots, &stop).await {
                    // Due rows exist but were not ours: another instance is claiming them, or
                    // the claim failed. Back off briefly instead of spinning.
                    tokio::select! {
                        () = wakeups.woken() => {}
                        () = slots.reopened() => {}
                        () = tokio::time::sleep(Duration::from_millis(50)) => {}
                        () = stop.cancelled() => break,
                    }
                }
                continue;
            }
            let lease_ends = Instant::now() + self.settings.lease;
            for delivery in claimed {
                let Some(ready) = slots.admit(Claimed { delivery, lease_ends }) else {
                    continue;
                };
                let Ok(permit) = permits.clone().acquire_owned().await else { break };
                in_flight.spawn(attempts.clone().run(ready, permit));
            }
        }

        in_flight.close();
        drop(attempts);
        in_flight.wait().await;
        let _ = recorder.await;
    }

    /// Leases due deliveries. On PostgreSQL this is one statement on the worker's own
    /// connection (`session`), whose commits skip the WAL flush wait: a lease lost in a crash
    /// only means the delivery is attempted again.
    async fn claim(
        &self,
        session: &mut Option<sqlx::PgConnection>,
        rules: &ClaimRules,
    ) -> Vec<deliveries::DueDelivery> {
        let lease = chrono::Duration::from_std(self.settings.lease).unwrap_or_default();
        let result = match self.db.backend() {
            Backend::Postgres => async {
                let conn = match session {
                    Some(conn) => conn,
                    None => {
                        // Detached: the session setting must never reach a pooled connection.
                        let Some(mut conn) = self.db.detached_postgres().await? else {
                            return Ok(Vec::new());
                        };
                        sqlx::query("SET synchronous_commit = off").execute(&mut conn).await?;
                        // Planned for each claim's own parameters: a plan made once for any
                        // of them can scan and sort the whole queue.
                        sqlx::query("SET plan_cache_mode = force_custom_plan")
                            .execute(&mut conn)
                            .await?;
                        session.insert(conn)
                    }
                };
                deliveries::claim_postgres(conn, self.clock.now(), lease, rules).await
            }
            .await
            .inspect_err(|_| *session = None),
            Backend::Sqlite => {
                async {
                    let mut tx = self.db.begin_write().await?;
                    let leased =
                        deliveries::lease_due(&mut tx, self.clock.now(), lease, rules).await?;
                    tx.commit().await?;
                    let Some(lease_id) = leased else { return Ok(Vec::new()) };
                    let mut conn = self.db.acquire().await?;
                    deliveries::load_leased(&mut conn, lease_id).await
                }
                .await
            }
        };
        result.unwrap_or_else(|err| {
            tracing::error!(error = %err, "claiming deliveries failed");
            Vec::new()
        })
    }

    /// Sleeps until the next delivery a claim could take falls due, or something wakes the
    /// worker sooner. False, without sleeping, when one is due already.
    async fn wait_until_due(
        &self,
        leaving_out: &Exclusions,
        slots: &Slots,
        stop: &CancellationToken,
    ) -> bool {
        let wait = self.until_next_due(leaving_out).await;
        if wait.is_zero() {
            return false;
        }
        let wakeups = self.db.wakeups();
        tokio::select! {
            () = wakeups.woken() => {}
            () = slots.reopened() => {}
            () = self.clock.moved() => {}
            () = tokio::time::sleep(wait) => {}
            () = stop.cancelled() => {}
        }
        true
    }

    async fn until_next_due(&self, leaving_out: &Exclusions) -> Duration {
        let poll = self.settings.poll;
        let next = async {
            let mut conn = self.db.acquire().await?;
            deliveries::next_due(&mut conn, leaving_out).await
        }
        .await;
        match next {
            Ok(Some(at)) => (at - self.clock.now()).to_std().unwrap_or(Duration::ZERO).min(poll),
            Ok(None) => poll,
            Err(err) => {
                tracing::error!(error = %err, "reading the delivery queue failed");
                poll
            }
        }
    }
}

impl Attempts {
    /// Attempts `claimed`, then, in the same slot, whatever of its webhook or organization
    /// was waiting for one; the slot is given back when none is.
    async fn run(self: Arc<Self>, mut claimed: Claimed, permit: OwnedSemaphorePermit) {
        loop {
            let result = self.sender.attempt(&claimed.delivery).await;
            let _ = self.results.send(result);
            // Once stopping, what waits is left to its lease.
            let next = self.slots.finish(&claimed.delivery, !self.stop.is_cancelled());
            match next {
                Some(successor) => claimed = successor,
                None => break,
            }
        }
        drop(permit);
    }
}
