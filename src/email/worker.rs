//! The email worker: like the delivery worker, it reads only the database. It leases due
//! emails, sends each with bounded concurrency, and records the result; an email the relay
//! could not take yet climbs the retry ladder (`domain::retry`), one it refused fails. It
//! wakes when a commit queues email (on PostgreSQL, on any instance), when the next retry
//! falls due, when the test clock moves, or at the poll interval.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{OwnedSemaphorePermit, Semaphore, mpsc};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use super::Outbox;
use super::metrics::{EmailMetrics, SendOutcome};
use super::transport::{SendError, Transport};
use crate::clock::Clock;
use crate::config::RetrySchedule;
use crate::domain::retry::{self, Next, Outcome};
use crate::store::Db;
use crate::store::emails::{self, QueuedEmail, Sent};

#[derive(Clone, Debug)]
pub struct EmailWorkerSettings {
    /// Emails being sent at once, per instance.
    pub concurrency: usize,
    pub lease: Duration,
    /// The longest one send may take, the whole SMTP conversation included.
    pub timeout: Duration,
    pub poll: Duration,
    pub schedule: RetrySchedule,
}

/// How long the worker lets a burst of commits gather after a wake-up, so that their emails
/// share one claim: each claim and each record is a write, and on SQLite a turn at the one
/// writer that the requests queueing the email also need.
const GATHER: Duration = Duration::from_millis(20);

/// Results recorded in one transaction at most.
const RECORD_BATCH: usize = 64;

/// A finished attempt, waiting to be recorded.
type Finished = (QueuedEmail, Sent, chrono::DateTime<chrono::Utc>);

pub struct EmailWorker {
    pub db: Db,
    pub outbox: Outbox,
    pub transport: Transport,
    pub clock: Clock,
    pub settings: EmailWorkerSettings,
    pub metrics: Arc<EmailMetrics>,
}

impl EmailWorker {
    /// Runs until `stop` is cancelled, then lets sends in flight finish and records them.
    pub async fn run(self, stop: CancellationToken) {
        let permits = Arc::new(Semaphore::new(self.settings.concurrency.max(1)));
        let in_flight = TaskTracker::new();
        let (results, finished) = mpsc::unbounded_channel();
        let recorder = tokio::spawn(record(self.db.clone(), finished));
        let worker = Arc::new(self);
        while !stop.is_cancelled() {
            let free = permits.available_permits();
            if free == 0 {
                tokio::select! {
                    permit = permits.clone().acquire_owned() => drop(permit),
                    () = stop.cancelled() => break,
                }
                continue;
            }
            let claimed = worker.claim(free).await;
            if claimed.is_empty() {
                worker.wait_until_due(&stop).await;
                tokio::time::sleep(GATHER).await;
                continue;
            }
            for email in claimed {
                let Ok(permit) = permits.clone().acquire_owned().await else { break };
                in_flight.spawn(worker.clone().send(email, results.clone(), permit));
            }
        }
        in_flight.close();
        in_flight.wait().await;
        drop(results);
        let _ = recorder.await;
    }

    async fn claim(&self, limit: usize) -> Vec<QueuedEmail> {
        let lease = chrono::Duration::from_std(self.settings.lease).unwrap_or_default();
        let claimed = async {
            let mut tx = self.db.begin_bookkeeping().await?;
            let claimed = emails::claim(&mut tx, self.clock.now(), lease, limit as i64).await?;
            tx.commit().await?;
            Ok::<_, sqlx::Error>(claimed)
        };
        claimed.await.unwrap_or_else(|err| {
            tracing::error!(error = %err, "claiming emails failed");
            Vec::new()
        })
    }

    async fn send(
        self: Arc<Self>,
        email: QueuedEmail,
        results: mpsc::UnboundedSender<Finished>,
        permit: OwnedSemaphorePermit,
    ) {
        let started = Instant::now();
        let opened =
            email.sealed_body.as_deref().map(|sealed| self.outbox.open(&email.template, sealed));
        let result = match opened {
            Some(Ok(body)) => {
                let send = self.transport.send(&email, body);
                tokio::time::timeout(self.settings.timeout, send)
                    .await
                    .unwrap_or_else(|_| Err(SendError::Transient("timed out".into())))
            }
            // Sealed under another key: retried, so that restoring the key recovers it.
            Some(Err(err)) => Err(SendError::Transient(format!("cannot open the email: {err}"))),
            None => Err(SendError::Permanent("the email has no body".into())),
        };
        let now = self.clock.now();
        let (sent, outcome) = match result {
            Ok(()) => (Sent::Sent, SendOutcome::Sent),
            Err(SendError::Permanent(error)) => (Sent::Failed(error), SendOutcome::Failed),
            Err(SendError::Transient(error)) => {
                let before = i64::from(email.attempts) - 1;
                match retry::next(Outcome::Failed, before, &self.settings.schedule.0) {
                    Next::RetryAfter(delay) => {
                        let at = now + chrono::Duration::from_std(delay).unwrap_or_default();
                        (Sent::RetryAt(at, error), SendOutcome::Retrying)
                    }
                    Next::Succeeded | Next::Failed => (Sent::Failed(error), SendOutcome::Failed),
                }
            }
        };
        match &sent {
            Sent::Sent => {
                tracing::debug!(email = %email.id, template = %email.template, "email sent")
            }
            Sent::RetryAt(at, error) => tracing::warn!(
                email = %email.id, attempts = email.attempts, retry_at = %at, error = %error,
                "email not taken by the relay; will retry"
            ),
            Sent::Failed(error) => tracing::warn!(
                email = %email.id, attempts = email.attempts, error = %error, "email failed"
            ),
        }
        self.metrics.observe(outcome, started.elapsed().as_secs_f64());
        let _ = results.send((email, sent, now));
        drop(permit);
    }

    /// Sleeps until the next email falls due, or something wakes the worker sooner.
    async fn wait_until_due(&self, stop: &CancellationToken) {
        let poll = self.settings.poll;
        let next = async {
            let mut conn = self.db.acquire().await?;
            emails::next_due(&mut conn).await
        };
        let wait = match next.await {
            Ok(Some(at)) => (at - self.clock.now()).to_std().unwrap_or(Duration::ZERO).min(poll),
            Ok(None) => poll,
            Err(err) => {
                tracing::error!(error = %err, "reading the email queue failed");
                poll
            }
        };
        if wait.is_zero() {
            // Due, yet not claimed: another instance holds it. Back off briefly.
            tokio::time::sleep(Duration::from_millis(50)).await;
            return;
        }
        let wakeups = self.db.wakeups();
        tokio::select! {
            () = wakeups.emails_woken() => {}
            () = self.clock.moved() => {}
            () = tokio::time::sleep(wait) => {}
            () = stop.cancelled() => {}
        }
    }
}

/// Records finished sends, as many as are waiting in one transaction, until every sender is
/// gone. A record lost in a crash means the email is sent again: a duplicate, never a loss.
async fn record(db: Db, mut finished: mpsc::UnboundedReceiver<Finished>) {
    while let Some(first) = finished.recv().await {
        let mut batch = vec![first];
        while batch.len() < RECORD_BATCH {
            match finished.try_recv() {
                Ok(next) => batch.push(next),
                Err(_) => break,
            }
        }
        let recorded = async {
            let mut tx = db.begin_bookkeeping().await?;
            for (email, sent, at) in &batch {
                emails::record(&mut tx, email, sent, *at).await?;
            }
            tx.commit().await
        };
        if let Err(err) = recorded.await {
            tracing::error!(error = %err, emails = batch.len(), "recording sent emails failed");
        }
    }
}
